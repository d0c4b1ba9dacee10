"""Unmodified real clients against a live fakeecs: openstacksdk, novaclient, the openstack CLI."""

import pytest
import requests
from conftest import BASE_IMAGE, PROJECT_ID, openstack_cli

from fakeecs.api import create_app
from fakeecs.server import HTTPServer, build_cloud

openstack = pytest.importorskip("openstack")


@pytest.fixture
def realtime():
    """A live server on a running clock with short transitions, as clients poll in real time."""
    cloud = build_cloud(["default"], seed=7)
    cloud.transitions.update(
        server_build=0.2, image_snapshot=0.4, server_action=0.1, server_delete=0.1
    )
    server = HTTPServer(create_app(cloud), "127.0.0.1", 0).start()
    server.cloud = cloud
    yield server
    server.stop()


def connect(url, **extra):
    return openstack.connect(
        auth_url=url + "/v3",
        username="fakeecs",
        password="fakeecs",
        project_name="fakeecs",
        user_domain_name="Default",
        project_domain_name="Default",
        region_name="cn-north-4",
        **extra,
    )


def boot(conn, zone="cn-north-4b"):
    server = conn.compute.create_server(
        name="web-01",
        flavor_id="s6.small.1",
        image_id=BASE_IMAGE,
        networks="auto",
        availability_zone=zone,
    )
    return conn.compute.wait_for_server(server, interval=0.1, wait=30)


def test_openstacksdk_create_server_image_waits_for_active(realtime):
    conn = connect(realtime.url)
    assert [z.name for z in conn.compute.availability_zones()] == [
        "cn-north-4a",
        "cn-north-4b",
        "cn-north-4c",
    ]
    server = boot(conn)
    assert (server.status, server.availability_zone) == ("ACTIVE", "cn-north-4b")
    image = conn.compute.create_server_image(
        server, "snap-1", metadata={"k": "v"}, wait=True, timeout=30
    )
    assert image.status == "active" and image.name == "snap-1"
    assert image.properties["k"] == "v" and image.instance_uuid == server.id
    fetched = conn.get_image(image.id)
    assert fetched.min_disk == 40 and fetched.visibility == "private"
    # the SDK sent 2.45 for the action and read image_id from the body
    conn.close()


def test_openstacksdk_surfaces_conflict_and_not_found(realtime):
    conn = connect(realtime.url)
    server = boot(conn)
    realtime.cloud.transitions["image_snapshot"] = "manual"
    conn.compute.create_server_image(server, "first")
    with pytest.raises(openstack.exceptions.ConflictException) as conflict:
        conn.compute.create_server_image(server, "second")
    assert conflict.value.details == (
        f"Cannot 'createImage' instance {server.id} while it is in "
        "task_state image_snapshot_pending"
    )
    assert conflict.value.request_id.startswith("req-")
    with pytest.raises(openstack.exceptions.NotFoundException) as missing:
        conn.compute.create_server_image("0e3c6bd0-5c2b-4c5e-9d0f-000000000000", "x")
    assert "could not be found" in missing.value.details
    conn.close()


@pytest.fixture
def nova_session(realtime):
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    auth = v3.Password(
        auth_url=realtime.url + "/v3",
        username="fakeecs",
        password="fakeecs",
        project_name="fakeecs",
        user_domain_name="Default",
        project_domain_name="Default",
    )
    return session.Session(auth=auth)


@pytest.mark.parametrize("version", ["2.1", "2.45", "2.60"])
def test_novaclient_create_image_returns_the_image_id(realtime, nova_session, version):
    from novaclient import client

    nova = client.Client(version, session=nova_session, region_name="cn-north-4")
    nics = "auto" if version != "2.1" else None
    server = nova.servers.create(
        "web", BASE_IMAGE, "s6.small.1", nics=nics, availability_zone="cn-north-4a"
    )
    realtime.cloud.clock.advance(1)
    assert nova.servers.get(server.id).status == "ACTIVE"
    assert nova.api_version.get_string() == version
    image_id = nova.servers.create_image(server.id, "snap", {"ImageType": "Gold"})
    assert image_id in realtime.cloud.images
    assert realtime.cloud.images.get(image_id).properties["ImageType"] == "Gold"
    assert [z.zoneName for z in nova.availability_zones.list()] == [
        "cn-north-4a",
        "cn-north-4b",
        "cn-north-4c",
    ]


def test_novaclient_discovers_260_and_gets_406_beyond(realtime, nova_session):
    from novaclient import api_versions, client, exceptions

    nova21 = client.Client("2.1", session=nova_session, region_name="cn-north-4")
    discovered = api_versions.discover_version(nova21, api_versions.APIVersion("2.latest"))
    assert discovered.get_string() == "2.60"
    nova = client.Client("2.90", session=nova_session, region_name="cn-north-4")
    with pytest.raises(exceptions.NotAcceptable) as refused:
        nova.servers.list()
    assert "maximum is 2.60" in str(refused.value)


def test_novaclient_conflict_carries_message_and_request_id(realtime, nova_session):
    from novaclient import client, exceptions

    nova = client.Client("2.1", session=nova_session, region_name="cn-north-4")
    server = nova.servers.create("web", BASE_IMAGE, "s6.small.1")
    realtime.cloud.clock.advance(1)
    realtime.cloud.transitions["image_snapshot"] = "manual"
    nova.servers.create_image(server.id, "a")
    with pytest.raises(exceptions.Conflict) as conflict:
        nova.servers.create_image(server.id, "b")
    assert conflict.value.message.endswith("while it is in task_state image_snapshot_pending")
    assert conflict.value.request_id.startswith("req-")


def test_openstack_cli_server_image_create_and_image_show(realtime, tmp_path):
    run = openstack_cli(realtime.url, tmp_path)
    server = run(
        "server",
        "create",
        "--flavor",
        "s6.small.1",
        "--image",
        BASE_IMAGE,
        "--nic",
        "auto",
        "--availability-zone",
        "cn-north-4c",
        "--wait",
        "cli-web",
    )
    assert server["status"] == "ACTIVE"
    image = run("server", "image", "create", "--name", "cli-snap", "--wait", "cli-web")
    assert image["status"] == "active" and image["name"] == "cli-snap"
    shown = run("image", "show", "cli-snap")
    assert shown["id"] == image["id"] and shown["owner"] == PROJECT_ID


def test_chunked_image_upload_over_http(realtime):
    conn = connect(realtime.url)
    token = conn.auth_token
    headers = {"X-Auth-Token": token}
    image = requests.post(
        realtime.url + "/image/v2/images",
        headers=headers,
        timeout=10,
        json={"name": "up", "disk_format": "raw", "container_format": "bare"},
    ).json()

    def chunks():
        yield b"x" * 70000
        yield b"y" * 30000

    response = requests.put(
        f"{realtime.url}/image/v2/images/{image['id']}/file",
        data=chunks(),
        headers=dict(headers, **{"Content-Type": "application/octet-stream"}),
        timeout=10,
    )
    assert response.status_code == 204
    assert conn.image.get_image(image["id"]).size == 100000
