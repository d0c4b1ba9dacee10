"""Rendering compute resources as Nova shows them at each microversion."""

from typing import Any

from ...model import devices, transitions
from ...model.clock import isoformat
from .microversion import MAX_VERSION, MIN_VERSION, fmt

#: statuses for which Nova shows ``progress``
_PROGRESS_STATUSES = ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING")


def version_doc(base, legacy=False):
    if legacy:
        return {
            "id": "v2.0",
            "status": "SUPPORTED",
            "version": "",
            "min_version": "",
            "updated": "2011-01-21T11:33:21Z",
            "links": [
                {"rel": "self", "href": f"{base}/v2/"},
                {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"},
            ],
            "media-types": [
                {
                    "base": "application/json",
                    "type": "application/vnd.openstack.compute+json;version=2",
                }
            ],
        }
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": fmt(MAX_VERSION),
        "min_version": fmt(MIN_VERSION),
        "updated": "2013-07-23T11:33:21Z",
        "links": [
            {"rel": "self", "href": f"{base}/v2.1/"},
            {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"},
        ],
        "media-types": [
            {
                "base": "application/json",
                "type": "application/vnd.openstack.compute+json;version=2.1",
            }
        ],
    }


def versions_list(base):
    out = []
    for legacy in (True, False):
        doc = version_doc(base, legacy)
        out.append(
            {k: doc[k] for k in ("id", "status", "version", "min_version", "updated")}
            | {"links": [doc["links"][0]]}
        )
    return out


def links(base, project_id, collection, resource_id):
    return [
        {"rel": "self", "href": f"{base}/v2.1/{project_id}/{collection}/{resource_id}"},
        {"rel": "bookmark", "href": f"{base}/{project_id}/{collection}/{resource_id}"},
    ]


def flavor_ref(flavor, version, base, project_id):
    if version >= (2, 47):
        return {
            "vcpus": flavor.vcpus,
            "ram": flavor.ram,
            "disk": flavor.disk,
            "ephemeral": flavor.ephemeral,
            "swap": flavor.swap,
            "original_name": flavor.name,
            "extra_specs": dict(flavor.extra_specs),
        }
    return {"id": flavor.id, "links": [links(base, project_id, "flavors", flavor.id)[1]]}


def flavor(flavor, base, project_id, detail=True, version=MIN_VERSION):
    body = {
        "id": flavor.id,
        "name": flavor.name,
        "links": links(base, project_id, "flavors", flavor.id),
    }
    if detail:
        body.update(
            {
                "ram": flavor.ram,
                "disk": flavor.disk,
                "vcpus": flavor.vcpus,
                "swap": flavor.swap or "",
                "OS-FLV-EXT-DATA:ephemeral": flavor.ephemeral,
                "OS-FLV-DISABLED:disabled": False,
                "rxtx_factor": 1.0,
                "os-flavor-access:is_public": flavor.is_public,
            }
        )
        if version >= (2, 55):
            body["description"] = None
    return body


def server_brief(server, base):
    return {
        "id": server.id,
        "name": server.name,
        "links": links(base, server.project_id, "servers", server.id),
    }


def _addresses(server, extended: bool) -> dict:
    """``addresses``; without ``extended`` only version and addr (the PUT view, /ips)."""
    if extended:
        return server.addresses
    return {
        label: [{"version": ip["version"], "addr": ip["addr"]} for ip in ips]
        for label, ips in server.addresses.items()
    }


def server_core(
    server, flavor_obj, context, version: tuple, base: str, *, extended_addresses: bool = True
) -> dict:
    """The keys of Nova's core server view (what ``PUT /servers/{id}`` answers with)."""
    status = transitions.server_status(server.vm_state, server.task_state)
    host_id = devices.host_id(server.project_id, server.host)
    image: str | dict[str, Any] = ""
    if server.image_id:
        image = {
            "id": server.image_id,
            "links": [
                {"rel": "bookmark", "href": f"{base}/{server.project_id}/images/{server.image_id}"}
            ],
        }
    body = {
        "id": server.id,
        "name": server.name,
        "status": status,
        "tenant_id": server.project_id,
        "user_id": server.user_id,
        "metadata": dict(server.metadata),
        "hostId": host_id,
        "image": image,
        "flavor": flavor_ref(flavor_obj, version, base, server.project_id),
        "created": isoformat(server.created_at),
        "updated": isoformat(server.updated_at),
        "addresses": _addresses(server, extended_addresses),
        "accessIPv4": server.access_ipv4 or "",
        "accessIPv6": server.access_ipv6 or "",
        "links": links(base, server.project_id, "servers", server.id),
        "OS-DCF:diskConfig": server.disk_config or "MANUAL",
    }
    if status in _PROGRESS_STATUSES:
        body["progress"] = 100 if server.vm_state != "building" else 0
    if status in ("ERROR", "DELETED") and server.fault:
        body["fault"] = {
            "code": server.fault.get("code", 500),
            "created": isoformat(server.fault.get("created", server.updated_at)),
            "message": server.fault.get("message", ""),
        }
        if context.is_admin and server.fault.get("details"):
            body["fault"]["details"] = server.fault["details"]
    if version >= (2, 9):
        body["locked"] = server.locked
    if version >= (2, 19):
        body["description"] = server.description
    if version >= (2, 26):
        body["tags"] = list(server.tags)
    return body


def server(server, flavor_obj, context, version, base):
    """Exactly the keys Nova Queens shows for ``GET /servers/{id}`` at ``version``."""
    body = server_core(server, flavor_obj, context, version, base)
    body["OS-EXT-AZ:availability_zone"] = server.availability_zone
    body["config_drive"] = server.config_drive
    body["key_name"] = server.key_name
    if context.is_admin:
        body["OS-EXT-SRV-ATTR:host"] = server.host
        body["OS-EXT-SRV-ATTR:instance_name"] = "instance-%08x" % server.seq
        body["OS-EXT-SRV-ATTR:hypervisor_hostname"] = server.host
        if version >= (2, 3):
            body.update(
                {
                    "OS-EXT-SRV-ATTR:reservation_id": "r-%08x" % server.seq,
                    "OS-EXT-SRV-ATTR:launch_index": 0,
                    "OS-EXT-SRV-ATTR:hostname": server.hostname or server.name,
                    "OS-EXT-SRV-ATTR:kernel_id": "",
                    "OS-EXT-SRV-ATTR:ramdisk_id": "",
                    "OS-EXT-SRV-ATTR:root_device_name": server.root_device_name,
                    "OS-EXT-SRV-ATTR:user_data": server.user_data,
                }
            )
    body["OS-EXT-STS:task_state"] = server.task_state
    body["OS-EXT-STS:vm_state"] = server.vm_state
    body["OS-EXT-STS:power_state"] = server.power_state
    body["OS-SRV-USG:launched_at"] = (
        isoformat(server.launched_at, micro=True) if server.launched_at else None
    )
    body["OS-SRV-USG:terminated_at"] = (
        isoformat(server.terminated_at, micro=True) if server.terminated_at else None
    )
    body["security_groups"] = [{"name": "default"}]
    volumes = []
    for device in server.block_devices:
        entry = {"id": device["volume_id"]}
        if version >= (2, 3):
            entry["delete_on_termination"] = bool(device.get("delete_on_termination"))
        volumes.append(entry)
    body["os-extended-volumes:volumes_attached"] = volumes
    if version >= (2, 16) and context.is_admin:
        body["host_status"] = "UP"
    return body


def availability_zone(zone, detail):
    hosts = None
    if detail:
        hosts = {
            f"{zone.name}-host-1": {
                "nova-compute": {"available": zone.available, "active": True, "updated_at": None}
            }
        }
    return {"zoneName": zone.name, "zoneState": {"available": zone.available}, "hosts": hosts}
