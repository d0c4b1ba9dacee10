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
    return request.host_url.rstrip("/")


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
