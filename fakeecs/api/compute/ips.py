"""Server addresses: ``GET /servers/{id}/ips`` and ``/ips/{network_label}`` (``ips.py``)."""

from flask import Response, g, jsonify

from ..auth import cloud
from . import route


@route("/servers/<server_id>/ips", methods=["GET"])
def list_server_ips(project_id: str, server_id: str) -> Response:
    return jsonify({"addresses": cloud().server_addresses(g.context, server_id)})


@route("/servers/<server_id>/ips/<network>", methods=["GET"])
def show_server_ips(project_id: str, server_id: str, network: str) -> Response:
    """One network's addresses, keyed by its label (no ``addresses`` wrapper)."""
    return jsonify({network: cloud().server_addresses(g.context, server_id, network)})
