"""Cinder v3 under ``/volume/v3/{project_id}``: volumes and snapshots.

Errors render in the ``cinder`` family (Nova's fault format:
``{"itemNotFound": {"code": 404, "message": ...}}``).  Version documents are
served without a token at ``/volume/``, ``/volume/v3`` and ``/volume/v3/``.
"""
import re

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import fields

from ..model.clock import isoformat
from .auth import base_url, cloud, require_token
from .compute import microversion
from .compute.validation import NovaError, NovaMetadata, NovaSchema, NovaString, invalid
from .errors import ApiError
from .jsonbody import json_body
from .params import MAX_INT, decimal, malformed, validated

bp = Blueprint("volume", __name__)

MIN_VERSION = (3, 0)
MAX_VERSION = (3, 59)
PUBLIC_ENDPOINTS = {"versions_root", "versions_v3"}


def _fmt(version):
    return "%d.%d" % version


def version_entry():
    return {"id": "v3.0", "status": "CURRENT", "version": _fmt(MAX_VERSION),
            "min_version": _fmt(MIN_VERSION), "updated": "2016-02-08T12:20:21Z",
            "links": [{"rel": "describedby", "type": "text/html",
                       "href": "https://docs.openstack.org/"},
                      {"rel": "self", "href": f"{base_url()}/volume/v3/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.volume+json;version=3"}]}


def negotiate(headers):
    """Cinder's microversion from ``OpenStack-API-Version: volume X`` (3.0 by default)."""
    try:
        return microversion.negotiate(headers, "volume", MIN_VERSION, MAX_VERSION, None)
    except microversion.VersionError as error:
        raise ApiError(error.status, error.message) from None


@bp.before_request
def _before():
    g.family = "cinder"
    g.volume_version = None
    endpoint = (request.endpoint or "").split(".")[-1]
    if endpoint in PUBLIC_ENDPOINTS:
        return
    context = require_token()
    g.volume_version = negotiate(request.headers)
    project_id = (request.view_args or {}).get("project_id")
    if project_id is not None and project_id != context.project_id:
        raise ApiError(400, "Malformed request url")


@bp.after_request
def _after(response):
    version = g.get("volume_version")
    if version is not None:
        response.headers["OpenStack-API-Version"] = f"volume {_fmt(version)}"
        response.headers.add("Vary", "OpenStack-API-Version")
    return response


@bp.get("/volume", endpoint="versions_root")
@bp.get("/volume/", endpoint="versions_root")
def versions_root():
    response = jsonify({"versions": [version_entry()]})
    response.status_code = 300
    return response


@bp.get("/volume/v3", endpoint="versions_v3")
@bp.get("/volume/v3/", endpoint="versions_v3")
def versions_v3():
    return jsonify({"versions": [version_entry()]})


# -- views -----------------------------------------------------------------------

def _links(project_id, collection, item_id):
    base = base_url()
    return [{"rel": "self", "href": f"{base}/volume/v3/{project_id}/{collection}/{item_id}"},
            {"rel": "bookmark", "href": f"{base}/volume/{project_id}/{collection}/{item_id}"}]


def _time(value):
    return isoformat(value, micro=True) if value is not None else None


def volume_view(volume, detail=True):
    body = {"id": volume.id, "name": volume.name,
            "links": _links(volume.project_id, "volumes", volume.id)}
    if not detail:
        return body
    version = g.volume_version or MIN_VERSION
    attachments = [{"server_id": a["server_id"], "attachment_id": a["attachment_id"],
                    "attached_at": _time(a.get("attached_at")), "host_name": None,
                    "volume_id": volume.id, "device": a.get("device"), "id": volume.id}
                   for a in volume.attachments]
    body.update({
        "status": volume.status, "size": volume.size,
        "availability_zone": volume.availability_zone,
        "created_at": _time(volume.created_at), "updated_at": _time(volume.updated_at),
        "attachments": attachments, "bootable": "true" if volume.bootable else "false",
        "encrypted": False, "description": volume.description,
        "volume_type": volume.volume_type, "snapshot_id": volume.snapshot_id,
        "source_volid": None, "metadata": dict(volume.metadata),
        "user_id": volume.origin.get("user_id"), "multiattach": False,
        "replication_status": None, "consistencygroup_id": None, "migration_status": None,
        "os-vol-tenant-attr:tenant_id": volume.project_id,
    })
    if volume.image_metadata:
        body["volume_image_metadata"] = dict(volume.image_metadata)
    if g.context.is_admin:
        body["os-vol-host-attr:host"] = f"fakeecs-cinder@{volume.volume_type}#{volume.volume_type}"
        body["os-vol-mig-status-attr:migstat"] = None
        body["os-vol-mig-status-attr:name_id"] = None
    if version >= (3, 13):
        body["group_id"] = None
    if version >= (3, 48) and g.context.is_admin:
        body["service_uuid"] = "5e1f4e6b-4c45-4d3e-9c2a-fakeec5c1de5"
        body["shared_targets"] = False
    return body


def snapshot_view(snapshot, detail=True):
    version = g.volume_version or MIN_VERSION
    body = {"id": snapshot.id, "name": snapshot.name, "status": snapshot.status,
            "size": snapshot.size, "volume_id": snapshot.volume_id,
            "created_at": _time(snapshot.created_at), "updated_at": _time(snapshot.updated_at),
            "description": snapshot.description, "metadata": dict(snapshot.metadata)}
    if detail:
        body["os-extended-snapshot-attributes:project_id"] = snapshot.project_id
        body["os-extended-snapshot-attributes:progress"] = (
            "100%" if snapshot.status == "available" else "0%")
    if version >= (3, 14):
        body["group_snapshot_id"] = None
    if version >= (3, 41):
        body["user_id"] = snapshot.origin.get("user_id")
    return body


# -- request parsing ----------------------------------------------------------------

class Size(fields.Field):
    """Cinder's ``volume_size``: an integer >= 1, or a string of digits, or null."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None:
            return None
        if isinstance(value, str) and re.fullmatch(r"[0-9]+", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise NovaError(invalid("size", value, f"{value!r} is not valid under any of the "
                                                   "given schemas"))
        if value < 1:
            raise NovaError(invalid("size", value, f"{value} is less than the minimum of 1"))
        return value


class Uuid(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise NovaError(invalid(self.data_key or attr, value,
                                    f"{value!r} is not a 'uuid'"))
        return value


class Unsupported(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if value is None:
            return None
        raise NovaError(f"Invalid input received: creating a volume from "
                        f"{self.data_key or attr} is not supported by fakeecs.")


class Force(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no",
                                                        "on", "off", "y", "n", "t", "f"):
            return value.lower() in ("true", "1", "yes", "on", "y", "t")
        raise NovaError(f"Invalid value '{value}' for force.")


class VolumeCreate(NovaSchema):
    nova_name = "volume"
    name = NovaString(max_length=255, nullable=True)
    display_name = NovaString(max_length=255, nullable=True)
    description = NovaString(max_length=255, nullable=True)
    display_description = NovaString(max_length=255, nullable=True)
    size = Size(allow_none=True)
    availability_zone = NovaString(min_length=1, max_length=255, nullable=True)
    imageRef = Uuid(allow_none=True)
    image_id = Uuid(allow_none=True)
    snapshot_id = Uuid(allow_none=True)
    volume_type = NovaString(max_length=255, nullable=True)
    metadata = NovaMetadata()
    source_volid = Unsupported(allow_none=True)
    backup_id = Unsupported(allow_none=True)
    consistencygroup_id = fields.Raw(allow_none=True)
    group_id = fields.Raw(allow_none=True)
    multiattach = fields.Raw(allow_none=True)
    bootable = fields.Raw(allow_none=True)
    scheduler_hints = fields.Raw(allow_none=True)


class VolumeBody(NovaSchema):
    nova_name = "body"
    nova_required = ("volume",)
    volume = fields.Raw()
    scheduler_hints = fields.Raw(data_key="OS-SCH-HNT:scheduler_hints", allow_none=True)


class SnapshotCreate(NovaSchema):
    nova_name = "snapshot"
    nova_required = ("volume_id",)
    volume_id = Uuid(allow_none=True)
    name = NovaString(max_length=255, nullable=True)
    display_name = NovaString(max_length=255, nullable=True)
    description = NovaString(max_length=255, nullable=True)
    display_description = NovaString(max_length=255, nullable=True)
    force = Force()
    metadata = NovaMetadata()


class SnapshotBody(NovaSchema):
    nova_name = "body"
    nova_required = ("snapshot",)
    snapshot = fields.Raw()


def _int_param(name):
    value = request.args.get(name)
    if value is None:
        return None
    if not re.fullmatch(r"[0-9]+", value):
        raise ApiError(400, f"Invalid input received: {name} must be an integer")
    number = decimal(value)
    if number > MAX_INT:
        raise ApiError(400, f"Invalid input received: {name} must be <= {MAX_INT}")
    return number


def _all_projects():
    return request.args.get("all_tenants", "").lower() in ("1", "true", "yes")


def _listing(kind, detail):
    limit = _int_param("limit")
    marker = request.args.get("marker")
    keys = {"volumes": ("name", "status", "availability_zone", "bootable"),
            "snapshots": ("name", "status", "volume_id", "availability_zone")}[kind]
    filters = {key: request.args[key] for key in keys if key in request.args}
    if kind == "volumes":
        found, more = cloud().list_volumes(g.context, filters=filters, limit=limit,
                                           marker=marker, all_projects=_all_projects())
        items = [volume_view(v, detail) for v in found]
    else:
        found, more = cloud().list_snapshots(g.context, filters=filters, limit=limit,
                                             marker=marker, all_projects=_all_projects())
        items = [snapshot_view(s, detail) for s in found]
    body = {kind: items}
    if more and found:
        body[f"{kind}_links"] = [{"rel": "next",
                                  "href": f"{request.base_url}?limit={limit}&marker={found[-1].id}"}]
    return jsonify(body)


# -- volumes --------------------------------------------------------------------------

PREFIX = "/volume/v3/<project_id>"


@bp.get(PREFIX + "/volumes")
def list_volumes(project_id):
    return _listing("volumes", False)


@bp.get(PREFIX + "/volumes/detail")
def list_volumes_detail(project_id):
    return _listing("volumes", True)


@bp.post(PREFIX + "/volumes")
def create_volume(project_id):
    outer = validated(VolumeBody, json_body(malformed))
    spec = validated(VolumeCreate, outer["volume"])
    volume = cloud().create_volume(
        g.context, size=spec.get("size"), name=spec.get("name", spec.get("display_name")),
        description=spec.get("description", spec.get("display_description")),
        availability_zone=spec.get("availability_zone"),
        image_id=spec.get("imageRef") or spec.get("image_id"),
        snapshot_id=spec.get("snapshot_id"), volume_type=spec.get("volume_type"),
        metadata=spec.get("metadata"))
    response = jsonify({"volume": volume_view(volume)})
    response.status_code = 202
    return response


@bp.get(PREFIX + "/volumes/<volume_id>")
def show_volume(project_id, volume_id):
    return jsonify({"volume": volume_view(cloud().get_volume(g.context, volume_id))})


@bp.delete(PREFIX + "/volumes/<volume_id>")
def delete_volume(project_id, volume_id):
    cloud().delete_volume(g.context, volume_id)
    return Response(status=202)


# -- snapshots ------------------------------------------------------------------------

@bp.get(PREFIX + "/snapshots")
def list_snapshots(project_id):
    return _listing("snapshots", False)


@bp.get(PREFIX + "/snapshots/detail")
def list_snapshots_detail(project_id):
    return _listing("snapshots", True)


@bp.post(PREFIX + "/snapshots")
def create_snapshot(project_id):
    outer = validated(SnapshotBody, json_body(malformed))
    spec = validated(SnapshotCreate, outer["snapshot"])
    if not spec.get("volume_id"):
        raise ApiError(400, "Invalid input received: volume_id must be given")
    snapshot = cloud().create_snapshot(
        g.context, spec["volume_id"], name=spec.get("name", spec.get("display_name")),
        description=spec.get("description", spec.get("display_description")),
        metadata=spec.get("metadata"), force=spec.get("force", False))
    response = jsonify({"snapshot": snapshot_view(snapshot)})
    response.status_code = 202
    return response


@bp.get(PREFIX + "/snapshots/<snapshot_id>")
def show_snapshot(project_id, snapshot_id):
    return jsonify({"snapshot": snapshot_view(cloud().get_snapshot(g.context, snapshot_id))})


@bp.delete(PREFIX + "/snapshots/<snapshot_id>")
def delete_snapshot(project_id, snapshot_id):
    cloud().delete_snapshot(g.context, snapshot_id)
    return Response(status=202)


def register(app):
    app.register_blueprint(bp)
