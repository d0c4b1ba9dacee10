"""Cinder calls of issue 9 through openstacksdk (proxy and cloud layer) and the openstack CLI."""

import pytest
from test_core_clients_e2e import connect, realtime  # noqa: F401  (fixture)
from test_native_attachments_clients import cli, storage  # noqa: F401  (fixtures)

openstack = pytest.importorskip("openstack")


def _available(conn, **spec):
    volume = conn.block_storage.create_volume(**dict({"size": 1}, **spec))
    return conn.block_storage.wait_for_status(volume, "available", interval=0.1, wait=10)


def test_openstacksdk_proxy_update_extend_metadata_cascade(storage):
    conn = connect(storage.url)
    block = conn.block_storage
    volume = _available(conn, name="v1")
    assert block.update_volume(volume, name="v2", description="d").name == "v2"
    block.extend_volume(volume, 3)
    volume = block.wait_for_status(block.get_volume(volume), "available", interval=0.1, wait=10)
    assert block.get_volume(volume).size == 3
    block.set_volume_metadata(volume, a="1", b="2")
    block.delete_volume_metadata(volume, keys=["a"])
    assert block.get_volume(volume).metadata == {"b": "2"}
    snapshot = block.create_snapshot(volume_id=volume.id, name="s1")
    snapshot = block.wait_for_status(snapshot, "available", interval=0.1, wait=10)
    assert block.update_snapshot(snapshot, name="s2").name == "s2"
    block.set_snapshot_metadata(snapshot, k="v")
    assert block.get_snapshot(snapshot).metadata == {"k": "v"}
    block.reset_volume_status(volume, status="error")
    assert block.get_volume(volume).status == "error"
    assert sorted(z.name for z in block.availability_zones()) == [
        "cn-north-4a",
        "cn-north-4b",
        "cn-north-4c",
    ]
    with pytest.raises(openstack.exceptions.BadRequestException):
        block.delete_volume(volume)
    block.delete_volume(volume, cascade=True)
    block.wait_for_delete(volume, interval=0.1, wait=10)
    assert list(block.snapshots()) == []
    conn.close()


def test_openstacksdk_cloud_layer_volumes(storage):
    conn = connect(storage.url)
    volume = conn.create_volume(size=1, name="layer", wait=True, timeout=10)
    assert conn.update_volume(volume.id, name="renamed").name == "renamed"
    assert conn.delete_volume(volume.id, wait=True, timeout=10)
    conn.close()


def test_openstack_cli_volume_create_set_and_snapshot(storage, cli):
    created = cli("volume", "create", "--size", "1", "--property", "a=b", "cli-vol")
    assert created["name"] == "cli-vol"
    cli(
        "volume",
        "set",
        "--name",
        "cli-vol2",
        "--size",
        "2",
        "--description",
        "d",
        "--property",
        "c=d",
        "--image-property",
        "x=y",
        "--bootable",
        "cli-vol",
        output=False,
    )
    shown = cli("volume", "show", "cli-vol2")
    assert (shown["size"], shown["description"], shown["bootable"]) == (2, "d", True)
    assert shown["properties"] == {"a": "b", "c": "d"}
    assert shown["volume_image_metadata"] == {"x": "y"}
    snapshot = cli("volume", "snapshot", "create", "--volume", "cli-vol2", "cli-snap")
    assert snapshot["name"] == "cli-snap"
    zones = cli("availability", "zone", "list", "--volume")
    assert {row["Zone Name"] for row in zones} == {"cn-north-4a", "cn-north-4b", "cn-north-4c"}
