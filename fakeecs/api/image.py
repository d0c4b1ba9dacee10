"""Glance v2 under ``/image``: images, their data, JSON patch and the schema."""

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from ..model import OverQuota
from ..model import glance_schema as rules
from ..model.clock import isoformat
from ..model.images import ImageChange
from ..model.timefilter import TimeFilterError, parse_time_filter
from .auth import base_url, cloud, require_token
from .errors import ApiError, glance_message
from .jsonbody import json_body
from .params import GLANCE_DEFAULT_LIMIT, GLANCE_INT

bp = Blueprint("image", __name__)

PATCH_TYPE = "application/openstack-images-v2.1-json-patch"
SORT_KEYS = (
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "id",
    "created_at",
    "updated_at",
    "min_disk",
    "min_ram",
    "visibility",
    "owner",
)


def versions_doc():
    base = base_url()
    out = []
    for number, status in (
        ("2.9", "CURRENT"),
        ("2.7", "SUPPORTED"),
        ("2.5", "SUPPORTED"),
        ("2.0", "SUPPORTED"),
    ):
        out.append(
            {
                "id": f"v{number}",
                "status": status,
                "links": [{"rel": "self", "href": f"{base}/image/v2/"}],
            }
        )
    return {"versions": out}


@bp.before_request
def _before():
    g.family = "glance"
    if request.endpoint == "image.versions":
        return
    require_token()


@bp.route("/image", methods=["GET"], endpoint="versions")
@bp.route("/image/versions", methods=["GET"], endpoint="versions")
def versions():
    response = jsonify(versions_doc())
    response.status_code = 300 if request.path.rstrip("/") == "/image" else 200
    return response


def image_view(image):
    body = {
        "id": image.id,
        "name": image.name,
        "status": image.status,
        "visibility": image.visibility,
        "protected": image.protected,
        "os_hidden": image.os_hidden,
        "checksum": image.checksum,
        "os_hash_algo": image.os_hash_algo,
        "os_hash_value": image.os_hash_value,
        "owner": image.owner,
        "size": image.size,
        "virtual_size": image.virtual_size,
        "container_format": image.container_format,
        "disk_format": image.disk_format,
        "created_at": isoformat(image.created_at),
        "updated_at": isoformat(image.updated_at),
        "tags": list(image.tags),
        "min_ram": image.min_ram,
        "min_disk": image.min_disk,
    }
    for key, value in image.properties.items():
        body.setdefault(key, value)
    body.update(
        {
            "self": f"/v2/images/{image.id}",
            "file": f"/v2/images/{image.id}/file",
            "schema": "/v2/schemas/image",
        }
    )
    return body


# -- request schemas --------------------------------------------------------------


class StrictBoolean(fields.Field):
    """A JSON boolean, nothing else (Glance's schema is strict)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError(f"{value!r} is not of type 'boolean'")
        return value


def field_for(fragment: rules.JsonSchema) -> fields.Field:
    """The marshmallow field that enforces one JSON-schema ``fragment`` of
    :mod:`fakeecs.model.glance_schema` (the kinds its attributes use)."""
    types = fragment["type"] if isinstance(fragment["type"], list) else [fragment["type"]]
    nullable = "null" in types
    kind = next(t for t in types if t != "null")
    checks: list[Any] = []
    if "maxLength" in fragment:
        checks.append(validate.Length(max=fragment["maxLength"]))
    if "enum" in fragment:
        checks.append(validate.OneOf([v for v in fragment["enum"] if v is not None]))
    if "pattern" in fragment:
        checks.append(validate.Regexp(fragment["pattern"]))
    if "minimum" in fragment:
        checks.append(validate.Range(min=fragment["minimum"]))
    if kind == "boolean":
        return StrictBoolean(allow_none=nullable, validate=checks)
    if kind == "integer":
        return fields.Integer(strict=True, allow_none=nullable, validate=checks)
    if kind == "array":
        return fields.List(field_for(fragment["items"]), allow_none=nullable, validate=checks)
    if kind == "string":
        return fields.String(allow_none=nullable, validate=checks)
    raise ValueError(f"no field for JSON type {kind!r}")


#: the core attributes of ``POST /v2/images`` (other keys are custom properties),
#: built from the same fragments ``/v2/schemas/image`` serves
ImageCreate = Schema.from_dict(
    {a.name: field_for(a.schema) for a in rules.ATTRIBUTES if a.name in rules.CREATE_KEYS},
    name="ImageCreate",
)
IMAGE_CREATE = ImageCreate(unknown=EXCLUDE)
CORE_KEYS = rules.CREATE_KEYS


def load_core(data: dict[str, Any]) -> dict[str, Any]:
    """Core attributes validated, or Glance's 400."""
    try:
        return IMAGE_CREATE.load(data)
    except ValidationError as error:
        raise ApiError(400, glance_message(error)) from None


def _refuse(key: str, read_only: frozenset[str]) -> None:
    """Glance's 403 for a read-only or reserved ``key``."""
    refused = rules.refusal(key, read_only)
    if refused is not None:
        raise ApiError(403, refused[1])


def _custom(key: str, value: Any) -> str:
    """A custom property's value (a string, as ``additionalProperties`` says), or the 400."""
    if not isinstance(value, str):
        error = ValidationError({key: [f"{value!r} is not of type 'string'"]})
        raise ApiError(400, glance_message(error))
    return value


def _bad_json() -> ApiError:
    return ApiError(400, "Malformed JSON in request body.")


@bp.post("/image/v2/images")
def create_image() -> Response:
    body = json_body(_bad_json)
    if not isinstance(body, dict):
        raise ApiError(400, "Malformed JSON in request body.")
    for key in body:
        _refuse(key, rules.READ_ONLY_ON_CREATE)
    core = load_core({k: v for k, v in body.items() if k in CORE_KEYS})
    properties = {key: _custom(key, value) for key, value in body.items() if key not in CORE_KEYS}
    image_id = core.pop("id", None)
    image = cloud().create_image(g.context, image_id=image_id, properties=properties, **core)
    response = jsonify(image_view(image))
    response.status_code = 201
    response.headers["Location"] = f"{base_url()}/image/v2/images/{image.id}"
    return response


@bp.put("/image/v2/images/<image_id>/file")
def upload(image_id):
    content_type = request.headers.get("Content-Type", "application/octet-stream")
    if content_type.split(";")[0].strip() != "application/octet-stream":
        raise ApiError(
            415,
            f"Content-Type {content_type} is not supported for image data; "
            "use application/octet-stream",
        )
    payload = request.stream.read() if request.content_length is None else request.get_data()
    cloud().upload_image_data(g.context, image_id, payload)
    return Response(status=204)


@bp.get("/image/v2/images/<image_id>/file")
def download(image_id):
    """Glance's ``GET /v2/images/{id}/file``: the bytes, a single range, or 204 without data."""
    data = cloud().image_data(g.context, image_id)
    if data is None:
        return Response(status=204)
    start, stop = _requested_range(data.size)
    headers = {"Content-Length": str(stop - start)}
    if data.checksum:
        headers["Content-MD5"] = data.checksum
    status = 200
    if request.headers.get("Range") or request.headers.get("Content-Range"):
        status = 206
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{data.size}"
    return Response(
        data.chunks(start, stop),
        status=status,
        headers=headers,
        content_type="application/octet-stream",
        direct_passthrough=True,
    )


RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


def _unsatisfiable(detail):
    """WebOb's 416, whose message is the class explanation and then the detail."""
    return ApiError(
        416,
        "",
        body={
            "message": f"The Range requested is not available.<br /><br />\n{detail}\n\n",
            "code": "416 Request Range Not Satisfiable",
            "title": "Request Range Not Satisfiable",
        },
    )


def _requested_range(size):
    """``(start, stop)`` (stop exclusive) from ``Range`` or a legacy ``Content-Range``."""
    last = f"[0, {size - 1}]"
    header = request.headers.get("Range")
    if header:
        if "," in header:
            raise ApiError(
                400,
                "Requests with multiple ranges are not supported in Glance. You "
                "may make multiple single-range requests instead.",
            )
        match = RANGE.match(header.strip())
        if (
            not match
            or match.groups() == ("", "")
            or (match.group(1) and match.group(2) and int(match.group(2)) < int(match.group(1)))
        ):
            raise _unsatisfiable("Invalid Range header.")
        first, end = match.groups()
        if not first:
            return max(size - int(end), 0), size
        start, stop = int(first), (min(int(end) + 1, size) if end else size)
        if start >= size:
            raise _unsatisfiable(
                "Invalid start position in Range header. Start position MUST "
                f"be in the inclusive range {last}."
            )
        return start, stop
    header = request.headers.get("Content-Range")
    if header:
        match = CONTENT_RANGE.match(header.strip())
        if not match or int(match.group(2)) < int(match.group(1)):
            raise _unsatisfiable("Invalid Content-Range header.")
        start, end = int(match.group(1)), int(match.group(2))
        if end >= size:
            raise _unsatisfiable(
                "Invalid stop position in Content-Range header. The stop "
                f"position MUST be in the inclusive range {last}."
            )
        if start >= size:
            raise _unsatisfiable(
                "Invalid start position in Content-Range header. Start "
                f"position MUST be in the inclusive range {last}."
            )
        return start, end + 1
    return 0, size


#: the served schema of one tag
TAG_SCHEMA: rules.JsonSchema = rules.BY_NAME["tags"].schema["items"]


def _tag_too_long(tag: str) -> ApiError:
    """jsonschema's refusal of a tag, as Glance renders the whole ValidationError."""
    return ApiError(
        400,
        f"Provided object does not match schema 'image': {tag!r} is too long\n\n"
        "Failed validating 'maxLength' in schema['properties']['tags']['items']:\n"
        f"    {dict(sorted(TAG_SCHEMA.items()))!r}\n\n"
        "On instance['tags'][0]:\n"
        f"    {tag!r}",
    )


@bp.put("/image/v2/images/<image_id>/tags/<path:tag>")
def add_tag(image_id: str, tag: str) -> Response:
    if len(tag) > TAG_SCHEMA["maxLength"]:
        raise _tag_too_long(tag)
    try:
        cloud().add_image_tag(g.context, image_id, tag)
    except OverQuota as error:
        raise ApiError(413, error.message) from None
    return Response(status=204)


@bp.delete("/image/v2/images/<image_id>/tags/<path:tag>")
def remove_tag(image_id, tag):
    cloud().remove_image_tag(g.context, image_id, tag)
    return Response(status=204)


@bp.get("/image/v2/images/<image_id>")
def show_image(image_id):
    return jsonify(image_view(cloud().get_image(g.context, image_id)))


@bp.delete("/image/v2/images/<image_id>")
def delete_image(image_id):
    cloud().delete_image(g.context, image_id)
    return Response(status=204)


@bp.patch("/image/v2/images/<image_id>")
def update_image(image_id: str) -> Response:
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip()
    if content_type != PATCH_TYPE:
        raise ApiError(
            415, f"Unsupported Content-Type: use {PATCH_TYPE}", {"Accept-Patch": PATCH_TYPE}
        )
    body = json_body(_bad_json)
    if not isinstance(body, list):
        raise ApiError(400, "Request body must be a JSON array of operation objects.")
    changes: list[ImageChange] = []
    for item in body:
        if not isinstance(item, dict) or item.get("op") not in ("add", "replace", "remove"):
            raise ApiError(
                400,
                "Operation objects must contain exactly one member named "
                '"add", "remove", or "replace".',
            )
        path = item.get("path")
        if (
            not isinstance(path, str)
            or not path.startswith("/")
            or path.count("/") != 1
            or len(path) < 2
        ):
            raise ApiError(400, f"Invalid JSON pointer for this resource: '{path}'")
        key = path[1:].replace("~1", "/").replace("~0", "~")
        if item["op"] != "remove" and "value" not in item:
            raise ApiError(400, 'Operation objects must contain a member named "value".')
        value = item.get("value")
        if key in rules.CORE_WRITABLE and item["op"] != "remove":
            value = load_core({key: value})[key]
        elif item["op"] != "remove" and rules.refusal(key, rules.READ_ONLY_ON_PATCH) is None:
            value = _custom(key, value)
        # read-only and reserved keys: the model refuses them (its rule for every caller)
        changes.append(ImageChange(op=item["op"], path=key, value=value))
    image = cloud().update_image(g.context, image_id, changes)
    return jsonify(image_view(image))


def _filters() -> dict[str, Any]:
    args = request.args
    filters: dict[str, Any] = {}
    for key in ("name", "status", "visibility", "owner", "id", "container_format", "disk_format"):
        if key in args:
            filters[key] = args[key]
    if "visibility" in filters and filters["visibility"] not in (*rules.VISIBILITIES, "all"):
        raise ApiError(400, f"Invalid visibility value: {filters['visibility']}")
    hidden = args.get("os_hidden")
    if hidden is not None:
        if hidden.lower() not in ("true", "false"):
            raise ApiError(
                400,
                f"Invalid value '{hidden}' for 'os_hidden' filter. "
                "Valid values are 'true' or 'false'.",
            )
        filters["os_hidden"] = hidden.lower() == "true"
    if args.getlist("tag"):
        filters["tag"] = args.getlist("tag")
    for key in ("created_at", "updated_at"):
        if key in args:
            filters[key] = _time_filter(key, args[key])
    for key in args:
        if key not in filters and key not in (
            "limit",
            "marker",
            "sort",
            "sort_key",
            "sort_dir",
            "os_hidden",
            "tag",
            "member_status",
        ):
            filters[key] = args[key]
    return filters


def _time_filter(key: str, expression: str) -> tuple[str, float]:
    """``(operator, epoch)`` of a Glance date filter, or its 400."""
    try:
        return parse_time_filter(expression)
    except TimeFilterError as error:
        if error.kind == "operator":
            raise ApiError(400, "Unable to filter on a unknown operator.") from None
        raise ApiError(
            400, f'Bad "{key}" query filter format. Use ISO 8601 DateTime notation.'
        ) from None


def _sort() -> list[tuple[str, str]]:
    args = request.args
    pairs: list[tuple[str, str]] = []
    if "sort" in args:
        for part in args["sort"].split(","):
            key, _, direction = part.strip().partition(":")
            pairs.append((key, direction or "desc"))
    else:
        keys = args.getlist("sort_key") or []
        dirs = args.getlist("sort_dir") or []
        for index, key in enumerate(keys):
            pairs.append((key, dirs[index] if index < len(dirs) else (dirs[0] if dirs else "desc")))
    for key, direction in pairs:
        if key not in SORT_KEYS:
            raise ApiError(
                400,
                f"Invalid sort key: {key}. It should be one of the following: "
                f"{', '.join(SORT_KEYS)}.",
            )
        if direction not in ("asc", "desc"):
            raise ApiError(400, f"Invalid sort direction: {direction}")
    return pairs


def list_response(bad_request: Callable[[str], Exception]) -> Response:
    """Glance's ``GET /v2/images`` body; ``bad_request(message)`` builds the 400 to raise.

    Shared by Glance under ``/image`` and Glance at the root (the IMS family).
    """
    limit = GLANCE_INT.read("limit", default=GLANCE_DEFAULT_LIMIT, error=bad_request)
    marker = request.args.get("marker")
    found, more = cloud().list_images(
        g.context, filters=_filters(), limit=limit, marker=marker, sort=_sort()
    )
    query = request.query_string.decode()
    body = {
        "images": [image_view(image) for image in found],
        "first": "/v2/images" + (f"?{query}" if query else ""),
        "schema": "/v2/schemas/images",
    }
    if more and found:
        args = {k: v for k, v in request.args.items() if k != "marker"}
        args["marker"] = found[-1].id
        body["next"] = "/v2/images?" + "&".join(f"{k}={v}" for k, v in args.items())
    return jsonify(body)


@bp.get("/image/v2/images")
def list_images():
    return list_response(lambda message: ApiError(400, message))


@bp.get("/image/v2/images/<image_id>/tasks")
def image_tasks(image_id):
    cloud().get_image(g.context, image_id)
    return jsonify({"tasks": []})


def image_schema() -> rules.JsonSchema:
    """Glance's ``/v2/schemas/image`` (the one in :mod:`fakeecs.model.glance_schema`)."""
    return rules.image_schema()


@bp.get("/image/v2/schemas/image")
def schema_image() -> Response:
    return jsonify(image_schema())


@bp.get("/image/v2/schemas/images")
def schema_images() -> Response:
    return jsonify(rules.images_schema())


def register(app):
    app.register_blueprint(bp)
