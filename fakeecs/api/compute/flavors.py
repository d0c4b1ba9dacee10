"""Flavor extra specs, read only (``flavors_extraspecs.py``): what ``flavor show`` reads."""

from flask import Response, g, jsonify

from ..auth import cloud
from . import route


@route("/flavors/<flavor_id>/os-extra_specs", methods=["GET"])
def list_flavor_extra_specs(project_id: str, flavor_id: str) -> Response:
    return jsonify({"extra_specs": cloud().get_flavor_extra_specs(g.context, flavor_id)})


@route("/flavors/<flavor_id>/os-extra_specs/<key>", methods=["GET"])
def show_flavor_extra_spec(project_id: str, flavor_id: str, key: str) -> Response:
    """The bare ``{key: value}``, without a wrapper."""
    return jsonify({key: cloud().get_flavor_extra_spec(g.context, flavor_id, key)})
