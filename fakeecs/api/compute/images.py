"""The Nova image proxy: ``/images`` up to microversion 2.35, image metadata up to 2.38.

``nova/api/openstack/compute/images.py``, ``image_metadata.py`` and
``views/images.py``.  From 2.36 (``/images``) and 2.39 (``/metadata``) on the
routes answer 404 as Nova does.
"""

from flask import Response, g, jsonify, request

from ...model import Forbidden, Invalid, NotFound
from ...model.clock import isoformat, parse_time
from ..auth import base_url, cloud
from ..errors import ApiError
from ..jsonbody import json_body
from ..params import int_param, nova_page_limit
from . import bp, legacy

#: Glance status -> Nova image status (views/images.py)
STATUS = {
    "active": "ACTIVE",
    "queued": "SAVING",
    "saving": "SAVING",
    "deleted": "DELETED",
    "pending_delete": "DELETED",
    "killed": "ERROR",
}
PROGRESS = {"queued": 25, "saving": 50, "active": 100}
#: Nova's ``metadata_items`` quota
METADATA_LIMIT = 128
NOT_FOUND = "Image not found."


def route(rule, **options):
    """Like :func:`fakeecs.api.compute.route`, but only with the ``/{project_id}`` prefix.

    Without a project, ``/v2/images/...`` would shadow Glance served at the root
    (the Huawei IMS room's ``/v2/images``).
    """

    def decorator(view):
        bp.add_url_rule("/<pid:project_id>" + rule, view_func=view, **options)
        return view

    return decorator


def _gate(maximum):
    if not legacy() and g.version > maximum:
        raise ApiError(404, "The resource could not be found.")


def _image(image_id):
    try:
        return cloud().get_image(g.context, image_id)
    except NotFound:
        raise ApiError(404, NOT_FOUND) from None


def _links(image):
    base, pid = base_url(), g.context.project_id
    return [
        {"rel": "self", "href": f"{base}/v2.1/{pid}/images/{image.id}"},
        {"rel": "bookmark", "href": f"{base}/{pid}/images/{image.id}"},
        {
            "rel": "alternate",
            "type": "application/vnd.openstack.image",
            "href": f"{base}/image/images/{image.id}",
        },
    ]


def image_view(image, detail=True):
    body = {"id": image.id, "name": image.name, "links": _links(image)}
    if not detail:
        return body
    body.update(
        {
            "minRam": int(image.min_ram or 0),
            "minDisk": int(image.min_disk or 0),
            "metadata": dict(image.properties),
            "created": isoformat(image.created_at),
            "updated": isoformat(image.updated_at),
            "status": STATUS.get(image.status, "UNKNOWN"),
            "progress": PROGRESS.get(image.status, 0),
            "OS-EXT-IMG-SIZE:size": image.size or 0,
        }
    )
    server_id = image.properties.get("instance_uuid")
    if server_id:
        base, pid = base_url(), g.context.project_id
        body["server"] = {
            "id": server_id,
            "links": [
                {"rel": "self", "href": f"{base}/v2.1/{pid}/servers/{server_id}"},
                {"rel": "bookmark", "href": f"{base}/{pid}/servers/{server_id}"},
            ],
        }
    disk_config = image.properties.get("auto_disk_config")
    if disk_config is not None:
        body["OS-DCF:diskConfig"] = "AUTO" if str(disk_config).lower() == "true" else "MANUAL"
    return body


def _list(detail):
    _gate((2, 35))
    filters = {}
    args = request.args
    if args.get("server"):
        filters["instance_uuid"] = args["server"].rstrip("/").rsplit("/", 1)[-1]
    if args.get("type"):
        filters["image_type"] = args["type"]
    if args.get("name"):
        filters["name"] = args["name"]
    if args.get("status"):
        filters["status"] = args["status"].lower()
    for key, value in args.items():
        if key.startswith("property-"):
            filters[key[len("property-") :]] = value
    since = None
    if args.get("changes-since"):
        try:
            since = parse_time(args["changes-since"])
        except ValueError:
            raise ApiError(400, f"Invalid filter value {args['changes-since']}.") from None
    min_ram, min_disk = int_param("minRam"), int_param("minDisk")
    limit, marker = nova_page_limit(), args.get("marker")

    def keep_also(image):
        return (
            (since is None or image.updated_at >= since)
            and (min_ram is None or (image.min_ram or 0) >= min_ram)
            and (min_disk is None or (image.min_disk or 0) >= min_disk)
        )

    try:
        found, more = cloud().list_images(
            g.context, filters=filters, limit=limit, marker=marker, keep_also=keep_also
        )
    except Invalid as error:
        if error.rule == "marker":
            raise ApiError(400, f"marker [{marker}] not found") from None
        raise
    body = {"images": [image_view(image, detail) for image in found]}
    if more and found:
        body["images_links"] = [
            {"rel": "next", "href": f"{request.base_url}?limit={limit}&marker={found[-1].id}"}
        ]
    return jsonify(body)


@route("/images", methods=["GET"])
def list_images(project_id):
    return _list(False)


@route("/images/detail", methods=["GET"])
def list_images_detail(project_id):
    return _list(True)


@route("/images/<image_id>", methods=["GET"])
def show_image(project_id, image_id):
    _gate((2, 35))
    return jsonify({"image": image_view(_image(image_id))})


@route("/images/<image_id>", methods=["DELETE"])
def delete_image(project_id, image_id):
    _gate((2, 35))
    try:
        cloud().delete_image(g.context, image_id)
    except NotFound:
        raise ApiError(404, NOT_FOUND) from None
    except Forbidden:
        raise ApiError(403, "You are not allowed to delete the image.") from None
    return Response(status=204)


# -- image metadata (<= 2.38) -----------------------------------------------------------


def _body(key):
    body = json_body(lambda: ApiError(400, "Malformed request body"))
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise ApiError(400, "Malformed request body")
    items = body[key]
    for name, value in items.items():
        if not isinstance(value, str):
            raise ApiError(
                400,
                f"Invalid input for field/attribute {name}. Value: {value}. "
                f"{value!r} is not of type 'string'",
            )
        if not name or len(name) > 255 or len(value) > 255:
            raise ApiError(
                400,
                f"Invalid input for field/attribute {key}. Value: {items}. "
                "Metadata keys and values must be 1 to 255 characters long",
            )
    return items


def _write(image_id, properties):
    """Replace the image's custom properties with ``properties`` (Glance purge)."""
    image = _image(image_id)
    if len(properties) > METADATA_LIMIT:
        raise ApiError(403, "Image metadata limit exceeded")
    current = dict(image.properties)
    changes = [{"op": "remove", "path": key} for key in current if key not in properties]
    changes += [
        {"op": "add", "path": key, "value": value}
        for key, value in properties.items()
        if current.get(key) != value
    ]
    try:
        image = cloud().update_image(g.context, image_id, changes)
    except NotFound:
        raise ApiError(404, NOT_FOUND) from None
    except Forbidden as error:
        raise ApiError(403, error.message) from None
    return dict(image.properties)


@route("/images/<image_id>/metadata", methods=["GET"])
def list_metadata(project_id, image_id):
    _gate((2, 38))
    return jsonify({"metadata": dict(_image(image_id).properties)})


@route("/images/<image_id>/metadata", methods=["PUT"])
def replace_metadata(project_id, image_id):
    _gate((2, 38))
    items = _body("metadata")
    return jsonify({"metadata": _write(image_id, dict(items))})


@route("/images/<image_id>/metadata", methods=["POST"])
def update_metadata(project_id, image_id):
    _gate((2, 38))
    items = _body("metadata")
    merged = dict(_image(image_id).properties)
    merged.update(items)
    return jsonify({"metadata": _write(image_id, merged)})


@route("/images/<image_id>/metadata/<key>", methods=["GET"])
def show_metadata(project_id, image_id, key):
    _gate((2, 38))
    properties = _image(image_id).properties
    if key not in properties:
        raise ApiError(404, "The resource could not be found.")
    return jsonify({"meta": {key: properties[key]}})


@route("/images/<image_id>/metadata/<key>", methods=["PUT"])
def set_metadata(project_id, image_id, key):
    _gate((2, 38))
    items = _body("meta")
    if len(items) > 1:
        raise ApiError(400, "Request body contains too many items")
    if key not in items:
        raise ApiError(400, "Request body and URI mismatch")
    merged = dict(_image(image_id).properties)
    merged[key] = items[key]
    _write(image_id, merged)
    return jsonify({"meta": {key: items[key]}})


@route("/images/<image_id>/metadata/<key>", methods=["DELETE"])
def delete_metadata(project_id, image_id, key):
    _gate((2, 38))
    properties = dict(_image(image_id).properties)
    if key not in properties:
        raise ApiError(404, "Invalid metadata key")
    del properties[key]
    _write(image_id, properties)
    return Response(status=204)
