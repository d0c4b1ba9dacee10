"""``fakeecs serve``: --state/--save-state, --admin-token, loopback-only control plane."""

import json
import os
import re
import signal
import subprocess
import sys

import pytest
import requests

from fakeecs.cli import connection_text, control_config, is_loopback, main
from fakeecs.server import build_cloud


def serve(*args):
    process = subprocess.Popen(
        [sys.executable, "-m", "fakeecs.cli", "serve", "--host", "127.0.0.1", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    first = process.stdout.readline()
    match = re.search(r"serving on (http://\S+)", first)
    if match is None:
        process.kill()
        raise AssertionError(f"fakeecs did not start: {first!r} {process.stderr.read()!r}")
    return process, match.group(1)


def stop(process):
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)
    return process.returncode, out, err


def test_save_state_on_shutdown_and_start_from_it(tmp_path):
    path = tmp_path / "state.json"
    process, url = serve("--clock", "frozen", "--seed", "5", "--state", str(path), "--save-state")
    try:
        added = requests.post(
            url + "/_fakeecs/scenarios", json={"name": "server-in-error"}, timeout=10
        ).json()
        assert added["added"] == {"servers": 2}
        before = requests.get(url + "/_fakeecs/state", timeout=10).json()
    finally:
        code, out, _ = stop(process)
    assert code == 0 and f"state saved to {path}" in out
    saved = json.loads(path.read_text())
    assert saved == before

    process, url = serve("--state", str(path))
    try:
        assert requests.get(url + "/_fakeecs/state", timeout=10).json() == saved
        # the file's state is where reset goes back to
        requests.post(url + "/_fakeecs/reset", json={"scenario": "default"}, timeout=10)
        requests.post(url + "/_fakeecs/reset", timeout=10)
        assert requests.get(url + "/_fakeecs/state", timeout=10).json() == saved
    finally:
        stop(process)


def test_admin_token_guards_the_control_plane():
    process, url = serve("--admin-token", "t0ken")
    try:
        response = requests.get(url + "/_fakeecs/health", timeout=10)
        assert response.status_code == 401
        assert (
            response.json()["error"]["message"]
            == "this control plane needs the X-FakeECS-Admin-Token header"
        )
        response = requests.get(
            url + "/_fakeecs/health", headers={"X-FakeECS-Admin-Token": "t0ken"}, timeout=10
        )
        assert response.status_code == 200 and response.json()["status"] == "ok"
    finally:
        stop(process)


def test_loopback_detection_and_control_config():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert control_config("127.0.0.1", None) == {"enabled": True, "admin_token": None}
    assert control_config("0.0.0.0", None) == {"enabled": False, "admin_token": None}
    assert control_config("0.0.0.0", "x") == {"enabled": True, "admin_token": "x"}
    cloud = build_cloud(["default"])
    text = connection_text("http://h:1", cloud, control_config("0.0.0.0", None))
    assert "control:    off (non-loopback bind; use --admin-token to enable)" in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["--save-state"], "--save-state needs --state FILE"),
        (["--state", "/nonexistent/state.json"], "No such file or directory"),
        (["--journal-size", "0"], "--journal-size must be at least 1"),
    ],
)
def test_bad_arguments(capsys, args, message):
    assert main(["serve", "--port", "0", *args]) == 2
    assert message in capsys.readouterr().err


def test_a_bad_state_file_is_refused(tmp_path, capsys):
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"format": "fakeecs-state", "version": 9}))
    assert main(["serve", "--port", "0", "--state", str(path)]) == 2
    assert f"{path}: state.version: this fakeecs reads version 1, not 9" in capsys.readouterr().err
