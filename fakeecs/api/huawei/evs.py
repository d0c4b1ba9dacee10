"""EVS snapshots as the Huawei SDK reaches them: ``/v2/{project_id}/cloudsnapshots``.

Cinder-compatible bodies (EvsClient.create_snapshot, list_snapshots, show_snapshot,
delete_snapshot) over the same snapshots the volume API and the native
``createImage`` of volume-backed servers make.  Errors use Cinder's fault body
(``{"itemNotFound": {"code": 404, "message": ...}}``), as EVS does.
"""

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields

from ...model.clock import isoformat
from ..errors import ApiError, cinder_message
from ..jsonbody import json_body
from ..params import IntQuery, built
from .common import authenticate, cloud

bp = Blueprint("huawei_evs", __name__)


@bp.before_request
def _before():
    g.family = "cinder"
    authenticate()
    project_id = (request.view_args or {}).get("project_id")
    if project_id is not None and project_id != g.context.project_id and not g.context.is_admin:
        raise ApiError(
            400,
            f"Malformed request url: project_id {project_id} does not match "
            f"the credentials' project {g.context.project_id}",
        )


def snapshot_view(snapshot):
    the_cloud = cloud()
    progress = "100%" if snapshot.status == "available" else "0%"
    return {
        "id": snapshot.id,
        "status": snapshot.status,
        "name": snapshot.name,
        "description": snapshot.description,
        "created_at": isoformat(snapshot.created_at, micro=True),
        "updated_at": isoformat(snapshot.updated_at, micro=True),
        "metadata": dict(snapshot.metadata),
        "volume_id": snapshot.volume_id,
        "size": snapshot.size,
        "os-extended-snapshot-attributes:project_id": snapshot.project_id,
        "os-extended-snapshot-attributes:progress": progress,
        "availability_zone": the_cloud.snapshot_zone(snapshot),
        "service_type": "EVS",
        "dedicated_storage_id": None,
        "dedicated_storage_name": None,
    }


#: EVS's integer query parameters (``limit``, ``offset``)
EVS_INT = IntQuery(
    not_integer="Invalid input received: {name} must be an integer",
    below="Invalid input received: {name} must be >= 0",
)


@bp.get("/v2/<project_id>/cloudsnapshots/detail")
@bp.get("/v2/<project_id>/cloudsnapshots")
def list_snapshots(project_id):
    filters = {
        key: request.args[key]
        for key in ("name", "status", "volume_id", "availability_zone")
        if key in request.args
    }
    ids = set(request.args.getlist("id"))
    limit = EVS_INT.read("limit", 1000)
    offset = EVS_INT.read("offset", 0)
    found, _ = cloud().list_snapshots(g.context, filters=filters)
    if ids:
        found = [s for s in found if s.id in ids]
    page = found[offset : offset + limit]
    body = {"count": len(found), "snapshots": [snapshot_view(s) for s in page]}
    if offset + limit < len(found):
        body["snapshots_links"] = [
            {"rel": "next", "href": (f"{request.base_url}?limit={limit}&offset={offset + limit}")}
        ]
    return jsonify(body)


@bp.get("/v2/<project_id>/cloudsnapshots/<snapshot_id>")
def show_snapshot(project_id, snapshot_id):
    return jsonify({"snapshot": snapshot_view(cloud().get_snapshot(g.context, snapshot_id))})


@bp.delete("/v2/<project_id>/cloudsnapshots/<snapshot_id>")
def delete_snapshot(project_id, snapshot_id):
    cloud().delete_snapshot(g.context, snapshot_id)
    return Response(status=202)


class _SnapshotSpec(Schema):
    class Meta:
        unknown = EXCLUDE

    volume_id = fields.String(required=True)
    force = fields.Boolean(load_default=False)
    name = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    metadata = fields.Dict(keys=fields.String(), values=fields.String())


@bp.post("/v2/<project_id>/cloudsnapshots")
def create_snapshot(project_id):
    body = json_body(lambda: ApiError(400, "Malformed request body"))
    if not isinstance(body, dict) or not isinstance(body.get("snapshot"), dict):
        raise ApiError(400, "Missing required element 'snapshot' in request body.")
    try:
        spec = built(_SnapshotSpec).load(body["snapshot"])
    except ValidationError as error:
        raise ApiError(400, cinder_message(error)) from None
    snapshot = cloud().create_snapshot(
        g.context,
        spec["volume_id"],
        name=spec.get("name"),
        description=spec.get("description"),
        metadata=spec.get("metadata"),
        force=spec["force"],
    )
    return jsonify({"snapshot": snapshot_view(snapshot)})


def register(app):
    app.register_blueprint(bp)
