"""``fakeecs serve --state FILE``: the checks of ``PUT /_fakeecs/state``, the file named in
the message, a non-zero exit before anything is bound."""

import json
import socket

import pytest

from fakeecs.api import create_app
from fakeecs.cli import main
from fakeecs.server import build_cloud


@pytest.fixture
def export():
    return build_cloud(["default"], seed=3, clock="frozen").export_state()


def refused(tmp_path, capsys, raw, port=0):
    path = tmp_path / "state.json"
    path.write_bytes(raw)
    assert main(["serve", "--port", str(port), "--state", str(path)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "serving on" not in captured.out
    return path, captured.err


def put_message(raw):
    """What ``PUT /_fakeecs/state`` answers for the same bytes."""
    response = (
        create_app(build_cloud(["default"]))
        .test_client()
        .put("/_fakeecs/state", data=raw, content_type="application/json")
    )
    assert response.status_code == 400
    return response.get_json()["error"]["message"]


@pytest.mark.parametrize(
    "change",
    [
        {"stores": None},
        {"stores": []},
        {"clock": None},
        {"heap": "x"},
        {"seq": "1"},
        {"format": "other"},
    ],
    ids=lambda change: json.dumps(change),
)
def test_a_state_the_http_import_refuses_is_refused_with_the_same_message(
    tmp_path, capsys, export, change
):
    raw = json.dumps(dict(export, **change)).encode()
    path, err = refused(tmp_path, capsys, raw)
    assert err == f"fakeecs: {path}: {put_message(raw)}\n"


@pytest.mark.parametrize(
    "raw",
    [b"[" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000, b"\xff\xfe", b"", b"{"],
    ids=["deep-list", "deep-object", "not-utf8", "empty", "truncated"],
)
def test_a_file_that_is_not_a_state_is_refused(tmp_path, capsys, raw):
    path, err = refused(tmp_path, capsys, raw)
    assert err.startswith(f"fakeecs: {path}: ")
    assert err == f"fakeecs: {path}: {put_message(raw)}\n"


def test_the_refusal_comes_before_binding(tmp_path, capsys):
    """With the port taken, a bind would fail differently: the state error comes first."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        _, err = refused(
            tmp_path,
            capsys,
            b'{"format": "fakeecs-state", "version": 1, "stores": null}',
            port=taken.getsockname()[1],
        )
    assert "stores: Field may not be null." in err and "cannot listen" not in err


def test_a_good_state_file_still_loads(tmp_path, export):
    from fakeecs.cli import load_state_file

    path = tmp_path / "state.json"
    path.write_text(json.dumps(export))
    cloud = build_cloud(["default"], seed=9)
    load_state_file(cloud, str(path))
    assert cloud.export_state()["stores"] == export["stores"]
