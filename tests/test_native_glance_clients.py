"""Glance download and tags through openstacksdk (proxy and cloud layer) and the openstack CLI."""

import hashlib

import pytest
from test_core_clients_e2e import connect, realtime  # noqa: F401  (fixture)
from test_native_attachments_clients import cli, storage  # noqa: F401  (fixtures)

openstack = pytest.importorskip("openstack")
BASE_IMAGE = "5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01"


def _snapshot(conn):
    server = conn.compute.create_server(
        name="web",
        flavor_id="s6.small.1",
        image_id=BASE_IMAGE,
        networks="auto",
        availability_zone="cn-north-4a",
    )
    server = conn.compute.wait_for_server(server, interval=0.1, wait=30)
    return conn.compute.create_server_image(server, "snap", wait=True, timeout=30)


def test_openstacksdk_downloads_a_snapshot_and_checks_its_md5(storage, tmp_path):
    conn = connect(storage.url)
    image = conn.image.get_image(_snapshot(conn).id)
    response = conn.image.download_image(image)
    data = response.content
    assert len(data) == image.size and hashlib.md5(data).hexdigest() == image.checksum
    assert hashlib.sha512(data).hexdigest() == image.hash_value
    streamed = conn.image.download_image(image, stream=True)
    assert b"".join(streamed.iter_content(4096)) == data
    target = tmp_path / "snap.img"
    conn.download_image(image.id, output_path=str(target))
    assert target.read_bytes() == data
    conn.close()


def test_openstacksdk_uploads_then_downloads_and_tags(storage):
    conn = connect(storage.url)
    image = conn.image.create_image(
        name="up", data=b"hello fakeecs", disk_format="raw", container_format="bare"
    )
    assert conn.image.download_image(image).content == b"hello fakeecs"
    conn.image.add_tag(image, "gold")
    conn.image.add_tag(image, "blue")
    assert sorted(conn.image.get_image(image).tags) == ["blue", "gold"]
    conn.image.remove_tag(image, "gold")
    assert conn.image.get_image(image).tags == ["blue"]
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.image.remove_tag(image, "gold")
    conn.close()


def test_openstack_cli_image_save_and_tags(storage, cli, tmp_path):
    conn = connect(storage.url)
    image = conn.image.create_image(
        name="cli-up", data=b"\x00\x01bytes", disk_format="raw", container_format="bare"
    )
    target = tmp_path / "saved.img"
    cli("image", "save", "--file", str(target), image.id, output=False)
    assert target.read_bytes() == b"\x00\x01bytes"
    cli("image", "set", "--tag", "one", "--tag", "two", image.id, output=False)
    assert sorted(conn.image.get_image(image.id).tags) == ["one", "two"]
    cli("image", "unset", "--tag", "one", image.id, output=False)
    assert cli("image", "show", image.id)["tags"] == ["two"]
    conn.close()
