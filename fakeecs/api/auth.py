"""Token checks shared by every OpenStack-style blueprint."""

from collections.abc import Callable
from typing import Any

from flask import current_app, g, request

from ..model import Unauthorized
from .errors import ApiError

UNAUTHORIZED = "The request you have made requires authentication."
#: callables ``() -> Context | None`` tried before ``X-Auth-Token`` (e.g. AK/SK signatures);
#: one returns ``None`` when the request is not its kind, or raises ``ApiError``
AUTHENTICATORS: list[Callable[[], Any]] = []


def cloud():
    return current_app.extensions["fakeecs"]


def base_url():
    """The URL the client reached us at, without a trailing slash (werkzeug's
    ``host_url``; a plain ASCII host, the usual case, skips its IRI decoding)."""
    req = request._get_current_object()
    environ = req.environ
    url = environ.get("fakeecs.base_url")
    if url is None:
        host = req.host
        if host and host.isascii() and "xn--" not in host and "%" not in host:
            url = f"{req.scheme}://{host}"
        else:
            url = req.host_url.rstrip("/")
        environ["fakeecs.base_url"] = url
    return url


def require_token():
    """Set ``g.context`` from ``X-Auth-Token`` or answer 401 as keystonemiddleware does."""
    if getattr(g, "context", None) is not None:
        return g.context
    for authenticator in AUTHENTICATORS:
        context = authenticator()
        if context is not None:
            g.context = context
            return context
    token = request.headers.get("X-Auth-Token")
    try:
        if not token:
            raise Unauthorized(UNAUTHORIZED)
        g.context = cloud().context_for_token(token)
    except Unauthorized:
        raise ApiError(
            401,
            UNAUTHORIZED,
            {"WWW-Authenticate": f'Keystone uri="{base_url()}/v3"'},
            body={"error": {"code": 401, "title": "Unauthorized", "message": UNAUTHORIZED}},
        ) from None
    return g.context
