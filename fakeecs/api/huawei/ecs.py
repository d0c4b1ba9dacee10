"""ECS's own server API, as ``huaweicloudsdkecs.v2.EcsClient`` calls it.

* create: ``POST /v1.1/{project_id}/cloudservers`` (``create_servers``) and
  ``POST /v1/{project_id}/cloudservers`` (``create_post_paid_servers``);
* ``GET /v1/{project_id}/cloudservers/detail`` (``list_servers_details``), ``GET`` and
  ``PUT /v1/{project_id}/cloudservers/{server_id}`` (``show_server``, ``update_server``);
* ``POST /v1/{project_id}/cloudservers/action`` (``batch_start_servers``,
  ``batch_stop_servers``, ``batch_reboot_servers``), ``POST .../cloudservers/delete``
  (``delete_servers``);
* ``POST .../{server_id}/attachvolume``, ``DELETE .../{server_id}/detachvolume/{volume_id}``;
* ``GET .../{server_id}/tags``, ``POST .../{server_id}/tags/action``;
* ``GET /v1/{project_id}/cloudservers/flavors`` (``list_flavors``);
* the jobs of all of these at ``GET /v1/{project_id}/jobs/{job_id}`` (``show_job``,
  answered through :data:`.ims.JOB_RESOLVERS`).

Errors are ECS's ``{"error": {"code": "Ecs.XXXX", "message": ...}}``; the codes come
from Huawei's ECS error-code table (see ``docs/huawei-ecs.md`` for which rule gets which).
"""

import hashlib
import re

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import ValidationError, fields, validate

from ...model import devices, transitions
from ...model import errors as domain
from ...model.clock import isoformat
from ...model.ecs import DiskSpec, EcsServerSpec, NicPlan, flavor_zones
from .. import errors
from ..errors import huawei_message
from ..jsonbody import json_body
from ..params import IntQuery
from . import ims as ims_api
from .common import api_error, authenticate, check_path_project, cloud, request_id, translating

bp = Blueprint("huawei_ecs", __name__)

#: model rule -> (status, Ecs code); Huawei's table answers 400 for nearly every refusal
RULE_CODES = {
    "flavor": (400, "Ecs.0029"),
    "image": (400, "Ecs.0031"),
    "bdm_image": (400, "Ecs.0031"),
    "image_status": (400, "Ecs.0032"),
    "system_disk": (400, "Ecs.0007"),
    "data_disk": (400, "Ecs.0007"),
    "image_snapshot_missing": (400, "Ecs.0007"),
    "same_az": (400, "Ecs.0005"),
    "volume_type": (400, "Ecs.0043"),
    "data_volume_count": (400, "Ecs.0042"),
    "count": (400, "Ecs.0913"),
    "tag_format": (400, "Ecs.0906"),
    "tag_duplicate": (400, "Ecs.0908"),
    "tag_count": (400, "Ecs.0905"),
    "vpc": (400, "Ecs.0014"),
    "subnet": (400, "Ecs.0038"),
    "subnet_vpc": (400, "Ecs.0064"),
    "ip_subnet": (400, "Ecs.0039"),
    "ip_used": (400, "Ecs.0010"),
    "subnet_full": (400, "Ecs.0012"),
    "volume_status": (400, "Ecs.0103"),
    "volume_attach": (400, "Ecs.0103"),
    "already_attached": (400, "Ecs.0057"),
    "root_volume": (400, "Ecs.0005"),
    "device_in_use": (400, "Ecs.0005"),
    "locked": (400, "Ecs.0605"),
}
NOT_FOUND = {
    "server": (404, "Ecs.0114", "The ECS {} does not exist."),
    "volume": (400, "Ecs.0103", "The disk {} does not exist."),
    "volume_attachment": (400, "Ecs.0111", "The EVS disk {} is not attached to the ECS."),
}


def ecs_code(error):
    """``(status, code[, message])`` of a model error on an ECS route."""
    if isinstance(error, domain.NotFound):
        status, code, message = NOT_FOUND.get(error.kind, (404, "Ecs.0114", "{}"))
        return (
            status,
            code,
            message.format(error.resource_id) if error.kind in NOT_FOUND else error.message,
        )
    rule = error.facts.get("rule")
    if rule in RULE_CODES:
        return RULE_CODES[rule]
    if isinstance(error, domain.Conflict):
        return 400, "Ecs.0100"
    status = errors.status_for(error)
    return status, {400: "Ecs.0005", 403: "Ecs.0003"}.get(status, "Ecs.0000")


ecs_errors = translating(ecs_code)


@bp.before_request
def _before():
    g.family = "ecs"
    authenticate()
    check_path_project((request.view_args or {}).get("project_id"), "ecs")


def _bad(message, code="Ecs.0005"):
    return api_error(400, code, message, "ecs")


def server_vpc(server):
    """The VPC of a server's first address that belongs to a VPC ("" for none)."""
    vpcs = cloud().vpcs
    return next((net for net in server.addresses if net in vpcs), "")


def server_view(server):
    """The ECS ``ServerDetail`` of ``server`` (string-typed where Huawei's are)."""
    the_cloud = cloud()
    flavor = the_cloud.flavors.get(server.flavor_id)
    status = transitions.server_status(server.vm_state, server.task_state)
    base = the_cloud.images.get(
        server.system_metadata.get("base_image_ref") or server.image_id or ""
    )
    props = server.system_metadata.get("properties", {})
    metadata = {
        "charging_mode": "0",
        "vpc_id": server_vpc(server),
        "os_bit": "64",
        "os_type": props.get("__os_type", "Linux"),
    }
    if base is not None:
        metadata["image_name"] = base.name or ""
        metadata["metering.image_id"] = base.id
        metadata["metering.imagetype"] = base.properties.get("__imagetype", "private")
    metadata.update(server.metadata)
    addresses = {}
    for net, items in server.addresses.items():
        addresses[net] = [
            {
                "version": str(item.get("version", 4)),
                "addr": item.get("addr"),
                "OS-EXT-IPS:type": item.get("OS-EXT-IPS:type", "fixed"),
                "OS-EXT-IPS-MAC:mac_addr": item.get("OS-EXT-IPS-MAC:mac_addr"),
                "OS-EXT-IPS:port_id": hashlib.md5(
                    f"{server.id}{item.get('addr')}".encode()
                ).hexdigest(),
            }
            for item in items
        ]
    volumes = []
    for index, device in enumerate(server.block_devices):
        boot = device.get("boot_index")
        volumes.append(
            {
                "id": device["volume_id"],
                "delete_on_termination": str(bool(device.get("delete_on_termination"))).lower(),
                "bootIndex": "" if boot is None else str(boot),
                "device": device.get("device_name") or devices.device_at(index),
            }
        )
    body = {
        "id": server.id,
        "name": server.name,
        "status": status,
        "created": isoformat(server.created_at),
        "updated": isoformat(server.updated_at),
        "tenant_id": server.project_id,
        "user_id": server.user_id,
        "hostId": devices.host_id(server.project_id, server.host),
        "key_name": server.key_name,
        "metadata": metadata,
        "image": {"id": server.image_id or (base.id if base else "")},
        "flavor": {
            "id": server.flavor_id,
            "name": flavor.name if flavor else server.flavor_id,
            "disk": str(flavor.disk if flavor else 0),
            "vcpus": str(flavor.vcpus if flavor else 0),
            "ram": str(flavor.ram if flavor else 0),
        },
        "addresses": addresses,
        "security_groups": [
            {"name": "default", "id": hashlib.md5(server.project_id.encode()).hexdigest()}
        ],
        "accessIPv4": "",
        "accessIPv6": "",
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": server.availability_zone,
        "OS-EXT-SRV-ATTR:host": server.host,
        "OS-EXT-SRV-ATTR:hypervisor_hostname": server.host,
        "OS-EXT-SRV-ATTR:instance_name": "instance-%08x" % server.seq,
        "OS-EXT-SRV-ATTR:hostname": server.hostname or server.name,
        "OS-EXT-SRV-ATTR:reservation_id": "r-%08x" % server.seq,
        "OS-EXT-SRV-ATTR:launch_index": 0,
        "OS-EXT-SRV-ATTR:kernel_id": "",
        "OS-EXT-SRV-ATTR:ramdisk_id": "",
        "OS-EXT-SRV-ATTR:root_device_name": server.root_device_name,
        "OS-EXT-SRV-ATTR:user_data": None,
        "OS-EXT-STS:task_state": server.task_state,
        "OS-EXT-STS:vm_state": server.vm_state,
        "OS-EXT-STS:power_state": server.power_state,
        "OS-SRV-USG:launched_at": isoformat(server.launched_at, micro=True)
        if server.launched_at
        else "",
        "OS-SRV-USG:terminated_at": isoformat(server.terminated_at, micro=True)
        if server.terminated_at
        else "",
        "os-extended-volumes:volumes_attached": volumes,
        "description": server.description or "",
        "host_status": "UP",
        "locked": server.locked,
        "tags": list(server.tags),
        "progress": 0 if server.vm_state == "building" else 100,
        "config_drive": server.config_drive,
        "enterprise_project_id": "0",
        "sys_tags": [{"key": "_sys_enterprise_project_id", "value": "0"}],
        "os:scheduler_hints": {},
        "hypervisor": {"hypervisor_type": "kvm", "csd_hypervisor": ""},
    }
    if status == "ERROR" and server.fault:
        body["fault"] = {
            "code": server.fault.get("code", 500),
            "created": isoformat(server.fault.get("created", server.updated_at)),
            "message": server.fault.get("message", ""),
            "details": server.fault.get("details", ""),
        }
    return body


# -- request schemas (built once) -------------------------------------------------------

_Loose = ims_api._Loose  # unknown fields are ignored, as the services do


NAME = re.compile(r"^[\w\-.]+$", re.UNICODE)


class NicBody(_Loose):
    subnet_id = fields.String(required=True, validate=validate.Length(min=1))
    ip_address = fields.String()
    port_id = fields.String()
    ipv6_enable = fields.Boolean()


class VolumeExtend(_Loose):
    snapshotId = fields.String()


class RootVolumeBody(_Loose):
    volumetype = fields.String(required=True)
    size = fields.Integer(strict=True)
    extendparam = fields.Nested(VolumeExtend)


class DataVolumeBody(_Loose):
    volumetype = fields.String(required=True)
    size = fields.Integer(strict=True, required=True)
    data_image_id = fields.String()
    multiattach = fields.Boolean()
    shareable = fields.Boolean()
    extendparam = fields.Nested(VolumeExtend)


class TagBody(_Loose):
    key = fields.String(required=True)
    value = fields.String(load_default="")


class ExtendParamBody(_Loose):
    chargingMode = fields.Raw()
    enterprise_project_id = fields.String()
    isAutoPay = fields.String()


class ServerBody(_Loose):
    name = fields.String(required=True)
    flavorRef = fields.String(required=True, validate=validate.Length(min=1))
    imageRef = fields.String(required=True, validate=validate.Length(min=1))
    vpcid = fields.String(required=True, validate=validate.Length(min=1))
    nics = fields.List(
        fields.Nested(NicBody), required=True, validate=validate.Length(min=1, max=12)
    )
    root_volume = fields.Nested(RootVolumeBody, required=True)
    data_volumes = fields.List(fields.Nested(DataVolumeBody))
    availability_zone = fields.String()
    count = fields.Integer(strict=True, load_default=1)
    isAutoRename = fields.Boolean(load_default=True)
    metadata = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=255)),
        values=fields.String(validate=validate.Length(max=255)),
        validate=validate.Length(max=10),
    )
    server_tags = fields.List(fields.Nested(TagBody))
    tags = fields.List(fields.String())
    description = fields.String()
    key_name = fields.String()
    adminPass = fields.String()
    user_data = fields.String()
    security_groups = fields.List(fields.Dict())
    extendparam = fields.Nested(ExtendParamBody)
    publicip = fields.Raw()


class CreateBody(_Loose):
    server = fields.Nested(ServerBody, required=True)
    dry_run = fields.Boolean()


class ServerIdBody(_Loose):
    id = fields.String(required=True, validate=validate.Length(min=1))


def _servers_field():
    return fields.List(
        fields.Nested(ServerIdBody), required=True, validate=validate.Length(min=1, max=1000)
    )


class StartBody(_Loose):
    servers = _servers_field()


class StopBody(_Loose):
    servers = _servers_field()
    type = fields.String(load_default="SOFT", validate=validate.OneOf(("SOFT", "HARD")))


class ActionBody(_Loose):
    os_start = fields.Nested(StartBody, data_key="os-start")
    os_stop = fields.Nested(StopBody, data_key="os-stop")
    reboot = fields.Nested(StopBody)


class DeleteBody(_Loose):
    servers = _servers_field()
    delete_publicip = fields.Boolean(load_default=False)
    delete_volume = fields.Boolean(load_default=False)


class UpdateOption(_Loose):
    name = fields.String()
    description = fields.String()
    hostname = fields.String()


class UpdateBody(_Loose):
    server = fields.Nested(UpdateOption, required=True)


class AttachOption(_Loose):
    volumeId = fields.String(required=True, validate=validate.Length(min=1))
    device = fields.String()
    volume_type = fields.String()
    count = fields.Integer()


class AttachBody(_Loose):
    volumeAttachment = fields.Nested(AttachOption, required=True)
    dry_run = fields.Boolean()


class TagActionBody(_Loose):
    action = fields.String(required=True, validate=validate.OneOf(("create", "delete")))
    tags = fields.List(
        fields.Nested(TagBody), required=True, validate=validate.Length(min=1, max=10)
    )


SCHEMAS = {
    name: cls()
    for name, cls in (
        ("create", CreateBody),
        ("action", ActionBody),
        ("delete", DeleteBody),
        ("update", UpdateBody),
        ("attach", AttachBody),
        ("tags", TagActionBody),
    )
}


def _load(name):
    body = json_body(lambda: _bad("Invalid parameter values: the body is not JSON."))
    if not isinstance(body, dict):
        raise _bad("Invalid parameter values: the body must be a JSON object.")
    try:
        return SCHEMAS[name].load(body)
    except ValidationError as error:
        raise _bad(huawei_message(error, BAD_VALUES)) from None


def _check_name(name, what="name"):
    if not name or len(name) > 128:
        raise _bad(
            f"The length of the ECS {what} {name!r} must be from 1 to 128 characters.", "Ecs.0914"
        )
    if not NAME.match(name):
        raise _bad(
            f"The ECS {what} {name!r} contains invalid characters: use letters, digits, "
            "underscores (_), hyphens (-) and periods (.).",
            "Ecs.0915",
        )


def _check_description(text):
    if text is not None and (len(text) > 85 or re.search(r"[<>]", text)):
        raise _bad("Invalid description field: at most 85 characters, without < or >.", "Ecs.0041")


# -- create -------------------------------------------------------------------------


def _server_spec(data):
    """The typed :class:`EcsServerSpec` of a create body (refusing what is not simulated)."""
    if data.get("dry_run"):
        raise _bad("dry_run is not supported by fakeecs: send the request without it.")
    server = data["server"]
    _check_name(server["name"])
    _check_description(server.get("description"))
    if server.get("publicip") is not None:
        raise _bad(
            "publicip is not supported by fakeecs (EIPs are not simulated): create the "
            "ECS without it."
        )
    charging = (server.get("extendparam") or {}).get("chargingMode")
    if charging not in (None, 0, "0", "postPaid"):
        raise _bad(
            f"extendparam.chargingMode {charging!r} is not supported by fakeecs: only "
            "pay-per-use ECSs (postPaid) are simulated, not yearly/monthly orders."
        )
    nics = []
    for nic in server["nics"]:
        if nic.get("port_id"):
            raise _bad("nics.port_id is not supported by fakeecs: give subnet_id (and ip_address).")
        nics.append(NicPlan(subnet_id=nic["subnet_id"], ip_address=nic.get("ip_address")))
    disks = [server["root_volume"]] + list(server.get("data_volumes") or [])
    if any((disk.get("extendparam") or {}).get("snapshotId") for disk in disks):
        raise _bad(
            "extendparam.snapshotId is not supported by fakeecs (disks from full-ECS "
            "image backups are not simulated)."
        )
    root = server["root_volume"]
    tags = [(tag["key"], tag["value"]) for tag in server.get("server_tags") or []]
    tags += [
        tuple(text.split(".", 1)) if "." in text else (text, "")
        for text in server.get("tags") or []
    ]
    return EcsServerSpec(
        name=server["name"],
        flavor_id=server["flavorRef"],
        image_id=server["imageRef"],
        vpc_id=server["vpcid"],
        nics=tuple(nics),
        root_volume=DiskSpec(volume_type=root["volumetype"], size=root.get("size")),
        data_volumes=tuple(
            DiskSpec(
                volume_type=d["volumetype"], size=d["size"], data_image_id=d.get("data_image_id")
            )
            for d in server.get("data_volumes") or []
        ),
        availability_zone=server.get("availability_zone") or None,
        count=server["count"],
        auto_rename=server["isAutoRename"],
        metadata=dict(server.get("metadata") or {}),
        tags=tuple(tags),
        description=server.get("description"),
        key_name=server.get("key_name"),
    )


def _create():
    """Both create calls: the v1.1 body is a superset of the v1 one (fakeecs is pay-per-use)."""
    spec = _server_spec(_load("create"))
    job = cloud().ecs_create_servers(g.context, spec)
    return jsonify({"job_id": job.id, "serverIds": list(job.data["server_ids"])})


@bp.post("/v1.1/<project_id>/cloudservers")
@ecs_errors
def create_servers(project_id):
    return _create()


@bp.post("/v1/<project_id>/cloudservers")
@ecs_errors
def create_post_paid_servers(project_id):
    return _create()


# -- list, show, update ------------------------------------------------------------------

#: ECS's refusal of a value
BAD_VALUES = "Invalid parameter values: "


def _ecs_int(minimum, maximum):
    """An ECS integer query parameter from ``minimum`` to ``maximum`` ("" counts as absent)."""
    return IntQuery(
        not_integer=BAD_VALUES + "{name} must be an integer from {minimum} to {maximum}.",
        minimum=minimum,
        maximum=maximum,
        blank=True,
        error=_bad,
    )


#: ``limit``/``offset`` (a page number) of ``GET /v1/{project_id}/cloudservers/detail``
DETAIL_LIMIT, DETAIL_OFFSET = _ecs_int(1, 1000), _ecs_int(0, 10**9)
#: ``limit`` of ``GET /v1.1/{project_id}/cloudservers/detail`` (paged by marker)
MARKER_LIMIT = _ecs_int(1, 100)


def _list_filter(args):
    """``keep(server)`` for the documented query filters of ``list_servers_details``."""
    name = args.get("name")
    try:
        pattern = re.compile(name) if name else None
    except re.error:
        raise _bad(f"Invalid parameter values: name {name!r} is not a valid pattern.") from None
    status = args.get("status")
    flavor = args.get("flavor")
    tags = args.get("tags")
    not_tags = args.get("not-tags")
    ip, ip_eq = args.get("ip"), args.get("ip_eq")
    reservation = args.get("reservation_id")
    ids = set(filter(None, (args.get("server_id") or "").split(",")))
    project = args.get("enterprise_project_id")

    def addresses(server):
        return [item.get("addr", "") for items in server.addresses.values() for item in items]

    def has_tag(server, wanted):
        return any(text == wanted or text.partition("=")[0] == wanted for text in server.tags)

    def keep(server):
        checks = (
            pattern is None or pattern.search(server.name),
            status is None
            or transitions.server_status(server.vm_state, server.task_state) == status,
            flavor is None or server.flavor_id == flavor,
            tags is None or has_tag(server, tags),
            not_tags is None or not has_tag(server, not_tags),
            ip is None or any(ip in addr for addr in addresses(server)),
            ip_eq is None or ip_eq in addresses(server),
            reservation is None or reservation == "r-%08x" % server.seq,
            not ids or server.id in ids,
            project in (None, "0", "all_granted_eps"),
        )
        return all(checks)

    return keep


def _after_marker(found, marker):
    """The servers after ``marker``, the id of the last server of the previous page."""
    if marker is None:
        return found
    ids = [server.id for server in found]
    if marker not in ids:
        raise _bad(f"Invalid parameter values: marker {marker} is not an ECS of this list.")
    return found[ids.index(marker) + 1 :]


@bp.get("/v1/<project_id>/cloudservers/detail")
@ecs_errors
def list_servers_details(project_id):
    limit = DETAIL_LIMIT.read("limit", 25)
    page = max(DETAIL_OFFSET.read("offset", 1), 1)
    found = cloud().ecs_list_servers(g.context, keep=_list_filter(request.args))
    if "marker" in request.args:
        shown = _after_marker(found, request.args["marker"])[:limit]
    else:
        shown = found[(page - 1) * limit : page * limit]
    return jsonify({"count": len(found), "servers": [server_view(s) for s in shown]})


def _cloud_server_filter(args):
    """``keep(server)`` for ``list_cloud_servers``: the shared filters and its own ones."""
    shared = _list_filter(
        {
            key: args[key]
            for key in ("name", "status", "tags", "not-tags", "enterprise_project_id")
            if key in args
        }
    )
    the_cloud = cloud()
    ids = set(filter(None, (args.get("id") or "").split(",")))
    flavor_name, image_id = args.get("flavor_name"), args.get("image_id")
    zone, zone_eq, key_name = (
        args.get("availability_zone"),
        args.get("availability_zone_eq"),
        args.get("key_name"),
    )
    charging, recycled = args.get("charging_mode"), args.get("in_recycle_bin")
    metadata_key = args.get("metadata-key")

    def flavor_of(server):
        flavor = the_cloud.flavors.get(server.flavor_id)
        return flavor.name if flavor else server.flavor_id

    def keep(server):
        checks = (
            shared(server),
            not ids or server.id in ids,
            flavor_name is None or flavor_of(server) == flavor_name,
            image_id is None
            or image_id in (server.image_id, server.system_metadata.get("base_image_ref")),
            zone is None or zone in server.availability_zone,
            zone_eq is None or server.availability_zone == zone_eq,
            key_name is None or server.key_name == key_name,
            charging in (None, "postPaid", "0"),
            recycled in (None, "false"),
            metadata_key is None or metadata_key in server.metadata,
        )
        return all(checks)

    return keep


def cloud_server_view(server):
    """ECS's ``CloudServer`` (``list_cloud_servers``): typed where ``ServerDetail`` is text."""
    full = server_view(server)
    the_cloud = cloud()
    flavor = full["flavor"]
    addresses = {
        net: [
            dict(item, version=int(item["version"]), primary=index == 0)
            for index, item in enumerate(items)
        ]
        for net, items in full["addresses"].items()
    }
    volumes = []
    for item in full["os-extended-volumes:volumes_attached"]:
        volume = the_cloud.volumes.get(item["id"])
        volumes.append(
            dict(
                item,
                delete_on_termination=item["delete_on_termination"] == "true",
                size=volume.size if volume else 0,
            )
        )
    body = {
        key: full[key]
        for key in (
            "id",
            "name",
            "status",
            "tenant_id",
            "user_id",
            "created",
            "updated",
            "description",
            "key_name",
            "locked",
            "metadata",
            "tags",
            "security_groups",
            "image",
            "enterprise_project_id",
        )
    }
    body.update(
        {
            "availability_zone": server.availability_zone,
            "vm_state": server.vm_state,
            "task_state": server.task_state,
            "power_state": server.power_state,
            "launched_at": full["OS-SRV-USG:launched_at"],
            "in_recycle_bin": False,
            "root_device_name": server.root_device_name,
            "addresses": addresses,
            "volumes_attached": volumes,
            "market_info": {"charge_mode": "postPaid"},
            "flavor": {
                "id": flavor["id"],
                "name": flavor["name"],
                "vcpus": int(flavor["vcpus"]),
                "ram": int(flavor["ram"]),
                "disk": int(flavor["disk"]),
            },
        }
    )
    if "fault" in full:
        body["fault"] = full["fault"]
    return body


@bp.get("/v1.1/<project_id>/cloudservers/detail")
@ecs_errors
def list_cloud_servers(project_id):
    limit = MARKER_LIMIT.read("limit", 10)
    found = cloud().ecs_list_servers(g.context, keep=_cloud_server_filter(request.args))
    rest = _after_marker(found, request.args.get("marker"))
    shown = rest[:limit]
    body = {"servers": [cloud_server_view(s) for s in shown]}
    if len(rest) > limit:
        body["servers_links"] = [
            {"rel": "next", "href": (f"{request.base_url}?limit={limit}&marker={shown[-1].id}")}
        ]
    body["request_id"] = request_id()
    return jsonify(body)


@bp.get("/v1/<project_id>/cloudservers/<server_id>")
@ecs_errors
def show_server(project_id, server_id):
    server = cloud().get_server(g.context, server_id)
    return jsonify({"server": server_view(server)})


def update_view(server):
    """``UpdateServerResult``: the server after ``PUT /v1/{project_id}/cloudservers/{id}``."""
    full = server_view(server)
    base = request.host_url.rstrip("/")
    links = [
        {"rel": "self", "href": f"{base}/v2.1/{server.project_id}/servers/{server.id}"},
        {"rel": "bookmark", "href": f"{base}/{server.project_id}/servers/{server.id}"},
    ]
    addresses = {
        net: [{"version": int(item["version"]), "addr": item["addr"]} for item in items]
        for net, items in full["addresses"].items()
    }
    return {
        "id": server.id,
        "name": server.name,
        "description": full["description"],
        "status": full["status"],
        "tenant_id": server.project_id,
        "user_id": server.user_id,
        "image": full["image"]["id"],
        "accessIPv4": "",
        "accessIPv6": "",
        "metadata": full["metadata"],
        "addresses": addresses,
        "created": full["created"],
        "updated": full["updated"],
        "hostId": full["hostId"],
        "flavor": {"id": server.flavor_id, "links": []},
        "OS-DCF:diskConfig": "MANUAL",
        "progress": full["progress"],
        "links": links,
        "locked": server.locked,
        "tags": list(server.tags),
        "OS-EXT-SRV-ATTR:hostname": full["OS-EXT-SRV-ATTR:hostname"],
        "OS-EXT-SRV-ATTR:user_data": None,
    }


@bp.put("/v1/<project_id>/cloudservers/<server_id>")
@ecs_errors
def update_server(project_id, server_id):
    option = _load("update")["server"]
    if not option:
        raise _bad(
            "Invalid parameter values: give server.name, server.description or server.hostname."
        )
    if "name" in option:
        _check_name(option["name"])
    if "hostname" in option:
        _check_name(option["hostname"], "hostname")
    _check_description(option.get("description"))
    server = cloud().ecs_update_server(
        g.context,
        server_id,
        name=option.get("name"),
        description=option.get("description"),
        hostname=option.get("hostname"),
    )
    return jsonify({"server": update_view(server)})


# -- batch actions and delete -------------------------------------------------------------

ACTIONS = {
    ("os_start", None): "start",
    ("os_stop", "SOFT"): "stop",
    ("os_stop", "HARD"): "stop",
    ("reboot", "SOFT"): "reboot_soft",
    ("reboot", "HARD"): "reboot_hard",
}


@bp.post("/v1/<project_id>/cloudservers/action")
@ecs_errors
def batch_action(project_id):
    data = _load("action")
    if len(data) != 1:
        raise _bad("Invalid parameter values: give exactly one of os-start, os-stop and reboot.")
    key, option = next(iter(data.items()))
    action = ACTIONS[(key, option.get("type"))]
    ids = [item["id"] for item in option["servers"]]
    job = cloud().ecs_batch_action(g.context, ids, action)
    return jsonify({"job_id": job.id})


@bp.post("/v1/<project_id>/cloudservers/delete")
@ecs_errors
def delete_servers(project_id):
    data = _load("delete")
    ids = [item["id"] for item in data["servers"]]
    job = cloud().ecs_delete_servers(g.context, ids, delete_volume=data["delete_volume"])
    return jsonify({"job_id": job.id})


# -- disks -----------------------------------------------------------------------------------


@bp.post("/v1/<project_id>/cloudservers/<server_id>/attachvolume")
@ecs_errors
def attach_volume(project_id, server_id):
    data = _load("attach")
    if data.get("dry_run"):
        raise _bad("dry_run is not supported by fakeecs: send the request without it.")
    option = data["volumeAttachment"]
    job = cloud().ecs_attach_volume(
        g.context, server_id, option["volumeId"], device=option.get("device")
    )
    return jsonify({"job_id": job.id})


@bp.delete("/v1/<project_id>/cloudservers/<server_id>/detachvolume/<volume_id>")
@ecs_errors
def detach_volume(project_id, server_id, volume_id):
    if request.args.get("delete_flag", "0") not in ("0", "1"):
        raise _bad("Invalid parameter values: delete_flag must be 0 or 1.")
    job = cloud().ecs_detach_volume(g.context, server_id, volume_id)
    return jsonify({"job_id": job.id})


# -- tags --------------------------------------------------------------------------------------


@bp.get("/v1/<project_id>/cloudservers/<server_id>/tags")
@ecs_errors
def show_server_tags(project_id, server_id):
    tags = cloud().ecs_server_tags(g.context, server_id)
    return jsonify({"tags": [{"key": key, "value": value} for key, value in tags]})


@bp.post("/v1/<project_id>/cloudservers/<server_id>/tags/action")
@ecs_errors
def change_server_tags(project_id, server_id):
    data = _load("tags")
    cloud().ecs_change_tags(
        g.context, server_id, data["action"], [(tag["key"], tag["value"]) for tag in data["tags"]]
    )
    return Response(status=204)


# -- flavors ----------------------------------------------------------------------------------


def flavor_view(flavor, zones):
    """ECS's ``Flavor`` (string-typed vcpus/disk as Huawei's are) with its sale zones."""
    base = request.host_url.rstrip("/")
    specs = {
        key: str(value)
        for key, value in flavor.extra_specs.items()
        if not key.startswith("fakeecs:")
    }
    specs.setdefault("cond:operation:status", "normal")
    specs.setdefault("ecs:performancetype", "normal")
    specs.setdefault("cond:operation:az", ",".join(f"{zone}(normal)" for zone in zones))
    return {
        "id": flavor.id,
        "name": flavor.name,
        "vcpus": str(flavor.vcpus),
        "ram": flavor.ram,
        "disk": str(flavor.disk),
        "swap": str(flavor.swap or ""),
        "OS-FLV-EXT-DATA:ephemeral": flavor.ephemeral or 0,
        "OS-FLV-DISABLED:disabled": False,
        "rxtx_factor": 1.0,
        "rxtx_quota": None,
        "rxtx_cap": None,
        "os-flavor-access:is_public": flavor.is_public,
        "links": [
            {
                "rel": "self",
                "type": None,
                "href": f"{base}/v1/{g.context.project_id}/flavors/{flavor.id}",
            }
        ],
        "os_extra_specs": specs,
    }


@bp.get("/v1/<project_id>/cloudservers/flavors")
@ecs_errors
def list_flavors(project_id):
    the_cloud = cloud()
    zone = request.args.get("availability_zone") or None
    found = the_cloud.ecs_list_flavors(zone)
    if request.args.get("flavor_id"):
        found = [flavor for flavor in found if flavor.id == request.args["flavor_id"]]
    return jsonify(
        {"flavors": [flavor_view(f, flavor_zones(f, the_cloud.availability_zones)) for f in found]}
    )


# -- jobs --------------------------------------------------------------------------------------


def job_view(job, sub=False):
    """ECS's ``ShowJobResponse`` (and, with ``sub``, a ``SubJob``) of an ECS job."""
    the_cloud = cloud()
    entities = {}
    if job.entities.get("server_id"):
        entities["server_id"] = job.entities["server_id"]
    if sub and job.entities.get("errorcode_message"):
        entities["errorcode_message"] = job.entities["errorcode_message"]
    if job.sub_job_ids:
        units = the_cloud.ecs_sub_jobs(job)
        entities["sub_jobs_total"] = len(units)
        entities["sub_jobs"] = [job_view(unit, sub=True) for unit in units]
    return {
        "status": job.status,
        "entities": entities,
        "job_id": job.id,
        "job_type": job.job_type,
        "begin_time": ims_api._time(job.begin_time),
        "end_time": ims_api._time(job.end_time) or "",
        "error_code": job.error_code,
        "fail_reason": job.fail_reason,
    }


def resolve_job(context, job_id):
    """:data:`.ims.JOB_RESOLVERS` entry: the ECS view of an ECS job, else ``None``."""
    try:
        job = cloud().get_ecs_job(context, job_id)
    except domain.NotFound:
        return None
    return job_view(job)


def register(app):
    app.register_blueprint(bp)
    if resolve_job not in ims_api.JOB_RESOLVERS:
        ims_api.JOB_RESOLVERS.append(resolve_job)
