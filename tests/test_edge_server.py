"""The servers fakeecs can run on: start, serve many keep-alive clients, survive stalled
clients, stop."""

import importlib.util
import socket

import pytest
import requests

from fakeecs.api import create_app
from fakeecs.server import SERVER_CLASSES, HTTPServer, build_cloud

#: the servers whose package is installed (cheroot and waitress come with the bench extra)
AVAILABLE = [
    name
    for name in SERVER_CLASSES
    if name not in ("cheroot", "waitress") or importlib.util.find_spec(name) is not None
]


@pytest.fixture(params=AVAILABLE)
def server(request):
    app = create_app(build_cloud(["default"], seed=1, clock="frozen"))
    running = SERVER_CLASSES[request.param](app, "127.0.0.1", 0).start()
    yield running
    running.stop()
    assert not running.running


def test_the_default_server_is_one_of_them():
    assert HTTPServer in SERVER_CLASSES.values()


def test_many_keep_alive_clients_keep_their_connections(server):
    """Past cheroot's default keep-alive limit (10): no reset, one connection per client."""
    sessions = []
    for _ in range(24):
        client = requests.Session()
        client.trust_env = False
        sessions.append(client)
    for _ in range(3):
        for client in sessions:
            assert client.get(server.url + "/v3", timeout=10).status_code == 200
    for client in sessions:
        pools = client.get_adapter("http://").poolmanager.pools._container.values()
        assert sum(pool.num_connections for pool in pools) == 1
        client.close()


def test_clients_stalled_mid_body_leave_others_answered(server):
    host, port = "127.0.0.1", server.port
    stalled = []
    try:
        for _ in range(8):
            sock = socket.create_connection((host, port), timeout=10)
            sock.sendall(
                b"POST /v3/auth/tokens HTTP/1.1\r\nHost: x\r\n"
                b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"au'
            )
            stalled.append(sock)
        response = requests.get(server.url + "/v3", timeout=10)
        assert response.status_code == 200
    finally:
        for sock in stalled:
            sock.close()


def test_a_port_in_use_is_an_os_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        for cls in [SERVER_CLASSES[name] for name in AVAILABLE]:
            with pytest.raises(OSError):
                cls(
                    create_app(build_cloud(["default"])), "127.0.0.1", taken.getsockname()[1]
                ).start()
