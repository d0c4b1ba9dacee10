"""The fakeecs pytest plugin (registered through the ``pytest11`` entry point).

Fixtures
    ``fakeecs_server`` (session)  one fakeecs per test process (per xdist worker), on a
                                   free loopback port; or the ``--fakeecs-url`` endpoint
    ``fakeecs``                   the same cloud, reset for this test: a
                                   :class:`~fakeecs.handle.FakeCloud` handle
    ``fakeecs_openstack``         an ``openstack.Connection`` to it (skipped without openstacksdk)
    ``fakeecs_client``            a small authenticated HTTP client (``fakeecs.testing.client``)

Marker
    ``@pytest.mark.fakeecs(scenario=..., clock=..., transitions=..., seed=...,
    replace=False, virtual_sleep=None, readonly=False)``

Options (command line, or ini without the dashes and with ``_``)
    ``--fakeecs-scenario``  scenario(s) the session cloud starts from (default: default)
    ``--fakeecs-url``       use a fakeecs already running there instead (or, for tests marked
                            ``readonly=True``, any Keystone-fronted endpoint)
    ``--fakeecs-clock``, ``--fakeecs-seed``, ``--fakeecs-username``, ``--fakeecs-password``,
    ``--fakeecs-project``, ``--fakeecs-domain``, ``--fakeecs-region``

When a test that used ``fakeecs`` fails, its report gets a "fakeecs request
journal" section listing the requests the cloud received during the test.
"""

import json
import os
from typing import Any
from urllib.parse import urlencode

import pytest

JOURNAL_SECTION = "fakeecs request journal"
MARKER_KEYS = ("scenario", "clock", "transitions", "seed", "replace", "virtual_sleep", "readonly")
_HANDLE: pytest.StashKey[Any] = pytest.StashKey()
#: the clock presets of fakeecs.model.clock.PRESETS (not imported: the plugin loads light)
CLOCK_PRESETS = ("frozen", "realtime", "auto-step", "auto-finish")

_OPTIONS = (
    # name, ini default, help
    (
        "scenario",
        None,
        "scenario name or path the session cloud starts from (repeatable; default: default)",
    ),
    (
        "url",
        "",
        "run against a fakeecs already running at this URL (or, for tests marked "
        "fakeecs(readonly=True), any Keystone-fronted cloud)",
    ),
    (
        "clock",
        "frozen",
        "clock mode of the session cloud: frozen (default), realtime, "
        "auto-step or auto-finish (frozen; reads move it)",
    ),
    ("seed", "1234", "seed of the id generator (ids repeat from test to test)"),
    ("username", "fakeecs", "user for --fakeecs-url"),
    ("password", "fakeecs", "password for --fakeecs-url"),
    ("project", "fakeecs", "project name for --fakeecs-url"),
    ("domain", "Default", "user and project domain for --fakeecs-url"),
    ("region", "cn-north-4", "region for --fakeecs-url"),
    ("admin_token", "", "X-FakeECS-Admin-Token for a --fakeecs-url fakeecs started with one"),
)


def pytest_addoption(parser):
    group = parser.getgroup("fakeecs", "fakeecs (a fake Huawei Cloud ECS / Nova)")
    for name, default, text in _OPTIONS:
        flag = f"--fakeecs-{name}"
        if name == "scenario":
            group.addoption(
                flag,
                action="append",
                dest="fakeecs_scenario",
                default=None,
                metavar="NAME|PATH",
                help=text,
            )
            parser.addini("fakeecs_scenario", type="linelist", default=[], help=text)
            continue
        if name == "clock":
            group.addoption(
                flag, dest="fakeecs_clock", default=None, choices=CLOCK_PRESETS, help=text
            )
        else:
            group.addoption(flag.replace("_", "-"), dest=f"fakeecs_{name}", default=None, help=text)
        parser.addini(f"fakeecs_{name}", default=default, help=text)
    parser.addini(
        "fakeecs_virtual_sleep",
        type="bool",
        default=True,
        help="on a frozen clock, time.sleep() in the test advances virtual time",
    )
    parser.addini(
        "fakeecs_journal_limit",
        default="200",
        help="most journal entries shown for a failed test (0: no section)",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "fakeecs(scenario=None, clock=None, transitions=None, seed=None, replace=False, "
        "virtual_sleep=None, readonly=False): configure this test's fakeecs world. scenario: "
        "name, path or dict (or a list) added to the session world (replace=True: instead of "
        "it); clock: 'frozen', 'realtime', 'auto-step', 'auto-finish' or {now, mode, speed, "
        "auto}; transitions: {process: "
        "seconds|'manual'|'immediate'} or one of those for every process; readonly: the test "
        "may run against an endpoint without a fakeecs control plane.",
    )


def _setting(config, name):
    value = config.getoption(f"fakeecs_{name}")
    if value is None or value == []:
        value = config.getini(f"fakeecs_{name}")
    return value


def _resolve_path(config, item):
    """Relative scenario paths: from the invocation directory, else the rootdir."""
    if not isinstance(item, str) or not (os.sep in item or item.endswith((".yaml", ".yml"))):
        return item
    if os.path.isabs(item):
        return item
    for base in (str(config.invocation_params.dir), str(config.rootpath)):
        candidate = os.path.join(base, item)
        if os.path.exists(candidate):
            return candidate
    return item


class _Settings:
    def __init__(self, config):
        self.config = config
        scenarios = _setting(config, "scenario") or ["default"]
        self.scenarios = [_resolve_path(config, s) for s in scenarios]
        self.url = (_setting(config, "url") or "").strip() or None
        self.clock = _setting(config, "clock") or "frozen"
        seed = _setting(config, "seed")
        self.seed = int(seed) if seed not in (None, "", "none", "None") else None
        self.credentials = {
            key: _setting(config, key)
            for key in ("username", "password", "project", "domain", "region")
        }
        self.virtual_sleep = config.getini("fakeecs_virtual_sleep")
        self.journal_limit = int(config.getini("fakeecs_journal_limit") or 0)


def pytest_report_header(config):
    settings = _Settings(config)
    if settings.url:
        return f"fakeecs: remote endpoint {settings.url}"
    return (
        f"fakeecs: in-process server per test process (scenario: "
        f"{', '.join(map(str, settings.scenarios))}; clock: {settings.clock}; "
        f"seed: {settings.seed})"
    )


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fakeecs_server(request):
    """The session's cloud: started once per test process on a free port (never a fixed
    one, so xdist workers each get their own), or the ``--fakeecs-url`` endpoint."""
    settings = _Settings(request.config)
    if settings.url:
        from .handle import RemoteFakeCloud

        creds = settings.credentials
        handle = RemoteFakeCloud(
            settings.url,
            username=creds["username"],
            password=creds["password"],
            project_name=creds["project"],
            domain_name=creds["domain"],
            region=creds["region"],
            admin_token=_setting(request.config, "admin_token") or None,
        )
        workerinput = getattr(request.config, "workerinput", None)  # set in xdist workers
        workers = int(workerinput.get("workercount", 1)) if workerinput else 1
        if handle.has_control_plane and workers > 1:
            raise pytest.UsageError(
                f"fakeecs: {workers} xdist workers cannot share the fakeecs at {settings.url}: "
                "each test resets it. Run with -n 0, or drop --fakeecs-url to give every "
                "worker its own in-process server."
            )
        yield handle
        return
    from .handle import FakeCloud

    handle = FakeCloud.start(
        port=0, scenario=settings.scenarios, clock=settings.clock, seed=settings.seed
    )
    try:
        yield handle
    finally:
        handle.stop()


def _marker_options(node):
    options = {}
    for mark in reversed(list(node.iter_markers("fakeecs"))):  # closest marker wins
        if mark.args:
            raise pytest.UsageError(
                f"{node.nodeid}: pytest.mark.fakeecs takes keyword "
                f"arguments only ({', '.join(MARKER_KEYS)})"
            )
        unknown = sorted(set(mark.kwargs) - set(MARKER_KEYS))
        if unknown:
            raise pytest.UsageError(
                f"{node.nodeid}: unknown pytest.mark.fakeecs argument(s) "
                f"{', '.join(unknown)}; known: {', '.join(MARKER_KEYS)}"
            )
        options.update(mark.kwargs)
    return options


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


@pytest.fixture
def fakeecs(request, fakeecs_server):
    """A clean cloud for this test (the session server, reset: no restart, no re-parsing)."""
    handle = fakeecs_server
    settings = _Settings(request.config)
    options = _marker_options(request.node)
    if not handle.has_control_plane:
        if not options.get("readonly"):
            pytest.skip(
                f"{handle.url} is not a fakeecs (no /_fakeecs/ control plane): only "
                "tests marked fakeecs(readonly=True) run against it"
            )
        asked = [key for key in ("scenario", "clock", "transitions", "seed") if options.get(key)]
        if asked:
            pytest.skip(f"fakeecs({', '.join(asked)}=...) needs a fakeecs control plane")
        yield handle
        return
    scenarios = [_resolve_path(request.config, s) for s in _as_list(options.get("scenario"))]
    if scenarios:
        base = [] if options.get("replace") else list(settings.scenarios)
        handle.reset(scenario=base + scenarios)
    else:
        handle.reset()
    if options.get("seed") is not None:
        handle.seed(options["seed"])
    clock = options.get("clock")
    if isinstance(clock, str):
        handle.clock.set(mode=clock)
    elif isinstance(clock, dict):
        handle.clock.set(**clock)
    elif clock is not None:
        raise pytest.UsageError(
            "pytest.mark.fakeecs(clock=...): 'frozen', 'realtime', "
            "'auto-step', 'auto-finish' or {now, mode, speed, auto}"
        )
    transitions = options.get("transitions")
    if isinstance(transitions, (str, int, float)):
        transitions = {name: transitions for name in handle.transitions()}
    if transitions:
        handle.set_transitions(transitions)
    request.node.stash[_HANDLE] = handle
    virtual = options.get("virtual_sleep")
    virtual = settings.virtual_sleep if virtual is None else virtual
    if virtual and handle.clock.mode == "frozen":
        with handle.clock.virtual_sleep():
            yield handle
    else:
        yield handle


@pytest.fixture
def fakeecs_openstack(fakeecs):
    """An ``openstack.Connection`` to the test's cloud (ignores clouds.yaml and OS_* vars)."""
    pytest.importorskip("openstack", reason="openstacksdk is not installed")
    connection = fakeecs.openstack_connection()
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def fakeecs_client(fakeecs):
    """A Keystone-authenticated HTTP client: ``fakeecs_client.compute("GET", "/servers")``."""
    pytest.importorskip("requests", reason="requests is not installed")
    client = fakeecs.client()
    try:
        yield client
    finally:
        client.close()


# -- the journal on failure ------------------------------------------------------------------


def format_journal(entries, dropped=0):
    """One line per request: ``#seq METHOD path -> status`` plus what else is known."""
    lines = []
    if dropped:
        lines.append(f"({dropped} older entries were dropped from the bounded journal)")
    for entry in entries:
        path = entry.get("path", "?")
        query = entry.get("query")
        if query:
            path += "?" + (urlencode(query, doseq=True) if isinstance(query, dict) else str(query))
        text = f"#{entry.get('seq', '?')} {entry.get('method', '?')} {path}"
        if entry.get("action"):
            text += f" [{entry['action']}]"
        text += f" -> {entry.get('status', '?')}"
        extras = []
        if entry.get("fault"):
            extras.append(f"fault {entry['fault']}")
        if entry.get("project_name"):
            extras.append(f"project {entry['project_name']}")
        duration = entry.get("duration_ms")
        if duration is not None:
            extras.append(f"{float(duration):.1f} ms")
        if extras:
            text += "  (" + ", ".join(extras) + ")"
        body = entry.get("body")
        if body not in (None, "", {}) and entry.get("method") not in ("GET", "HEAD"):
            shown = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
            if "/auth/tokens" in entry.get("path", ""):
                shown = "(credentials hidden)"
            text += f"\n      request: {_clip(shown)}"
        if (entry.get("status") or 0) >= 400:
            message = _error_message(entry.get("response"))
            if message:
                text += f"\n      error: {_clip(message)}"
        lines.append(text)
    return "\n".join(lines) if lines else "(no requests reached fakeecs during this test)"


def _clip(text, limit=300):
    text = str(text).replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "..."


def _error_message(body):
    """The message of an error body of any family (Nova, Glance, Keystone, Huawei, control)."""
    if isinstance(body, str):
        return body
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("message"), str):
        return body["message"]
    for key in ("error_msg", "error_description"):
        if isinstance(body.get(key), str):
            return body[key]
    for value in body.values():
        if isinstance(value, dict):
            inner = value.get("message") or value.get("error_msg")
            if isinstance(inner, str):
                code = value.get("code") or value.get("error_code")
                return f"{code}: {inner}" if code and not isinstance(code, int) else inner
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed or report.when not in ("setup", "call"):
        return
    handle = item.stash.get(_HANDLE, None)
    if handle is None or not handle.has_control_plane:
        return
    limit = int(item.config.getini("fakeecs_journal_limit") or 0)
    if limit <= 0:
        return
    try:
        page = handle.journal(limit=limit)
    except Exception as error:  # never hide the test's own failure
        report.sections.append((JOURNAL_SECTION, f"(could not read the journal: {error})"))
        return
    report.sections.append((JOURNAL_SECTION, format_journal(page["requests"], page["dropped"])))
