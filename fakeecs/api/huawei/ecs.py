"""ECS Huawei-native: ``GET /v1/{project_id}/cloudservers/{server_id}`` (EcsClient.show_server)."""
import hashlib

from flask import Blueprint, g, jsonify

from ...model import errors as domain
from ...model import transitions
from ...model.clock import isoformat
from .. import errors
from .common import authenticate, check_path_project, cloud, translating

bp = Blueprint("huawei_ecs", __name__)


def ecs_code(error):
    if isinstance(error, domain.NotFound):
        return 404, "Ecs.0114"
    status = errors.status_for(error)
    return status, {400: "Ecs.0005", 403: "Ecs.0102", 409: "Ecs.0000"}.get(status, "Ecs.0000")


ecs_errors = translating(ecs_code)


@bp.before_request
def _before():
    g.family = "ecs"
    authenticate()


def _time(epoch):
    return isoformat(epoch) if epoch else None


def server_view(server):
    """The ECS ``ServerDetail`` of ``server`` (string-typed where Huawei's are)."""
    the_cloud = cloud()
    flavor = the_cloud.flavors.get(server.flavor_id)
    status = transitions.server_status(server.vm_state, server.task_state)
    base = the_cloud.images.get(server.system_metadata.get("base_image_ref") or server.image_id
                                or "")
    props = server.system_metadata.get("properties", {})
    metadata = {"charging_mode": "0", "vpc_id": "fakeecs-vpc", "os_bit": "64",
                "os_type": props.get("__os_type", "Linux")}
    if base is not None:
        metadata["image_name"] = base.name or ""
        metadata["metering.image_id"] = base.id
        metadata["metering.imagetype"] = base.properties.get("__imagetype", "private")
    metadata.update(server.metadata)
    addresses = {}
    for net, items in server.addresses.items():
        addresses[net] = [{"version": str(item.get("version", 4)), "addr": item.get("addr"),
                           "OS-EXT-IPS:type": item.get("OS-EXT-IPS:type", "fixed"),
                           "OS-EXT-IPS-MAC:mac_addr": item.get("OS-EXT-IPS-MAC:mac_addr"),
                           "OS-EXT-IPS:port_id": hashlib.md5(
                               f"{server.id}{item.get('addr')}".encode()).hexdigest()}
                          for item in items]
    volumes = []
    for index, device in enumerate(server.block_devices):
        boot = device.get("boot_index")
        volumes.append({"id": device["volume_id"],
                        "delete_on_termination": str(bool(device.get("delete_on_termination"))).lower(),
                        "bootIndex": "" if boot is None else str(boot),
                        "device": device.get("device_name") or f"/dev/vd{chr(ord('a') + index)}"})
    body = {
        "id": server.id, "name": server.name, "status": status,
        "created": isoformat(server.created_at), "updated": isoformat(server.updated_at),
        "tenant_id": server.project_id, "user_id": server.user_id,
        "hostId": hashlib.sha224((server.project_id + server.host).encode()).hexdigest(),
        "key_name": server.key_name, "metadata": metadata,
        "image": {"id": server.image_id or (base.id if base else "")},
        "flavor": {"id": server.flavor_id, "name": flavor.name if flavor else server.flavor_id,
                   "disk": str(flavor.disk if flavor else 0),
                   "vcpus": str(flavor.vcpus if flavor else 0),
                   "ram": str(flavor.ram if flavor else 0)},
        "addresses": addresses,
        "security_groups": [{"name": "default",
                             "id": hashlib.md5(server.project_id.encode()).hexdigest()}],
        "accessIPv4": "", "accessIPv6": "", "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": server.availability_zone,
        "OS-EXT-SRV-ATTR:host": server.host,
        "OS-EXT-SRV-ATTR:hypervisor_hostname": server.host,
        "OS-EXT-SRV-ATTR:instance_name": "instance-%08x" % server.seq,
        "OS-EXT-SRV-ATTR:hostname": server.name,
        "OS-EXT-SRV-ATTR:reservation_id": "r-%08x" % server.seq,
        "OS-EXT-SRV-ATTR:launch_index": 0,
        "OS-EXT-SRV-ATTR:kernel_id": "", "OS-EXT-SRV-ATTR:ramdisk_id": "",
        "OS-EXT-SRV-ATTR:root_device_name": server.root_device_name,
        "OS-EXT-SRV-ATTR:user_data": None,
        "OS-EXT-STS:task_state": server.task_state,
        "OS-EXT-STS:vm_state": server.vm_state,
        "OS-EXT-STS:power_state": server.power_state,
        "OS-SRV-USG:launched_at": isoformat(server.launched_at, micro=True)
        if server.launched_at else "",
        "OS-SRV-USG:terminated_at": isoformat(server.terminated_at, micro=True)
        if server.terminated_at else "",
        "os-extended-volumes:volumes_attached": volumes,
        "description": server.description or "",
        "host_status": "UP", "locked": server.locked, "tags": list(server.tags),
        "progress": 0 if server.vm_state == "building" else 100,
        "config_drive": server.config_drive, "enterprise_project_id": "0",
        "sys_tags": [{"key": "_sys_enterprise_project_id", "value": "0"}],
        "os:scheduler_hints": {}, "hypervisor": {"hypervisor_type": "kvm", "csd_hypervisor": ""},
    }
    if status == "ERROR" and server.fault:
        body["fault"] = {"code": server.fault.get("code", 500),
                         "created": isoformat(server.fault.get("created", server.updated_at)),
                         "message": server.fault.get("message", ""),
                         "details": server.fault.get("details", "")}
    return body


@bp.get("/v1/<project_id>/cloudservers/<server_id>")
@ecs_errors
def show_server(project_id, server_id):
    check_path_project(project_id, "ecs")
    server = cloud().get_server(g.context, server_id)
    return jsonify({"server": server_view(server)})


def register(app):
    app.register_blueprint(bp)
