"""Server metadata: ``/servers/{id}/metadata`` and ``/metadata/{key}``.

``nova/api/openstack/compute/server_metadata.py``; the rules (state, lock,
quota) are the model's (:mod:`fakeecs.model.servermeta`).
"""

from flask import Response, g, jsonify

from ..auth import cloud
from ..errors import ApiError
from ..jsonbody import json_body
from ..params import malformed, validated
from . import route, schemas

METADATA_BODY = schemas.MetadataBody()
META_BODY = schemas.MetaBody()


@route("/servers/<server_id>/metadata", methods=["GET"])
def list_server_metadata(project_id: str, server_id: str) -> Response:
    return jsonify({"metadata": cloud().get_server_metadata(g.context, server_id)})


@route("/servers/<server_id>/metadata", methods=["POST"])
def merge_server_metadata(project_id: str, server_id: str) -> Response:
    """Merge; answers with the whole metadata (200)."""
    items = validated(METADATA_BODY, json_body(malformed))["metadata"]
    merged = cloud().update_server_metadata(g.context, server_id, items, rule="create")
    return jsonify({"metadata": merged})


@route("/servers/<server_id>/metadata", methods=["PUT"])
def replace_server_metadata(project_id: str, server_id: str) -> Response:
    """Replace all; answers with exactly the body's metadata (200)."""
    items = validated(METADATA_BODY, json_body(malformed))["metadata"]
    cloud().update_server_metadata(g.context, server_id, items, replace=True, rule="update_all")
    return jsonify({"metadata": items})


@route("/servers/<server_id>/metadata/<key>", methods=["GET"])
def show_server_metadata(project_id: str, server_id: str, key: str) -> Response:
    return jsonify({"meta": {key: cloud().get_server_metadata_item(g.context, server_id, key)}})


@route("/servers/<server_id>/metadata/<key>", methods=["PUT"])
def set_server_metadata(project_id: str, server_id: str, key: str) -> Response:
    """Upsert one key; the body's ``meta`` must hold exactly that key."""
    meta = validated(META_BODY, json_body(malformed))["meta"]
    if key not in meta:
        raise ApiError(400, "Request body and URI mismatch")
    cloud().update_server_metadata(g.context, server_id, meta, rule="update")
    return jsonify({"meta": meta})


@route("/servers/<server_id>/metadata/<key>", methods=["DELETE"])
def delete_server_metadata(project_id: str, server_id: str, key: str) -> Response:
    cloud().delete_server_metadata_item(g.context, server_id, key)
    return Response(status=204)
