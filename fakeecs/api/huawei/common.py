"""What every Huawei-native blueprint shares: families, error bodies, auth, request ids.

Error bodies (huawei-clients.md 8.3):

* ``ims``: ``{"error": {"code": "IMG.xxxx", "message": M}}``
* ``ecs``: ``{"error": {"code": "Ecs.xxxx", "message": M}}``
* ``gateway`` (auth failures, unknown APIs): ``{"error_code": "APIG.xxxx", "error_msg": M,
  "request_id": R}``

Every response on these routes (and every AK/SK-signed response) carries
``X-Request-Id``, which the Huawei SDK copies into its exceptions.
"""

import functools
import re

from flask import g, request

from ...model import DomainError
from .. import errors
from ..auth import cloud, require_token
from ..errors import ApiError

#: IMS paths (no project id) and the Glance API IMS serves at the root
IMS_PATH = re.compile(
    r"^/(v1|v2|v2\.1)/cloudimages(/|$)|^/v2/(images|schemas)(/|$)"
    r"|^/v1/[^/]+/jobs(/|$)"
)
ECS_PATH = re.compile(r"^/v1(\.1)?/[^/]+/cloudservers(/|$)")
EVS_PATH = re.compile(r"^/v2(\.1)?/[^/]+/cloudsnapshots(/|$)")
VPC_PATH = re.compile(r"^/v1/[^/]+/(vpcs|subnets)(/|$)")
HUAWEI_FAMILIES = ("ims", "ecs", "gateway", "vpc")

#: fallback IMS/ECS codes by status when no documented code applies
IMS_STATUS_CODES = {
    400: "IMG.0001",
    401: "APIG.0301",
    403: "IMG.0047",
    404: "IMG.0027",
    409: "IMG.0010",
    413: "IMG.0001",
    415: "IMG.0001",
}
ECS_STATUS_CODES = {400: "Ecs.0005", 403: "Ecs.0102", 404: "Ecs.0114", 409: "Ecs.0000"}
NO_API = "The API does not exist or has not been published in the environment"


def resolve_family(path):
    """``api.FAMILY_RESOLVERS`` entry: the family of a Huawei-native path."""
    if IMS_PATH.match(path):
        return "ims"
    if ECS_PATH.match(path):
        return "ecs"
    if EVS_PATH.match(path):
        return "cinder"
    if VPC_PATH.match(path):
        return "vpc"
    return None


def request_id():
    return getattr(g, "request_id", None) or ""


def _json(body, status):
    return errors._json(body, status, "application/json")


def ims_body(code, message):
    return {"error": {"code": code, "message": message}}


def gateway_body(code, message):
    return {"error_code": code, "error_msg": message, "request_id": request_id()}


def render_ims(status, message):
    if status == 405 or (status == 404 and message == "The resource could not be found."):
        return _json(gateway_body("APIG.0101", NO_API), status)
    if status == 401:
        return _json(gateway_body("APIG.0301", message), status)
    code = IMS_STATUS_CODES.get(status, "IMG.%04d" % status)
    return _json(ims_body(code, message), status)


def render_ecs(status, message):
    if status == 405 or (status == 404 and message == "The resource could not be found."):
        return _json(gateway_body("APIG.0101", NO_API), status)
    if status == 401:
        return _json(gateway_body("APIG.0301", message), status)
    code = ECS_STATUS_CODES.get(status, "Ecs.0000")
    return _json(ims_body(code, message), status)


def render_gateway(status, message):
    code = {401: "APIG.0301", 403: "APIG.0302", 404: "APIG.0101", 429: "APIG.0308"}.get(
        status, "APIG.0%d" % status
    )
    return _json(gateway_body(code, message), status)


def api_error(status, code, message, family="ims"):
    """An :class:`ApiError` whose body is already in the family's format."""
    if family == "gateway":
        body = gateway_body(code, message)
    elif family == "vpc":
        body = {"code": code, "message": message}
    else:
        body = ims_body(code, message)
    return ApiError(status, message, {"X-Request-Id": request_id()}, body=body)


def gateway_error(status, code, message):
    return api_error(status, code, message, "gateway")


def authenticate():
    """``g.context`` from an AK/SK signature or a token; 401 in the gateway's body."""
    try:
        return require_token()
    except ApiError as error:
        if error.status != 401:
            raise
        if error.body is not None and "error_code" in error.body:
            raise
        raise gateway_error(
            401,
            "APIG.0301",
            "Incorrect IAM authentication information: "
            "the request carries neither a valid X-Auth-Token nor an "
            "SDK-HMAC-SHA256 signature",
        ) from None


#: family -> (code for a missing project id, (status, code) for another project's)
PATH_PROJECT_CODES = {
    "ecs": ("Ecs.0005", (400, "Ecs.0023")),
    "vpc": ("VPC.0101", (400, "VPC.0007")),
    "ims": ("IMG.0001", (403, "IMG.0026")),
}


def check_path_project(project_id, family):
    context = g.context
    missing, (status, other) = PATH_PROJECT_CODES.get(family, PATH_PROJECT_CODES["ims"])
    if project_id == "{project_id}":
        raise api_error(
            400,
            missing,
            "The URL has no project id ('{project_id}' was sent as "
            "is): build the SDK client with BasicCredentials(ak, sk, "
            "project_id) or with_region(...).",
            family,
        )
    if project_id is not None and project_id != context.project_id and not context.is_admin:
        raise api_error(
            status,
            other,
            f"The project {project_id} in the URL is not the "
            f"project of the credentials ({context.project_id}).",
            family,
        )


def translating(table):
    """Decorate a view so that model errors become the family's coded body.

    ``table(error) -> (status, code)`` picks the code for a :class:`DomainError`
    (``(status, code, message)`` also replaces the model's message).
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except DomainError as error:
                status, code, *message = table(error)
                family = "ecs" if code.startswith("Ecs.") else "ims"
                raise api_error(
                    status, code, message[0] if message else error.message, family
                ) from None

        return wrapper

    return decorator


def add_request_id(response):
    """App-wide after hook: ``X-Request-Id`` on Huawei routes and signed requests."""
    req = request._get_current_object()
    family = g.get("family")
    if family is None:
        from .. import family_for

        family = family_for(req.path)
    signed = req.environ.get("HTTP_AUTHORIZATION", "").startswith("SDK-HMAC-SHA256")
    if family in HUAWEI_FAMILIES or signed or resolve_family(req.path):
        response.headers.setdefault("X-Request-Id", request_id())
    return response


def register_families():
    errors.register_family("ims", render_ims)
    errors.register_family("ecs", render_ecs)
    errors.register_family("gateway", render_gateway)


__all__ = ["api_error", "authenticate", "cloud", "gateway_error", "translating"]
