"""Auto clock flavours: reads that move virtual time (``auto-step``, ``auto-finish``)."""

import json
import os
import subprocess
import sys
import threading

import pytest
import requests
from conftest import BASE_IMAGE, PROJECT_ID
from test_control_cli import serve, stop

from fakeecs import FakeCloud
from fakeecs.handle import RemoteFakeCloud
from fakeecs.model import Invalid
from fakeecs.model.clock import VirtualClock, expand_preset, parse_time
from fakeecs.server import build_cloud
from fakeecs.testing.client import password_auth

START = "2026-01-01T00:00:00Z"


def auto_cloud(flavour, seed=7):
    cloud = build_cloud(["default"], seed=seed, clock=f"auto-{flavour}")
    cloud.set_clock(now=START)
    return cloud


def boot(cloud, context, name="web"):
    return cloud.create_server(context, name=name, flavor_id="s6.small.1", image_id=BASE_IMAGE)


def status(server):
    from fakeecs.model.transitions import server_status

    return server_status(server.vm_state, server.task_state)


# -- the clock and its presets -------------------------------------------------------------


def test_presets_are_frozen_clocks_with_a_flavour():
    assert expand_preset("auto-step") == {"mode": "frozen", "auto": "step"}
    assert expand_preset("auto-finish") == {"mode": "frozen", "auto": "finish"}
    assert expand_preset("realtime") == {"mode": "realtime", "auto": "off"}
    clock = VirtualClock(mode="auto-finish", now=100)
    assert (clock.mode, clock.auto, clock.now()) == ("frozen", "finish", 100.0)
    assert clock.to_dict() == {"mode": "frozen", "speed": 1.0, "now": 100.0, "auto": "finish"}
    assert VirtualClock.from_dict(clock.to_dict()).auto == "finish"
    assert "auto" not in VirtualClock(mode="frozen", now=1).to_dict()
    with pytest.raises(ValueError, match="unknown clock mode 'warp'"):
        expand_preset("warp")
    with pytest.raises(ValueError, match="unknown auto flavour"):
        VirtualClock(mode="frozen", auto="sometimes")


def test_set_clock_takes_and_refuses_auto():
    cloud = build_cloud(["default"], seed=1, clock="frozen")
    assert "auto" not in cloud.get_clock()
    assert cloud.set_clock(auto="step")["auto"] == "step"
    assert "auto" not in cloud.set_clock(auto="off")
    before = cloud.get_clock()
    with pytest.raises(Invalid) as error:
        cloud.set_clock(auto="always")
    assert error.value.message == "auto: Must be one of: off, step, finish."
    assert cloud.get_clock() == before


# -- step: one step per read ---------------------------------------------------------------


def test_step_reads_show_every_state_of_a_build_and_a_snapshot_in_order():
    cloud = auto_cloud("step")
    context = cloud.context_for_user("fakeecs")
    server = boot(cloud, context)
    seen = [status(server)]
    for _ in range(3):
        seen.append(status(cloud.get_server(context, server.id)))
    assert seen == ["BUILD", "BUILD", "ACTIVE", "ACTIVE"]
    assert cloud.get_clock()["now"] == "2026-01-01T00:00:01.000000Z"

    image = cloud.create_server_image(context, server.id, "snap")
    images = [image.status]
    tasks = [cloud.servers.get(server.id).task_state]
    for _ in range(5):
        images.append(cloud.get_image(context, image.id).status)
        tasks.append(cloud.servers.get(server.id).task_state)
    assert images == ["queued", "queued", "queued", "saving", "active", "active"]
    assert tasks == [
        "image_snapshot_pending",
        "image_snapshot",
        "image_pending_upload",
        "image_uploading",
        None,
        None,
    ]
    # each step ran at its own virtual time: 2 s of image_snapshot in four steps
    assert cloud.get_clock()["now"] == "2026-01-01T00:00:03.000000Z"


def test_step_reads_walk_an_ims_job():
    cloud = auto_cloud("finish")
    context = cloud.context_for_user("fakeecs")
    server = boot(cloud, context)
    cloud.get_server(context, server.id)
    cloud.set_clock(auto="step")
    job = cloud.ims_create_image(context, name="ims-img", instance_id=server.id)
    seen = [job.status]
    for _ in range(4):
        seen.append(cloud.get_ims_job(context, job.id).status)
    assert seen == ["INIT", "RUNNING", "RUNNING", "SUCCESS", "SUCCESS"]


def test_step_runs_everything_due_before_in_order():
    cloud = auto_cloud("step")
    context = cloud.context_for_user("fakeecs")
    first = boot(cloud, context, "first")
    cloud.advance_clock(0.25)
    second = boot(cloud, context, "second")
    # reading the second server moves time to its next step (0.75 s); the first one's
    # step (0.5 s) runs before it, at its own time
    cloud.get_server(context, second.id)
    assert cloud.servers.get(first.id).task_state == "spawning"
    assert cloud.servers.get(first.id).updated_at == cloud.servers.get(first.id).created_at + 0.5
    assert cloud.get_clock()["epoch"] == cloud.servers.get(second.id).created_at + 0.5


def test_reads_leave_manual_processes_and_resources_without_work_alone():
    cloud = auto_cloud("finish")
    context = cloud.context_for_user("fakeecs")
    cloud.set_transitions({"server_build": "manual"})
    server = boot(cloud, context)
    before = cloud.get_clock()
    assert cloud.get_server(context, server.id).vm_state == "building"
    assert cloud.get_image(context, BASE_IMAGE).status == "active"
    assert cloud.get_clock() == before


def test_reads_do_not_move_a_clock_without_auto():
    cloud = build_cloud(["default"], seed=1, clock="frozen")
    context = cloud.context_for_user("fakeecs")
    server = boot(cloud, context)
    before = cloud.get_clock()
    assert cloud.get_server(context, server.id).vm_state == "building"
    assert cloud.get_clock() == before


# -- finish: the whole process per read -------------------------------------------------------


def test_finish_read_runs_the_whole_process():
    cloud = auto_cloud("finish")
    context = cloud.context_for_user("fakeecs")
    server = boot(cloud, context)
    assert status(cloud.get_server(context, server.id)) == "ACTIVE"
    assert cloud.get_clock()["now"] == "2026-01-01T00:00:01.000000Z"
    image = cloud.create_server_image(context, server.id, "snap")
    assert cloud.get_image(context, image.id).status == "active"
    assert cloud.servers.get(server.id).task_state is None
    volume = cloud.create_volume(context, size=10, name="data")
    assert cloud.get_volume(context, volume.id).status == "available"
    snapshot = cloud.create_snapshot(context, volume.id, name="s")
    assert cloud.get_snapshot(context, snapshot.id).status == "available"


def test_finish_read_of_an_ims_job():
    cloud = auto_cloud("finish")
    context = cloud.context_for_user("fakeecs")
    server = boot(cloud, context)
    cloud.get_server(context, server.id)
    job = cloud.ims_create_image(context, name="ims-img", instance_id=server.id)
    assert job.status == "INIT"
    done = cloud.get_ims_job(context, job.id)
    assert done.status == "SUCCESS"
    # the build (1 s) then the IMS job (30 s), nothing more
    assert cloud.get_clock()["epoch"] == parse_time(START) + 1 + 30


def test_list_reads_move_the_callers_resources_only():
    cloud = auto_cloud("step")
    cloud.load_scenario("busy-project")
    context = cloud.context_for_user("fakeecs")
    first = boot(cloud, context, "a")
    cloud.advance_clock(0.1)
    second = boot(cloud, context, "b")
    cloud.advance_clock(0.1)
    other = boot(cloud, cloud.context_for_user("other-user"), "theirs")
    # one list read = one step: the soonest among the project's servers (whatever the
    # filter); the other project's server is not read
    cloud.list_servers(context, name="^nothing$")
    assert [cloud.servers.get(s.id).task_state for s in (first, second, other)] == [
        "spawning",
        "scheduling",
        "scheduling",
    ]
    cloud.set_clock(auto="finish")
    found, _ = cloud.list_servers(context, status="ACTIVE")
    assert {first.id, second.id} <= {s.id for s in found}
    # finishing this project's builds did not need the other one's end
    assert cloud.servers.get(other.id).vm_state == "building"
    assert cloud.get_clock()["epoch"] == cloud.servers.get(second.id).created_at + 1.0


def test_same_requests_give_the_same_states_and_timestamps():
    def run():
        cloud = auto_cloud("step", seed=3)
        context = cloud.context_for_user("fakeecs")
        server = boot(cloud, context)
        for _ in range(2):
            cloud.get_server(context, server.id)
        image = cloud.create_server_image(context, server.id, "snap")
        for _ in range(4):
            cloud.get_image(context, image.id)
        state = cloud.export_state()
        made = [i for i in state["stores"]["images"] if i["id"] == image.id]
        return state["clock"], state["stores"]["servers"], made

    assert json.dumps(run(), sort_keys=True) == json.dumps(run(), sort_keys=True)


# -- the auto flavour is state: export, import, reset, scenarios --------------------------------


def test_auto_round_trips_through_export_import_and_reset():
    cloud = auto_cloud("finish")
    cloud.mark_baseline()
    exported = cloud.export_state()
    assert exported["clock"]["auto"] == "finish"
    cloud.set_clock(auto="off")
    cloud.import_state(exported)
    assert cloud.clock.auto == "finish"
    cloud.set_clock(auto="step")
    cloud.reset()
    assert cloud.clock.auto == "finish"
    bad = json.loads(json.dumps(exported))
    bad["clock"]["auto"] = "later"
    with pytest.raises(Invalid, match=r"state.clock.auto: must be one of off, step, finish"):
        cloud.import_state(bad)


def test_a_scenario_sets_the_auto_flavour():
    cloud = build_cloud(["default", {"clock": {"mode": "frozen", "auto": "step"}}], seed=1)
    assert (cloud.clock.mode, cloud.clock.auto) == ("frozen", "step")
    from fakeecs.model import scenario

    with pytest.raises(scenario.ScenarioError, match="auto"):
        scenario.validate({"clock": {"auto": "sometimes"}}, source="<test>")


# -- over HTTP: the control plane, a polling client, the handle, the marker --------------------


def test_control_plane_clock_route_sets_auto(live):
    url = live.url + "/_fakeecs/clock"
    assert requests.put(url, json={"auto": "finish"}, timeout=10).json()["auto"] == "finish"
    assert requests.get(url, timeout=10).json()["auto"] == "finish"
    bad = requests.put(url, json={"auto": "maybe"}, timeout=10)
    assert bad.status_code == 400 and "auto: Must be one of: off, step, finish." in bad.text
    assert "auto" not in requests.put(url, json={"auto": "off"}, timeout=10).json()
    document = requests.get(live.url + "/_fakeecs/openapi.json", timeout=10).json()
    assert document["components"]["schemas"]["ClockBody"]["properties"]["auto"]["enum"] == [
        "off",
        "step",
        "finish",
    ]


def _token(url):
    body = password_auth()
    response = requests.post(url + "/v3/auth/tokens", json=body, timeout=10)
    return response.headers["X-Subject-Token"]


def test_a_polling_client_in_another_thread_sees_every_state_without_waiting():
    with FakeCloud.start(clock="auto-step", seed=2) as fake:
        headers = {"X-Auth-Token": _token(fake.url)}
        compute = f"{fake.url}/v2.1/{PROJECT_ID}"
        seen = {}

        def watch(name, url, pick, done):
            """Poll ``url`` without sleeping; keep each state the first time it shows."""
            states = seen.setdefault(name, [])
            for _ in range(20):
                state = pick(requests.get(url, headers=headers, timeout=10).json())
                if not states or states[-1] != state:
                    states.append(state)
                if state == done:
                    return

        def client():
            created = requests.post(
                compute + "/servers",
                headers=headers,
                timeout=10,
                json={
                    "server": {
                        "name": "poller",
                        "flavorRef": "s6.small.1",
                        "imageRef": BASE_IMAGE,
                        "networks": "auto",
                    }
                },
            ).json()["server"]
            watch(
                "server",
                f"{compute}/servers/{created['id']}",
                lambda body: body["server"]["status"],
                "ACTIVE",
            )
            answer = requests.post(
                f"{compute}/servers/{created['id']}/action",
                headers=headers,
                json={"createImage": {"name": "polled"}},
                timeout=10,
            )
            image_id = answer.headers["Location"].rsplit("/", 1)[-1]
            watch(
                "image",
                f"{fake.url}/image/v2/images/{image_id}",
                lambda body: body["status"],
                "active",
            )

        thread = threading.Thread(target=client)
        thread.start()
        thread.join(30)
        assert not thread.is_alive()
    assert seen == {"server": ["BUILD", "ACTIVE"], "image": ["queued", "saving", "active"]}


def test_handle_and_marker_name_the_flavours():
    with FakeCloud.start(clock="auto-finish", seed=2) as fake:
        assert (fake.clock.mode, fake.clock.auto_flavour) == ("frozen", "finish")
        fake.clock.set(mode="auto-step")
        assert fake.clock.auto_flavour == "step"
        fake.clock.auto("off")
        assert fake.clock.auto_flavour == "off"
        fake.clock.auto("finish")
        remote = RemoteFakeCloud(fake.url)
        assert (remote.clock.mode, remote.clock.auto_flavour) == ("frozen", "finish")
        remote.clock.set(mode="auto-step")
        assert fake.clock.auto_flavour == "step"
        remote.clock.set(mode="realtime")
        assert (fake.clock.mode, fake.clock.auto_flavour) == ("realtime", "off")


@pytest.mark.fakeecs(clock="auto-step")
def test_marker_clock_preset(fakeecs):
    assert (fakeecs.clock.mode, fakeecs.clock.auto_flavour) == ("frozen", "step")


@pytest.mark.fakeecs(clock={"auto": "finish"})
def test_marker_clock_dict(fakeecs):
    assert fakeecs.clock.auto_flavour == "finish"


def test_marker_does_not_leak_into_the_next_test(fakeecs):
    assert fakeecs.clock.auto_flavour == "off"


# -- the openstack CLI against `fakeecs serve --clock auto-finish` ------------------------------


def test_openstack_cli_waits_finish_on_the_first_poll():
    cli = os.path.join(os.path.dirname(sys.executable), "openstack")
    if not os.path.exists(cli):
        pytest.skip("the openstack CLI is not installed (python-openstackclient)")
    process, url = serve("--clock", "auto-finish", "--seed", "3")
    try:
        env = dict(os.environ, **RemoteFakeCloud(url).openstack_env())
        outputs = []
        for command in (
            [
                "server",
                "create",
                "--flavor",
                "s6.small.1",
                "--image",
                BASE_IMAGE,
                "--nic",
                "auto",
                "--wait",
                "auto-web",
            ],
            ["server", "image", "create", "--name", "auto-snap", "--wait", "auto-web"],
        ):
            done = subprocess.run(
                [cli, *command, "-f", "json"], env=env, text=True, capture_output=True, timeout=120
            )
            assert done.returncode == 0, done.stderr
            outputs.append(json.loads(done.stdout))
        server, image = outputs
        assert (server["status"], image["status"]) == ("ACTIVE", "active")
        # each wait ended on its first poll: the first GET already saw the end state
        gets = requests.get(
            url + "/_fakeecs/requests", params={"method": "GET"}, timeout=10
        ).json()["requests"]
        server_polls = [r for r in gets if r["path"].endswith("/servers/" + server["id"])]
        image_polls = [r for r in gets if r["path"].endswith("/images/" + image["id"])]
        assert server_polls[0]["response"]["server"]["status"] == "ACTIVE"
        assert image_polls[0]["response"]["status"] == "active"
    finally:
        stop(process)
