"""Shared fixtures (a fresh cloud per test, a Flask client, a live server) and assertions."""

import json
import os
import subprocess
import sys

import pytest

from fakeecs.api import create_app
from fakeecs.server import HTTPServer, build_cloud
from fakeecs.testing.client import password_auth

PROJECT_ID = "0fae0ec5c0de4e1bb2b3c4d5e6f70819"
BASE_IMAGE = "5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01"
CENTOS_IMAGE = "5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a02"


@pytest.fixture
def cloud():
    """The default world on a frozen clock, seeded for stable ids."""
    return build_cloud(["default"], seed=1234, clock="frozen")


@pytest.fixture
def app(cloud):
    return create_app(cloud)


class Api:
    """A Flask test client that authenticates as one of the default users."""

    def __init__(self, app, user="fakeecs"):
        self.client = app.test_client()
        self.cloud = app.extensions["fakeecs"]
        self.token = self.login(user)

    def login(self, user, password=None):
        body = password_auth(user, password or user)
        response = self.client.post("/v3/auth/tokens", json=body)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.headers["X-Subject-Token"]

    def request(self, method, path, *, token=True, headers=None, **kwargs):
        headers = dict(headers or {})
        if token:
            headers.setdefault("X-Auth-Token", self.token)
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def put(self, path, **kwargs):
        return self.request("PUT", path, **kwargs)

    def compute(self, path):
        return f"/v2.1/{PROJECT_ID}{path}"

    def boot(self, name="web-01", zone="cn-north-4a", image=BASE_IMAGE, settle=True, **extra):
        """Create a server through the API and (by default) let it become ACTIVE."""
        server = {
            "name": name,
            "flavorRef": "s6.small.1",
            "imageRef": image,
            "availability_zone": zone,
            "networks": "auto",
        }
        server.update(extra)
        response = self.post(
            self.compute("/servers"),
            json={"server": server},
            headers={"OpenStack-API-Version": "compute 2.60"},
        )
        assert response.status_code == 202, response.get_data(as_text=True)
        server_id = response.get_json()["server"]["id"]
        if settle:
            self.cloud.clock.advance(5)
        return server_id


@pytest.fixture
def api(app):
    return Api(app)


@pytest.fixture
def live(cloud):
    """The app served over real HTTP on an ephemeral loopback port."""
    server = HTTPServer(create_app(cloud), "127.0.0.1", 0).start()
    yield server
    server.stop()


def state(cloud):
    """Every registered store, settled, as comparable JSON (to show nothing changed)."""
    with cloud.lock:
        cloud.settle()
        out = {}
        for name in cloud.stores:
            store = getattr(cloud, name)
            items = store.values() if isinstance(store, dict) else store
            out[name] = sorted(
                json.dumps(item.to_dict(), sort_keys=True, default=str) for item in items
            )
        return out


def fault(response, status, name):
    """Assert a Nova/Cinder fault body ``{name: {"code": status, ...}}``; return its message."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert list(body) == [name], body
    assert body[name]["code"] == status
    return body[name]["message"]


def openstack_cli(url, tmp_path):
    """``run(*args, parse=True)``: the ``openstack`` CLI against ``url`` as user fakeecs,
    with ``-f json`` parsed (``parse=False``: the raw output); a failure fails the test."""
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(f"""clouds:
  fakeecs:
    auth: {{auth_url: {url}/v3, username: fakeecs, password: fakeecs,
           project_name: fakeecs, user_domain_name: Default, project_domain_name: Default}}
    region_name: cn-north-4
    identity_api_version: 3
""")
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(clouds), OS_CLOUD="fakeecs")
    cli = os.path.join(os.path.dirname(sys.executable), "openstack")

    def run(*args, parse=True):
        result = subprocess.run(
            [cli, *args, *(["-f", "json"] if parse else [])],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if parse else result.stdout

    return run
