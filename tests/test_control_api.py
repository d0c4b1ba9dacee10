"""Every /_fakeecs/ route over HTTP (Flask test client): happy paths and bad inputs."""

import json

import pytest
from conftest import BASE_IMAGE, PROJECT_ID, Api

from fakeecs.api import create_app


@pytest.fixture
def control(app):
    return app.test_client()


def error_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"]["status"] == status
    return body["error"]["message"]


def snapshot(api, server_id, name="snap"):
    return api.post(
        api.compute(f"/servers/{server_id}/action"), json={"createImage": {"name": name}}
    )


# -- health, openapi ---------------------------------------------------------------------


def test_health(control):
    response = control.get("/_fakeecs/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "version": "0.1.0", "region": "cn-north-4"}


def test_openapi_describes_every_route_from_the_schemas(app, control):
    document = control.get("/_fakeecs/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    routes = {
        (rule.rule, method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/_fakeecs") and rule.endpoint != "control.load_scenario_alias"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {
        (path.replace("{", "<").replace("}", ">"), method)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert documented == routes
    fault = document["components"]["schemas"]["FaultBody"]
    assert fault["additionalProperties"] is False
    assert fault["properties"]["status"]["maximum"] == 599
    assert fault["properties"]["match"] == {"$ref": "#/components/schemas/MatchBody"}
    assert "action" in document["components"]["schemas"]["MatchBody"]["properties"]
    clock = document["components"]["schemas"]["ClockBody"]["properties"]
    assert clock["mode"]["enum"] == ["realtime", "frozen"]
    advance = document["paths"]["/_fakeecs/clock/advance"]["post"]
    assert (
        advance["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        == "#/components/schemas/AdvanceBody"
    )
    assert document["components"]["schemas"]["AdvanceBody"]["required"] == ["seconds"]
    query = {p["name"] for p in document["paths"]["/_fakeecs/requests"]["get"]["parameters"]}
    assert {"method", "path", "status", "since", "limit"} <= query


# -- reset, scenarios ----------------------------------------------------------------------


def test_reset(api, control):
    api.boot()
    response = control.post("/_fakeecs/reset")
    assert response.status_code == 200
    assert response.get_json() == {"status": "reset", "scenarios": ["(start)"]}
    assert api.get(api.compute("/servers")).get_json()["servers"] == []


def test_reset_to_another_scenario(api, control):
    response = control.post("/_fakeecs/reset", json={"scenario": "server-in-error"})
    assert response.get_json()["scenarios"] == ["scenarios/server-in-error.yaml"]
    names = {s["name"] for s in api.get(api.compute("/servers")).get_json()["servers"]}
    assert names == {"web-ok", "web-broken"}


@pytest.mark.parametrize(
    "body, message",
    [
        ({"scenario": "nope"}, "no scenario named 'nope'"),
        ({"scenario": 3}, "scenario: must be a scenario name or path, or a list of them"),
        ({"scenarios": "default"}, "scenarios: Unknown field."),
        ([1], "the body must be a JSON object"),
    ],
)
def test_reset_bad_input(control, body, message):
    assert error_of(control.post("/_fakeecs/reset", json=body), 400).startswith(message)


def test_reset_bad_json(control):
    response = control.post("/_fakeecs/reset", data="{nope", content_type="application/json")
    assert error_of(response, 400) == "the body is not valid JSON"


def test_list_scenarios(control):
    names = control.get("/_fakeecs/scenarios").get_json()["scenarios"]
    assert {
        "default",
        "server-in-error",
        "az-fleet",
        "slow-cloud",
        "busy-project",
        "manual",
    } <= set(names)


def test_load_scenario_by_name_path_and_inline(control, cloud, tmp_path):
    response = control.post("/_fakeecs/scenarios", json={"name": "server-in-error"})
    assert response.status_code == 200
    assert response.get_json() == {
        "scenario": "scenarios/server-in-error.yaml",
        "added": {"servers": 2},
    }
    path = tmp_path / "extra.yaml"
    path.write_text("flavors:\n  - {id: c7.big, name: c7.big, vcpus: 8, ram: 16384}\n")
    response = control.post("/_fakeecs/scenarios", json={"path": str(path)})
    assert response.get_json()["added"] == {"flavors": 1}
    response = control.post(
        "/_fakeecs/scenarios", json={"scenario": {"availability_zones": ["cn-north-4d"]}}
    )
    assert response.get_json() == {"scenario": "<inline>", "added": {"availability_zones": 1}}
    assert "cn-north-4d" in cloud.availability_zones


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "give exactly one of name, path or scenario"),
        ({"name": "a", "path": "b.yaml"}, "give exactly one of name, path or scenario"),
        ({"name": "nope"}, "no scenario named 'nope'"),
        ({"name": "x/y.yaml"}, "name: a scenario name has no '/' or extension"),
        ({"path": "/nonexistent/x.yaml"}, "no scenario file /nonexistent/x.yaml"),
        (
            {"scenario": {"servers": [{"name": "x", "flavor": "s6.small.1", "colour": "red"}]}},
            "<inline>: servers[0].colour: Unknown field.",
        ),
        (
            {"scenario": {"servers": [{"name": "x", "flavor": "nope", "image": BASE_IMAGE}]}},
            "<inline>: servers[0].flavor: unknown flavor 'nope'",
        ),
    ],
)
def test_load_scenario_bad_input_changes_nothing(control, cloud, body, message):
    before = cloud.export_state()
    assert error_of(control.post("/_fakeecs/scenarios", json=body), 400).startswith(message)
    assert cloud.export_state() == before


def test_load_scenario_file_error_names_file_key_and_line(control, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("flavors:\n  - id: f1\n    name: f1\n    vcpus: many\n    ram: 512\n")
    message = error_of(control.post("/_fakeecs/scenarios", json={"path": str(path)}), 400)
    assert message == f"{path}: flavors[0].vcpus (line 4): Not a valid integer."


# -- state ---------------------------------------------------------------------------------------


def test_state_export_import_round_trip(api, control):
    server_id = api.boot()
    exported = control.get("/_fakeecs/state").get_json()
    assert exported["version"] == 1 and exported["format"] == "fakeecs-state"
    assert [s["id"] for s in exported["stores"]["servers"]] == [server_id]
    snapshot(api, server_id)
    api.cloud.advance_clock(10)
    response = control.put("/_fakeecs/state", json=exported)
    assert response.status_code == 200 and response.get_json() == {"status": "imported"}
    assert control.get("/_fakeecs/state").get_json() == exported
    # the client's token survived the import
    assert api.get(api.compute(f"/servers/{server_id}")).status_code == 200


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda s: s.update(version=7), "version: this fakeecs reads version 1"),
        (lambda s: s.pop("format"), "format: Missing data for required field."),
        (lambda s: s["stores"].update(widgets=[]), "state.stores: unknown store(s) widgets"),
        (lambda s: s.update(clock="noon"), "clock: Not a valid mapping type."),
    ],
)
def test_state_import_bad_input(control, cloud, mutate, message):
    state = control.get("/_fakeecs/state").get_json()
    mutate(state)
    before = cloud.export_state()
    assert message in error_of(control.put("/_fakeecs/state", json=state), 400)
    assert cloud.export_state() == before


def test_state_import_needs_a_body(control):
    assert error_of(control.put("/_fakeecs/state"), 400) == "a JSON body is required"


# -- clock ------------------------------------------------------------------------------------------


def test_clock_get_set_advance(control):
    assert control.get("/_fakeecs/clock").get_json()["mode"] == "frozen"
    body = control.put("/_fakeecs/clock", json={"now": "2026-01-01T00:00:00Z"}).get_json()
    assert body["now"] == "2026-01-01T00:00:00.000000Z"
    body = control.post("/_fakeecs/clock/advance", json={"seconds": 30}).get_json()
    assert body["now"] == "2026-01-01T00:00:30.000000Z" and body["epoch"] == 1767225630.0
    body = control.put("/_fakeecs/clock", json={"mode": "realtime", "speed": 10}).get_json()
    assert (body["mode"], body["speed"]) == ("realtime", 10.0)
    body = control.put("/_fakeecs/clock", json={"mode": "frozen"}).get_json()
    assert body["mode"] == "frozen"


@pytest.mark.parametrize(
    "method, path, body, message",
    [
        ("PUT", "/_fakeecs/clock", {"mode": "fast"}, "mode: Must be one of: realtime, frozen."),
        ("PUT", "/_fakeecs/clock", {"speed": 0}, "speed: Must be greater than 0."),
        ("PUT", "/_fakeecs/clock", {"now": "soon"}, "now: not an ISO-8601 time or epoch seconds"),
        ("PUT", "/_fakeecs/clock", {}, "give at least one of mode, now, speed"),
        ("PUT", "/_fakeecs/clock", {"when": 1}, "when: Unknown field."),
        ("POST", "/_fakeecs/clock/advance", {}, "seconds: Missing data for required field."),
        (
            "POST",
            "/_fakeecs/clock/advance",
            {"seconds": -3},
            "seconds: Must be greater than or equal to 0.",
        ),
        ("POST", "/_fakeecs/clock/advance", {"seconds": "ten"}, "seconds: Not a valid number."),
    ],
)
def test_clock_bad_input(control, cloud, method, path, body, message):
    before = cloud.get_clock()
    response = control.open(path, method=method, json=body)
    assert error_of(response, 400).startswith(message)
    assert cloud.get_clock() == before


# -- transitions ---------------------------------------------------------------------------------------


def test_transitions_get_put_delete(control):
    assert control.get("/_fakeecs/transitions").get_json()["image_snapshot"] == 2.0
    body = control.put(
        "/_fakeecs/transitions", json={"image_snapshot": 2, "server_build": "manual"}
    ).get_json()
    assert body["image_snapshot"] == 2.0 and body["server_build"] == "manual"
    body = control.put("/_fakeecs/transitions?replace=true", json={"server_action": 3}).get_json()
    assert body["server_build"] == 1.0 and body["server_action"] == 3.0
    body = control.delete("/_fakeecs/transitions").get_json()
    assert body["server_action"] == 0.5


def test_transitions_unknown_process_lists_the_known_ones(control):
    message = error_of(control.put("/_fakeecs/transitions", json={"warp_drive": 1}), 400)
    assert message.startswith(
        "transitions: unknown process(es) warp_drive; known: server_build, "
        "server_action, server_delete, image_snapshot"
    )


def test_transitions_bad_value(control, cloud):
    before = cloud.get_transitions()
    message = error_of(control.put("/_fakeecs/transitions", json={"image_snapshot": "slow"}), 400)
    assert message == (
        'image_snapshot: must be seconds >= 0, "manual", "immediate" or null, not "slow"'
    )
    assert cloud.get_transitions() == before


# -- resources ------------------------------------------------------------------------------------------


def test_manual_snapshot_advanced_step_by_step(api, control):
    server_id = api.boot()
    control.put("/_fakeecs/transitions", json={"image_snapshot": "manual"})
    image_id = snapshot(api, server_id).headers["Location"].rsplit("/", 1)[1]
    described = control.get(f"/_fakeecs/resources/image/{image_id}").get_json()
    assert described["state"] == {"status": "queued"}
    assert described["pending"][0]["process"] == "image_snapshot"
    statuses = []
    for _ in range(4):
        body = control.post(f"/_fakeecs/resources/image/{image_id}/advance").get_json()
        statuses.append(body["state"]["status"])
    assert statuses == ["queued", "queued", "saving", "active"]
    response = control.post(f"/_fakeecs/resources/image/{image_id}/advance")
    assert error_of(response, 409) == f"image {image_id} has no pending process to advance"


def test_advance_all_steps(api, control):
    control.put("/_fakeecs/transitions", json={"server_build": "manual"})
    server_id = api.boot(settle=False)
    body = control.post(
        f"/_fakeecs/resources/server/{server_id}/advance", json={"steps": "all"}
    ).get_json()
    assert body["advanced"] == 2 and body["state"]["status"] == "ACTIVE"


@pytest.mark.parametrize(
    "path, body, status, message",
    [
        ("/_fakeecs/resources/gizmo/x/advance", None, 400, "unknown resource kind 'gizmo'"),
        ("/_fakeecs/resources/server/nope/advance", None, 404, "no server nope"),
        (
            "/_fakeecs/resources/server/nope/advance",
            {"steps": 0},
            400,
            'steps: must be an integer >= 1 or "all"',
        ),
        ("/_fakeecs/resources/server/nope/advance", {"step": 1}, 400, "step: Unknown field."),
    ],
)
def test_advance_bad_input(control, path, body, status, message):
    response = control.post(path, json=body) if body is not None else control.post(path)
    assert error_of(response, status).startswith(message)


def test_describe_unknown(control):
    assert error_of(control.get("/_fakeecs/resources/server/nope"), 404) == "no server nope"
    assert error_of(control.get("/_fakeecs/resources/gizmo/x"), 400).startswith(
        "unknown resource kind 'gizmo'"
    )


def test_force_server_into_error_with_a_fault(api, control):
    server_id = api.boot()
    response = control.post(
        f"/_fakeecs/resources/server/{server_id}/state",
        json={"vm_state": "error", "fault": "disk failure"},
    )
    assert response.status_code == 200
    assert response.get_json()["state"]["status"] == "ERROR"
    server = api.get(api.compute(f"/servers/{server_id}")).get_json()["server"]
    assert server["status"] == "ERROR" and server["fault"]["message"] == "disk failure"
    assert snapshot(api, server_id).status_code == 409


def test_force_image_into_killed(api, control):
    server_id = api.boot()
    control.put("/_fakeecs/transitions", json={"image_snapshot": "manual"})
    image_id = snapshot(api, server_id).headers["Location"].rsplit("/", 1)[1]
    response = control.post(
        f"/_fakeecs/resources/image/{image_id}/state", json={"status": "killed"}
    )
    assert response.get_json()["state"] == {"status": "killed"}
    assert api.get(f"/image/v2/images/{image_id}").get_json()["status"] == "killed"


@pytest.mark.parametrize(
    "kind, body, status, message",
    [
        ("server", {"vm_state": "molten"}, 400, "'molten' is not a server state; known: building"),
        ("server", {"vm_state": "deleted"}, 400, "a server cannot be forced to 'deleted'"),
        ("server", {"colour": "red"}, 400, "colour: Unknown field."),
        ("server", {"locked": "yes"}, 400, "locked: Not a valid boolean."),
        ("image", {"status": "killed"}, 400, "a image in 'active' can never become 'killed'"),
        ("image", {"status": "exploded"}, 400, "'exploded' is not a image state"),
    ],
)
def test_force_refuses_impossible_states(api, control, cloud, kind, body, status, message):
    server_id = api.boot()
    resource_id = server_id if kind == "server" else BASE_IMAGE
    before = cloud.export_state()
    response = control.post(f"/_fakeecs/resources/{kind}/{resource_id}/state", json=body)
    assert error_of(response, status).startswith(message)
    assert cloud.export_state() == before


def test_force_missing_resource(control):
    response = control.post("/_fakeecs/resources/server/nope/state", json={"vm_state": "error"})
    assert error_of(response, 404) == "no server nope"


# -- faults -------------------------------------------------------------------------------------------------

FAULT = {
    "match": {"method": "POST", "path": "/v2.1/*/servers/*/action", "action": "createImage"},
    "status": 500,
    "skip": 1,
    "times": 1,
    "latency_ms": 0,
    "probability": 1.0,
    "side_effect": False,
}


def test_fault_second_create_image_fails_first_and_third_succeed(api, control):
    response = control.post("/_fakeecs/faults", json=FAULT)
    assert response.status_code == 201
    rule_id = response.get_json()["id"]
    server_id = api.boot()
    statuses = []
    for index in range(3):
        response = snapshot(api, server_id, f"snap-{index}")
        statuses.append(response.status_code)
        if response.status_code == 500:
            assert response.get_json() == {
                "computeFault": {"code": 500, "message": f"fakeecs injected fault ({rule_id})"}
            }
            assert response.headers["X-FakeECS-Fault"] == rule_id
        api.cloud.advance_clock(5)
    assert statuses == [202, 500, 202]
    images = [
        i["name"] for i in api.get("/image/v2/images?visibility=private").get_json()["images"]
    ]
    assert sorted(images) == ["snap-0", "snap-2"]
    rule = control.get(f"/_fakeecs/faults/{rule_id}").get_json()
    # an exhausted rule stops matching
    assert (rule["matched"], rule["fired"], rule["remaining"]) == (2, 1, 0)


def test_fault_with_side_effect_still_creates(api, control):
    control.post(
        "/_fakeecs/faults",
        json={"match": {"action": "createImage"}, "status": 503, "side_effect": True, "times": 1},
    )
    server_id = api.boot()
    response = snapshot(api, server_id, "ghost")
    assert response.status_code == 503
    assert response.get_json()["serviceUnavailable"]["code"] == 503
    api.cloud.advance_clock(5)
    images = api.get("/image/v2/images?visibility=private").get_json()["images"]
    assert [i["name"] for i in images] == ["ghost"]


def test_fault_renders_each_family_and_custom_bodies(api, control):
    control.post(
        "/_fakeecs/faults",
        json={
            "match": {"path": "/image/**", "method": "GET"},
            "status": 404,
            "message": "gone",
            "times": 1,
        },
    )
    response = api.get("/image/v2/images")
    assert response.status_code == 404
    assert response.get_json() == {"message": "gone", "code": "404 Not Found", "title": "Not Found"}
    control.post(
        "/_fakeecs/faults", json={"match": {"path": "/v3/auth/tokens"}, "status": 401, "times": 1}
    )
    response = api.client.post("/v3/auth/tokens", json={})
    assert response.get_json()["error"]["code"] == 401
    control.post(
        "/_fakeecs/faults",
        json={
            "match": {"path": "/v2.1/*/flavors"},
            "status": 429,
            "body": {"custom": True},
            "headers": {"Retry-After": "3"},
            "times": 1,
        },
    )
    response = api.get(api.compute("/flavors"))
    assert (response.status_code, response.get_json(), response.headers["Retry-After"]) == (
        429,
        {"custom": True},
        "3",
    )


def test_fault_matches_project(api, control):
    control.post("/_fakeecs/faults", json={"match": {"project": "other-project"}, "status": 500})
    assert api.get(api.compute("/servers")).status_code == 200
    control.delete("/_fakeecs/faults")
    control.post("/_fakeecs/faults", json={"match": {"project": "fakeecs"}, "status": 500})
    assert api.get(api.compute("/servers")).status_code == 500


def test_fault_latency_is_charged_to_the_frozen_clock(api, control, cloud):
    control.post(
        "/_fakeecs/faults",
        json={"match": {"path": "/v2.1/*/servers"}, "status": None, "latency_ms": 90000},
    )
    before = cloud.now()
    response = api.get(api.compute("/servers"))
    assert response.status_code == 200
    assert cloud.now() == pytest.approx(before + 90)


def test_fault_list_and_delete(control):
    one = control.post("/_fakeecs/faults", json={"status": 500}).get_json()["id"]
    two = control.post("/_fakeecs/faults", json={"status": 502}).get_json()["id"]
    listed = control.get("/_fakeecs/faults").get_json()["faults"]
    assert [r["id"] for r in listed] == [one, two]
    assert control.delete(f"/_fakeecs/faults/{one}").get_json() == {"deleted": [one]}
    assert error_of(control.delete(f"/_fakeecs/faults/{one}"), 404) == f"no fault rule {one}"
    assert error_of(control.get(f"/_fakeecs/faults/{one}"), 404) == f"no fault rule {one}"
    assert control.delete("/_fakeecs/faults").get_json() == {"deleted": [two]}
    assert control.get("/_fakeecs/faults").get_json() == {"faults": []}


@pytest.mark.parametrize(
    "body, message",
    [
        (
            {"status": 600},
            "status: Must be greater than or equal to 100 and less than or equal to 599.",
        ),
        ({"match": {"verb": "GET"}}, "match.verb: Unknown field."),
        ({"match": {"method": 3}}, "match.method: must be a non-empty string or a list of them"),
        ({"match": {"method": "FETCH"}}, "match.method: unknown HTTP method 'FETCH'"),
        ({"times": 0}, "times: Must be greater than or equal to 1."),
        (
            {"probability": 2},
            "probability: Must be greater than or equal to 0 and less than or equal to 1.",
        ),
        ({"side_effect": "maybe"}, "side_effect: Not a valid boolean."),
        ({"explode": True}, "explode: Unknown field."),
    ],
)
def test_fault_bad_input(control, body, message):
    assert error_of(control.post("/_fakeecs/faults", json=body), 400).startswith(message)
    assert control.get("/_fakeecs/faults").get_json() == {"faults": []}


def test_control_routes_are_never_faulted_or_journaled(control):
    control.post("/_fakeecs/faults", json={"status": 500})
    assert control.get("/_fakeecs/health").status_code == 200
    assert control.get("/_fakeecs/requests").get_json()["requests"] == []


# -- journal ---------------------------------------------------------------------------------------------------


def test_journal_records_requests_with_filters(api, control):
    server_id = api.boot()
    snapshot(api, server_id)
    api.get(api.compute("/servers?limit=1"))
    body = control.get("/_fakeecs/requests?method=POST&path=/v2.1/*/servers/*/action").get_json()
    assert body["dropped"] == 0
    [entry] = body["requests"]
    assert entry["method"] == "POST" and entry["status"] == 202
    assert entry["action"] == "createImage" and entry["project_id"] == PROJECT_ID
    assert entry["body"] == {"createImage": {"name": "snap"}}
    assert entry["family"] == "nova" and entry["request_id"].startswith("req-")
    assert entry["headers"]["X-Auth-Token"].endswith("...")
    assert api.token not in json.dumps(body)
    listed = control.get("/_fakeecs/requests?method=GET&path=/v2.1/*/servers").get_json()
    [entry] = listed["requests"]
    assert entry["query"] == {"limit": "1"} and entry["response"] == {
        "servers": [
            {"id": server_id, "links": entry["response"]["servers"][0]["links"], "name": "web-01"}
        ]
    }
    statuses = control.get("/_fakeecs/requests?status=202").get_json()["requests"]
    assert {e["status"] for e in statuses} == {202}
    assert control.delete("/_fakeecs/requests").get_json()["cleared"] >= 4
    assert control.get("/_fakeecs/requests").get_json() == {"requests": [], "dropped": 0}


def test_journal_records_injected_faults(api, control):
    rule_id = control.post(
        "/_fakeecs/faults", json={"match": {"path": "/v2.1/*/flavors"}, "times": 1}
    ).get_json()["id"]
    api.get(api.compute("/flavors"))
    [entry] = control.get("/_fakeecs/requests?path=/v2.1/*/flavors").get_json()["requests"]
    assert (entry["status"], entry["fault"]) == (500, rule_id)


def test_journal_is_bounded_and_says_so(api, control, cloud):
    cloud.journal.resize(2)
    for _ in range(5):
        api.get(api.compute("/flavors"))
    body = control.get("/_fakeecs/requests").get_json()
    assert len(body["requests"]) == 2 and body["dropped"] >= 4


@pytest.mark.parametrize(
    "query, message",
    [
        ("status=abc", "status: Not a valid integer."),
        ("limit=-1", "limit: Must be greater than or equal to 0."),
        ("colour=red", "colour: Unknown field."),
    ],
)
def test_journal_bad_query(control, query, message):
    assert error_of(control.get(f"/_fakeecs/requests?{query}"), 400) == message


# -- seed ---------------------------------------------------------------------------------------------------


def test_seed(api, control):
    assert control.post("/_fakeecs/seed", json={"seed": 42}).get_json() == {"seed": 42}
    first = api.boot()
    control.post("/_fakeecs/reset")
    second = api.boot()
    control.post("/_fakeecs/reset")
    control.post("/_fakeecs/seed", json={"seed": 42})
    assert api.boot() == first != second


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "seed: Missing data for required field."),
        ({"seed": 1.5}, "seed: must be an integer or a string"),
        ({"seed": True}, "seed: must be an integer or a string"),
    ],
)
def test_seed_bad_input(control, body, message):
    assert error_of(control.post("/_fakeecs/seed", json=body), 400) == message


# -- access --------------------------------------------------------------------------------------------------


def test_admin_token_is_required_when_configured(cloud):
    app = create_app(cloud)
    app.config["FAKEECS_CONTROL"] = {"enabled": True, "admin_token": "s3cret"}
    client = app.test_client()
    message = error_of(client.get("/_fakeecs/health"), 401)
    assert message == "this control plane needs the X-FakeECS-Admin-Token header"
    response = client.get("/_fakeecs/health", headers={"X-FakeECS-Admin-Token": "wrong"})
    assert error_of(response, 403) == "wrong X-FakeECS-Admin-Token"
    response = client.get("/_fakeecs/health", headers={"X-FakeECS-Admin-Token": "s3cret"})
    assert response.status_code == 200
    # the cloud APIs do not need it
    assert Api(app).get(f"/v2.1/{PROJECT_ID}/flavors").status_code == 200


def test_control_plane_can_be_off(cloud):
    app = create_app(cloud)
    app.config["FAKEECS_CONTROL"] = {"enabled": False, "admin_token": None}
    client = app.test_client()
    message = error_of(client.post("/_fakeecs/reset"), 404)
    assert "the control plane is off" in message and "--admin-token" in message


def test_fault_on_a_huawei_native_path_uses_the_huawei_error_body(api, control):
    control.post(
        "/_fakeecs/faults",
        json={"match": {"family": "ims"}, "status": 500, "message": "IMS is down", "times": 1},
    )
    response = api.get("/v2/cloudimages")
    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": "IMG.0500", "message": "IMS is down"}}
    [entry] = control.get("/_fakeecs/requests?path=/v2/cloudimages").get_json()["requests"]
    assert entry["family"] == "ims"
