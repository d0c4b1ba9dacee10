"""The ``/_fakeecs/`` blueprint: access control, then one view per row of the route table.

Each view reads the request as a :class:`~.operations.Call` (path parameters,
JSON body, query) and hands it to :meth:`~.operations.Operation.invoke`, which
checks it with the operation's schema and calls the model; the answer is JSON.
Access: ``app.config["FAKEECS_CONTROL"]`` holds ``enabled`` and ``admin_token``;
with a token, every control call needs it in ``X-FakeECS-Admin-Token``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ..errors import ApiError
from ..jsonbody import CONTROL_MAX_BODY_BYTES, body_bytes, parse_json
from .operations import OPERATIONS_LIST, PREFIX, Call, Operation

ADMIN_HEADER = "X-FakeECS-Admin-Token"

bp = Blueprint("control", __name__, url_prefix=PREFIX)


def cloud() -> Any:
    return current_app.extensions["fakeecs"]


def json_body(optional: bool = False) -> Any:
    """The request's JSON object (None when empty and ``optional``)."""
    raw = body_bytes(CONTROL_MAX_BODY_BYTES)
    if not raw.strip():
        if optional:
            return None
        raise ApiError(400, "a JSON body is required")
    try:
        data = parse_json(raw)
    except ValueError:
        raise ApiError(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


@bp.before_request
def _guard() -> None:
    config = current_app.config.get("FAKEECS_CONTROL") or {}
    if not config.get("enabled", True):
        raise ApiError(
            404,
            "the control plane is off: fakeecs is bound to a non-loopback "
            "address; start it with --admin-token to enable /_fakeecs/",
        )
    token = config.get("admin_token")
    if token:
        given = request.headers.get(ADMIN_HEADER, "")
        if not given:
            raise ApiError(401, f"this control plane needs the {ADMIN_HEADER} header")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise ApiError(403, f"wrong {ADMIN_HEADER}")


def _view(operation: Operation) -> Callable[..., Response]:
    def view(**params: str) -> Response:
        body = json_body(operation.body_optional) if operation.body is not None else None
        query = request.args.to_dict() if operation.query is not None else None
        result = operation.invoke(cloud(), Call(params=params, body=body, query=query))
        response = jsonify(result)
        response.status_code = operation.status
        return response

    view.__name__ = operation.name
    return view


for _operation in OPERATIONS_LIST:
    bp.add_url_rule(
        _operation.path, _operation.name, _view(_operation), methods=[_operation.method]
    )


@bp.route("/openapi.json", methods=["GET"])
def openapi() -> Response:
    from .openapi import openapi_document

    return jsonify(openapi_document())
