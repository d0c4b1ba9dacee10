"""The dashboard at /_fakeecs/ui without a browser: pages, forms, access, secrets."""

import html
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import BASE_IMAGE, PROJECT_ID, Api, state

from fakeecs.api import create_app
from fakeecs.server import build_cloud

UI = "/_fakeecs/ui"
SK = "fakeecs-secret-key"


@pytest.fixture
def ui(app):
    return app.test_client()


def post(client, path, data=None, **kwargs):
    """A dashboard form post; returns (response, note, error) of its redirect."""
    response = client.post(UI + path, data=dict(data or {}, next=UI + "/"), **kwargs)
    query = parse_qs(urlsplit(response.headers.get("Location", "")).query)
    return response, query.get("note", [None])[0], query.get("error", [None])[0]


def page(client, path=""):
    response = client.get(UI + path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.content_type.startswith("text/html")
    return html.unescape(response.get_data(as_text=True))


# -- pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, heading",
    [
        ("", "Pending processes"),
        ("/", "Public base images"),
        ("/journal", "faults only"),
        ("/faults", "Add a rule"),
        ("/control", "Transitions"),
    ],
)
def test_every_page_renders_with_the_clock(ui, cloud, path, heading):
    text = page(ui, path)
    assert heading in text
    assert cloud.get_clock()["now"] in text
    assert "http://" not in text.replace("http://localhost", "")  # no asset from elsewhere


def test_state_page_shows_each_resource_and_where_images_came_from(api, ui, cloud):
    server_id = api.boot(name="origin-web", zone="cn-north-4b")
    image = cloud.create_server_image(cloud.context_for_user("fakeecs"), server_id, "from-web")
    volume = cloud.create_volume(cloud.context_for_user("fakeecs"), size=3, name="scratch")
    text = page(ui)
    assert "Project fakeecs" in text and "origin-web" in text and "scratch" in text
    row = text[text.index(f'<tr data-id="{image.id}"') :]
    row = row[: row.index("</tr>")]
    assert "from-web" in row and "nova_snapshot" in row and "origin-web" in row
    assert "cn-north-4b" in row and 'data-status="queued"' in row
    assert f'data-target="{server_id}"' in text  # its image_snapshot process is pending
    assert volume.id in text


def test_an_image_keeps_its_origin_after_the_server_is_gone(api, ui, cloud):
    server_id = api.boot(name="short-lived", zone="cn-north-4c")
    context = cloud.context_for_user("fakeecs")
    image = cloud.create_server_image(context, server_id, "survivor")
    cloud.advance_clock(5)
    cloud.delete_server(context, server_id)
    cloud.advance_clock(5)
    assert server_id not in cloud.servers
    text = page(ui)
    row = text[text.index(f'<tr data-id="{image.id}"') :]
    row = row[: row.index("</tr>")]
    assert f"{server_id[:8]} (deleted)" in row and "cn-north-4c" in row


def test_reading_the_dashboard_never_moves_an_auto_clock():
    cloud = build_cloud(["default"], seed=1, clock="auto-finish")
    client = create_app(cloud).test_client()
    server = cloud.create_server(
        cloud.context_for_user("fakeecs"), name="w", flavor_id="s6.small.1", image_id=BASE_IMAGE
    )
    before = cloud.get_clock()
    for path in ("", "/journal.json", f"/resource/server/{server.id}"):
        assert client.get(UI + path).status_code == 200
    assert cloud.get_clock() == before and cloud.servers.get(server.id).vm_state == "building"


def test_dashboard_routes_are_in_the_openapi_document(app, ui):
    document = ui.get("/_fakeecs/openapi.json").get_json()
    dashboard = {
        (path, method)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation["tags"] == ["dashboard"]
    }
    assert (UI + "/", "get") in dashboard and (UI + "/faults/{rule_id}/delete", "post") in dashboard
    assert document["paths"][UI + "/reset"]["post"]["responses"] == {
        "303": {"description": "back to the page, with ?note= or ?error="}
    }
    assert "text/html" in document["paths"][UI + "/journal"]["get"]["responses"]["200"]["content"]


def test_resource_page_and_missing_ones(api, ui, cloud):
    server_id = api.boot(name="look-at-me")
    image = cloud.create_server_image(cloud.context_for_user("fakeecs"), server_id, "snap-1")
    text = page(ui, f"/resource/server/{server_id}")
    assert "look-at-me" in text and "snap-1" in text and "image_snapshot" in text
    assert ui.get(f"{UI}/resource/server/nope").status_code == 404
    missing = ui.get(f"{UI}/resource/widget/x")
    assert missing.status_code == 404 and "Unknown kind widget" in missing.get_data(as_text=True)
    assert image.id in page(ui, f"/resource/image/{image.id}")


# -- secrets ----------------------------------------------------------------------------------


def test_journal_never_shows_a_password_a_token_or_a_secret_key(app, ui, cloud):
    api = Api(app)
    api.get(api.compute("/servers"), headers={"X-Auth-Token": api.token})
    created = api.post(
        api.compute("/servers"),
        json={
            "server": {
                "name": "p",
                "flavorRef": "s6.small.1",
                "imageRef": BASE_IMAGE,
                "networks": "auto",
                "adminPass": "Sup3r-S3cret-pass",
            }
        },
    ).get_json()["server"]
    assert created["adminPass"] == "Sup3r-S3cret-pass"
    # a secret where no key names it: in a query string and a text body
    api.get(f"/image/v2/images?name={SK}")
    api.post("/image/v2/images", data=f"token={api.token}", content_type="text/plain")
    body = ui.get(UI + "/journal.json").get_json()
    text = json.dumps(body)
    for secret in (api.token, SK, "Sup3r-S3cret-pass"):
        assert secret not in text
    auth = next(e for e in body["requests"] if e["path"] == "/v3/auth/tokens")
    identity = auth["body"]["auth"]["identity"]
    assert identity["password"]["user"]["password"] == "***"
    assert identity["password"]["user"]["name"] == "fakeecs"  # names stay readable
    listing = next(e for e in body["requests"] if e["path"].endswith("/servers"))
    assert listing["headers"]["X-Auth-Token"] == "***"
    assert auth["status"] == 201 and auth["response"]["token"]["project"]["id"] == PROJECT_ID


def test_keystone_token_method_and_signatures_are_masked(app, ui):
    api = Api(app)
    api.client.post(
        "/v3/auth/tokens",
        json={"auth": {"identity": {"methods": ["token"], "token": {"id": api.token}}}},
    )
    api.get("/v3/auth/tokens", headers={"X-Subject-Token": api.token})
    api.get(
        api.compute("/servers"),
        token=False,
        headers={
            "Authorization": "SDK-HMAC-SHA256 Access=FAKEECSAKEXAMPLE0001, SignedHeaders=host, "
            "Signature=abcdef0123456789"
        },
    )
    api.get(api.compute("/servers"), token=False, headers={"Authorization": "Bearer abcdefgh1234"})
    entries = ui.get(UI + "/journal.json").get_json()["requests"]
    text = json.dumps(entries)
    assert api.token not in text and "abcdef0123456789" not in text and "abcdefgh1234" not in text
    assert entries[-4]["body"]["auth"]["identity"]["token"] == {"id": "***"}
    assert entries[-3]["headers"]["X-Subject-Token"] == "***"
    assert entries[-2]["headers"]["Authorization"].startswith(
        "SDK-HMAC-SHA256 Access=FAKEECSAKEXAMPLE0001"
    )
    assert entries[-1]["headers"]["Authorization"] == "Bearer ***"


def test_no_page_shows_a_secret_key(ui, cloud):
    cloud.add_fault({"match": {"path": "/v3/**"}, "message": f"leak {SK}", "status": 500})
    assert "leak ***" in page(ui, "/faults")
    ak = next(iter(cloud.access_keys))
    record = page(ui, f"/resource/access_key/{ak}")
    assert ak in record and '"sk": "***"' in record
    user = next(iter(cloud.users))
    assert '"password": "***"' in page(ui, f"/resource/user/{user}")
    for path in ("", "/faults", "/control", "/journal", f"/resource/access_key/{ak}"):
        assert SK not in page(ui, path)


def test_journal_json_follows_since_and_reports_the_oldest(app, ui):
    api = Api(app)
    first = ui.get(UI + "/journal.json").get_json()
    last = first["requests"][-1]["seq"]
    assert first["oldest"] == first["requests"][0]["seq"]
    api.get(api.compute("/servers"))
    fresh = ui.get(f"{UI}/journal.json?since={last}").get_json()["requests"]
    assert [e["path"] for e in fresh] == [f"/v2.1/{PROJECT_ID}/servers"]
    _, note, _ = post(ui, "/journal/clear")
    assert note == "journal cleared"
    assert ui.get(UI + "/journal.json").get_json() == {"requests": [], "oldest": None, "dropped": 0}


# -- access ----------------------------------------------------------------------------------


def test_dashboard_is_off_where_the_control_plane_is(app, ui):
    app.config["FAKEECS_CONTROL"] = {"enabled": False, "admin_token": None}
    response = ui.get(UI + "/")
    assert response.status_code == 404 and "--admin-token" in response.get_data(as_text=True)
    assert ui.post(UI + "/reset").status_code == 404


def test_admin_token_login_cookie_and_header(app, ui, cloud):
    app.config["FAKEECS_CONTROL"] = {"enabled": True, "admin_token": "s3cr3t-admin"}
    response = ui.get(UI + "/faults")
    assert response.status_code == 401 and 'name="token"' in response.get_data(as_text=True)
    before = state(cloud)
    refused = ui.post(UI + "/reset", data={})
    assert refused.status_code == 401 and f'value="{UI}/"' in refused.get_data(as_text=True)
    wrong = ui.post(UI + "/login", data={"token": "nope", "next": UI + "/faults"})
    assert wrong.status_code == 403 and "wrong admin token" in wrong.get_data(as_text=True)
    assert state(cloud) == before
    good = ui.post(UI + "/login", data={"token": "s3cr3t-admin", "next": UI + "/faults"})
    assert good.status_code == 303 and good.headers["Location"].endswith(UI + "/faults")
    cookie = good.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and f"Path={UI}" in cookie
    text = page(ui, "/faults")
    assert "s3cr3t-admin" not in text
    header_only = app.test_client()
    assert (
        header_only.get(UI + "/", headers={"X-FakeECS-Admin-Token": "s3cr3t-admin"}).status_code
        == 200
    )
    assert header_only.get(UI + "/", headers={"X-FakeECS-Admin-Token": "other"}).status_code == 401


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}],
)
def test_forms_from_another_site_are_refused(ui, cloud, headers):
    before = state(cloud), cloud.get_clock()
    response = ui.post(UI + "/clock/advance", data={"seconds": "60"}, headers=headers)
    assert response.status_code == 403
    assert (state(cloud), cloud.get_clock()) == before


def test_a_redirect_never_leaves_the_dashboard(ui):
    for target in ("http://evil.example/", "//evil.example/x", "/v3", UI + "//x"):
        response = ui.post(UI + "/clock/advance", data={"seconds": "1", "next": target})
        assert urlsplit(response.headers["Location"]).path == UI + "/"


# -- forms ------------------------------------------------------------------------------------


def test_clock_buttons(api, ui, cloud):
    server_id = api.boot(settle=False)
    start = cloud.get_clock()["epoch"]
    response, note, error = post(ui, "/clock/advance", {"to": "next"})
    assert response.status_code == 303 and error is None
    assert cloud.get_clock()["epoch"] == start + 0.5 and "clock advanced 0.5 s" in note
    _, note, _ = post(ui, "/clock/advance", {"seconds": "10"})
    assert cloud.get_clock()["epoch"] == start + 10.5
    assert cloud.servers.get(server_id).vm_state == "active"
    _, _, error = post(ui, "/clock/advance", {"to": "next"})
    assert error == "no timed process is pending"
    _, _, error = post(ui, "/clock/advance", {"seconds": "soon"})
    assert error == "seconds: not a number: 'soon'"
    _, _, error = post(ui, "/clock/advance", {"seconds": "-1"})
    assert error == "seconds: Must be greater than or equal to 0."
    _, note, _ = post(ui, "/clock", {"preset": "auto-step"})
    assert note == "clock is now auto-step" and cloud.get_clock()["auto"] == "step"
    assert '<option value="auto-step" selected>' in page(ui)
    _, _, error = post(ui, "/clock", {"preset": "warp"})
    assert error.startswith("clock: one of realtime, frozen, auto-step, auto-finish")
    assert cloud.get_clock()["auto"] == "step"


def test_transitions_form(ui, cloud):
    _, note, _ = post(
        ui,
        "/transitions",
        {"server_build": "manual", "image_snapshot": "4", "volume_create": "immediate"},
    )
    assert note == "transitions saved"
    got = cloud.get_transitions()
    assert (got["server_build"], got["image_snapshot"], got["volume_create"]) == (
        "manual",
        4.0,
        0.0,
    )
    before = cloud.get_transitions()
    _, _, error = post(ui, "/transitions", {"server_build": "default", "image_snapshot": "slow"})
    assert error == "image_snapshot: not a number: 'slow'" and cloud.get_transitions() == before
    _, _, error = post(ui, "/transitions", {"server_build": "-3"})
    assert error.startswith("transitions.server_build: must be seconds >= 0")
    post(ui, "/transitions", {"server_build": "default"})
    assert cloud.get_transitions()["server_build"] == 1.0


def test_fault_forms(app, ui, cloud):
    _, note, _ = post(
        ui,
        "/faults",
        {
            "method": "POST",
            "action": "createImage",
            "status": "409",
            "message": "busy",
            "times": "1",
            "family": "",
        },
    )
    assert note == "fault rule fault-1 added"
    rule = cloud.faults[0]
    assert rule.match == {"method": "POST", "action": "createImage"} and rule.status == 409
    _, note, _ = post(
        ui,
        "/faults",
        {"rule": '{"match": {"path": "/v3/**"}, "latency_ms": 5, "status": null}', "status": "500"},
    )
    assert note == "fault rule fault-2 added" and cloud.faults[1].status is None
    text = page(ui, "/faults")
    assert "action=createImage" in text and "latency only" in text
    before = [r.id for r in cloud.faults]
    for data, message in [
        ({"status": "99"}, "status: Must be greater than or equal to 100"),
        ({"status": "x"}, "status: not a number: 'x'"),
        ({"rule": "[1]"}, "rule: must be a JSON object"),
        ({"rule": "{"}, "rule: not JSON"),
        ({"rule": '{"colour": 1}'}, "colour: Unknown field."),
    ]:
        _, _, error = post(ui, "/faults", data)
        assert error.startswith(message), error
    assert [r.id for r in cloud.faults] == before
    _, note, _ = post(ui, "/faults/fault-1/delete")
    assert note == "fault rule fault-1 removed" and [r.id for r in cloud.faults] == ["fault-2"]
    _, _, error = post(ui, "/faults/fault-9/delete")
    assert error == "no fault rule fault-9"
    _, note, _ = post(ui, "/faults/clear")
    assert cloud.faults == [] and "No fault rules" in page(ui, "/faults")


def test_reset_and_scenario_forms(api, ui, cloud):
    api.boot(name="temporary")
    _, note, _ = post(ui, "/scenarios", {"name": "server-in-error"})
    assert note == "scenario server-in-error loaded: 2 servers"
    assert len(cloud.servers) == 3
    _, _, error = post(ui, "/scenarios", {"name": "../etc/passwd"})
    assert error == "scenario: no scenario named '../etc/passwd'" and len(cloud.servers) == 3
    _, note, _ = post(ui, "/reset")
    assert note == "reset to (start)" and len(cloud.servers) == 0
    _, note, _ = post(ui, "/reset", {"scenario": "busy-project"})
    assert note.startswith("reset to ") and note.endswith("busy-project.yaml")
    assert len(cloud.servers) > 30


def test_resource_step_and_finish_buttons(api, ui, cloud):
    server_id = api.boot(settle=False)
    job = next(iter(cloud.jobs.values()))
    _, note, _ = post(ui, f"/resource/job/{job.id}/advance", {"steps": "1"})
    assert note == f"job {job.id}: 1 step(s) run"
    assert cloud.servers.get(server_id).task_state == "spawning"
    post(ui, f"/resource/job/{job.id}/advance", {"steps": "all"})
    assert cloud.servers.get(server_id).vm_state == "active"
    _, _, error = post(ui, f"/resource/server/{server_id}/advance", {"steps": "all"})
    assert error == f"server {server_id} has no pending process to advance"
    _, _, error = post(ui, f"/resource/server/{server_id}/advance", {"steps": "two"})
    assert error.startswith("steps: must be an integer >= 1")
