"""Nova v2.1 (and legacy v2) as Huawei ECS serves it, at ``/v2.1`` and ``/v2``."""

import json

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.routing import BaseConverter

from ..auth import base_url, require_token
from ..errors import ApiError
from . import microversion, views
from .microversion import VersionError

bp = Blueprint("compute", __name__)

#: endpoints reachable without a token (version discovery)
PUBLIC_ENDPOINTS = {"version_root"}
#: endpoints that check the URL project themselves, after peeking at the body
LATE_PROJECT_CHECK = {"server_action"}
#: media types Nova accepts; a missing, empty or text/plain type means "none"
JSON_TYPES = ("application/json", "application/vnd.openstack.compute+json")


class ProjectIdConverter(BaseConverter):
    """Nova's mapper only matches project ids of ``[0-9a-f-]+``."""

    regex = r"[0-9a-f\-]+"


def no_route():
    """The bare WebOb 404 Nova answers when no route matches."""
    if "application/json" in request.headers.get("Accept", ""):
        body = json.dumps(
            {
                "message": "The resource could not be found.<br /><br />\n\n\n",
                "code": "404 Not Found",
                "title": "Not Found",
            }
        )
        return Response(body, status=404, content_type="application/json")
    return Response(
        "404 Not Found\n\nThe resource could not be found.\n\n   ",
        status=404,
        content_type="text/plain; charset=UTF-8",
    )


def _is_legacy(path):
    return path.startswith("/v2/") or path == "/v2"


def legacy():
    """Whether the request came in on the legacy ``/v2`` (decided once per request)."""
    facts = g._get_current_object()
    found = facts.get("legacy")
    if found is None:
        found = facts.legacy = _is_legacy(request.path)
    return found


@bp.before_request
def _before():
    req, facts = request._get_current_object(), g._get_current_object()
    facts.family = "nova"
    facts.version = None
    facts.legacy = is_legacy = _is_legacy(req.path)
    endpoint = (req.endpoint or "").rpartition(".")[2]
    if endpoint in PUBLIC_ENDPOINTS:
        return
    context = require_token()
    environ = req.environ
    if is_legacy:
        facts.version = microversion.MIN_VERSION
    else:
        try:
            facts.version = microversion.negotiate(req.headers)
        except VersionError as error:
            facts.version = error.version
            raise ApiError(error.status, error.message) from None
    if req.method in ("POST", "PUT"):
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type and content_type != "text/plain" and content_type not in JSON_TYPES:
            raise ApiError(415, "Unsupported Content-Type")
    if endpoint not in LATE_PROJECT_CHECK:
        check_project(context)


def check_project(context):
    project_id = (request.view_args or {}).get("project_id")
    if project_id is not None and project_id != context.project_id:
        raise ApiError(
            400,
            f"Malformed request URL: URL's project_id '{project_id}' doesn't "
            f"match Context's project_id '{context.project_id}'",
        )


@bp.after_request
def _after(response):
    facts = g._get_current_object()
    headers = response.headers
    headers["X-Compute-Request-Id"] = facts.get("request_id", "")
    version = facts.get("version")
    if version is None or legacy():
        return response
    text = microversion.fmt(version)
    headers["OpenStack-API-Version"] = f"compute {text}"
    headers["X-OpenStack-Nova-API-Version"] = text
    headers.extend((("Vary", "OpenStack-API-Version"), ("Vary", "X-OpenStack-Nova-API-Version")))
    return response


def route(rule, **options):
    """Register a view with and without the ``/{project_id}`` prefix, as Nova does."""

    def decorator(view):
        bp.add_url_rule("/<pid:project_id>" + rule, view_func=view, **options)
        bp.add_url_rule(
            rule,
            view_func=view,
            defaults={"project_id": None},
            endpoint=view.__name__ + "_noproject",
            **options,
        )
        return view

    return decorator


@bp.get("/", endpoint="version_root")
def version_root():
    return jsonify({"version": views.version_doc(base_url(), legacy())})


@bp.get("/<pid:project_id>/")
def version_project(project_id):
    return jsonify({"version": views.version_doc(base_url(), legacy())})


def register(app):
    from . import (  # noqa: F401  (routes)
        attachments,
        flavors,
        ips,
        metadata,
        servers,
        tags,
    )
    from . import images as _images  # noqa: F401  (Nova image proxy, optional)

    app.url_map.converters["pid"] = ProjectIdConverter
    app.register_blueprint(bp, url_prefix="/v2.1", name="compute")
    app.register_blueprint(bp, url_prefix="/v2", name="compute_legacy")
