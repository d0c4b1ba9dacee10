"""Server tags (microversion 2.26+): ``/servers/{id}/tags`` and ``/tags/{tag}``.

``nova/api/openstack/compute/server_tags.py``.  Below 2.26 every route answers
Nova's bare 404.
"""

from flask import Response, g, jsonify

from ..auth import base_url, cloud
from ..errors import ApiError
from ..jsonbody import json_body
from ..params import malformed, validated
from . import legacy, route, schemas

MIN_VERSION = (2, 26)
TAGS_BODY = schemas.TagsBody()


def _gate() -> None:
    if legacy() or g.version < MIN_VERSION:
        raise ApiError(404, "The resource could not be found.")


@route("/servers/<server_id>/tags", methods=["GET"])
def list_server_tags(project_id: str, server_id: str) -> Response:
    _gate()
    return jsonify({"tags": cloud().list_server_tags(g.context, server_id)})


@route("/servers/<server_id>/tags", methods=["PUT"])
def replace_server_tags(project_id: str, server_id: str) -> Response:
    _gate()
    tags = validated(TAGS_BODY, json_body(malformed))["tags"]
    return jsonify({"tags": cloud().replace_server_tags(g.context, server_id, tags)})


@route("/servers/<server_id>/tags", methods=["DELETE"])
def delete_server_tags(project_id: str, server_id: str) -> Response:
    _gate()
    cloud().delete_server_tags(g.context, server_id)
    return Response(status=204)


@route("/servers/<server_id>/tags/<tag>", methods=["GET"])
def check_server_tag(project_id: str, server_id: str, tag: str) -> Response:
    _gate()
    cloud().has_server_tag(g.context, server_id, tag)
    return Response(status=204)


@route("/servers/<server_id>/tags/<tag>", methods=["PUT"])
def add_server_tag(project_id: str, server_id: str, tag: str) -> Response:
    """201 with a Location for a new tag, 204 for one the server has; no body allowed."""
    _gate()
    body = json_body(malformed, allow_empty=True)
    if body is not None:
        raise ApiError(400, f"{body!r} is not of type 'null'")
    if not cloud().add_server_tag(g.context, server_id, tag):
        return Response(status=204)
    response = Response(status=201)
    response.headers["Location"] = (
        f"{base_url()}/v2.1/{g.context.project_id}/servers/{server_id}/tags/{tag}"
    )
    return response


@route("/servers/<server_id>/tags/<tag>", methods=["DELETE"])
def delete_server_tag(project_id: str, server_id: str, tag: str) -> Response:
    _gate()
    cloud().delete_server_tag(g.context, server_id, tag)
    return Response(status=204)
