"""The control plane's Python API on the model (no HTTP)."""

import json

import pytest
from conftest import BASE_IMAGE, PROJECT_ID

from fakeecs.model import Conflict, Invalid, NotFound
from fakeecs.model.faults import RequestInfo, glob_regex
from fakeecs.model.journal import Journal
from fakeecs.server import build_cloud


def boot(cloud, name="web-01", zone="cn-north-4a", settle=True):
    context = cloud.context_for_user("fakeecs")
    server = cloud.create_server(
        context, name=name, flavor_id="s6.small.1", image_id=BASE_IMAGE, availability_zone=zone
    )
    if settle:
        cloud.advance_clock(5)
    return server


def snapshot(cloud, server, name="snap"):
    return cloud.create_server_image(cloud.context_for_user("fakeecs"), server.id, name)


# -- reset ------------------------------------------------------------------------------


def test_reset_returns_to_the_start_with_the_same_ids_and_times(cloud):
    start = cloud.export_state()
    first = boot(cloud)
    snapshot(cloud, first)
    cloud.set_transitions({"server_build": "manual"})
    cloud.advance_clock(100)
    assert cloud.export_state() != start
    assert cloud.reset() == {"status": "reset", "scenarios": ["(start)"]}
    assert cloud.export_state() == start
    # a fresh start gives the same ids again: tests are reproducible one by one
    assert boot(cloud).id == first.id


def test_reset_clears_faults_and_the_journal_but_keeps_valid_tokens(cloud):
    token, _ = cloud.issue_token(
        user={"name": "fakeecs", "domain_name": "Default"},
        password="fakeecs",
        scope={"name": "fakeecs", "domain_name": "Default"},
    )
    cloud.add_fault({"status": 500})
    cloud.journal.record({"method": "GET", "path": "/x"})
    cloud.reset()
    assert cloud.faults == [] and len(cloud.journal) == 0
    assert cloud.context_for_token(token).project_id == PROJECT_ID


def test_reset_to_another_scenario_then_back(cloud):
    result = cloud.reset(scenario="server-in-error")
    assert result["scenarios"] == ["scenarios/server-in-error.yaml"]
    assert {s.name for s in cloud.servers} == {"web-ok", "web-broken"}
    cloud.reset()
    assert len(cloud.servers) == 0


def test_reset_to_an_unknown_scenario_is_refused_and_changes_nothing(cloud):
    boot(cloud)
    before = cloud.export_state()
    with pytest.raises(Invalid, match="no scenario named 'nope'"):
        cloud.reset(scenario="nope")
    assert cloud.export_state() == before


def test_reset_of_a_scenario_is_cached():
    cloud = build_cloud(["default"], seed=3, clock="frozen")
    cloud.reset(scenario="az-fleet")
    key = next(iter(cloud._reset_cache))
    cached = cloud._reset_cache[key]
    cloud.reset(scenario="az-fleet")
    assert cloud._reset_cache[key] is cached


def test_mark_baseline_makes_the_current_state_the_reset_point(cloud):
    server = boot(cloud)
    cloud.mark_baseline()
    boot(cloud, "second")
    cloud.reset()
    assert [s.id for s in cloud.servers] == [server.id]


# -- scenarios on top -------------------------------------------------------------------


def test_load_scenario_adds_on_top_and_reports_what_it_added(cloud):
    boot(cloud)
    result = cloud.load_scenario("server-in-error")
    assert result == {"scenario": "scenarios/server-in-error.yaml", "added": {"servers": 2}}
    assert len(cloud.servers) == 3
    broken = cloud.servers.get("5e7e0000-0000-4000-8000-00000000e002")
    assert broken.vm_state == "error" and broken.fault["message"] == "disk failure"


def test_load_scenario_inline_dict(cloud):
    result = cloud.load_scenario(
        {"flavors": [{"id": "c7.huge", "name": "c7.huge", "vcpus": 64, "ram": 262144}]}
    )
    assert result == {"scenario": "<inline>", "added": {"flavors": 1}}
    assert cloud.flavors["c7.huge"].vcpus == 64


def test_load_scenario_is_all_or_nothing(cloud):
    before = cloud.export_state()
    bad = {
        "flavors": [{"id": "f1", "name": "f1", "vcpus": 1, "ram": 512}],
        "servers": [{"name": "x", "flavor": "f1", "image": "no-such-image"}],
    }
    with pytest.raises(Invalid) as error:
        cloud.load_scenario(bad)
    assert error.value.message == "<inline>: servers[0].image: unknown image 'no-such-image'"
    assert cloud.export_state() == before


def test_load_scenario_validation_error_names_the_key(cloud):
    with pytest.raises(Invalid) as error:
        cloud.load_scenario({"servers": [{"name": "x"}]})
    assert error.value.message == ("<inline>: servers[0].flavor: Missing data for required field.")


# -- export / import ----------------------------------------------------------------------


def test_export_is_versioned_json_over_every_registered_store(cloud):
    state = cloud.export_state()
    assert state["format"] == "fakeecs-state" and state["version"] == 1
    assert set(state["stores"]) == set(cloud.stores)
    assert json.loads(json.dumps(state)) == state


def test_export_import_round_trips_with_clock_ids_and_pending_jobs(cloud):
    server = boot(cloud)
    snapshot(cloud, server)
    cloud.advance_clock(0.7)  # mid-snapshot: a job and heap entries are pending
    state = json.loads(json.dumps(cloud.export_state()))
    other = build_cloud(["default"], seed=99, clock="realtime")
    other.import_state(state)
    assert other.export_state() == state
    # both continue identically: same next ids, same transitions at the same times
    assert other.ids.uuid() == cloud.ids.uuid()
    other.advance_clock(5)
    cloud.advance_clock(5)
    assert other.export_state() == cloud.export_state()


def test_export_mutate_import_gives_the_export_back(cloud):
    server = boot(cloud)
    state = cloud.export_state()
    snapshot(cloud, server)
    cloud.force_state("server", server.id, vm_state="error", fault="boom")
    cloud.import_state(state)
    assert cloud.export_state() == state
    assert cloud.servers.get(server.id).vm_state == "active"


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda s: s.update(version=2), "state.version: this fakeecs reads version 1, not 2"),
        (lambda s: s.update(format="x"), "state.format: must be 'fakeecs-state', not 'x'"),
        (lambda s: s.update(extra=1), "state: unknown key(s) extra"),
        (lambda s: s["stores"].update(widgets=[]), "state.stores: unknown store(s) widgets"),
        (
            lambda s: s["stores"]["servers"].append({"id": "x"}),
            "state.stores.servers[1]: missing field(s)",
        ),
        (lambda s: s["stores"].update(servers={}), "state.stores.servers: must be a list"),
        (
            lambda s: s["clock"].update(mode="warp"),
            "state.clock.mode: must be one of realtime, frozen",
        ),
        (lambda s: s.update(ids={"state": 3}), "state.ids: not a generator state"),
        (
            lambda s: s["transitions"].update(teleport=1),
            "state.transitions: unknown process(es) teleport",
        ),
        (lambda s: s.update(heap=[[1, 2, 3]]), "state.heap: must be a list of [due, job_id] pairs"),
    ],
)
def test_import_refuses_bad_state_without_changing_anything(cloud, mutate, message):
    boot(cloud)
    state = cloud.export_state()
    bad = json.loads(json.dumps(state))
    mutate(bad)
    boot(cloud, "after")
    before = cloud.export_state()
    with pytest.raises(Invalid) as error:
        cloud.import_state(bad)
    assert error.value.message.startswith(message)
    assert cloud.export_state() == before


def test_import_refuses_duplicate_ids(cloud):
    server = boot(cloud)
    state = cloud.export_state()
    state["stores"]["servers"].append(dict(state["stores"]["servers"][0], seq=999))
    with pytest.raises(Invalid, match=f"duplicate id {server.id}"):
        cloud.import_state(state)


def test_snapshot_and_restore_aliases(cloud):
    saved = cloud.snapshot()
    boot(cloud)
    cloud.restore(saved)
    assert len(cloud.servers) == 0


# -- clock --------------------------------------------------------------------------------


def test_set_clock_mode_speed_and_time(cloud):
    result = cloud.set_clock(now="2026-01-01T00:00:00Z")
    assert result == {
        "mode": "frozen",
        "speed": 1.0,
        "now": "2026-01-01T00:00:00.000000Z",
        "epoch": 1767225600.0,
    }
    result = cloud.set_clock(mode="realtime", speed=10)
    assert result["mode"] == "realtime" and result["speed"] == 10
    cloud.set_clock(mode="frozen")
    assert cloud.get_clock()["mode"] == "frozen"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"mode": "warp"}, "mode: Must be one of: realtime, frozen."),
        ({"speed": 0}, "speed: Must be greater than 0."),
        ({"now": "yesterday"}, 'now: not an ISO-8601 time or epoch seconds: "yesterday"'),
    ],
)
def test_set_clock_refuses_bad_values(cloud, kwargs, message):
    before = cloud.get_clock()
    with pytest.raises(Invalid) as error:
        cloud.set_clock(**kwargs)
    assert error.value.message == message
    assert cloud.get_clock() == before


def test_advance_clock_runs_each_step_at_its_own_time_in_order(cloud):
    cloud.set_clock(now="2026-01-01T00:00:00Z")
    start = cloud.now()
    server = boot(cloud, settle=False)
    assert server.vm_state == "building"
    assert cloud.advance_clock(30)["now"] == "2026-01-01T00:00:30.000000Z"
    assert server.vm_state == "active"
    # the build finished at its due time (1 s), not when the clock stopped (30 s)
    assert server.launched_at == start + 1.0
    image = snapshot(cloud, server)
    cloud.advance_clock(10)
    assert image.status == "active" and image.updated_at == start + 32.0


def test_advance_clock_refuses_negative(cloud):
    with pytest.raises(Invalid, match=r"seconds: Must be greater than or equal to 0\."):
        cloud.advance_clock(-1)


def test_setting_the_time_forward_runs_due_transitions(cloud):
    server = boot(cloud, settle=False)
    cloud.set_clock(now=cloud.now() + 60)
    assert server.vm_state == "active"


def test_latency_is_charged_to_a_frozen_clock(cloud):
    now = cloud.now()
    assert cloud.charge_latency(2500) == 0.0
    assert cloud.now() == now + 2.5
    cloud.set_clock(mode="realtime")
    assert cloud.charge_latency(20) == 0.02


# -- transitions ----------------------------------------------------------------------------


def test_set_transitions_and_unknown_process_lists_the_known_ones(cloud):
    result = cloud.set_transitions({"image_snapshot": 2, "server_build": "manual"})
    assert result["image_snapshot"] == 2.0 and result["server_build"] == "manual"
    with pytest.raises(Invalid) as error:
        cloud.set_transitions({"teleport": 1})
    assert error.value.message.startswith(
        "transitions: unknown process(es) teleport; known: server_build, server_action"
    )
    with pytest.raises(Invalid, match=r"transitions.image_snapshot: must be seconds >= 0"):
        cloud.set_transitions({"image_snapshot": -1})
    assert cloud.set_transitions({"image_snapshot": None})["image_snapshot"] == 2.0


def test_set_transitions_replace_restores_defaults(cloud):
    cloud.set_transitions({"server_build": 99, "image_snapshot": "manual"})
    result = cloud.set_transitions({"server_build": 5}, replace=True)
    assert result["server_build"] == 5.0 and result["image_snapshot"] == 2.0


def test_switching_to_manual_holds_a_pending_process_and_back_resumes_it(cloud):
    server = boot(cloud, settle=False)
    cloud.set_transitions({"server_build": "manual"})
    cloud.advance_clock(100)
    assert server.vm_state == "building"
    # what remains (two steps) now takes 4 s from now
    cloud.set_transitions({"server_build": 4})
    cloud.advance_clock(1.9)
    assert server.task_state == "scheduling"
    cloud.advance_clock(0.2)
    assert server.task_state == "spawning" and server.vm_state == "building"
    cloud.advance_clock(2)
    assert server.vm_state == "active"


def test_immediate_runs_pending_processes_at_once(cloud):
    cloud.set_transitions({"server_build": "manual"})
    server = boot(cloud, settle=False)
    cloud.set_transitions({"server_build": "immediate"})
    assert server.vm_state == "active"


# -- advance one resource ------------------------------------------------------------------------


def test_advance_resource_steps_a_manual_snapshot(cloud):
    server = boot(cloud)
    cloud.set_transitions({"image_snapshot": "manual"})
    image = snapshot(cloud, server)
    cloud.advance_clock(1000)
    assert (image.status, server.task_state) == ("queued", "image_snapshot_pending")
    seen = []
    for _ in range(4):
        result = cloud.advance_resource("image", image.id)
        seen.append((result["state"]["status"], server.task_state))
    assert seen == [
        ("queued", "image_snapshot"),
        ("queued", "image_pending_upload"),
        ("saving", "image_uploading"),
        ("active", None),
    ]
    with pytest.raises(Conflict, match=f"image {image.id} has no pending process to advance"):
        cloud.advance_resource("image", image.id)


def test_advance_resource_all_and_by_server(cloud):
    cloud.set_transitions({"server_build": "manual"})
    server = boot(cloud, settle=False)
    result = cloud.advance_resource("server", server.id, "all")
    assert result["advanced"] == 2 and result["state"]["status"] == "ACTIVE"
    assert result["pending"] == []


def test_advance_resource_bad_inputs(cloud):
    with pytest.raises(Invalid, match="unknown resource kind 'gizmo'; known: "):
        cloud.advance_resource("gizmo", "x")
    with pytest.raises(NotFound, match="no server nope"):
        cloud.advance_resource("server", "nope")
    with pytest.raises(Invalid, match="steps: must be an integer >= 1"):
        cloud.advance_resource("server", "nope", 0)


def test_describe_resource_shows_pending_processes(cloud):
    cloud.set_transitions({"server_build": "manual"})
    server = boot(cloud, settle=False)
    described = cloud.describe_resource("server", server.id)
    assert described["state"]["status"] == "BUILD"
    assert [(p["process"], p["steps"], p["manual"]) for p in described["pending"]] == [
        ("server_build", ["spawning", "active"], True)
    ]


# -- force state ---------------------------------------------------------------------------------


def test_force_server_into_error_with_a_fault(cloud):
    server = boot(cloud)
    result = cloud.force_state("server", server.id, vm_state="error", fault="disk failure")
    assert result["state"]["status"] == "ERROR"
    assert server.fault["message"] == "disk failure" and server.fault["code"] == 500
    with pytest.raises(Conflict):
        snapshot(cloud, server)


def test_force_server_error_abandons_a_snapshot_in_progress(cloud):
    server = boot(cloud)
    image = snapshot(cloud, server)
    cloud.force_state(
        "server",
        server.id,
        vm_state="error",
        fault={"code": 503, "message": "host down", "details": "rack 7"},
    )
    assert server.fault["code"] == 503 and server.fault["details"] == "rack 7"
    assert server.task_state is None
    cloud.advance_clock(10)
    assert cloud.images.get(image.id) is None


def test_force_image_into_killed_moves_along_a_legal_path(cloud):
    server = boot(cloud)
    cloud.set_transitions({"image_snapshot": "manual"})
    image = snapshot(cloud, server)
    assert image.status == "queued"
    result = cloud.force_state("image", image.id, status="killed")
    assert result["state"] == {"status": "killed"}
    # the abandoned snapshot clears the server's task state on its next step
    cloud.advance_resource("image", image.id)
    assert server.task_state is None


def test_force_task_state_and_lock(cloud):
    server = boot(cloud)
    cloud.force_state("server", server.id, task_state="image_uploading", locked=True)
    assert (server.vm_state, server.task_state, server.locked) == (
        "active",
        "image_uploading",
        True,
    )
    with pytest.raises(Conflict, match="task_state image_uploading"):
        snapshot(cloud, server)


def test_force_active_sets_launched_at(cloud):
    cloud.set_transitions({"server_build": "manual"})
    server = boot(cloud, settle=False)
    cloud.force_state("server", server.id, vm_state="active")
    assert server.launched_at is not None and server.power_state == 1


@pytest.mark.parametrize(
    "kind, fields, message",
    [
        ("server", {"vm_state": "melted"}, "'melted' is not a server state; known: building"),
        ("server", {"vm_state": "deleted"}, "a server cannot be forced to 'deleted'"),
        ("server", {"task_state": "dancing"}, "task_state: 'dancing' is not a task state"),
        ("server", {"status": "ACTIVE"}, "unknown field(s) status for a server; allowed: vm_state"),
        ("server", {}, "give at least one of: vm_state"),
        ("server", {"power_state": 42}, "power_state: must be one of"),
        ("server", {"fault": 3}, "fault: a message, or {code, message, details}"),
        ("image", {"status": "killed"}, "a image in 'active' can never become 'killed'"),
        ("image", {"vm_state": "error"}, "unknown field(s) vm_state for a image"),
        ("flavor", {"status": "x"}, "a flavor has no state table"),
    ],
)
def test_force_state_refuses_impossible_states(cloud, kind, fields, message):
    server = boot(cloud)
    resource_id = {"server": server.id, "image": BASE_IMAGE, "flavor": "s6.small.1"}[kind]
    before = cloud.export_state()
    with pytest.raises(Invalid) as error:
        cloud.force_state(kind, resource_id, **fields)
    assert error.value.message.startswith(message)
    assert cloud.export_state() == before


def test_force_state_of_a_missing_resource(cloud):
    with pytest.raises(NotFound):
        cloud.force_state("image", "nope", status="active")


# -- faults ---------------------------------------------------------------------------------------


def request(path="/v2.1/p/servers/s/action", method="POST", action="createImage", project="p"):
    return RequestInfo(
        method=method,
        path=path,
        action=action,
        project_id=project,
        project_name="fakeecs",
        family="nova",
    )


def test_fault_skip_then_times(cloud):
    rule = cloud.add_fault(
        {"match": {"action": "createImage"}, "status": 500, "skip": 1, "times": 1}
    )
    fired = [cloud.match_fault(request()) is not None for _ in range(4)]
    assert fired == [False, True, False, False]
    assert rule.to_dict()["remaining"] == 0 and rule.matched == 2


def test_fault_matching_on_method_path_action_project_family(cloud):
    cloud.add_fault(
        {
            "match": {
                "method": ["GET"],
                "path": "/v2.1/*/servers/**",
                "project": "fakeecs",
                "family": "nova",
            }
        }
    )
    assert cloud.match_fault(request(method="GET", path="/v2.1/p/servers/s/os-interface"))
    assert not cloud.match_fault(request(method="POST"))
    assert not cloud.match_fault(request(method="GET", path="/v2.1/p/flavors"))
    cloud.clear_faults()
    cloud.add_fault({"match": {"path": "/v2.1/*/servers"}})
    assert cloud.match_fault(request(path="/v2.1/p/servers"))
    assert cloud.match_fault(request(path="/v2.1/p/servers/"))
    assert not cloud.match_fault(request(path="/v2.1/p/servers/detail"))


def test_fault_probability_is_seeded_and_reproducible(cloud):
    def run():
        cloud.clear_faults()
        cloud.seed(42)
        cloud.add_fault({"probability": 0.5})
        return [cloud.match_fault(request()) is not None for _ in range(40)]

    first = run()
    assert first == run()
    assert 5 < sum(first) < 35


def test_fault_rules_list_and_remove(cloud):
    one = cloud.add_fault(status=503)
    two = cloud.add_fault({"status": None, "latency_ms": 100})
    assert [r.id for r in cloud.faults] == [one.id, two.id]
    assert cloud.remove_fault(one.id) is one
    with pytest.raises(NotFound, match=f"no fault rule {one.id}"):
        cloud.remove_fault(one.id)
    assert cloud.get_fault(two.id).latency_ms == 100


@pytest.mark.parametrize(
    "spec, message",
    [
        (
            {"status": 700},
            "status: Must be greater than or equal to 100 and less than or equal to 599.",
        ),
        ({"statuz": 500}, "statuz: Unknown field."),
        ({"match": {"verb": "GET"}}, "match.verb: Unknown field."),
        ({"match": {"method": "FETCH"}}, "match.method: unknown HTTP method 'FETCH'"),
        ({"match": {"path": "v2.1/*"}}, "match.path: 'v2.1/*' must start with '/'"),
        ({"times": 0}, "times: Must be greater than or equal to 1."),
        ({"skip": -1}, "skip: Must be greater than or equal to 0."),
        (
            {"probability": 1.5},
            "probability: Must be greater than or equal to 0 and less than or equal to 1.",
        ),
        ({"latency_ms": -5}, "latency_ms: Must be greater than or equal to 0."),
        ({"side_effect": "yes"}, "side_effect: Not a valid boolean."),
        ({"status": None, "side_effect": True}, "side_effect: needs a status"),
    ],
)
def test_fault_rule_validation(cloud, spec, message):
    with pytest.raises(Invalid) as error:
        cloud.add_fault(spec)
    assert error.value.message.startswith(message)
    assert cloud.faults == []


def test_glob_semantics():
    assert glob_regex("/v2.1/*/servers/*/action").match("/v2.1/abc/servers/def/action")
    assert not glob_regex("/v2.1/*/servers/*/action").match("/v2.1/abc/servers/d/e/action")
    assert glob_regex("/image/**").match("/image/v2/images/x/file")


# -- journal ---------------------------------------------------------------------------------------


def test_journal_is_bounded_and_counts_what_it_dropped():
    journal = Journal(limit=3)
    for index in range(5):
        journal.record({"method": "GET", "path": f"/x/{index}", "status": 200})
    assert [e["path"] for e in journal.find()] == ["/x/2", "/x/3", "/x/4"]
    assert journal.dropped == 2
    assert [e["seq"] for e in journal.find(since=3)] == [4, 5]
    assert [e["path"] for e in journal.find(path="/x/4")] == ["/x/4"]
    assert [e["path"] for e in journal.find(limit=1)] == ["/x/4"]
    journal.resize(1)
    assert journal.dropped == 4 and len(journal) == 1
    journal.clear()
    assert journal.dropped == 0 and journal.find() == []


def test_list_requests_from_python(cloud):
    cloud.journal.record({"method": "POST", "path": "/v2.1/p/servers", "status": 202})
    cloud.journal.record({"method": "GET", "path": "/v2.1/p/servers", "status": 200})
    result = cloud.list_requests(method="post")
    assert [e["status"] for e in result["requests"]] == [202] and result["dropped"] == 0
    cloud.clear_requests()
    assert cloud.list_requests()["requests"] == []


# -- seed ------------------------------------------------------------------------------------------


def test_seed_makes_ids_reproducible(cloud):
    cloud.seed(42)
    first = [cloud.ids.uuid() for _ in range(3)]
    cloud.seed(42)
    assert [cloud.ids.uuid() for _ in range(3)] == first
    assert cloud.seed("abc") == {"seed": "abc"}
    with pytest.raises(Invalid, match="seed: must be an integer or a string"):
        cloud.seed(1.5)
