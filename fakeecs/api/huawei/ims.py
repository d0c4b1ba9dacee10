"""IMS routes: images from servers, export, jobs, the IMS list, and Glance at the root.

Paths carry no project id (the project comes from ``X-Project-Id`` with AK/SK,
or from the token), except the job query ``/v1/{project_id}/jobs/{job_id}``.
"""

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from ...model import errors as domain
from ...model import glance_schema
from ...model.clock import isoformat
from ...model.ims import huawei_fields
from ...model.timefilter import TimeFilterError, parse_time_filter
from .. import errors
from .. import image as glance
from ..errors import huawei_message
from ..jsonbody import json_body
from ..params import IntQuery, built
from .common import api_error, authenticate, check_path_project, cloud, translating

bp = Blueprint("huawei_ims", __name__)

#: other job stores (EVS, ECS) may answer ``/v1/{project_id}/jobs/{id}``:
#: callables ``(context, job_id) -> dict | None`` asked when IMS has no such job
JOB_RESOLVERS: list[Callable[[Any, str], dict[str, Any] | None]] = []

NAME = re.compile(r"^[\w\u4e00-\u9fa5\-. ]+$")
DESCRIPTION_FORBIDDEN = re.compile(r"[\r\n<>]")
PATCH_TYPE = glance.PATCH_TYPE

#: model rule -> (status, IMG code); see huawei-clients.md 8.3
RULE_CODES = {
    "ims_both_sources": (400, "IMG.0001"),
    "ims_no_source": (400, "IMG.0012"),
    "ims_no_name": (400, "IMG.0013"),
    "ims_data_volume": (400, "IMG.0120"),
    "ims_data_servers": (400, "IMG.0140"),
    "ims_backup_source": (400, "IMG.0105"),
    "export_public": (400, "IMG.0077"),
    "owner": (400, "IMG.0047"),
    "export_whole": (400, "IMG.0128"),
    "export": (400, "IMG.0071"),
    "image_status": (400, "IMG.0046"),
    "bucket_empty": (400, "IMG.0068"),
    "bucket": (400, "IMG.0069"),
    "export_format": (400, "IMG.0072"),
    "export_running": (400, "IMG.0148"),
    "export_exists": (400, "IMG.0070"),
    "image_creating": (400, "IMG.0090"),
    "marker": (400, "IMG.0001"),
    "protected": (403, "IMG.0047"),
    "read_only": (403, "IMG.0105"),
    "reserved": (403, "IMG.0105"),
    "core": (403, "IMG.0105"),
}


def ims_code(error):
    """(status, code) of a model error on an IMS route."""
    if isinstance(error, domain.NotFound):
        if error.kind == "server":
            return 400, "IMG.0005"
        if error.kind == "ims_job":
            return 404, "IMG.0404"
        return 404, "IMG.0027"
    rule = error.facts.get("rule")
    if rule == "imageable":
        return imageable_refusal(error)
    if rule in RULE_CODES:
        return RULE_CODES[rule]
    status = errors.status_for(error)
    if isinstance(error, domain.Forbidden) and str(rule or "").startswith(
        ("ims:", "os_", "add_", "modify_", "delete_", "publicize")
    ):
        return 403, "IMG.0026"
    return status, {
        400: "IMG.0001",
        401: "APIG.0301",
        403: "IMG.0047",
        404: "IMG.0027",
        409: "IMG.0001",
    }.get(status, "IMG.%04d" % status)


def imageable_refusal(error):
    """IMS's wording of constraint 1 (``provenance.check_imageable``): code and message."""
    facts = error.facts
    if facts["attr"] == "task_state":
        return (
            400,
            "IMG.0010",
            (
                f"The ECS {facts['server_id']} cannot be used to create an "
                f"image because it has an in-progress task ({facts['state']})."
            ),
        )
    whole = facts["action"] == "ims createWholeImage"
    what = "a full-ECS image" if whole else "an image"
    return (
        400,
        "IMG.0126" if whole else "IMG.0008",
        (
            f"The ECS {facts['server_id']} in vm_state {facts['vm_state']} cannot be used to "
            f"create {what}."
        ),
    )


ims_errors = translating(ims_code)


@bp.before_request
def _before():
    g.family = "ims"
    authenticate()


def _bad(code, message, status=400):
    return api_error(status, code, message)


def _body(allow_empty=False):
    body = json_body(
        lambda: _bad("IMG.0001", "The request message format is invalid: the body is not JSON."),
        allow_empty=True,
    )
    if body is None and not allow_empty:
        raise _bad("IMG.0007", "The request body is empty.")
    return body


# -- request schemas -------------------------------------------------------------


class _Loose(Schema):
    class Meta:
        unknown = EXCLUDE


class TagKV(_Loose):
    key = fields.String(required=True)
    value = fields.String(load_default="")


class DataImage(_Loose):
    name = fields.String(required=True)
    volume_id = fields.String(required=True)
    description = fields.String()
    tags = fields.List(fields.String())


class CreateImageBody(_Loose):
    name = fields.String()
    description = fields.String()
    instance_id = fields.String()
    data_images = fields.List(fields.Nested(DataImage))
    tags = fields.List(fields.String())
    image_tags = fields.List(fields.Nested(TagKV))
    max_ram = fields.Integer(validate=validate.Range(min=0))
    min_ram = fields.Integer(validate=validate.Range(min=0))
    enterprise_project_id = fields.String()
    type = fields.String()
    #: the OBS-file and lone-data-disk modes, which fakeecs does not simulate
    image_url = fields.String()
    volume_id = fields.String()


class WholeImageBody(_Loose):
    name = fields.String(required=True)
    description = fields.String()
    instance_id = fields.String()
    backup_id = fields.String()
    whole_image_type = fields.String()
    vault_id = fields.String()
    tags = fields.List(fields.String())
    image_tags = fields.List(fields.Nested(TagKV))
    max_ram = fields.Integer(validate=validate.Range(min=0))
    min_ram = fields.Integer(validate=validate.Range(min=0))
    enterprise_project_id = fields.String()


class ExportBody(_Loose):
    bucket_url = fields.String(required=True)
    file_format = fields.String()
    is_quick_export = fields.Boolean()


#: IMS's refusal of a body that does not match its schema
BAD_FORMAT = "The request message format is invalid: "


def _load(schema: type, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _bad(
            "IMG.0001", "The request message format is invalid: the body must be a JSON object."
        )
    try:
        return built(schema).load(body)
    except ValidationError as error:
        raise _bad("IMG.0001", huawei_message(error, BAD_FORMAT)) from None


def _check_name(name, required=True):
    if name is None or name == "":
        if required:
            raise _bad("IMG.0013", "The image name is not specified.")
        return
    if len(name) > 128:
        raise _bad("IMG.0002", "The image name contains more than 128 characters.")
    if not NAME.match(name) or name != name.strip():
        raise _bad(
            "IMG.0003",
            "The image name format is invalid: use letters, digits, "
            "spaces, hyphens (-), underscores (_) and periods (.), not "
            "starting or ending with a space.",
        )


def _check_description(text):
    if text is None:
        return
    if len(text) > 1024:
        raise _bad("IMG.0004", "The description contains more than 1024 characters.")
    if DESCRIPTION_FORBIDDEN.search(text):
        raise _bad(
            "IMG.0004", "The description cannot contain carriage returns or angle brackets (< >)."
        )


def _tags(data):
    if data.get("tags") and data.get("image_tags"):
        raise _bad(
            "IMG.0001",
            "The request message format is invalid: use either tags or image_tags, not both.",
        )
    if data.get("image_tags"):
        return [
            f"{t['key']}.{t['value']}" if t.get("value") else t["key"] for t in data["image_tags"]
        ]
    return list(data.get("tags") or [])


# -- views -----------------------------------------------------------------------


def job_id_body(job):
    return jsonify({"job_id": job.id})


@bp.post("/v2/cloudimages/action")
@bp.post("/v2.1/cloudimages/action")
@ims_errors
def create_image():
    data = _load(CreateImageBody, _body())
    if data.get("image_url") or (data.get("volume_id") and not data.get("data_images")):
        raise _bad(
            "IMG.0105",
            "The operation is not supported: fakeecs makes images from "
            "ECSs (instance_id) and their data disks (data_images) only, "
            "not from OBS files or a lone data disk.",
        )
    if not data.get("data_images"):
        _check_name(data.get("name"), required=bool(data.get("instance_id")))
    for item in data.get("data_images") or []:
        _check_name(item["name"])
        _check_description(item.get("description"))
    _check_description(data.get("description"))
    job = cloud().ims_create_image(
        g.context,
        name=data.get("name"),
        instance_id=data.get("instance_id"),
        data_images=data.get("data_images"),
        description=data.get("description"),
        tags=_tags(data),
        min_ram=data.get("min_ram"),
        max_ram=data.get("max_ram"),
        enterprise_project_id=data.get("enterprise_project_id"),
    )
    return job_id_body(job)


@bp.post("/v1/cloudimages/wholeimages/action")
@bp.post("/v2.1/cloudimages/wholeimages/action")
@ims_errors
def create_whole_image():
    data = _load(WholeImageBody, _body())
    _check_name(data.get("name"))
    _check_description(data.get("description"))
    job = cloud().ims_create_whole_image(
        g.context,
        name=data["name"],
        instance_id=data.get("instance_id"),
        backup_id=data.get("backup_id"),
        description=data.get("description"),
        tags=_tags(data),
        min_ram=data.get("min_ram"),
        max_ram=data.get("max_ram"),
        vault_id=data.get("vault_id"),
        enterprise_project_id=data.get("enterprise_project_id"),
    )
    return job_id_body(job)


@bp.post("/v1/cloudimages/<image_id>/file")
@bp.post("/v2.1/cloudimages/<image_id>/file")
@ims_errors
def export_image(image_id):
    data = _load(ExportBody, _body())
    job = cloud().ims_export_image(
        g.context,
        image_id,
        bucket_url=data["bucket_url"],
        file_format=data.get("file_format"),
        quick=bool(data.get("is_quick_export")),
    )
    return job_id_body(job)


# -- jobs ----------------------------------------------------------------------------


def _time(epoch):
    if epoch is None:
        return None
    return isoformat(epoch, micro=True)[:-3] + "Z"


def job_view(job, progress=False):
    the_cloud = cloud()
    entities = {}
    if job.entities.get("image_id"):
        entities["image_id"] = job.entities["image_id"]
    if job.entities.get("image_name"):
        entities["image_name"] = job.entities["image_name"]
    if job.current_task:
        entities["current_task"] = job.current_task
    entities["process_percent"] = job.process_percent
    subs = the_cloud.ims_sub_jobs(job)
    if job.sub_job_ids:
        entities["sub_jobs_result"] = [job_view(sub) for sub in subs]
        entities["sub_jobs_list"] = list(job.sub_job_ids)
        if progress:
            entities["subJobId"] = ",".join(job.sub_job_ids)
    return {
        "status": job.status,
        "job_id": job.id,
        "job_type": job.job_type,
        "begin_time": _time(job.begin_time),
        "end_time": _time(job.end_time) or "",
        "error_code": job.error_code,
        "fail_reason": job.fail_reason,
        "entities": entities,
    }


@bp.get("/v1/<project_id>/jobs/<job_id>")
@ims_errors
def show_job(project_id, job_id):
    check_path_project(project_id, "ims")
    the_cloud = cloud()
    if the_cloud.ims_jobs.get(job_id) is None:
        for resolver in JOB_RESOLVERS:
            found = resolver(g.context, job_id)
            if found is not None:
                return jsonify(found)
    return jsonify(job_view(the_cloud.get_ims_job(g.context, job_id)))


@bp.get("/v1/cloudimages/job/<job_id>")
@ims_errors
def show_job_progress(job_id):
    return jsonify(job_view(cloud().get_ims_job(g.context, job_id), progress=True))


# -- image views ---------------------------------------------------------------------


def image_view(image):
    """Glance's view of ``image`` plus Huawei's fields (GlanceShowImageResponse, ImageInfo)."""
    body = glance.image_view(image)
    body.update(huawei_fields(image))
    body["active_at"] = isoformat(image.updated_at) if image.status == "active" else None
    return body


IMS_FILTERS = (
    "__imagetype",
    "__isregistered",
    "__os_bit",
    "__os_type",
    "__platform",
    "__support_diskintensive",
    "__support_highperformance",
    "__support_kvm",
    "__support_kvm_gpu_type",
    "__support_kvm_infiniband",
    "__support_largememory",
    "__support_xen",
    "__support_xen_gpu_type",
    "__support_xen_hana",
    "container_format",
    "disk_format",
    "enterprise_project_id",
    "id",
    "min_disk",
    "min_ram",
    "name",
    "owner",
    "protected",
    "status",
    "virtual_env_type",
    "visibility",
    "flavor_id",
    "architecture",
    "member_status",
)
#: ``limit`` of ``GET /v2/cloudimages``
IMS_LIMIT = IntQuery(
    not_integer=BAD_FORMAT + "{name} must be an integer from {minimum} to {maximum}.",
    minimum=1,
    maximum=1000,
    error=lambda message: _bad("IMG.0001", message),
)
IMS_SORT_KEYS = (
    "created_at",
    "name",
    "container_format",
    "disk_format",
    "status",
    "id",
    "size",
    "updated_at",
    "min_disk",
    "min_ram",
)


@bp.get("/v2/cloudimages")
@ims_errors
def list_cloudimages():
    args = request.args
    filters = {}
    for key in IMS_FILTERS:
        if key in args and key not in ("flavor_id", "architecture"):
            filters[key] = args[key]
    if args.getlist("tag"):
        filters["tag"] = args.getlist("tag")
    for key in ("created_at", "updated_at"):
        if key in args:
            try:
                filters[key] = parse_time_filter(args[key], operator_required=True)
            except TimeFilterError:
                raise _bad(
                    "IMG.0001",
                    f"The request message format is invalid: {key} must be "
                    "<gt|gte|lt|lte|eq|neq>:<UTC time>.",
                ) from None
    limit = IMS_LIMIT.read("limit", 500)
    sort_key = args.get("sort_key", "created_at")
    sort_dir = args.get("sort_dir", "desc")
    if sort_key not in IMS_SORT_KEYS or sort_dir not in ("asc", "desc"):
        raise _bad(
            "IMG.0001",
            f"The request message format is invalid: sort_key must be one "
            f"of {', '.join(IMS_SORT_KEYS)} and sort_dir asc or desc.",
        )
    found, more = cloud().ims_list_images(
        g.context,
        filters=filters,
        limit=limit,
        marker=args.get("marker"),
        sort=[(sort_key, sort_dir)],
    )
    body = {"images": [image_view(image) for image in found]}
    if more and found:
        body["page_info"] = {"next_marker": found[-1].id}
    return jsonify(body)


class PatchItem(_Loose):
    op = fields.String(required=True, validate=validate.OneOf(["add", "replace", "remove"]))
    path = fields.String(required=True)
    value = fields.Raw()


def _patch_value(key, value):
    """A JSON-patch value checked as Glance's schema does (IMS sends every value as a string)."""
    kind = glance_schema.json_type(key)
    if kind == "integer" and isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise _bad(
                "IMG.0001", f"The request message format is invalid: {key} must be an integer."
            ) from None
    elif kind == "boolean" and value in ("true", "false"):
        value = value == "true"
    if key == "name":
        _check_name(value if isinstance(value, str) else None)
    if key in glance_schema.CORE_WRITABLE:
        try:
            return glance.IMAGE_CREATE.load({key: value})[key]
        except ValidationError as error:
            raise _bad("IMG.0001", huawei_message(error, BAD_FORMAT)) from None
    return value if value is None else str(value)


def _changes(body):
    if not isinstance(body, list) or not body:
        raise _bad(
            "IMG.0001",
            "The request message format is invalid: the body must be a "
            "non-empty JSON array of {op, path, value} objects.",
        )
    changes = []
    for item in body:
        data = _load(PatchItem, item)
        path = data["path"]
        if not path.startswith("/") or path.count("/") != 1 or len(path) < 2:
            raise _bad(
                "IMG.0001", f"The request message format is invalid: invalid JSON pointer {path!r}."
            )
        key = path[1:]
        value = data.get("value")
        if data["op"] != "remove" and "value" not in data:
            raise _bad("IMG.0001", f"The request message format is invalid: {path} needs a value.")
        if data["op"] != "remove":
            value = _patch_value(key, value)
        changes.append({"op": data["op"], "path": key, "value": value})
    return changes


@bp.patch("/v2/cloudimages/<image_id>")
@ims_errors
def update_cloudimage(image_id):
    image = cloud().ims_update_image(g.context, image_id, _changes(_body()))
    return jsonify(image_view(image))


# -- Glance at the root ----------------------------------------------------------------


@bp.get("/v2/images")
@ims_errors
def glance_list():
    return glance.list_response(lambda message: _bad("IMG.0001", message))


@bp.get("/v2/images/<image_id>")
@ims_errors
def glance_show(image_id):
    return jsonify(image_view(cloud().get_image(g.context, image_id)))


@bp.patch("/v2/images/<image_id>")
@ims_errors
def glance_update(image_id):
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type != PATCH_TYPE:
        raise api_error(
            415, "IMG.0001", f"Unsupported Content-Type {content_type!r}: use {PATCH_TYPE}"
        )
    image = cloud().update_image(g.context, image_id, _changes(_body()))
    return jsonify(image_view(image))


@bp.delete("/v2/images/<image_id>")
@ims_errors
def glance_delete(image_id):
    body = _body(allow_empty=True)
    delete_backup = False
    if body is not None:
        if not isinstance(body, dict) or not isinstance(body.get("delete_backup", False), bool):
            raise _bad(
                "IMG.0001",
                "The request message format is invalid: the body may only "
                'be {"delete_backup": true|false}.',
            )
        delete_backup = body.get("delete_backup", False)
    cloud().ims_delete_image(g.context, image_id, delete_backup=delete_backup)
    return Response(status=204)


@bp.get("/v2/schemas/image")
def glance_schema_image():
    return jsonify(glance.image_schema())


@bp.get("/v2/schemas/images")
def glance_schema_images():
    return glance.schema_images()


def register(app):
    app.register_blueprint(bp)
