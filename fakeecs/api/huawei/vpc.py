"""The read-only VPC lookups of ``huaweicloudsdkvpc.v2.VpcClient``.

``GET /v1/{project_id}/vpcs[/{vpc_id}]`` (``list_vpcs``, ``show_vpc``) and
``GET /v1/{project_id}/subnets[/{subnet_id}]`` (``list_subnets``, ``show_subnet``),
over the VPCs and subnets a scenario defines.  Errors are the VPC service's
top-level ``{"code": "VPC.XXXX", "message": ...}`` (its documented error format).
"""

from flask import Blueprint, g, jsonify, request

from ...model import errors as domain
from ...model.clock import isoformat
from .. import errors
from ..errors import ApiError
from ..params import IntQuery
from .common import authenticate, check_path_project, cloud, gateway_body, request_id

bp = Blueprint("huawei_vpc", __name__)

#: (status, code) of the VPC family by status; 404 by resource kind below
STATUS_CODES = {400: "VPC.0101", 403: "VPC.2201", 404: "VPC.0003"}
NOT_FOUND_CODES = {"vpc": "VPC.0003", "subnet": "VPC.0202"}


def render_vpc(status, message, code=None):
    """The VPC service's error body (``{"code", "message"}``; gateway body for 401/405)."""
    if status in (401, 405) or (status == 404 and message == "The resource could not be found."):
        code = {401: "APIG.0301"}.get(status, "APIG.0101")
        return errors._json(gateway_body(code, message), status, "application/json")
    body = {"code": code or STATUS_CODES.get(status, "VPC.0101"), "message": message}
    return errors._json(body, status, "application/json")


def vpc_error(status, code, message):
    return ApiError(
        status, message, {"X-Request-Id": request_id()}, body={"code": code, "message": message}
    )


@bp.before_request
def _before():
    g.family = "vpc"
    authenticate()
    check_path_project((request.view_args or {}).get("project_id"), "vpc")


@bp.errorhandler(domain.DomainError)
def _domain_error(error):
    if isinstance(error, domain.NotFound):
        status, code = 404, NOT_FOUND_CODES.get(error.kind, "VPC.0003")
    else:
        status = errors.status_for(error)
        code = STATUS_CODES.get(status, "VPC.0101")
    response = render_vpc(status, error.message, code)
    response.headers["X-Request-Id"] = request_id()
    return response


def _time(epoch):
    return isoformat(epoch)


def vpc_view(vpc):
    return {
        "id": vpc.id,
        "name": vpc.name,
        "cidr": vpc.cidr,
        "description": vpc.description,
        "routes": [],
        "status": vpc.status,
        "enterprise_project_id": "0",
        "tenant_id": vpc.project_id,
        "created_at": _time(vpc.created_at),
        "updated_at": _time(vpc.updated_at),
    }


def subnet_view(subnet):
    the_cloud = cloud()
    dns = [subnet.primary_dns, subnet.secondary_dns]
    return {
        "id": subnet.id,
        "name": subnet.name,
        "description": subnet.description,
        "cidr": subnet.cidr,
        "gateway_ip": subnet.gateway_ip,
        "ipv6_enable": False,
        "dhcp_enable": subnet.dhcp_enable,
        "primary_dns": subnet.primary_dns,
        "secondary_dns": subnet.secondary_dns,
        "dnsList": dns,
        "availability_zone": subnet.availability_zone,
        "vpc_id": subnet.vpc_id,
        "status": subnet.status,
        "neutron_network_id": subnet.id,
        "neutron_subnet_id": subnet.neutron_subnet_id,
        "extra_dhcp_opts": [],
        "scope": "center",
        "tenant_id": subnet.project_id,
        "created_at": _time(subnet.created_at),
        "updated_at": _time(subnet.updated_at),
        "available_ip_address_count": the_cloud.free_address_count(subnet),
    }


#: ``limit`` of the VPC and subnet lists (0 means no limit)
VPC_LIMIT = IntQuery(
    not_integer="Param is invalid: limit {value!r} must be an integer from {minimum} to {maximum}.",
    maximum=2000,
    error=lambda message: vpc_error(400, "VPC.0101", message),
)


def _limit():
    return VPC_LIMIT.read("limit") or None


@bp.get("/v1/<project_id>/vpcs")
def list_vpcs(project_id):
    found, _ = cloud().list_vpcs(
        g.context, vpc_id=request.args.get("id"), limit=_limit(), marker=request.args.get("marker")
    )
    return jsonify({"vpcs": [vpc_view(vpc) for vpc in found]})


@bp.get("/v1/<project_id>/vpcs/<vpc_id>")
def show_vpc(project_id, vpc_id):
    return jsonify({"vpc": vpc_view(cloud().get_vpc(g.context, vpc_id))})


@bp.get("/v1/<project_id>/subnets")
def list_subnets(project_id):
    found, _ = cloud().list_subnets(
        g.context,
        vpc_id=request.args.get("vpc_id"),
        limit=_limit(),
        marker=request.args.get("marker"),
    )
    return jsonify({"subnets": [subnet_view(subnet) for subnet in found]})


@bp.get("/v1/<project_id>/subnets/<subnet_id>")
def show_subnet(project_id, subnet_id):
    return jsonify({"subnet": subnet_view(cloud().get_subnet(g.context, subnet_id))})


def register(app):
    errors.register_family("vpc", render_vpc)
    app.register_blueprint(bp)
