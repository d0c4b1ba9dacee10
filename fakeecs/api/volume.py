"""Cinder v3 under ``/volume/v3/{project_id}``: volumes and snapshots.

Errors render in the ``cinder`` family (Nova's fault format:
``{"itemNotFound": {"code": 404, "message": ...}}``).  Version documents are
served without a token at ``/volume/``, ``/volume/v3`` and ``/volume/v3/``.
"""

import hashlib
import json
import re

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import EXCLUDE, Schema, fields, post_load

from ..model import Invalid
from ..model.clock import isoformat
from ..model.storage import (
    SNAPSHOT_RESET_STATUSES,
    VOLUME_ATTACH_STATUSES,
    VOLUME_MIGRATION_STATUSES,
    VOLUME_RESET_STATUSES,
)
from .auth import base_url, cloud, require_token
from .compute import microversion
from .compute.validation import NovaError, NovaMetadata, NovaSchema, NovaString, invalid
from .errors import ApiError
from .jsonbody import json_body
from .params import BoolQuery, bool_from_string, cinder_page_limit, malformed, validated

bp = Blueprint("volume", __name__)

MIN_VERSION = (3, 0)
MAX_VERSION = (3, 59)
PUBLIC_ENDPOINTS = {"versions_root", "versions_v3"}


def _fmt(version):
    return "%d.%d" % version


def version_entry():
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": _fmt(MAX_VERSION),
        "min_version": _fmt(MIN_VERSION),
        "updated": "2016-02-08T12:20:21Z",
        "links": [
            {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
            {"rel": "self", "href": f"{base_url()}/volume/v3/"},
        ],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}
        ],
    }


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
    return [
        {"rel": "self", "href": f"{base}/volume/v3/{project_id}/{collection}/{item_id}"},
        {"rel": "bookmark", "href": f"{base}/volume/{project_id}/{collection}/{item_id}"},
    ]


def _time(value):
    return isoformat(value, micro=True) if value is not None else None


def visible_metadata(volume):
    """User metadata plus the admin key Cinder shows while attached (``attached_mode``)."""
    metadata = dict(volume.metadata)
    if volume.attachments:
        metadata["attached_mode"] = "rw"
    return metadata


def volume_view(volume, detail=True):
    body = {
        "id": volume.id,
        "name": volume.name,
        "links": _links(volume.project_id, "volumes", volume.id),
    }
    if not detail:
        return body
    version = g.volume_version or MIN_VERSION
    attachments = [
        {
            "server_id": a["server_id"],
            "attachment_id": a["attachment_id"],
            "attached_at": _time(a.get("attached_at")),
            "host_name": None,
            "volume_id": volume.id,
            "device": a.get("device"),
            "id": volume.id,
        }
        for a in volume.attachments
    ]
    body.update(
        {
            "status": volume.status,
            "size": volume.size,
            "availability_zone": volume.availability_zone,
            "created_at": _time(volume.created_at),
            "updated_at": _time(volume.updated_at),
            "attachments": attachments,
            "bootable": "true" if volume.bootable else "false",
            "encrypted": False,
            "description": volume.description,
            "volume_type": volume.volume_type,
            "snapshot_id": volume.snapshot_id,
            "source_volid": None,
            "metadata": visible_metadata(volume),
            "user_id": volume.origin.get("user_id"),
            "multiattach": False,
            "replication_status": None,
            "consistencygroup_id": None,
            "migration_status": None,
            "os-vol-tenant-attr:tenant_id": volume.project_id,
        }
    )
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
    body = {
        "id": snapshot.id,
        "name": snapshot.name,
        "status": snapshot.status,
        "size": snapshot.size,
        "volume_id": snapshot.volume_id,
        "created_at": _time(snapshot.created_at),
        "updated_at": _time(snapshot.updated_at),
        "description": snapshot.description,
        "metadata": dict(snapshot.metadata),
    }
    if detail:
        body["os-extended-snapshot-attributes:project_id"] = snapshot.project_id
        body["os-extended-snapshot-attributes:progress"] = (
            "100%" if snapshot.status == "available" else "0%"
        )
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
            raise NovaError(
                invalid("size", value, f"{value!r} is not valid under any of the given schemas")
            )
        if value < 1:
            raise NovaError(invalid("size", value, f"{value} is less than the minimum of 1"))
        return value


class Uuid(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise NovaError(invalid(self.data_key or attr, value, f"{value!r} is not a 'uuid'"))
        return value


class Unsupported(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if value is None:
            return None
        raise NovaError(
            f"Invalid input received: creating a volume from "
            f"{self.data_key or attr} is not supported by fakeecs."
        )


class Force(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        flag = bool_from_string(value) if isinstance(value, (bool, str)) else None
        if flag is None:
            raise NovaError(f"Invalid value '{value}' for force.")
        return flag


class NullableMetadata(NovaMetadata):
    """Cinder's ``metadata_allows_null``: an object of string values, or null."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None:
            return None
        return super()._deserialize(value, attr, data, **kwargs)


class Described(NovaSchema):
    """Cinder's name and description fields (and their v1 ``display_`` aliases)."""

    name = NovaString(max_length=255, nullable=True)
    display_name = NovaString(max_length=255, nullable=True)
    description = NovaString(max_length=255, nullable=True)
    display_description = NovaString(max_length=255, nullable=True)


class VolumeCreate(Described):
    nova_name = "volume"
    size = Size(allow_none=True)
    availability_zone = NovaString(min_length=1, max_length=255, nullable=True)
    imageRef = Uuid(allow_none=True)
    image_id = Uuid(allow_none=True)
    snapshot_id = Uuid(allow_none=True)
    volume_type = NovaString(max_length=255, nullable=True)
    metadata = NullableMetadata()
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
    metadata = NullableMetadata()


class SnapshotBody(NovaSchema):
    nova_name = "body"
    nova_required = ("snapshot",)
    snapshot = fields.Raw()


def _all_projects():
    return request.args.get("all_tenants", "").lower() in ("1", "true", "yes")


def _listing(kind, detail):
    limit = cinder_page_limit()
    marker = request.args.get("marker")
    keys = {
        "volumes": ("name", "status", "availability_zone", "bootable"),
        "snapshots": ("name", "status", "volume_id", "availability_zone"),
    }[kind]
    filters = {key: request.args[key] for key in keys if key in request.args}
    if kind == "volumes":
        found, more = cloud().list_volumes(
            g.context, filters=filters, limit=limit, marker=marker, all_projects=_all_projects()
        )
        items = [volume_view(v, detail) for v in found]
    else:
        found, more = cloud().list_snapshots(
            g.context, filters=filters, limit=limit, marker=marker, all_projects=_all_projects()
        )
        items = [snapshot_view(s, detail) for s in found]
    body = {kind: items}
    if more and found:
        body[f"{kind}_links"] = [
            {"rel": "next", "href": f"{request.base_url}?limit={limit}&marker={found[-1].id}"}
        ]
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
        g.context,
        size=spec.get("size"),
        name=spec.get("name", spec.get("display_name")),
        description=spec.get("description", spec.get("display_description")),
        availability_zone=spec.get("availability_zone"),
        image_id=spec.get("imageRef") or spec.get("image_id"),
        snapshot_id=spec.get("snapshot_id"),
        volume_type=spec.get("volume_type"),
        metadata=spec.get("metadata"),
    )
    response = jsonify({"volume": volume_view(volume)})
    response.status_code = 202
    return response


@bp.get(PREFIX + "/volumes/<volume_id>")
def show_volume(project_id, volume_id):
    return jsonify({"volume": volume_view(cloud().get_volume(g.context, volume_id))})


@bp.delete(PREFIX + "/volumes/<volume_id>")
def delete_volume(project_id, volume_id):
    cloud().delete_volume(g.context, volume_id, cascade=CINDER_BOOL.read("cascade"))
    return Response(status=202)


@bp.put(PREFIX + "/volumes/<volume_id>")
def update_volume(project_id, volume_id):
    element = _element("volume")
    if not isinstance(element, dict):
        raise malformed()
    spec = validated(VOLUME_UPDATE, element)
    changes = {key: spec[key] for key in ("name", "description") if key in spec}
    if spec.get("metadata") is not None:
        changes["metadata"] = spec["metadata"]
    volume = _cinder(cloud().update_volume, g.context, volume_id, **changes)
    return jsonify({"volume": volume_view(volume)})


@bp.post(PREFIX + "/volumes/<volume_id>/action")
def volume_action(project_id, volume_id):
    name, args = _action(
        (
            "os-extend",
            "os-reset_status",
            "os-set_bootable",
            "os-set_image_metadata",
            "os-unset_image_metadata",
        )
    )
    if name in IMAGE_METADATA_ACTIONS:
        return IMAGE_METADATA_ACTIONS[name](volume_id, args)
    if name == "os-extend":
        new_size = args.get("new_size") if isinstance(args, dict) else None
        try:
            new_size = int(new_size)
        except (TypeError, ValueError):
            raise ApiError(400, "New volume size must be specified as an integer.") from None
        cloud().extend_volume(
            g.context, volume_id, new_size, attached_ok=g.volume_version >= EXTEND_ATTACHED_VERSION
        )
    else:
        reset = _reset_values(
            args,
            {
                "status": VOLUME_RESET_STATUSES,
                "attach_status": VOLUME_ATTACH_STATUSES,
                "migration_status": VOLUME_MIGRATION_STATUSES,
            },
            "Must specify 'status', 'attach_status' or 'migration_status' for update.",
        )
        cloud().reset_volume_status(g.context, volume_id, **reset)
    return Response(status=202)


def _set_bootable(volume_id, args):
    cloud().get_volume(g.context, volume_id)
    if not isinstance(args, dict) or "bootable" not in args:
        raise ApiError(400, "Must specify bootable in request.")
    value = args["bootable"]
    flag = bool_from_string(value)
    if flag is None:
        raise ApiError(400, "Bad value for 'bootable'")
    cloud().set_volume_bootable(g.context, volume_id, flag)
    return Response(status=200)


def _set_image_metadata(volume_id, args):
    if not isinstance(args, dict) or "metadata" not in args:
        raise ApiError(400, "Malformed request body.")
    metadata = _cinder(cloud().set_volume_image_metadata, g.context, volume_id, args["metadata"])
    return jsonify({"metadata": metadata})


def _unset_image_metadata(volume_id, args):
    if not isinstance(args, dict) or "key" not in args:
        raise ApiError(400, "Malformed request body.")
    if not args["key"]:
        raise ApiError(400, "The key cannot be None.")
    cloud().unset_volume_image_metadata(g.context, volume_id, args["key"])
    return Response(status=200)


#: volume actions that answer with their own body (200)
IMAGE_METADATA_ACTIONS = {
    "os-set_bootable": _set_bootable,
    "os-set_image_metadata": _set_image_metadata,
    "os-unset_image_metadata": _unset_image_metadata,
}


@bp.get(PREFIX + "/os-availability-zone")
def availability_zones(project_id):
    zones = cloud().list_availability_zones()
    return jsonify(
        {
            "availabilityZoneInfo": [
                {"zoneName": zone.name, "zoneState": {"available": zone.available}}
                for zone in zones
            ]
        }
    )


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
        g.context,
        spec["volume_id"],
        name=spec.get("name", spec.get("display_name")),
        description=spec.get("description", spec.get("display_description")),
        metadata=spec.get("metadata"),
        force=spec.get("force", False),
    )
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


@bp.put(PREFIX + "/snapshots/<snapshot_id>")
def update_snapshot(project_id, snapshot_id):
    outer = validated(SNAPSHOT_UPDATE_BODY, json_body(malformed))
    spec = validated(SNAPSHOT_UPDATE, outer["snapshot"])
    if not spec:
        raise ApiError(
            400,
            invalid(
                "snapshot",
                outer["snapshot"],
                f"{outer['snapshot']!r} is not valid under any of the given schemas",
            ),
        )
    changes = {}
    for key in ("name", "description"):
        for given in (key, f"display_{key}"):
            if given in spec:
                changes[key] = spec[given]
    snapshot = cloud().update_snapshot(g.context, snapshot_id, **changes)
    return jsonify({"snapshot": snapshot_view(snapshot)})


@bp.post(PREFIX + "/snapshots/<snapshot_id>/action")
def snapshot_action(project_id, snapshot_id):
    _, args = _action(("os-reset_status",))
    if not isinstance(args, dict) or "status" not in args:
        raise ApiError(400, "Must specify 'status'")
    reset = _reset_values(args, {"status": SNAPSHOT_RESET_STATUSES}, "Must specify 'status'")
    cloud().reset_snapshot_status(g.context, snapshot_id, reset["status"])
    return Response(status=202)


def _metadata_routes(kind):
    """``/{kind}s/{id}/metadata[/{key}]`` for volumes and snapshots (same shapes)."""

    def collection(project_id, resource_id):
        return _metadata_collection(kind, resource_id)

    def item(project_id, resource_id, key):
        return _metadata_item(kind, resource_id, key)

    path = f"{PREFIX}/{kind}s/<resource_id>/metadata"
    bp.add_url_rule(path, f"{kind}_metadata", collection, methods=["GET", "POST", "PUT"])
    bp.add_url_rule(
        path + "/<key>", f"{kind}_metadata_item", item, methods=["GET", "PUT", "DELETE"]
    )


for _kind in ("volume", "snapshot"):
    _metadata_routes(_kind)


# -- updates, actions and metadata: parsing ----------------------------------------------

#: Cinder microversions that change these calls
EXTEND_ATTACHED_VERSION = (3, 42)
ETAG_VERSION = (3, 15)


class CinderText(fields.Field):
    """Queens' ``validate_name_and_description``: a string (stripped) of <= 255, or null."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None:
            return None
        label = attr.replace("display_", "")
        if not isinstance(value, str):
            raise NovaError(f"Invalid input received: {label} is not a string or unicode")
        value = value.strip()
        if len(value) > 255:
            raise NovaError(
                f"Invalid input received: {label} has {len(value)} characters, more than 255."
            )
        return value


class VolumeUpdate(Schema):
    """``PUT /volumes/{id}``: Queens has no schema and ignores unknown keys."""

    class Meta:
        unknown = EXCLUDE

    name = CinderText(allow_none=True)
    description = CinderText(allow_none=True)
    display_name = CinderText(allow_none=True, data_key="display_name")
    display_description = CinderText(allow_none=True)
    metadata = fields.Raw(allow_none=True)

    @post_load
    def _aliases(self, data, **kwargs):
        for key in ("name", "description"):
            if f"display_{key}" in data:
                data.setdefault(key, data.pop(f"display_{key}"))
        return data


class SnapshotUpdate(Described):
    nova_name = "snapshot"

    @post_load
    def _strip(self, data, **kwargs):
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}


class SnapshotUpdateBody(NovaSchema):
    nova_name = "body"
    nova_required = ("snapshot",)
    snapshot = fields.Raw()


class MetadataBody(NovaSchema):
    """Volume metadata ``{"metadata": {...}}`` (``parameter_types.extra_specs``)."""

    nova_name = "body"
    nova_required = ("metadata",)
    metadata = NovaMetadata()


class MetaBody(NovaSchema):
    """One volume metadata item ``{"meta": {key: value}}``: exactly one property."""

    nova_name = "body"
    nova_required = ("meta",)
    meta = NovaMetadata()

    @post_load
    def _one(self, data, **kwargs):
        meta = data["meta"]
        if len(meta) > 1:
            raise NovaError(invalid("meta", meta, f"{meta!r} has too many properties"))
        if not meta:
            raise NovaError(invalid("meta", meta, f"{meta!r} does not have enough properties"))
        return data


VOLUME_UPDATE = VolumeUpdate()
SNAPSHOT_UPDATE, SNAPSHOT_UPDATE_BODY = SnapshotUpdate(), SnapshotUpdateBody()
METADATA_BODY, META_BODY = MetadataBody(), MetaBody()


def _element(name, *, suffix=""):
    """``body[name]`` as Queens' controllers without a schema demand it."""
    body = json_body(lambda: ApiError(400, "Missing request body"))
    if not isinstance(body, dict):
        raise ApiError(400, "Malformed request body")
    if name not in body:
        raise ApiError(400, f"Missing required element '{name}' in request body{suffix}")
    return body[name]


def _cinder(call, *args, **kwargs):
    """Call the model; Cinder answers metadata that is too long with 413."""
    try:
        return call(*args, **kwargs)
    except Invalid as error:
        if error.rule == "metadata_size":
            raise ApiError(413, error.message) from None
        raise


#: Cinder's strict boolean query parameters (``cascade``)
CINDER_BOOL = BoolQuery(not_boolean="Value '{value}' for '{name}' is not a boolean.")


def _action(known):
    """The one ``{action: args}`` of an action body; 400 for anything else."""
    body = json_body(malformed)
    if not isinstance(body, dict) or len(body) != 1:
        raise malformed()
    ((name, args),) = body.items()
    if name not in known:
        raise ApiError(400, f"There is no such action: {name}")
    return name, args


def _reset_values(args, allowed, none_given):
    """``os-reset_status`` values, lower-cased and checked before any policy check."""
    if not isinstance(args, dict):
        raise ApiError(400, none_given)
    values = {}
    for key, choices in allowed.items():
        if key not in args:
            continue
        value = args[key]
        value = value.lower() if isinstance(value, str) else value
        if value not in choices:
            what = {
                "status": "status",
                "attach_status": "attach status",
                "migration_status": "migration status",
            }[key]
            raise ApiError(400, f"Must specify a valid {what}")
        values[key] = value
    if not values:
        raise ApiError(400, none_given)
    return values


def _metadata_response(metadata, status=200):
    response = jsonify({"metadata": metadata})
    response.status_code = status
    return response


def _etag(metadata):
    return hashlib.md5(json.dumps({"metadata": metadata}).encode()).hexdigest()


def _metadata_body(kind, key="metadata"):
    """The metadata of a write: the volume schema, or Queens' schemaless snapshot checks."""
    if kind == "volume":
        return validated(METADATA_BODY if key == "metadata" else META_BODY, json_body(malformed))[
            key
        ]
    body = json_body(malformed)
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise ApiError(400, "Missing required element 'metadata' in request body.")
    return body[key]


def _metadata_collection(kind, resource_id):
    model = cloud()
    if request.method == "GET":
        metadata = model.get_metadata(g.context, kind, resource_id)
        response = _metadata_response(metadata)
        if kind == "volume" and g.volume_version >= ETAG_VERSION:
            response.headers["Etag"] = _etag(metadata)
        return response
    items = _metadata_body(kind)
    replace = request.method == "PUT"
    if (
        replace
        and kind == "volume"
        and g.volume_version >= ETAG_VERSION
        and request.if_match
        and not request.if_match.star_tag
    ):
        current = model.get_metadata(g.context, kind, resource_id)
        if not request.if_match.contains(_etag(current)):
            return Response(status=412)
    return _metadata_response(
        _cinder(model.set_metadata, g.context, kind, resource_id, items, replace=replace)
    )


def _metadata_item(kind, resource_id, key):
    model = cloud()
    if request.method == "GET":
        return jsonify({"meta": model.get_metadata_item(g.context, kind, resource_id, key)})
    if request.method == "DELETE":
        model.delete_metadata_item(g.context, kind, resource_id, key)
        return Response(status=200)
    meta = _metadata_body(kind, "meta")
    if key not in meta:
        raise ApiError(400, "Request body and URI mismatch")
    if len(meta) > 1:
        raise ApiError(400, "Request body contains too many items")
    _cinder(model.set_metadata, g.context, kind, resource_id, meta)
    return jsonify({"meta": {key: meta[key]}})


def register(app):
    app.register_blueprint(bp)
