"""Error bodies, rendered in one place per API family.

Each family maps a status and a message to the body its real service sends:

* ``nova`` (and ``cinder``): ``{"<faultName>": {"code": N, "message": M}}``
* ``glance``: WebOb's JSON error ``{"message", "code": "404 Not Found", "title"}``
* ``keystone``: ``{"error": {"code": N, "title", "message"}}``
* ``control``: ``{"error": {"status": N, "message": M}}`` for fakeecs's own routes

A view raises :class:`ApiError` or lets a model :class:`DomainError` escape; the
app turns either into the body of the family that owns the URL.
"""

import json
from collections.abc import Callable, Mapping
from typing import Any

from flask import Response
from marshmallow import ValidationError
from werkzeug.http import HTTP_STATUS_CODES

from ..model import errors as domain

#: Nova's fault names by status (nova/api/openstack/wsgi.py Fault._fault_names)
NOVA_FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}

DOMAIN_STATUS: list[tuple[type[Exception], int]] = [
    (domain.Unauthorized, 401),
    (domain.NotFound, 404),
    (domain.Conflict, 409),
    (domain.Forbidden, 403),
    (domain.Invalid, 400),
]


class ApiError(Exception):
    """An HTTP error raised by a view: status, message and extra headers."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.body = body


def status_for(error: Exception) -> int:
    for cls, status in DOMAIN_STATUS:
        if isinstance(error, cls):
            return status
    return 500


def _json(
    body: Any, status: int, content_type: str = "application/json; charset=UTF-8"
) -> Response:
    return Response(json.dumps(body), status=status, content_type=content_type)


def nova_body(status: int, message: str) -> dict[str, dict[str, Any]]:
    return {NOVA_FAULT_NAMES.get(status, "computeFault"): {"code": status, "message": message}}


def render_nova(status: int, message: str) -> Response:
    return _json(nova_body(status, message), status)


def render_glance(status: int, message: str) -> Response:
    phrase = HTTP_STATUS_CODES.get(status, "Error")
    return _json({"message": message, "code": f"{status} {phrase}", "title": phrase}, status)


def render_keystone(status: int, message: str) -> Response:
    title = HTTP_STATUS_CODES.get(status, "Error")
    return _json({"error": {"code": status, "title": title, "message": message}}, status)


def render_control(status: int, message: str) -> Response:
    return _json({"error": {"status": status, "message": message}}, status, "application/json")


#: a family's renderer: status and message to the response its service sends
Renderer = Callable[[int, str], Response]

RENDERERS: dict[str, Renderer] = {
    "nova": render_nova,
    "cinder": render_nova,
    "glance": render_glance,
    "keystone": render_keystone,
    "control": render_control,
}


def render(
    family: str, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    response = RENDERERS[family](status, message)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def register_family(family: str, renderer: Renderer) -> None:
    """Let another module (IMS, ECS, ...) add its family's renderer."""
    RENDERERS[family] = renderer


# -- marshmallow errors, flattened as each family words them -----------------------


def first_error(messages: Any) -> tuple[str, str]:
    """The dotted path and the text of the first message in marshmallow's nested
    ``messages`` (the one walk every family's flattener uses)."""
    path: list[str] = []
    while True:
        if isinstance(messages, dict) and messages:
            key, messages = next(iter(messages.items()))
            path.append(str(key))
        elif isinstance(messages, list) and messages:
            messages = messages[0]
        else:
            return ".".join(path), str(messages)


def path_message(error: ValidationError) -> str:
    """``<path>: <text>`` of the first message (the text alone at the top level)."""
    path, text = first_error(error.messages)
    return f"{path}: {text}" if path else text


def nova_message(error: ValidationError) -> str:
    """Nova's: the first message alone (Nova's fields already write the whole text)."""
    return first_error(error.messages)[1]


def cinder_message(error: ValidationError) -> str:
    """Cinder's ``InvalidInput`` for a body field (EVS speaks it too)."""
    return f"Invalid input received: {path_message(error)}"


def glance_message(error: ValidationError, schema: str = "image") -> str:
    """Glance's schema refusal of a body."""
    return f"Provided object does not match schema '{schema}': {path_message(error)}"


def keystone_message(error: ValidationError, under: str = "") -> str:
    """Keystone's ``Invalid input for field <path>: <text>`` (``under`` prefixes the path)."""
    return f"Invalid input for field {under}{path_message(error)}"


def huawei_message(error: ValidationError, prefix: str) -> str:
    """A Huawei API's refusal: its ``prefix`` (IMS and ECS word it differently), then the
    first message with its path."""
    return prefix + path_message(error)


#: oslo.middleware's sizelimit answer (Nova, Cinder and Keystone run it before the API)
TOO_LARGE = "Request is too large."
#: families whose services sit behind oslo.middleware's ``RequestBodySizeLimiter``
SIZELIMIT_FAMILIES = ("nova", "cinder", "keystone")


def webob_json(status: int, explanation: str) -> Response:
    """The JSON body WebOb renders for an HTTP exception raised by a middleware."""
    phrase = HTTP_STATUS_CODES.get(status, "Error")
    return _json(
        {
            "message": f"{explanation}<br /><br />\n\n\n",
            "code": f"{status} {phrase}",
            "title": phrase,
        },
        status,
    )


def too_large(family: str) -> Response:
    """The 413 for a JSON body over the limit, as the family's service answers it."""
    if family in SIZELIMIT_FAMILIES:
        return webob_json(413, TOO_LARGE)
    return render(family, 413, TOO_LARGE)


def unexpected_message(error: BaseException) -> str:
    """Queens' text for an unexpected exception (never a traceback)."""
    return (
        "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and "
        f"attach the Nova API log if possible.\n{type(error)}"
    )
