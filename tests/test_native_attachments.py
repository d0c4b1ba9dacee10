"""Nova volume attachments (/servers/{id}/os-volume_attachments): HTTP codes and messages."""

import pytest
from conftest import PROJECT_ID, fault, state

V = f"/volume/v3/{PROJECT_ID}"
MV60 = {"OpenStack-API-Version": "compute 2.60"}
MISSING = "0e3c6bd0-5c2b-4c5e-9d0f-000000000000"


def volume(api, zone="cn-north-4a", size=5, settle=True):
    response = api.post(V + "/volumes", json={"volume": {"size": size, "availability_zone": zone}})
    assert response.status_code == 202, response.get_data(as_text=True)
    if settle:
        api.cloud.clock.advance(5)
    return response.get_json()["volume"]["id"]


def attachments(api, server_id):
    return api.compute(f"/servers/{server_id}/os-volume_attachments")


def attach(api, server_id, volume_id, headers=None, **extra):
    body = {"volumeAttachment": dict({"volumeId": volume_id}, **extra)}
    return api.post(attachments(api, server_id), json=body, headers=headers)


def cinder(api, volume_id):
    return api.get(f"{V}/volumes/{volume_id}").get_json()["volume"]


def server(api, server_id):
    return api.get(api.compute(f"/servers/{server_id}"), headers=MV60).get_json()["server"]


def boot_bfv(api):
    entry = {
        "source_type": "image",
        "destination_type": "volume",
        "boot_index": 0,
        "uuid": api.cloud.images.get("5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01").id,
        "volume_size": 40,
        "delete_on_termination": True,
    }
    return api.boot(image="", block_device_mapping_v2=[entry])


def test_attach_list_show_detach_keep_both_sides_in_step(api):
    server_id = api.boot()
    volume_id = volume(api)
    response = attach(api, server_id, volume_id)
    assert response.status_code == 200
    assert response.get_json() == {
        "volumeAttachment": {
            "id": volume_id,
            "serverId": server_id,
            "volumeId": volume_id,
            "device": "/dev/vdb",
        }
    }
    shown = cinder(api, volume_id)
    assert shown["status"] == "in-use"
    (record,) = shown["attachments"]
    assert (record["server_id"], record["device"], record["volume_id"], record["id"]) == (
        server_id,
        "/dev/vdb",
        volume_id,
        volume_id,
    )
    assert record["attachment_id"] and record["attached_at"]
    assert shown["metadata"] == {"attached_mode": "rw"}
    assert server(api, server_id)["os-extended-volumes:volumes_attached"] == [
        {"id": volume_id, "delete_on_termination": False}
    ]
    listed = api.get(attachments(api, server_id)).get_json()
    assert listed == {"volumeAttachments": [response.get_json()["volumeAttachment"]]}
    one = api.get(attachments(api, server_id) + f"/{volume_id}")
    assert one.status_code == 200
    assert one.get_json()["volumeAttachment"]["device"] == "/dev/vdb"

    gone = api.delete(attachments(api, server_id) + f"/{volume_id}")
    assert gone.status_code == 202 and gone.get_data() == b""
    shown = cinder(api, volume_id)
    assert (shown["status"], shown["attachments"], shown["metadata"]) == ("available", [], {})
    assert server(api, server_id)["os-extended-volumes:volumes_attached"] == []
    assert api.get(attachments(api, server_id)).get_json() == {"volumeAttachments": []}


def test_requested_device_is_kept_and_a_used_one_is_409(api):
    server_id = api.boot()
    first, second = volume(api), volume(api)
    assert (
        attach(api, server_id, first, device="/dev/vdd").get_json()["volumeAttachment"]["device"]
        == "/dev/vdd"
    )
    before = state(api.cloud)
    message = fault(attach(api, server_id, second, device="/dev/vdd"), 409, "conflictingRequest")
    assert message == "The supplied device path (/dev/vdd) is in use."
    assert state(api.cloud) == before


def test_list_includes_the_root_volume_and_pages_with_limit_offset(api):
    server_id = boot_bfv(api)
    data = volume(api)
    attach(api, server_id, data)
    listed = api.get(attachments(api, server_id)).get_json()["volumeAttachments"]
    assert [a["device"] for a in listed] == ["/dev/vda", "/dev/vdb"]
    assert (
        server(api, server_id)["os-extended-volumes:volumes_attached"][0]["delete_on_termination"]
        is True
    )
    paged = api.get(attachments(api, server_id) + "?limit=1&offset=1").get_json()
    assert [a["volumeId"] for a in paged["volumeAttachments"]] == [data]
    message = fault(api.get(attachments(api, server_id) + "?limit=x"), 400, "badRequest")
    assert message == "limit param must be an integer"
    root = listed[0]["volumeId"]
    before = state(api.cloud)
    message = fault(api.delete(attachments(api, server_id) + f"/{root}"), 403, "forbidden")
    assert message == "Can't detach root device volume"
    assert state(api.cloud) == before


@pytest.mark.parametrize(
    "body,message",
    [
        (
            {},
            "Invalid input for field/attribute body. Value: {}. 'volumeAttachment' is a required "
            "property",
        ),
        (
            {"volumeAttachment": {}},
            "Invalid input for field/attribute volumeAttachment. Value: {}. "
            "'volumeId' is a required property",
        ),
        (
            {"volumeAttachment": {"volumeId": "nope"}},
            "Invalid input for field/attribute volumeId. Value: nope. 'nope' is not a 'uuid'",
        ),
        (
            {"volumeAttachment": {"volumeId": MISSING, "device": "sdb"}},
            "Invalid input for field/attribute device. Value: sdb. 'sdb' does not match "
            "'(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$'",
        ),
        (
            {"volumeAttachment": {"volumeId": MISSING, "tag": "t"}},
            "Invalid input for field/attribute volumeAttachment. Value: {'volumeId': "
            f"'{MISSING}', 'tag': 't'}}. Additional properties are not allowed ('tag' was unexpected)",
        ),
    ],
)
def test_attach_schema_errors(api, body, message):
    server_id = api.boot()
    before = state(api.cloud)
    response = api.post(
        attachments(api, server_id), json=body, headers={"OpenStack-API-Version": "compute 2.48"}
    )
    assert fault(response, 400, "badRequest") == message
    assert state(api.cloud) == before


def test_tag_is_accepted_from_249(api):
    server_id = api.boot()
    volume_id = volume(api)
    response = attach(
        api, server_id, volume_id, headers={"OpenStack-API-Version": "compute 2.49"}, tag="data"
    )
    assert response.status_code == 200
    bad = attach(
        api, server_id, volume(api), headers={"OpenStack-API-Version": "compute 2.49"}, tag="a/b"
    )
    assert fault(bad, 400, "badRequest").endswith("'a/b' does not match '^[^,/]*$'")


def test_attach_refusals_in_queens_order(api):
    server_id = api.boot()
    volume_id = volume(api)
    other_zone = volume(api, zone="cn-north-4b")
    creating = volume(api, settle=False)
    before = state(api.cloud)
    assert (
        fault(attach(api, MISSING, volume_id), 404, "itemNotFound")
        == f"Instance {MISSING} could not be found."
    )
    assert (
        fault(attach(api, server_id, MISSING), 404, "itemNotFound")
        == f"Volume {MISSING} could not be found."
    )
    message = fault(attach(api, server_id, creating), 400, "badRequest")
    assert message.startswith(
        f"Invalid input received: Invalid volume: Volume {creating} status "
        "must be available or downloading (HTTP 400) (Request-ID: req-"
    )
    message = fault(attach(api, server_id, other_zone), 400, "badRequest")
    assert message.startswith("Server and volumes are not in the same availability zone.")
    message = fault(attach(api, server_id, volume_id, device="/dev/"), 400, "badRequest")
    assert "does not match" in message
    assert state(api.cloud) == before

    assert attach(api, server_id, volume_id).status_code == 200
    message = fault(attach(api, server_id, volume_id), 400, "badRequest")
    assert message == f"Invalid volume: volume {volume_id} already attached"


def test_attach_and_detach_state_and_lock_rules(api):
    cloud = api.cloud
    server_id = api.boot()
    volume_id = volume(api)
    attach(api, server_id, volume_id)
    spare = volume(api)
    api.post(api.compute(f"/servers/{server_id}/action"), json={"lock": None})
    member = type(api)(api.client.application, user="fakeecs-member")
    assert (
        fault(attach(member, server_id, spare), 409, "conflictingRequest")
        == f"Instance {server_id} is locked"
    )
    assert (
        fault(
            member.delete(attachments(member, server_id) + f"/{volume_id}"),
            409,
            "conflictingRequest",
        )
        == f"Instance {server_id} is locked"
    )
    api.post(api.compute(f"/servers/{server_id}/action"), json={"unlock": None})
    cloud.transitions["server_action"] = "manual"
    api.post(api.compute(f"/servers/{server_id}/action"), json={"os-stop": None})
    assert (
        fault(attach(api, server_id, spare), 409, "conflictingRequest")
        == f"Cannot 'attach_volume' instance {server_id} while it is in task_state powering-off"
    )
    assert (
        fault(api.delete(attachments(api, server_id) + f"/{volume_id}"), 409, "conflictingRequest")
        == f"Cannot 'detach_volume' instance {server_id} while it is in task_state powering-off"
    )
    building = api.boot(name="slow", settle=False)
    assert (
        fault(attach(api, building, spare), 409, "conflictingRequest")
        == f"Cannot 'attach_volume' instance {building} while it is in vm_state building"
    )


def test_shelved_server_needs_220(api):
    server_id = api.boot()
    volume_id = volume(api)
    with api.cloud.lock:
        api.cloud.servers.get(server_id).vm_state = "shelved_offloaded"
    old = attach(api, server_id, volume_id, headers={"OpenStack-API-Version": "compute 2.19"})
    assert fault(old, 409, "conflictingRequest") == (
        f"Cannot 'attach_volume' instance {server_id} while it is in vm_state shelved_offloaded"
    )
    tagged = attach(
        api, server_id, volume_id, headers={"OpenStack-API-Version": "compute 2.49"}, tag="t"
    )
    assert fault(tagged, 400, "badRequest") == (
        "Tagged volume attachment is not supported for shelved-offloaded instances."
    )
    new = attach(api, server_id, volume_id, headers={"OpenStack-API-Version": "compute 2.20"})
    assert new.status_code == 200
    # no device until unshelve: null on create, left out of list and show
    assert new.get_json()["volumeAttachment"]["device"] is None
    (listed,) = api.get(attachments(api, server_id)).get_json()["volumeAttachments"]
    assert "device" not in listed
    assert cinder(api, volume_id)["status"] == "in-use"


def test_detach_refusals(api):
    server_id = api.boot()
    volume_id = volume(api)
    before = state(api.cloud)
    path = attachments(api, server_id)
    assert (
        fault(api.delete(f"{path}/{MISSING}"), 404, "itemNotFound")
        == f"Volume {MISSING} could not be found."
    )
    assert (
        fault(api.delete(f"{path}/{volume_id}"), 404, "itemNotFound")
        == f"Instance {server_id} is not attached to volume {volume_id}"
    )
    assert (
        fault(api.get(f"{path}/{volume_id}"), 404, "itemNotFound")
        == f"Instance {server_id} is not attached to volume {volume_id}"
    )
    assert state(api.cloud) == before


def test_detach_after_cinder_forgot_the_attachment_is_cinders_400(api):
    admin = api  # the default user "fakeecs" is an admin
    server_id = api.boot()
    volume_id = volume(api)
    attach(api, server_id, volume_id)
    response = admin.post(
        f"{V}/volumes/{volume_id}/action",
        json={"os-reset_status": {"status": "available", "attach_status": "detached"}},
    )
    assert response.status_code == 202
    message = fault(api.delete(attachments(api, server_id) + f"/{volume_id}"), 400, "badRequest")
    assert message.startswith(
        "Invalid volume: Invalid input received: Invalid volume: Unable to "
        "detach volume. Volume status must be 'in-use' and attach_status "
        "must be 'attached' to detach. (HTTP 400) (Request-ID: req-"
    )


def test_server_delete_detaches_and_keeps_the_volume(api):
    server_id = api.boot()
    volume_id = volume(api)
    attach(api, server_id, volume_id)
    assert api.delete(api.compute(f"/servers/{server_id}")).status_code == 204
    api.cloud.clock.advance(5)
    shown = cinder(api, volume_id)
    assert (shown["status"], shown["attachments"]) == ("available", [])
