"""The HTTP face of the cloud: one Flask app, one blueprint per service."""

import inspect
import itertools
import logging
import uuid
from collections.abc import Callable

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from ..model import DomainError
from . import errors, jsonbody

log = logging.getLogger("fakeecs")

#: (path prefix, family) pairs; the longest matching prefix wins
FAMILY_PREFIXES = [
    ("/", "keystone"),
    ("/v3", "keystone"),
    ("/v2", "nova"),
    ("/v2.1", "nova"),
    ("/image", "glance"),
    ("/volume", "cinder"),
    ("/_fakeecs", "control"),
]
#: callables ``path -> family or None`` that are asked first (Huawei-native routes)
FAMILY_RESOLVERS: list[Callable[[str], str | None]] = []


def family_for(path):
    """The API family that owns ``path`` and so renders its errors."""
    for resolver in FAMILY_RESOLVERS:
        family = resolver(path)
        if family:
            return family
    best, family = "", "keystone"
    for prefix, name in FAMILY_PREFIXES:
        if (path == prefix or path.startswith(prefix.rstrip("/") + "/")) and len(prefix) > len(
            best
        ):
            best, family = prefix, name
    return family


_REQUEST_PREFIX = str(uuid.uuid4())[:24]
_REQUEST_SEQ = itertools.count(1)


def new_request_id() -> str:
    """A unique ``req-<uuid>`` without a system call: a random per-process prefix and a
    12-hex-digit counter."""
    return f"req-{_REQUEST_PREFIX}{next(_REQUEST_SEQ) & 0xFFFFFFFFFFFF:012x}"


def current_family():
    return getattr(g, "family", None) or family_for(request.path)


def oversized(family: str) -> "Response | None":
    """The 413 for a declared body over the family's limit, before anything reads it
    (OpenStack's size limiter runs before authentication); image data is not JSON and
    uploads at any size."""
    declared = request.environ.get("CONTENT_LENGTH")
    if not declared or len(declared) < 6:  # no body, or under 100000 bytes
        return None
    length = request.content_length
    if length is None or length <= jsonbody.MAX_BODY_BYTES or request.path.endswith("/file"):
        return None
    if family == "control" and length <= jsonbody.CONTROL_MAX_BODY_BYTES:
        return None
    return errors.too_large(family)


def create_app(cloud, *, blueprints=None):
    """A Flask app serving ``cloud``; ``app.extensions['fakeecs']`` holds the cloud."""
    from . import compute, identity, image

    app = Flask("fakeecs")
    app.json.sort_keys = False
    app.url_map.strict_slashes = False
    app.extensions["fakeecs"] = cloud
    app.config["FAKEECS_HOOKS"] = {"before": [], "after": []}
    for module in blueprints or (identity, compute, image):
        module.register(app)
    for name in ("volume", "ims", "control"):
        module = _optional(name)
        if module is not None and blueprints is None:
            module.register(app)

    @app.before_request
    def _start():
        g.request_id = new_request_id()
        # the family that owns the path: worked out once, shared by every hook and handler
        g.family = g.path_family = family = family_for(request.path)
        too_large = oversized(family)
        if too_large is not None:
            return too_large
        for hook in app.config["FAKEECS_HOOKS"]["before"]:
            response = hook()
            if response is not None:
                return response
        return None

    @app.after_request
    def _finish(response):
        request_id = getattr(g, "request_id", None) or new_request_id()
        response.headers.setdefault("X-OpenStack-Request-ID", request_id)
        for hook in app.config["FAKEECS_HOOKS"]["after"]:
            response = hook(response) or response
        return response

    @app.errorhandler(errors.ApiError)
    def _api_error(error):
        family = current_family()
        if isinstance(error, jsonbody.TooLarge):
            return errors.too_large(family)
        if error.body is not None:
            response = errors._json(error.body, error.status)
            response.headers.update(error.headers)
            return response
        return errors.render(family, error.status, error.message, error.headers)

    @app.errorhandler(DomainError)
    def _domain_error(error):
        return errors.render(current_family(), errors.status_for(error), error.message)

    @app.errorhandler(HTTPException)
    def _http_error(error):
        family = current_family()
        if family == "nova" and error.code in (404, 405):
            return compute.no_route()
        message = error.description if error.code != 404 else "The resource could not be found."
        return errors.render(family, error.code, message)

    @app.errorhandler(Exception)
    def _unexpected(error):
        log.exception("unexpected error on %s %s", request.method, request.path)
        family = current_family()
        return errors.render(family, 500, errors.unexpected_message(error))

    _skip_async_checks(app)
    return app


def _skip_async_checks(app):
    """Flask asks, for each view and hook it calls (5 a request), whether it is a coroutine;
    none of fakeecs's is, so check them once here and let Flask call them as they are."""
    functions = list(app.view_functions.values())
    for registry in (app.before_request_funcs, app.after_request_funcs):
        functions += [func for funcs in registry.values() for func in funcs]
    for func in functions:
        if inspect.iscoroutinefunction(func):
            raise TypeError(f"{func.__qualname__}: fakeecs serves no async views")
    app.ensure_sync = lambda func: func


def _optional(name):
    import importlib

    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{name}":
            raise
        return None
