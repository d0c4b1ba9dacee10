"""Issue 9 (Nova part) through unmodified clients: openstacksdk (proxy and cloud layer),
python-novaclient and the openstack CLI against a live fakeecs."""

import pytest
from conftest import BASE_IMAGE, openstack_cli

from fakeecs.api import create_app
from fakeecs.server import HTTPServer, build_cloud

openstack = pytest.importorskip("openstack")


@pytest.fixture(scope="module")
def live():
    """One live cloud for the module, on a running clock with short transitions."""
    cloud = build_cloud(["default"], seed=9)
    cloud.transitions.update(
        server_build=0.2, server_action=0.1, server_delete=0.1, image_snapshot=0.4
    )
    cloud.flavors["s6.large.2"].extra_specs.update({"cond:operation:status": "normal"})
    server = HTTPServer(create_app(cloud), "127.0.0.1", 0).start()
    server.cloud = cloud
    yield server
    server.stop()


@pytest.fixture(scope="module")
def conn(live):
    connection = openstack.connect(
        auth_url=live.url + "/v3",
        username="fakeecs",
        password="fakeecs",
        project_name="fakeecs",
        user_domain_name="Default",
        project_domain_name="Default",
        region_name="cn-north-4",
        compute_api_version="2.60",
    )
    yield connection
    connection.close()


def boot(conn, name, **extra):
    server = conn.compute.create_server(
        name=name, flavor_id="s6.small.1", image_id=BASE_IMAGE, networks="auto", **extra
    )
    return conn.compute.wait_for_server(server, interval=0.1, wait=30)


def test_sdk_proxy_update_metadata_tags_ips(conn):
    server = boot(conn, "sdk-1")
    updated = conn.compute.update_server(server, name="sdk-renamed", description="about")
    assert (updated.name, updated.description) == ("sdk-renamed", "about")
    conn.compute.set_server_metadata(server, a="1", b="2")
    conn.compute.delete_server_metadata(server, ["a"])
    assert conn.compute.fetch_server_metadata(server).metadata == {"b": "2"}
    conn.compute.add_tag_to_server(server, "blue")
    fetched = conn.compute.get_server(server)
    assert fetched.tags == ["blue"]
    fetched.set_tags(conn.compute, ["x", "y"])
    conn.compute.remove_tag_from_server(server, "x")
    assert conn.compute.get_server(server).tags == ["y"]
    assert [s.id for s in conn.compute.servers(tags="y")] == [server.id]
    ips = list(conn.compute.server_ips(server))
    assert [(ip.network_label, ip.version) for ip in ips] == [("fakeecs-net", 4)]
    conn.compute.remove_tags_from_server(server)
    assert conn.compute.get_server(server).tags == []
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, interval=0.1, wait=30)


def test_sdk_cloud_layer_update_metadata_flavor(conn):
    server = boot(conn, "cloud-1")
    conn.update_server(server.id, name="cloud-renamed")
    conn.set_server_metadata(server.id, {"k": "v", "other": "x"})
    conn.delete_server_metadata(server.id, ["other"])
    shown = conn.get_server(server.id)
    assert (shown.name, shown.metadata) == ("cloud-renamed", {"k": "v"})
    flavor = conn.get_flavor("s6.large.2", get_extra=True)
    assert flavor.extra_specs == {"cond:operation:status": "normal"}
    assert conn.compute.fetch_flavor_extra_specs("s6.large.2").extra_specs == {
        "cond:operation:status": "normal"
    }
    conn.delete_server(server.id, wait=True, timeout=30)
    deleted = conn.list_servers(filters={"deleted": True}, all_projects=True)
    assert server.id in [s.id for s in deleted]


def test_sdk_create_with_user_data_and_config_drive(conn):
    server = boot(conn, "ud-1", user_data="IyEvYmluL3NoCg==", config_drive=True, tags=["t1"])
    shown = conn.compute.get_server(server)
    assert (shown.user_data, shown.has_config_drive, shown.tags) == (
        "IyEvYmluL3NoCg==",
        "True",
        ["t1"],
    )
    conn.compute.delete_server(server)


@pytest.fixture(scope="module")
def nova(live):
    from keystoneauth1 import session
    from keystoneauth1.identity import v3
    from novaclient import client

    auth = v3.Password(
        auth_url=live.url + "/v3",
        username="fakeecs",
        password="fakeecs",
        project_name="fakeecs",
        user_domain_name="Default",
        project_domain_name="Default",
    )
    return client.Client("2.60", session=session.Session(auth=auth), region_name="cn-north-4")


def test_novaclient_update_meta_tags_ips_flavor_keys(nova, live):
    from novaclient import exceptions

    server = nova.servers.create("nc-1", BASE_IMAGE, "s6.small.1", nics="auto")
    live.cloud.clock.advance(1)
    nova.servers.update(server, name="nc-renamed", description="d")
    nova.servers.set_meta(server, {"a": "1"})
    nova.servers.set_meta_item(server, "b", "2")
    nova.servers.delete_meta(server, ["a"])
    fetched = nova.servers.get(server.id)
    assert (fetched.name, fetched.description, fetched.metadata) == ("nc-renamed", "d", {"b": "2"})
    nova.servers.add_tag(server, "red")
    nova.servers.set_tags(server, ["red", "green"])
    nova.servers.delete_tag(server, "red")
    assert nova.servers.tag_list(server) == ["green"]
    assert nova.servers.ips(server)["fakeecs-net"][0]["version"] == 4
    assert nova.flavors.get("s6.large.2").get_keys() == {"cond:operation:status": "normal"}
    with pytest.raises(exceptions.NotFound) as missing:
        nova.servers.delete_tag(server, "nope")
    assert missing.value.message == f"Instance {server.id} has no tag 'nope'"
    nova.servers.delete(server)


def test_novaclient_changes_since_and_deleted(nova, live):
    server = nova.servers.create("nc-gone", BASE_IMAGE, "s6.small.1", nics="auto")
    live.cloud.clock.advance(1)
    since = nova.servers.get(server.id).updated
    nova.servers.delete(server)
    live.cloud.clock.advance(1)
    recent = nova.servers.list(search_opts={"changes-since": since})
    assert {s.id: s.status for s in recent}[server.id] == "DELETED"
    assert server.id in [s.id for s in nova.servers.list(search_opts={"deleted": True})]
    assert server.id not in [s.id for s in nova.servers.list()]


def test_openstack_cli_server_set_unset_show_and_flavor_show(live, tmp_path):
    run = openstack_cli(live.url, tmp_path)
    flavor = run("flavor", "show", "s6.large.2")
    assert flavor["name"] == "s6.large.2" and flavor["properties"] == {
        "cond:operation:status": "normal"
    }
    server = run(
        "server",
        "create",
        "--flavor",
        "s6.small.1",
        "--image",
        BASE_IMAGE,
        "--nic",
        "auto",
        "--wait",
        "cli-set",
    )
    run(
        "server",
        "set",
        "--property",
        "a=b",
        "--property",
        "c=d",
        "--name",
        "cli-renamed",
        "--os-compute-api-version",
        "2.26",
        "--tag",
        "blue",
        "cli-set",
        parse=False,
    )
    run("server", "unset", "--property", "a", "cli-renamed", parse=False)
    shown = run("server", "show", "cli-renamed")
    assert shown["properties"] == {"c": "d"} and shown["id"] == server["id"]
    assert (
        run("server", "list", "--os-compute-api-version", "2.26", "--tags", "blue")[0]["ID"]
        == server["id"]
    )
    run("server", "delete", "--wait", "cli-renamed", parse=False)
    deleted = run("server", "list", "--deleted")
    assert server["id"] in [row["ID"] for row in deleted]
