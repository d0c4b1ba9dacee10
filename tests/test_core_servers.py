"""Servers, actions, availability zones and flavors through the compute API."""

import pytest
from conftest import BASE_IMAGE

MV = {"OpenStack-API-Version": "compute 2.60"}

BASE_KEYS = {
    "id",
    "name",
    "status",
    "tenant_id",
    "user_id",
    "metadata",
    "hostId",
    "image",
    "flavor",
    "created",
    "updated",
    "addresses",
    "accessIPv4",
    "accessIPv6",
    "links",
    "OS-DCF:diskConfig",
    "OS-EXT-AZ:availability_zone",
    "config_drive",
    "key_name",
    "OS-EXT-STS:task_state",
    "OS-EXT-STS:vm_state",
    "OS-EXT-STS:power_state",
    "OS-SRV-USG:launched_at",
    "OS-SRV-USG:terminated_at",
    "security_groups",
    "os-extended-volumes:volumes_attached",
}
ADMIN_KEYS = {
    "OS-EXT-SRV-ATTR:host",
    "OS-EXT-SRV-ATTR:instance_name",
    "OS-EXT-SRV-ATTR:hypervisor_hostname",
}
ADMIN_23_KEYS = {
    "OS-EXT-SRV-ATTR:reservation_id",
    "OS-EXT-SRV-ATTR:launch_index",
    "OS-EXT-SRV-ATTR:hostname",
    "OS-EXT-SRV-ATTR:kernel_id",
    "OS-EXT-SRV-ATTR:ramdisk_id",
    "OS-EXT-SRV-ATTR:root_device_name",
    "OS-EXT-SRV-ATTR:user_data",
}


def show(api, server_id, version="2.60", client=None):
    client = client or api
    response = client.get(
        client.compute(f"/servers/{server_id}"),
        headers={"OpenStack-API-Version": f"compute {version}"},
    )
    assert response.status_code == 200
    return response.get_json()["server"]


def test_create_answers_202_with_admin_pass_and_location(api):
    response = api.post(
        api.compute("/servers"),
        json={
            "server": {
                "name": "web",
                "flavorRef": "s6.small.1",
                "imageRef": BASE_IMAGE,
                "networks": "auto",
            }
        },
        headers=MV,
    )
    assert response.status_code == 202
    body = response.get_json()["server"]
    assert set(body) == {"id", "links", "OS-DCF:diskConfig", "security_groups", "adminPass"}
    assert response.headers["Location"].endswith(f"/servers/{body['id']}")


def test_build_walks_to_active_on_the_clock(api):
    server_id = api.boot(settle=False)
    first = show(api, server_id)
    assert (first["status"], first["OS-EXT-STS:vm_state"], first["OS-EXT-STS:task_state"]) == (
        "BUILD",
        "building",
        "scheduling",
    )
    api.cloud.clock.advance(0.5)
    assert show(api, server_id)["OS-EXT-STS:task_state"] == "spawning"
    api.cloud.clock.advance(0.5)
    active = show(api, server_id)
    assert (active["status"], active["OS-EXT-STS:power_state"]) == ("ACTIVE", 1)
    assert active["OS-SRV-USG:launched_at"] and active["addresses"]["fakeecs-net"]


def test_fields_follow_the_microversion(app, api):
    server_id = api.boot()
    at21 = show(api, server_id, "2.1")
    assert set(at21) == BASE_KEYS | ADMIN_KEYS | {"progress"}
    assert set(at21["flavor"]) == {"id", "links"}
    at260 = show(api, server_id, "2.60")
    assert set(at260) == BASE_KEYS | ADMIN_KEYS | ADMIN_23_KEYS | {
        "progress",
        "locked",
        "host_status",
        "description",
        "tags",
    }
    assert set(at260["flavor"]) == {
        "vcpus",
        "ram",
        "disk",
        "ephemeral",
        "swap",
        "original_name",
        "extra_specs",
    }
    member = type(api)(app, "fakeecs-member")
    as_member = show(api, server_id, "2.60", client=member)
    assert set(as_member) == BASE_KEYS | {"progress", "locked", "description", "tags"}


def test_error_server_shows_fault(api, cloud):
    server_id = api.boot()
    cloud.set_server_state(
        cloud.servers.get(server_id), "error", fault={"message": "disk failure", "code": 500}
    )
    body = show(api, server_id)
    assert body["status"] == "ERROR" and body["fault"]["message"] == "disk failure"
    assert "progress" not in body


def test_list_filters_and_paging(api):
    ids = [api.boot(f"web-{i}", settle=False) for i in range(5)]
    api.cloud.clock.advance(5)
    listed = api.get(api.compute("/servers")).get_json()["servers"]
    assert [s["id"] for s in listed] == ids[::-1]
    assert set(listed[0]) == {"id", "name", "links"}
    page = api.get(api.compute("/servers/detail?limit=2")).get_json()
    assert [s["id"] for s in page["servers"]] == ids[:2:-1][:2]
    assert page["servers_links"][0]["rel"] == "next"
    rest = api.get(api.compute(f"/servers/detail?marker={page['servers'][-1]['id']}")).get_json()
    assert [s["id"] for s in rest["servers"]] == ids[2::-1]
    assert "servers_links" not in rest
    named = api.get(api.compute("/servers?name=web-[13]")).get_json()["servers"]
    assert sorted(s["name"] for s in named) == ["web-1", "web-3"]
    assert api.get(api.compute("/servers/detail?status=SHUTOFF")).get_json()["servers"] == []


@pytest.mark.parametrize(
    "query,message",
    [
        ("limit=x", "limit param must be an integer"),
        ("limit=-1", "limit param must be positive"),
        ("marker=nope", "marker [nope] not found"),
    ],
)
def test_list_bad_parameters(api, query, message):
    response = api.get(api.compute(f"/servers?{query}"))
    assert response.status_code == 400
    assert response.get_json()["badRequest"]["message"] == message


@pytest.mark.parametrize(
    "server,message",
    [
        ({"flavorRef": "s6.small.1", "networks": "auto"}, "'name' is a required property"),
        (
            {"name": "x", "flavorRef": "nope", "imageRef": BASE_IMAGE, "networks": "auto"},
            "Flavor nope could not be found.",
        ),
        (
            {
                "name": "x",
                "flavorRef": "s6.small.1",
                "imageRef": "0e3c6bd0-5c2b-4c5e-9d0f-000000000000",
                "networks": "auto",
            },
            "Image 0e3c6bd0-5c2b-4c5e-9d0f-000000000000 could not be found.",
        ),
        (
            {
                "name": "x",
                "flavorRef": "s6.small.1",
                "imageRef": BASE_IMAGE,
                "networks": "auto",
                "availability_zone": "cn-north-4z",
            },
            "The requested availability zone is not available",
        ),
        (
            {"name": "x", "flavorRef": "s6.small.1", "imageRef": BASE_IMAGE},
            "'networks' is a required property",
        ),
        (
            {"name": " x", "flavorRef": "s6.small.1", "imageRef": BASE_IMAGE, "networks": "auto"},
            "An invalid 'name' value was provided. The name must be: printable characters. "
            "Can not start or end with whitespace.",
        ),
    ],
)
def test_create_refusals_leave_nothing_behind(api, server, message):
    response = api.post(api.compute("/servers"), json={"server": server}, headers=MV)
    assert response.status_code == 400
    assert response.get_json()["badRequest"]["message"].endswith(message)
    assert len(api.cloud.servers) == 0


def test_networks_optional_below_237(api):
    response = api.post(
        api.compute("/servers"),
        json={"server": {"name": "x", "flavorRef": "s6.small.1", "imageRef": BASE_IMAGE}},
    )
    assert response.status_code == 202


@pytest.mark.parametrize(
    "first,second,state,status",
    [
        ("os-stop", "os-start", "active", "ACTIVE"),
        ("pause", "unpause", "active", "ACTIVE"),
        ("suspend", "resume", "active", "ACTIVE"),
    ],
)
def test_power_actions_round_trip(api, first, second, state, status):
    server_id = api.boot()
    path = api.compute(f"/servers/{server_id}/action")
    assert api.post(path, json={first: None}).status_code == 202
    assert show(api, server_id)["OS-EXT-STS:task_state"] is not None
    api.cloud.clock.advance(1)
    assert api.post(path, json={second: None}).status_code == 202
    api.cloud.clock.advance(1)
    body = show(api, server_id)
    assert (body["OS-EXT-STS:vm_state"], body["status"]) == (state, status)


def test_action_in_wrong_state_is_409(api):
    server_id = api.boot()
    response = api.post(api.compute(f"/servers/{server_id}/action"), json={"os-start": None})
    assert response.status_code == 409
    assert (
        response.get_json()["conflictingRequest"]["message"]
        == f"Cannot 'start' instance {server_id} while it is in vm_state active"
    )


def test_reboot_types(api):
    server_id = api.boot()
    path = api.compute(f"/servers/{server_id}/action")
    assert api.post(path, json={"reboot": {"type": "SOFT"}}).status_code == 202
    assert show(api, server_id)["status"] == "REBOOT"
    api.cloud.clock.advance(1)
    bad = api.post(path, json={"reboot": {"type": "WARM"}})
    assert bad.status_code == 400
    assert "'WARM' is not one of" in bad.get_json()["badRequest"]["message"]
    missing = api.post(path, json={"reboot": {}})
    assert (
        missing.get_json()["badRequest"]["message"]
        == "Invalid input for field/attribute reboot. Value: {}. 'type' is a required property"
    )


def test_locked_server_refuses_member_actions_but_not_admin(app, api):
    server_id = api.boot()
    path = api.compute(f"/servers/{server_id}/action")
    assert api.post(path, json={"lock": None}).status_code == 202
    assert show(api, server_id)["locked"] is True
    member = type(api)(app, "fakeecs-member")
    refused = member.post(path, json={"os-stop": None})
    assert refused.status_code == 409
    assert refused.get_json()["conflictingRequest"]["message"] == f"Instance {server_id} is locked"
    assert member.delete(member.compute(f"/servers/{server_id}")).status_code == 409
    assert api.post(path, json={"os-stop": None}).status_code == 202


def test_reader_cannot_write(app, api):
    reader = type(api)(app, "fakeecs-reader")
    response = reader.post(
        reader.compute("/servers"),
        json={
            "server": {
                "name": "x",
                "flavorRef": "s6.small.1",
                "imageRef": BASE_IMAGE,
                "networks": "auto",
            }
        },
        headers=MV,
    )
    assert response.status_code == 403
    assert (
        response.get_json()["forbidden"]["message"]
        == "Policy doesn't allow os_compute_api:servers:create to be performed."
    )
    assert reader.get(reader.compute("/servers")).status_code == 200


def test_delete_walks_through_deleting(api):
    server_id = api.boot()
    assert api.delete(api.compute(f"/servers/{server_id}")).status_code == 204
    assert show(api, server_id)["OS-EXT-STS:task_state"] == "deleting"
    api.cloud.clock.advance(1)
    response = api.get(api.compute(f"/servers/{server_id}"))
    assert response.status_code == 404
    assert (
        response.get_json()["itemNotFound"]["message"]
        == f"Instance {server_id} could not be found."
    )


def test_availability_zones_and_flavors(api):
    zones = api.get(api.compute("/os-availability-zone")).get_json()["availabilityZoneInfo"]
    assert [z["zoneName"] for z in zones] == ["cn-north-4a", "cn-north-4b", "cn-north-4c"]
    assert zones[0] == {"zoneName": "cn-north-4a", "zoneState": {"available": True}, "hosts": None}
    detail = api.get(api.compute("/os-availability-zone/detail")).get_json()["availabilityZoneInfo"]
    assert detail[0]["hosts"]
    flavors = api.get(api.compute("/flavors")).get_json()["flavors"]
    assert "s6.small.1" in [f["id"] for f in flavors]
    flavor = api.get(api.compute("/flavors/s6.large.2")).get_json()["flavor"]
    assert (flavor["vcpus"], flavor["ram"]) == (2, 4096)
    missing = api.get(api.compute("/flavors/nope"))
    assert missing.status_code == 404
    assert missing.get_json()["itemNotFound"]["message"] == "Flavor nope could not be found."
