"""Tokens expire on the virtual clock: ``token_ttl`` in a scenario, 401 past it, re-auth works."""

import pytest
from conftest import PROJECT_ID, Api

from fakeecs.api import create_app
from fakeecs.model import scenario
from fakeecs.model.clock import parse_time
from fakeecs.model.cloud import TOKEN_EXPIRES_AT
from fakeecs.server import build_cloud

UNAUTHORIZED = {
    "error": {
        "code": 401,
        "title": "Unauthorized",
        "message": "The request you have made requires authentication.",
    }
}


@pytest.fixture
def short():
    """The default world whose tokens live 60 virtual seconds."""
    cloud = build_cloud(["default", {"token_ttl": 60}], seed=1234, clock="frozen")
    return Api(create_app(cloud))


def issued(api):
    response = api.get("/v3/auth/tokens", headers={"X-Subject-Token": api.token})
    assert response.status_code == 200
    return response.get_json()["token"]


def test_without_a_ttl_tokens_expire_far_in_the_future(api):
    assert issued(api)["expires_at"] == TOKEN_EXPIRES_AT
    api.cloud.clock.advance(10 * 365 * 86400)
    assert api.get(f"/v2.1/{PROJECT_ID}/servers").status_code == 200


def test_expires_at_is_issued_at_plus_the_ttl(short):
    token = issued(short)
    assert parse_time(token["expires_at"]) - parse_time(token["issued_at"]) == pytest.approx(60)


def test_a_token_is_good_until_its_expiry_then_401(short):
    path = f"/v2.1/{PROJECT_ID}/servers"
    short.cloud.clock.advance(59.5)
    assert short.get(path).status_code == 200
    short.cloud.clock.advance(0.5)
    response = short.get(path)
    assert response.status_code == 401
    assert response.get_json() == UNAUTHORIZED
    assert response.headers["WWW-Authenticate"].startswith("Keystone uri=")
    for other in ("/image/v2/images", f"/volume/v3/{PROJECT_ID}/volumes", "/v2/cloudimages"):
        assert short.get(other).status_code == 401


def test_re_authentication_after_expiry_works(short):
    short.cloud.clock.advance(120)
    assert short.get(f"/v2.1/{PROJECT_ID}/servers").status_code == 401
    short.token = short.login("fakeecs")
    assert short.get(f"/v2.1/{PROJECT_ID}/servers").status_code == 200


def test_an_expired_token_cannot_be_exchanged_for_another(short):
    short.cloud.clock.advance(61)
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": short.token}}}}
    response = short.post("/v3/auth/tokens", json=body, token=False)
    assert response.status_code == 401
    assert response.get_json() == UNAUTHORIZED


def test_a_rescoped_token_keeps_its_parents_expiry(short):
    parent = issued(short)["expires_at"]
    short.cloud.clock.advance(30)
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": short.token}}}}
    response = short.post("/v3/auth/tokens", json=body, token=False)
    assert response.status_code == 201
    assert response.get_json()["token"]["expires_at"] == parent


def test_validating_an_expired_token_is_keystones_404(short):
    checker = short.login("fakeecs")
    short.cloud.clock.advance(61)
    old = short.token
    short.token = short.login("fakeecs")
    response = short.get("/v3/auth/tokens", headers={"X-Subject-Token": old})
    assert response.status_code == 404
    assert response.get_json() == {
        "error": {"code": 404, "title": "Not Found", "message": "Failed to validate token"}
    }
    assert checker != short.token


@pytest.mark.parametrize("value", [0, -5, "soon", True])
def test_a_bad_token_ttl_is_refused_by_the_scenario(value):
    with pytest.raises(scenario.ScenarioError, match="token_ttl: "):
        build_cloud(["default", {"token_ttl": value}])


def test_openstacksdk_re_authenticates_after_its_token_expires():
    """keystoneauth answers a 401 by authenticating again and retrying the request."""
    from fakeecs.handle import FakeCloud

    with FakeCloud.start(scenario=["default", {"token_ttl": 600}], seed=5) as fake:
        conn = fake.openstack_connection()
        try:
            assert list(conn.compute.flavors())
            first = conn.session.get_token()
            fake.clock.advance(601)
            assert list(conn.compute.flavors())
            assert conn.session.get_token() != first
        finally:
            conn.close()
