"""The control plane end to end: a real HTTP server, openstacksdk and requests."""

import pytest
import requests
from conftest import BASE_IMAGE

openstack = pytest.importorskip("openstack")


def connect(url):
    return openstack.connect(
        auth_url=url + "/v3",
        username="fakeecs",
        password="fakeecs",
        project_name="fakeecs",
        user_domain_name="Default",
        project_domain_name="Default",
        region_name="cn-north-4",
    )


class Control:
    def __init__(self, url):
        self.base = url + "/_fakeecs"
        self.http = requests.Session()

    def __call__(self, method, path, body=None, status=200, **kwargs):
        response = self.http.request(method, self.base + path, json=body, timeout=10, **kwargs)
        assert response.status_code == status, response.text
        return response.json()


@pytest.fixture
def control(live):
    session = Control(live.url)
    yield session
    session.http.close()


@pytest.fixture
def conn(live):
    connection = connect(live.url)
    yield connection
    connection.close()


def boot(conn, control):
    server = conn.compute.create_server(
        name="web-01",
        flavor_id="s6.small.1",
        image_id=BASE_IMAGE,
        networks="auto",
        availability_zone="cn-north-4a",
    )
    control("POST", "/clock/advance", {"seconds": 5})
    return conn.compute.get_server(server.id)


def test_frozen_clock_create_image_saving_conflict_then_active(conn, control):
    assert control("PUT", "/clock", {"mode": "frozen"})["mode"] == "frozen"
    server = boot(conn, control)
    assert server.status == "ACTIVE"
    image = conn.compute.create_server_image(server, "snap-1", wait=False)
    # three of the snapshot's four steps (2 s in all): the upload has started
    control("POST", "/clock/advance", {"seconds": 1.5})
    assert conn.image.get_image(image.id).status == "saving"
    assert conn.compute.get_server(server.id).task_state == "image_uploading"
    with pytest.raises(openstack.exceptions.ConflictException) as conflict:
        conn.compute.create_server_image(server, "snap-2", wait=False)
    assert conflict.value.status_code == 409
    assert "task_state image_uploading" in conflict.value.details
    control("POST", "/clock/advance", {"seconds": 30})
    assert conn.image.get_image(image.id).status == "active"
    assert conn.compute.get_server(server.id).task_state is None


def test_fault_rule_fails_exactly_the_second_create_image(conn, control):
    rule = control(
        "POST",
        "/faults",
        {
            "match": {
                "method": "POST",
                "path": "/v2.1/*/servers/*/action",
                "action": "createImage",
            },
            "status": 500,
            "skip": 1,
            "times": 1,
            "latency_ms": 0,
            "probability": 1.0,
            "side_effect": False,
        },
        status=201,
    )
    server = boot(conn, control)
    outcomes = []
    for index in range(3):
        try:
            conn.compute.create_server_image(server, f"snap-{index}", wait=False)
            outcomes.append("ok")
        except openstack.exceptions.HttpException as error:
            outcomes.append(error.status_code)
        control("POST", "/clock/advance", {"seconds": 5})
    assert outcomes == ["ok", 500, "ok"]
    names = sorted(i.name for i in conn.image.images(visibility="private"))
    assert names == ["snap-0", "snap-2"]
    journal = control(
        "GET", "/requests", params={"method": "POST", "path": "/v2.1/*/servers/*/action"}
    )
    assert [(e["status"], e["fault"]) for e in journal["requests"]] == [
        (202, None),
        (500, rule["id"]),
        (202, None),
    ]


def test_fault_with_side_effect_the_image_exists_behind_the_error(conn, control):
    control(
        "POST",
        "/faults",
        {"match": {"action": "createImage"}, "status": 500, "side_effect": True, "times": 1},
        status=201,
    )
    server = boot(conn, control)
    with pytest.raises(openstack.exceptions.HttpException) as error:
        conn.compute.create_server_image(server, "ghost", wait=False)
    assert error.value.status_code == 500
    control("POST", "/clock/advance", {"seconds": 5})
    assert [i.name for i in conn.image.images(visibility="private")] == ["ghost"]


def test_export_mutate_import_compare(conn, control):
    server = boot(conn, control)
    exported = control("GET", "/state")
    conn.compute.create_server_image(server, "later", wait=False)
    control(
        "POST",
        f"/resources/server/{server.id}/state",
        {"vm_state": "error", "fault": "disk failure"},
    )
    assert control("GET", "/state") != exported
    assert control("PUT", "/state", exported) == {"status": "imported"}
    assert control("GET", "/state") == exported
    again = conn.compute.get_server(server.id)
    assert again.status == "ACTIVE" and list(conn.image.images(visibility="private")) == []


def test_latency_on_a_frozen_clock_is_virtual(conn, control):
    """A 10-minute latency costs no wall time: the frozen clock pays it."""
    before = control("GET", "/clock")["epoch"]
    control(
        "POST",
        "/faults",
        {"match": {"path": "/v2.1/*/flavors/**"}, "status": None, "latency_ms": 600000, "times": 1},
        status=201,
    )
    assert next(f.id for f in conn.compute.flavors()) == "s6.small.1"
    assert control("GET", "/clock")["epoch"] == pytest.approx(before + 600)


def test_reset_between_tests_keeps_the_connection_usable(conn, control):
    boot(conn, control)
    control("POST", "/reset")
    assert list(conn.compute.servers()) == []
    assert control("GET", "/health")["status"] == "ok"
