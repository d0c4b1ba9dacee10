"""The dashboard in a real headless Chromium (the system's, driven by Playwright).

Skipped, with the reason, where Playwright for Python or a Chromium executable
is missing; ``.ci/run`` installs Chromium so CI always runs them.  Set
``FAKEECS_CHROMIUM`` to use another executable.
"""

import json
import os
import shutil

import pytest
import requests
from conftest import BASE_IMAGE, PROJECT_ID

from fakeecs import FakeCloud
from fakeecs.testing.client import password_auth

UI = "/_fakeecs/ui"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: how long the browser waits for something to show, in ms (a ceiling, not a timing)
WAIT_MS = 15000


def chromium_path():
    return (
        os.environ.get("FAKEECS_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
        or "/usr/bin/chromium"
    )


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(
            "the dashboard browser tests need Playwright for Python (pip install -e '.[test]')"
        )
    executable = chromium_path()
    if not os.path.exists(executable):
        pytest.skip(
            f"no Chromium at {executable}: install it (apt-get install chromium) or set "
            "FAKEECS_CHROMIUM; .ci/run installs it"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def served():
    with FakeCloud.start(clock="frozen", seed=11) as fake:
        yield fake


@pytest.fixture
def fake(served):
    served.reset()
    return served


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    yield tab
    context.close()


def submit(page, selector):
    """Click a form's button and wait for the page the dashboard redirects to."""
    with page.expect_navigation():
        page.click(selector)


def token(url):
    body = password_auth()
    return requests.post(url + "/v3/auth/tokens", json=body, timeout=10).headers["X-Subject-Token"]


def test_state_page_shows_what_the_test_made(fake, page):
    server = fake.create_server("web-origin", zone="cn-north-4c")
    image = fake.create_server_image(server.id, "web-origin-snap")
    building = fake.create_server("still-building", settle=False)
    fetched = []
    page.on("request", lambda request: fetched.append(request.url))
    page.goto(fake.url + UI)
    row = page.locator(f'tr[data-id="{image.id}"]')
    assert row.locator("td").nth(0).inner_text() == "web-origin-snap"
    assert row.locator(".origin-server").inner_text() == "web-origin"
    assert row.locator(".origin-zone").inner_text() == "cn-north-4c"
    assert row.get_attribute("data-status") == "active"
    assert page.locator(f'tr[data-id="{building.id}"]').get_attribute("data-status") == "BUILD"
    assert page.locator(f'#processes tr[data-target="{building.id}"]').count() == 1
    # the image's link leads to the server it came from
    row.locator(".origin-server a").click()
    page.wait_for_url(f"**{UI}/resource/server/{server.id}")
    assert "web-origin-snap" in page.locator("table.images").inner_text()
    # the pages fetch nothing but themselves (no asset from elsewhere, no favicon request)
    assert fetched == [f"{fake.url}{UI}", f"{fake.url}{UI}/resource/server/{server.id}"]


def test_clock_buttons_move_time_and_states(fake, page):
    server = fake.create_server("slow", settle=False)
    page.goto(fake.url + UI)
    before = page.locator("#clock-now").inner_text()
    submit(page, "#advance-next")
    page.wait_for_selector("#note")
    assert "clock advanced 0.5 s" in page.inner_text("#note")
    assert page.locator("#clock-now").inner_text() != before
    assert page.locator(f'tr[data-id="{server.id}"]').get_attribute("data-status") == "BUILD"
    submit(page, 'button[data-advance="10"]')
    page.wait_for_selector(f'tr[data-id="{server.id}"][data-status="ACTIVE"]')
    assert fake.server(server.id).vm_state == "active"
    page.select_option("#clock-preset", "auto-step")
    submit(page, "#clock-set")
    page.wait_for_selector("#note")
    assert page.inner_text("#clock-mode") == "auto-step"
    assert fake.cloud.clock.auto == "step"


def test_step_and_finish_buttons_of_a_process(fake, page):
    server = fake.create_server("stepper", settle=False)
    page.goto(fake.url + UI)
    process = page.locator(f'#processes tr[data-target="{server.id}"]')
    with page.expect_navigation():
        process.locator('button[value="1"]').click()
    page.wait_for_selector("#note")
    assert fake.server(server.id).task_state == "spawning"
    with page.expect_navigation():
        page.locator(f'#processes tr[data-target="{server.id}"] button[value="all"]').click()
    page.wait_for_selector(f'tr[data-id="{server.id}"][data-status="ACTIVE"]')
    assert page.locator(f'#processes tr[data-target="{server.id}"]').count() == 0


def test_fault_rules_added_and_removed_in_the_page(fake, page):
    server = fake.create_server("victim")
    page.goto(fake.url + UI + "/faults")
    page.fill("#fault-action", "createImage")
    page.fill("#fault-status", "409")
    page.fill("#fault-message", "injected by the dashboard")
    page.fill("#fault-times", "1")
    submit(page, "#fault-add")
    page.wait_for_selector('tr[data-rule="fault-1"]')
    assert "action=createImage" in page.inner_text('tr[data-rule="fault-1"]')
    headers = {"X-Auth-Token": token(fake.url)}
    answer = requests.post(
        f"{fake.url}/v2.1/{PROJECT_ID}/servers/{server.id}/action",
        json={"createImage": {"name": "x"}},
        headers=headers,
        timeout=10,
    )
    assert (
        answer.status_code == 409
        and answer.json()["conflictingRequest"]["message"] == "injected by the dashboard"
    )
    page.reload()
    assert page.locator('tr[data-rule="fault-1"] td').nth(4).inner_text() == "1 / 1"
    # a bad rule is refused with its reason, and nothing is added
    page.fill("#fault-json", '{"status": 42}')
    submit(page, "#fault-add")
    page.wait_for_selector("#error")
    assert "status: Must be greater than or equal to 100" in page.inner_text("#error")
    assert len(fake.cloud.faults) == 1
    submit(page, 'button[data-remove="fault-1"]')
    page.wait_for_selector("#no-rules")
    assert fake.cloud.faults == []


def test_journal_shows_a_client_request_live_with_bodies_and_no_secret(fake, page):
    page.goto(fake.url + UI + "/journal")
    page.wait_for_selector("#journal-empty", state="visible")
    secret_token = token(fake.url)
    created = requests.post(
        f"{fake.url}/v2.1/{PROJECT_ID}/servers",
        timeout=10,
        headers={"X-Auth-Token": secret_token},
        json={
            "server": {
                "name": "journaled",
                "flavorRef": "s6.small.1",
                "imageRef": BASE_IMAGE,
                "networks": "auto",
            }
        },
    )
    assert created.status_code == 202
    # the page follows the journal without a reload
    row = page.locator("#journal-rows tr", has_text="/servers").first
    row.wait_for()
    assert row.locator("td").nth(2).inner_text() == "POST"
    assert row.locator("td").nth(4).inner_text() == "202"
    row.click()
    body = json.loads(page.inner_text("#detail-body"))
    assert body["server"]["name"] == "journaled"
    response = json.loads(page.inner_text("#detail-response"))
    assert response["server"]["id"] == created.json()["server"]["id"]
    assert json.loads(page.inner_text("#detail-headers"))["X-Auth-Token"] == "***"
    # the auth request shows the user, never the password or the token
    page.locator("#journal-rows tr", has_text="/v3/auth/tokens").first.click()
    auth = json.loads(page.inner_text("#detail-body"))
    assert auth["auth"]["identity"]["password"]["user"] == {
        "name": "fakeecs",
        "password": "***",
        "domain": {"name": "Default"},
    }
    content = page.content()
    assert secret_token not in content and "fakeecs-secret-key" not in content
    # filters
    page.fill("#f-status", "2xx")
    assert page.locator("#journal-rows tr").count() == 2
    page.select_option("#f-method", "POST")
    page.fill("#f-text", "journaled")
    assert page.locator("#journal-rows tr").count() == 1
    page.fill("#f-status", "4xx")
    assert page.locator("#journal-rows tr").count() == 0
    assert page.inner_text("#shown") == "0 of 2 shown"


def test_transitions_reset_and_scenarios(fake, page):
    page.goto(fake.url + UI + "/control")
    page.fill("#t-server_build", "manual")
    submit(page, "#transitions-save")
    page.wait_for_selector("#note")
    assert fake.cloud.get_transitions()["server_build"] == "manual"
    page.select_option("#scenario-name", "server-in-error")
    submit(page, "#scenario-load")
    page.wait_for_selector("#note")
    assert "2 servers" in page.inner_text("#note")
    page.goto(fake.url + UI)
    assert page.locator('tr[data-status="ERROR"]').count() >= 1
    page.goto(fake.url + UI + "/control")
    submit(page, "#reset")
    page.wait_for_selector("#note")
    assert page.inner_text("#note") == "reset to (start)"
    assert len(fake.cloud.servers) == 0
    assert fake.cloud.get_transitions()["server_build"] == 1.0
