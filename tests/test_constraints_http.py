"""The six documented createImage constraints, driven over HTTP with openstacksdk.

Each refusal is checked for its status, its message and that the whole state
(every registered store) is unchanged afterwards.
"""

import json
import warnings

import openstack
import pytest
from conftest import BASE_IMAGE, state
from openstack import exceptions

from fakeecs.model import apply_world, provenance

warnings.filterwarnings("ignore", module="openstack")


@pytest.fixture
def conn(live):
    return openstack.connect(
        auth_url=live.url + "/v3",
        username="fakeecs",
        password="fakeecs",
        project_name="fakeecs",
        user_domain_name="Default",
        project_domain_name="Default",
        region_name="cn-north-4",
    )


def settle(cloud, seconds=5):
    cloud.clock.advance(seconds)
    cloud.list_availability_zones()


def boot(conn, cloud, zone, volume_backed=True, data_disk=False, **extra):
    spec = {"name": "src", "flavor_id": "s6.small.1", "networks": "auto"}
    if zone:
        spec["availability_zone"] = zone
    if volume_backed:
        devices = [
            {
                "source_type": "image",
                "destination_type": "volume",
                "uuid": BASE_IMAGE,
                "boot_index": 0,
                "volume_size": 40,
                "delete_on_termination": True,
            }
        ]
        if data_disk:
            devices.append(
                {
                    "source_type": "blank",
                    "destination_type": "volume",
                    "volume_size": 5,
                    "delete_on_termination": True,
                }
            )
        spec["block_device_mapping"] = devices
    else:
        spec["image_id"] = BASE_IMAGE
    spec.update(extra)
    server = conn.compute.create_server(**spec)
    settle(cloud)
    return conn.compute.get_server(server.id)


def make_image(conn, cloud, server, name="snap"):
    image = conn.compute.create_server_image(server, name, wait=False)
    settle(cloud)  # snapshots (or the upload) finish
    return conn.image.get_image(image.id)


def refused(cloud, error_type, call):
    """Run ``call``; it must raise ``error_type`` and change nothing. Returns the error."""
    before = state(cloud)
    with pytest.raises(error_type) as caught:
        call()
    assert state(cloud) == before
    return caught.value


def zone_message(image, server_id, source, requested):
    return (
        f"Image {image.id} was created from ECS {server_id} in availability zone {source}; "
        f"a server created from it must be in {source}, not {requested}."
    )


def data_disk_message(image):
    return (
        f"Image {image.id} is an image created from an ECS with the createImage action and "
        "cannot be used to create data disks."
    )


# -- 1. a server in error cannot be imaged -------------------------------------------------


@pytest.mark.parametrize("volume_backed", [True, False])
def test_1_forced_error_server_cannot_be_imaged(conn, cloud, volume_backed):
    server = boot(conn, cloud, "cn-north-4a", volume_backed=volume_backed)
    cloud.force_server_error(server.id, "the host lost power")
    shown = conn.compute.get_server(server.id)
    assert shown.status == "ERROR" and shown.fault["message"] == "the host lost power"
    error = refused(
        cloud,
        exceptions.ConflictException,
        lambda: conn.compute.create_server_image(server, "never", wait=False),
    )
    assert error.status_code == 409
    assert (
        error.details == f"Cannot 'createImage' instance {server.id} while it is in vm_state error"
    )


def test_1_failed_build_from_a_flagged_flavor_cannot_be_imaged(conn, cloud):
    cloud.add_flavor(
        id="s6.doomed",
        name="s6.doomed",
        vcpus=1,
        ram=1024,
        extra_specs={"fakeecs:fail_build": "No valid host was found. Rack offline."},
    )
    server = boot(conn, cloud, "cn-north-4b", flavor_id="s6.doomed")
    assert server.status == "ERROR"
    assert server.fault["message"] == "No valid host was found. Rack offline."
    with pytest.raises(exceptions.ResourceFailure):
        conn.compute.wait_for_server(server, wait=1, interval=0.01)
    error = refused(
        cloud,
        exceptions.ConflictException,
        lambda: conn.compute.create_server_image(server, "never", wait=False),
    )
    assert error.status_code == 409
    assert (
        error.details == f"Cannot 'createImage' instance {server.id} while it is in vm_state error"
    )


def test_1_boot_volume_that_cannot_be_made_fails_the_build(conn, cloud):
    apply_world(
        cloud,
        {
            "images": [
                {
                    "id": "0badc0de-0000-4000-8000-000000000002",
                    "name": "bad-disk",
                    "min_disk": 1,
                    "properties": {"fakeecs:fail_volume": "true"},
                }
            ]
        },
    )
    server = conn.compute.create_server(
        name="x",
        flavor_id="s6.small.1",
        networks="auto",
        block_device_mapping=[
            {
                "source_type": "image",
                "destination_type": "volume",
                "uuid": "0badc0de-0000-4000-8000-000000000002",
                "boot_index": 0,
                "volume_size": 5,
            }
        ],
    )
    settle(cloud)
    server = conn.compute.get_server(server.id)
    assert server.status == "ERROR"
    assert "did not finish being created" in server.fault["message"]
    volume = conn.block_storage.get_volume(server.attached_volumes[0]["id"])
    assert volume.status == "error"
    error = refused(
        cloud,
        exceptions.ConflictException,
        lambda: conn.compute.create_server_image(server, "never", wait=False),
    )
    assert (
        error.details == f"Cannot 'createImage' instance {server.id} while it is in vm_state error"
    )


# -- 2. a server from an ECS image stays in the source AZ -------------------------------------


@pytest.mark.parametrize("volume_backed", [True, False])
def test_2_other_zone_is_refused_by_image_ref(conn, cloud, volume_backed):
    source = boot(conn, cloud, "cn-north-4b", volume_backed=volume_backed, data_disk=True)
    image = make_image(conn, cloud, source)
    error = refused(
        cloud,
        exceptions.BadRequestException,
        lambda: conn.compute.create_server(
            name="elsewhere",
            flavor_id="s6.small.1",
            networks="auto",
            image_id=image.id,
            availability_zone="cn-north-4c",
        ),
    )
    assert error.status_code == 400
    assert error.details == zone_message(image, source.id, "cn-north-4b", "cn-north-4c")
    # no AZ given: the source AZ is used
    server = conn.compute.create_server(
        name="same", flavor_id="s6.small.1", networks="auto", image_id=image.id
    )
    settle(cloud)
    server = conn.compute.get_server(server.id)
    assert server.status == "ACTIVE" and server.availability_zone == "cn-north-4b"
    if volume_backed:
        volumes = [conn.block_storage.get_volume(v["id"]) for v in server.attached_volumes]
        assert len(volumes) == 2 and {v.availability_zone for v in volumes} == {"cn-north-4b"}
        mapping = json.loads(image.properties["block_device_mapping"])
        assert [v.snapshot_id for v in volumes] == [m["snapshot_id"] for m in mapping]


@pytest.mark.parametrize("volume_backed", [True, False])
def test_2_other_zone_is_refused_through_block_device_mapping(conn, cloud, volume_backed):
    source = boot(conn, cloud, "cn-north-4a", volume_backed=volume_backed)
    image = make_image(conn, cloud, source)
    devices = [
        {
            "source_type": "image",
            "destination_type": "volume",
            "uuid": image.id,
            "boot_index": 0,
            "volume_size": 40,
        }
    ]
    error = refused(
        cloud,
        exceptions.BadRequestException,
        lambda: conn.compute.create_server(
            name="elsewhere",
            flavor_id="s6.small.1",
            networks="auto",
            availability_zone="cn-north-4b",
            block_device_mapping=devices,
        ),
    )
    assert error.status_code == 400
    assert error.details == zone_message(image, source.id, "cn-north-4a", "cn-north-4b")
    server = conn.compute.create_server(
        name="same",
        flavor_id="s6.small.1",
        networks="auto",
        availability_zone="cn-north-4a",
        block_device_mapping=devices,
    )
    settle(cloud)
    server = conn.compute.get_server(server.id)
    assert server.status == "ACTIVE" and server.availability_zone == "cn-north-4a"
    volume = conn.block_storage.get_volume(server.attached_volumes[0]["id"])
    assert volume.availability_zone == "cn-north-4a"


# -- 3. deleting the server keeps its images and snapshots --------------------------------------


def test_3_server_deletion_keeps_images_and_snapshots(conn, cloud):
    vb = boot(conn, cloud, "cn-north-4c", volume_backed=True, data_disk=True)
    ib = boot(conn, cloud, "cn-north-4c", volume_backed=False)
    vb_image, ib_image = make_image(conn, cloud, vb, "vb"), make_image(conn, cloud, ib, "ib")
    snapshot_ids = sorted(s.id for s in conn.block_storage.snapshots())
    assert len(snapshot_ids) == 2
    conn.compute.delete_server(vb)
    conn.compute.delete_server(ib)
    settle(cloud)
    assert conn.compute.find_server(vb.id) is None and conn.compute.find_server(ib.id) is None
    images = {image.id: image for image in conn.image.images()}
    assert vb_image.id in images and ib_image.id in images
    assert images[ib_image.id].instance_uuid == ib.id
    assert (
        cloud.get_image(cloud.context_for_user("fakeecs"), vb_image.id).origin["server_id"] == vb.id
    )
    snapshots = list(conn.block_storage.snapshots())
    assert sorted(s.id for s in snapshots) == snapshot_ids
    assert {s.status for s in snapshots} == {"available"}
    # the deleted server's images are still usable, in their zone
    for image in (vb_image, ib_image):
        server = conn.compute.create_server(
            name="again", flavor_id="s6.small.1", networks="auto", image_id=image.id
        )
        settle(cloud)
        server = conn.compute.get_server(server.id)
        assert server.status == "ACTIVE" and server.availability_zone == "cn-north-4c"


# -- 4. deleting the image keeps its snapshots --------------------------------------------------


def test_4_image_deletion_keeps_its_snapshots_until_deleted_explicitly(conn, cloud):
    server = boot(conn, cloud, "cn-north-4a", data_disk=True)
    image = make_image(conn, cloud, server)
    mapped = sorted(m["snapshot_id"] for m in json.loads(image.properties["block_device_mapping"]))
    before = state(cloud)
    conn.image.delete_image(image)
    after = state(cloud)
    assert conn.image.find_image(image.id) is None
    assert after["snapshots"] == before["snapshots"] and after["volumes"] == before["volumes"]
    snapshots = list(conn.block_storage.snapshots())
    assert sorted(s.id for s in snapshots) == mapped
    assert {s.status for s in snapshots} == {"available"}
    for snapshot in snapshots:
        conn.block_storage.delete_snapshot(snapshot)
    settle(cloud)
    assert list(conn.block_storage.snapshots()) == []


def test_4_deleting_a_mapped_snapshot_leaves_an_image_that_cannot_boot(conn, cloud):
    server = boot(conn, cloud, "cn-north-4b")
    image = make_image(conn, cloud, server)
    (mapping,) = json.loads(image.properties["block_device_mapping"])
    conn.block_storage.delete_snapshot(mapping["snapshot_id"])
    settle(cloud)
    assert conn.image.get_image(image.id).status == "active"
    error = refused(
        cloud,
        exceptions.BadRequestException,
        lambda: conn.compute.create_server(
            name="orphan", flavor_id="s6.small.1", networks="auto", image_id=image.id
        ),
    )
    assert error.status_code == 400
    assert error.details == (
        f"Image {image.id} cannot be used to create a server: its block device mapping refers "
        f"to snapshot {mapping['snapshot_id']}, which could not be found (it was deleted)."
    )


# -- 5. an ECS image cannot become a data disk ----------------------------------------------------


@pytest.mark.parametrize("volume_backed", [True, False])
def test_5_volume_from_an_ecs_image_is_refused(conn, cloud, volume_backed):
    source = boot(conn, cloud, "cn-north-4a", volume_backed=volume_backed)
    image = make_image(conn, cloud, source)
    assert image.status == "active"
    error = refused(
        cloud,
        exceptions.BadRequestException,
        lambda: conn.block_storage.create_volume(
            size=40, image_id=image.id, availability_zone="cn-north-4a", name="data"
        ),
    )
    assert error.status_code == 400
    assert error.details == data_disk_message(image)


@pytest.mark.parametrize("volume_backed", [True, False])
def test_5_data_disk_mapping_from_an_ecs_image_is_refused(conn, cloud, volume_backed):
    source = boot(conn, cloud, "cn-north-4a", volume_backed=volume_backed)
    image = make_image(conn, cloud, source)
    devices = [
        {
            "source_type": "image",
            "destination_type": "volume",
            "uuid": BASE_IMAGE,
            "boot_index": 0,
            "volume_size": 40,
        },
        {
            "source_type": "image",
            "destination_type": "volume",
            "uuid": image.id,
            "boot_index": -1,
            "volume_size": 40,
        },
    ]
    error = refused(
        cloud,
        exceptions.BadRequestException,
        lambda: conn.compute.create_server(
            name="data",
            flavor_id="s6.small.1",
            networks="auto",
            availability_zone="cn-north-4a",
            block_device_mapping=devices,
        ),
    )
    assert error.status_code == 400
    assert error.details == data_disk_message(image)


def test_5_the_data_disk_path_is_the_snapshot(conn, cloud):
    source = boot(conn, cloud, "cn-north-4c")
    image = make_image(conn, cloud, source)
    (mapping,) = json.loads(image.properties["block_device_mapping"])
    volume = conn.block_storage.create_volume(
        name="data-from-snap", snapshot_id=mapping["snapshot_id"]
    )
    assert volume.availability_zone == "cn-north-4c" and volume.size == 40
    settle(cloud)
    assert conn.block_storage.get_volume(volume.id).status == "available"


# -- 6. the provenance record makes the export rule decidable -----------------------------------


@pytest.mark.parametrize("volume_backed", [True, False])
def test_6_provenance_marks_ecs_images_as_not_exportable(conn, cloud, volume_backed):
    source = boot(conn, cloud, "cn-north-4b", volume_backed=volume_backed)
    image = make_image(conn, cloud, source)
    record = cloud.get_image(cloud.context_for_user("fakeecs"), image.id)
    assert record.origin["kind"] == "nova_snapshot"
    assert record.origin["server_id"] == source.id
    assert record.origin["availability_zone"] == "cn-north-4b"
    assert record.origin["volume_backed"] is volume_backed
    assert provenance.kind(record) not in provenance.EXPORTABLE
    base = cloud.get_image(cloud.context_for_user("fakeecs"), BASE_IMAGE)
    assert provenance.kind(base) in provenance.EXPORTABLE
