"""Scenarios build entities through the model's own factories; single facts; lock fixes.

A seeded entity and one made through the API from the same inputs must be the
same apart from ids, timestamps, sequence numbers and what records how it was made.
"""

import dataclasses

from conftest import BASE_IMAGE, PROJECT_ID

from fakeecs.api import create_app
from fakeecs.model import apply_world, devices, provenance, scenario, transitions
from fakeecs.model.tokens import token_subject
from fakeecs.server import build_cloud

#: fields that say which one an entity is or when it was made, not what it is
VOLATILE = {
    "id",
    "seq",
    "created_at",
    "updated_at",
    "origin",
    "launched_at",
    "addresses",
    "volume_id",
}
IMAGE_ID = "0badc0de-0000-4000-8000-00000000f001"


def fresh():
    return build_cloud(["default"], seed=1234, clock="frozen")


def same_apart_from_ids(made, seeded):
    a, b = dataclasses.asdict(made), dataclasses.asdict(seeded)
    for key in VOLATILE:
        a.pop(key, None)
        b.pop(key, None)
    return a, b


def with_image(cloud):
    """An image with properties a volume inherits, one it must not, and a hidden one."""
    apply_world(
        cloud,
        {
            "images": [
                {
                    "id": IMAGE_ID,
                    "name": "props",
                    "visibility": "public",
                    "min_disk": 10,
                    "size": 1024**3,
                    "checksum": "c" * 32,
                    "properties": {
                        "os_distro": "ubuntu",
                        "cache_in_nova": True,
                        "hw_disk_bus": "virtio",
                    },
                }
            ]
        },
    )
    return cloud.images.get(IMAGE_ID)


def test_a_seeded_volume_is_a_cinder_volume():
    cloud = fresh()
    with_image(cloud)
    ctx = cloud.context_for_user("fakeecs")
    made = cloud.create_volume(
        ctx, size=20, name="v", image_id=IMAGE_ID, availability_zone="cn-north-4a"
    )
    cloud.clock.advance(60)
    cloud.list_availability_zones()
    apply_world(
        cloud,
        {
            "volumes": [
                {"name": "v", "size": 20, "image": IMAGE_ID, "availability_zone": "cn-north-4a"}
            ]
        },
    )
    seeded = next(v for v in cloud.volumes if v.id != made.id)
    assert made.status == seeded.status == "available"
    assert seeded.image_metadata == made.image_metadata
    assert "cache_in_nova" not in seeded.image_metadata  # provenance.NON_INHERITABLE
    assert seeded.image_metadata["hw_disk_bus"] == "virtio"
    assert seeded.image_metadata["checksum"] == "c" * 32
    a, b = same_apart_from_ids(made, seeded)
    assert a == b


def test_a_seeded_snapshot_is_a_cinder_snapshot():
    cloud = fresh()
    with_image(cloud)
    ctx = cloud.context_for_user("fakeecs")
    volume = cloud.create_volume(ctx, size=20, name="v", image_id=IMAGE_ID)
    cloud.clock.advance(60)
    made = cloud.create_snapshot(ctx, volume.id, name="s", description="d")
    cloud.clock.advance(60)
    cloud.list_availability_zones()
    apply_world(cloud, {"snapshots": [{"name": "s", "volume": volume.id, "description": "d"}]})
    seeded = next(s for s in cloud.snapshots if s.id != made.id)
    a, b = same_apart_from_ids(made, seeded)
    assert a == b
    expected = {key: value for key, value in made.origin.items() if key != "kind"}
    assert {key: value for key, value in seeded.origin.items() if key != "kind"} == expected
    assert seeded.origin["image_metadata"]["image_id"] == IMAGE_ID


def test_a_seeded_server_is_a_nova_server():
    cloud = fresh()
    ctx = cloud.context_for_user("fakeecs")
    made = cloud.create_server(
        ctx,
        name="web",
        flavor_id="s6.small.1",
        image_id=BASE_IMAGE,
        availability_zone="cn-north-4a",
    )
    apply_world(
        cloud,
        {
            "servers": [
                {
                    "name": "web",
                    "flavor": "s6.small.1",
                    "image": BASE_IMAGE,
                    "user": "fakeecs",
                    "availability_zone": "cn-north-4a",
                    "vm_state": "building",
                }
            ]
        },
    )
    seeded = next(s for s in cloud.servers if s.id != made.id)
    assert seeded.system_metadata == made.system_metadata
    assert seeded.hostname == made.hostname == "web"
    assert set(seeded.addresses) == set(made.addresses)
    a, b = same_apart_from_ids(made, seeded)
    assert a == b


def _ids_after_create(admin_pass):
    cloud = fresh()
    client = create_app(cloud).test_client()
    token = client.post(
        "/v3/auth/tokens",
        json={
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": "fakeecs",
                            "domain": {"name": "Default"},
                            "password": "fakeecs",
                        }
                    },
                }
            }
        },
    ).headers["X-Subject-Token"]
    server = {
        "name": "web",
        "flavorRef": "s6.small.1",
        "imageRef": BASE_IMAGE,
        "availability_zone": "cn-north-4a",
        "networks": "auto",
    }
    if admin_pass:
        server["adminPass"] = admin_pass
    headers = {"X-Auth-Token": token}
    first = client.post(f"/v2.1/{PROJECT_ID}/servers", json={"server": server}, headers=headers)
    assert first.status_code == 202, first.get_data(as_text=True)
    second = client.post(
        f"/v2.1/{PROJECT_ID}/servers", json={"server": dict(server, name="b")}, headers=headers
    )
    volume = client.post(
        f"/volume/v3/{PROJECT_ID}/volumes", json={"volume": {"size": 1}}, headers=headers
    )
    return (
        first.get_json()["server"],
        second.get_json()["server"]["id"],
        volume.get_json()["volume"]["id"],
    )


def test_ids_after_a_create_do_not_depend_on_admin_pass():
    sent, *later_sent = _ids_after_create("s3cret-pass")
    generated, *later_generated = _ids_after_create(None)
    assert sent["adminPass"] == "s3cret-pass"
    assert len(generated["adminPass"]) == 12 and generated["adminPass"] != "s3cret-pass"
    assert sent["id"] == generated["id"]
    assert later_sent == later_generated


def test_token_subject_is_a_copy():
    cloud = fresh()
    token_id, _ = cloud.issue_token(
        user={"name": "fakeecs", "domain_name": "Default"}, password="fakeecs"
    )
    subject = token_subject(cloud, token_id)
    assert subject["live"] and subject["user"]["name"] == "fakeecs"
    assert subject["project"]["id"] == PROJECT_ID
    subject["roles"].append("intruder")
    assert "intruder" not in cloud.tokens[token_id]["roles"]
    assert token_subject(cloud, "fkt-unknown") is None


def test_scenario_state_lists_are_the_models():
    assert scenario.SERVER_VM_STATES == transitions.SEEDABLE_VM_STATES
    assert set(transitions.SEEDABLE_VM_STATES) <= set(transitions.SERVER_TRANSITIONS)
    assert set(transitions.SEEDABLE_IMAGE_STATUSES) <= set(transitions.IMAGE_TRANSITIONS)
    assert set(transitions.SEEDABLE_VOLUME_STATUSES) <= set(transitions.VOLUME_TRANSITIONS)
    assert set(transitions.SEEDABLE_SNAPSHOT_STATUSES) <= set(transitions.SNAPSHOT_TRANSITIONS)
    assert scenario.ORIGIN_KINDS == provenance.IMAGE_KINDS
    assert set(provenance.SERVER_MADE) == set(provenance.IMAGING_ACTIONS)


def test_device_names():
    assert devices.next_device(set(), boot=True) == "/dev/vda"
    assert devices.next_device({"/dev/vda"}, boot=True) == "/dev/vdb"
    assert devices.next_device({"/dev/vdb"}) == "/dev/vdc"
    assert devices.next_device(set(devices.DATA_DEVICES)) is None


def test_a_seeded_server_image_is_a_create_image_image():
    cloud = fresh()
    apply_world(
        cloud,
        {
            "servers": [
                {
                    "name": "src",
                    "flavor": "s6.small.1",
                    "image": BASE_IMAGE,
                    "user": "fakeecs",
                    "availability_zone": "cn-north-4b",
                }
            ]
        },
    )
    server = next(s for s in cloud.servers if s.name == "src")
    ctx = cloud.context_for_user("fakeecs")
    made = cloud.create_server_image(ctx, server.id, "snap")
    cloud.clock.advance(600)
    cloud.list_availability_zones()
    apply_world(
        cloud, {"images": [{"name": "snap", "origin": {"kind": "nova_snapshot", "server": "src"}}]}
    )
    seeded = next(i for i in cloud.images if i.name == "snap" and i.id != made.id)
    assert made.status == seeded.status == "active"
    assert seeded.properties == made.properties
    assert seeded.origin == made.origin
    assert (seeded.min_disk, seeded.min_ram, seeded.virtual_size) == (
        made.min_disk,
        made.min_ram,
        made.virtual_size,
    )
