"""Volume attachments through unmodified clients: novaclient, openstacksdk, the openstack CLI."""

import json
import os
import subprocess
import sys

import pytest
from test_core_clients_e2e import connect, nova_session, realtime  # noqa: F401  (fixtures)

openstack = pytest.importorskip("openstack")

#: short Cinder walks for clients that poll in real time
FAST_STORAGE = {
    "volume_create": 0.2,
    "volume_delete": 0.1,
    "snapshot_create": 0.2,
    "snapshot_delete": 0.1,
    "volume_extend": 0.1,
}


@pytest.fixture
def storage(realtime):
    """The realtime server with short storage transitions."""
    realtime.cloud.transitions.update(FAST_STORAGE)
    return realtime


@pytest.fixture
def cli(storage, tmp_path):
    """Run ``openstack ... -f json`` (or without output) against the live server."""
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(f"""clouds:
  fakeecs:
    auth: {{auth_url: {storage.url}/v3, username: fakeecs, password: fakeecs,
           project_name: fakeecs, user_domain_name: Default, project_domain_name: Default}}
    region_name: cn-north-4
    identity_api_version: 3
""")
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(clouds), OS_CLOUD="fakeecs")
    command = os.path.join(os.path.dirname(sys.executable), "openstack")

    def run(*args, output=True):
        extra = ["-f", "json"] if output else []
        result = subprocess.run(
            [command, *args, *extra],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if output else result.stdout

    return run


def _server_and_volume(conn, zone="cn-north-4a"):
    server = conn.compute.create_server(
        name="web",
        flavor_id="s6.small.1",
        image_id="5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01",
        networks="auto",
        availability_zone=zone,
    )
    server = conn.compute.wait_for_server(server, interval=0.1, wait=30)
    volume = conn.block_storage.create_volume(size=1, name="data", availability_zone=zone)
    volume = conn.block_storage.wait_for_status(volume, "available", interval=0.1, wait=30)
    return server, volume


def test_openstacksdk_proxy_and_cloud_layer(storage):
    conn = connect(storage.url)
    server, volume = _server_and_volume(conn)
    attachment = conn.compute.create_volume_attachment(server, volume=volume)
    assert (attachment.volume_id, attachment.device) == (volume.id, "/dev/vdb")
    conn.block_storage.wait_for_status(volume, "in-use", interval=0.1, wait=10)
    assert [a.volume_id for a in conn.compute.volume_attachments(server)] == [volume.id]
    assert conn.compute.get_volume_attachment(server, volume).device == "/dev/vdb"
    conn.compute.delete_volume_attachment(server, volume, ignore_missing=False)
    conn.block_storage.wait_for_status(volume, "available", interval=0.1, wait=10)
    assert list(conn.compute.volume_attachments(server)) == []
    # the cloud layer waits on Cinder's status
    cloud_server = conn.get_server(server.id)
    attached = conn.attach_volume(
        cloud_server, conn.get_volume(volume.id), device="/dev/vdc", timeout=10
    )
    assert attached.device == "/dev/vdc"
    assert conn.get_volume(volume.id).status == "in-use"
    assert conn.get_server(server.id).volumes[0]["id"] == volume.id
    conn.detach_volume(cloud_server, conn.get_volume(volume.id), timeout=10)
    assert conn.get_volume(volume.id).status == "available"
    with pytest.raises(openstack.exceptions.NotFoundException) as missing:
        conn.compute.delete_volume_attachment(server, volume, ignore_missing=False)
    assert missing.value.details == f"Instance {server.id} is not attached to volume {volume.id}"
    conn.close()


def test_novaclient_volume_attachments(storage, nova_session):
    from novaclient import client, exceptions

    conn = connect(storage.url)
    server, volume = _server_and_volume(conn)
    nova = client.Client("2.60", session=nova_session, region_name="cn-north-4")
    created = nova.volumes.create_server_volume(server.id, volume.id)
    assert (created.serverId, created.volumeId, created.device) == (
        server.id,
        volume.id,
        "/dev/vdb",
    )
    assert [v.id for v in nova.volumes.get_server_volumes(server.id)] == [volume.id]
    assert nova.volumes.get_server_volume(server.id, volume.id).device == "/dev/vdb"
    with pytest.raises(exceptions.BadRequest) as twice:
        nova.volumes.create_server_volume(server.id, volume.id)
    assert f"volume {volume.id} already attached" in str(twice.value)
    nova.volumes.delete_server_volume(server.id, volume.id)
    assert nova.volumes.get_server_volumes(server.id) == []
    assert conn.block_storage.get_volume(volume.id).status == "available"
    conn.close()


def test_openstack_cli_server_add_and_remove_volume(storage, cli):
    conn = connect(storage.url)
    server, volume = _server_and_volume(conn)
    cli("server", "add", "volume", server.id, volume.id, output=False)
    shown = conn.block_storage.get_volume(volume.id)
    assert (shown.status, shown.attachments[0]["server_id"]) == ("in-use", server.id)
    listed = cli("server", "volume", "list", server.id)
    assert [(row["Volume ID"], row["Device"]) for row in listed] == [(volume.id, "/dev/vdb")]
    cli("server", "remove", "volume", server.id, volume.id, output=False)
    assert conn.block_storage.get_volume(volume.id).status == "available"
    conn.close()
