"""The in-process handle (FakeCloud) and its remote twin (RemoteFakeCloud)."""

import socket
import threading
import time
import warnings

import pytest
import requests
import yaml

from fakeecs import FakeCloud, FakeEcsError, RemoteFakeCloud

PROJECT_ID = "0fae0ec5c0de4e1bb2b3c4d5e6f70819"
UBUNTU = "5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01"


@pytest.fixture(scope="module")
def fake():
    with FakeCloud.start(seed=7) as handle:
        yield handle


@pytest.fixture(autouse=True)
def clean(fake):
    fake.reset()


def login(fake):
    client = fake.client()
    client.login()
    return client


def test_connection_facts(fake):
    assert fake.url.startswith("http://127.0.0.1:") and fake.port > 0
    assert fake.auth_url == fake.url + "/v3"
    assert fake.region == "cn-north-4"
    assert fake.project_id == PROJECT_ID
    assert fake.credentials["username"] == "fakeecs"
    assert fake.credentials["password"] == "fakeecs"
    assert fake.credentials["access_key"] == "FAKEECSAKEXAMPLE0001"
    assert fake.credentials["secret_key"] == "fakeecs-secret-key"


def test_clouds_yaml_and_env_describe_the_same_cloud(fake, tmp_path):
    path = tmp_path / "clouds.yaml"
    text = fake.clouds_yaml("mycloud", path=path)
    assert path.read_text() == text
    cloud = yaml.safe_load(text)["clouds"]["mycloud"]
    assert cloud["auth"]["auth_url"] == fake.auth_url
    assert cloud["auth"]["project_name"] == "fakeecs"
    assert cloud["region_name"] == "cn-north-4"
    env = fake.openstack_env()
    assert env["OS_AUTH_URL"] == fake.auth_url and env["OS_REGION_NAME"] == "cn-north-4"


def test_openstack_connect_kwargs_work_with_openstacksdk(fake, monkeypatch):
    openstack = pytest.importorskip("openstack")
    monkeypatch.setenv("OS_CLOUD", "some-real-cloud-that-must-not-be-used")
    conn = openstack.connect(
        **fake.openstack_connect_kwargs(load_envvars=False, load_yaml_config=False)
    )
    assert {f.name for f in conn.compute.flavors()} >= {"s6.small.1", "s6.large.2"}
    conn.close()
    conn = fake.openstack_connection()  # ignores OS_CLOUD and clouds.yaml by itself
    assert conn.compute.get_server  # a usable proxy
    assert conn.current_project_id == PROJECT_ID
    conn.close()


def test_huawei_sdk_config(fake):
    config = fake.huawei_sdk_config()
    assert config["ak"] == "FAKEECSAKEXAMPLE0001" and config["sk"] == "fakeecs-secret-key"
    assert config["project_id"] == PROJECT_ID and config["region"] == "cn-north-4"
    assert config["endpoint"] == fake.url and config["endpoints"]["ims"] == fake.url
    assert config["env"]["HUAWEICLOUD_SDK_REGION_ECS_CN_NORTH_4"] == fake.url


def test_handle_and_http_share_one_model(fake):
    client = login(fake)
    server = fake.create_server("arranged-in-process")
    found = client.get_server(server.id).json()["server"]
    assert found["name"] == "arranged-in-process" and found["status"] == "ACTIVE"
    response = client.create_server("made-over-http", UBUNTU, "s6.small.1", zone="cn-north-4b")
    assert response.status_code == 202, response.text
    made = fake.server(response.json()["server"]["id"])
    assert made.availability_zone == "cn-north-4b" and made.vm_state == "building"
    fake.clock.advance(5)
    assert client.get_server(made.id).json()["server"]["status"] == "ACTIVE"


def test_reset_forgets_everything_and_repeats_ids(fake):
    first = fake.create_server("one")
    fake.add_fault(match={"action": "createImage"}, status=500)
    assert fake.servers() and fake.faults()
    fake.reset()
    assert fake.servers() == [] and fake.faults() == [] and fake.requests() == []
    again = fake.create_server("one")
    assert again.id == first.id  # seeded ids restart: stable across tests


def test_clock_advance_freeze_realtime(fake):
    fake.set_transition("image_snapshot", 10)
    server = fake.create_server("s")
    image = fake.create_server_image(server.id, "img", settle=False)
    before = fake.clock.now()
    fake.clock.advance(9)
    assert fake.image(image.id).status != "active"
    fake.clock.advance(1)
    assert fake.image(image.id).status == "active"
    assert fake.clock.now() == pytest.approx(before + 10)
    fake.clock.realtime(speed=1000)
    assert fake.clock.mode == "realtime"
    fake.clock.freeze(at="2030-01-01T00:00:00Z")
    assert fake.clock.mode == "frozen" and fake.clock.now() == 1893456000.0


def test_manual_transition_advance_resource_and_force_state(fake):
    fake.set_transitions({"server_build": "manual"})
    server = fake.create_server("slow", settle=False)
    assert fake.describe("server", server.id)["pending"][0]["manual"] is True
    fake.advance_resource("server", server.id, steps="all")
    assert fake.server(server.id).vm_state == "active"
    fake.force_state("server", server.id, "error")
    assert fake.server(server.id).vm_state == "error"
    with pytest.raises(Exception, match=r"can never become|not a server state"):
        fake.force_state("server", server.id, "flying")


def test_fault_added_through_the_handle_reaches_http_clients(fake):
    client = login(fake)
    server = fake.create_server("s")
    rule = fake.add_fault(match={"action": "createImage"}, status=503, times=1)
    response = client.create_image(server.id, "img")
    assert response.status_code == 503
    assert response.json()["serviceUnavailable"]["code"] == 503
    assert response.headers["X-FakeECS-Fault"] == rule["id"]
    assert client.create_image(server.id, "img").status_code == 202  # times=1: used up
    assert fake.faults()[0]["fired"] == 1
    fake.remove_fault(rule["id"])
    assert fake.faults() == []


def test_journal_lists_requests_in_order(fake):
    client = login(fake)
    client.compute("GET", "/servers")
    client.compute("GET", "/servers/nope")
    entries = fake.requests()
    assert [e["method"] for e in entries[-2:]] == ["GET", "GET"]
    assert entries[-1]["status"] == 404 and entries[-1]["path"].endswith("/servers/nope")
    assert fake.requests(status=404) == [entries[-1]]


def test_export_import_and_load_scenario(fake):
    server = fake.create_server("keep-me")
    state = fake.export_state()
    fake.reset()
    assert fake.server(server.id) is None
    fake.import_state(state)
    assert fake.server(server.id).name == "keep-me"
    fake.load_scenario({"availability_zones": ["cn-north-4z"]})
    assert "cn-north-4z" in fake.cloud.availability_zones


def test_virtual_sleep_moves_a_frozen_clock_not_the_wall_clock(fake):
    start_virtual, start_wall = fake.clock.now(), time.monotonic()
    other_thread_slept = []

    def sleeper():
        begin = time.monotonic()
        time.sleep(0.05)
        other_thread_slept.append(time.monotonic() - begin)

    with fake.clock.virtual_sleep():
        time.sleep(3000)
        thread = threading.Thread(target=sleeper)
        thread.start()
        thread.join()
    assert fake.clock.now() == pytest.approx(start_virtual + 3000)
    assert time.monotonic() - start_wall < 30
    assert other_thread_slept[0] >= 0.04  # other threads sleep for real
    assert time.sleep is not None and time.sleep.__module__ == "time"


def test_virtual_sleep_budget_warns_then_sleeps_for_real(fake):
    with fake.clock.virtual_sleep(budget=10):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            time.sleep(10)
        begin = time.monotonic()
        time.sleep(0.02)
        assert time.monotonic() - begin >= 0.015
    assert "virtual seconds" in str(caught[0].message)


def test_busy_port_fails_fast():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        begin = time.monotonic()
        with pytest.raises(OSError):
            FakeCloud.start(port=port)
        assert time.monotonic() - begin < 5


def test_stop_and_context_manager():
    with FakeCloud.start(
        scenario=["default", {"availability_zones": ["cn-north-4x"]}],
        transitions={"image_snapshot": "manual"},
    ) as handle:
        url = handle.url
        assert requests.get(url + "/_fakeecs/health", timeout=5).status_code == 200
        assert "cn-north-4x" in handle.cloud.availability_zones
        handle.reset()  # back to the started world, transitions included
        assert handle.transitions()["image_snapshot"] == "manual"
        assert "cn-north-4x" in handle.cloud.availability_zones
    assert not handle.running
    with pytest.raises(FakeEcsError, match="stopped"):
        handle.url
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_fakeecs/health", timeout=2)


# -- the remote handle ---------------------------------------------------------------------


def test_remote_handle_drives_the_same_control_plane(fake):
    remote = RemoteFakeCloud(fake.url)
    assert remote.has_control_plane
    server = fake.create_server("s")
    assert remote.describe("server", server.id)["state"]["status"] == "ACTIVE"
    remote.force_state("server", server.id, "stopped")
    assert fake.server(server.id).vm_state == "stopped"
    remote.set_transition("image_snapshot", "manual")
    assert fake.transitions()["image_snapshot"] == "manual"
    before = remote.clock.now()
    remote.clock.advance(30)
    assert fake.clock.now() == pytest.approx(before + 30)
    rule = remote.add_fault(match={"method": "GET"}, status=500, times=1)
    assert fake.faults()[0]["id"] == rule["id"]
    remote.clear_faults()
    login(fake).compute("GET", "/servers")
    assert remote.requests()[-1]["path"].endswith("/servers")
    state = remote.export_state()
    remote.reset()
    assert fake.servers() == []
    remote.import_state(state)
    assert fake.server(server.id) is not None
    remote.reset(scenario=["default", {"availability_zones": ["cn-north-4q"]}])
    assert "cn-north-4q" in fake.cloud.availability_zones
    remote.load_scenario({"availability_zones": ["cn-north-4r"]})
    assert "cn-north-4r" in fake.cloud.availability_zones
    remote.seed(3)
    with pytest.raises(FakeEcsError, match="404 no server"):
        remote.advance_resource("server", server.id)


def test_remote_handle_without_control_plane(fake):
    fake.app.config["FAKEECS_CONTROL"]["enabled"] = False
    try:
        remote = RemoteFakeCloud(fake.url)
        assert not remote.has_control_plane
        with pytest.raises(FakeEcsError, match="no fakeecs control plane"):
            remote.reset()
        client = remote.client()
        assert client.compute("GET", "/flavors").status_code == 200  # the cloud still works
    finally:
        fake.app.config["FAKEECS_CONTROL"]["enabled"] = True
    assert not RemoteFakeCloud("http://127.0.0.1:9", timeout=2).has_control_plane


def test_remote_handle_with_admin_token(fake):
    fake.app.config["FAKEECS_CONTROL"]["admin_token"] = "s3cret"
    try:
        with pytest.raises(FakeEcsError, match="admin token"):
            RemoteFakeCloud(fake.url)
        remote = RemoteFakeCloud(fake.url, admin_token="s3cret")
        assert remote.has_control_plane and remote.reset()["status"] == "reset"
    finally:
        fake.app.config["FAKEECS_CONTROL"]["admin_token"] = None
