"""Identity, version discovery, microversions and the error formats around compute."""

import pytest
from conftest import PROJECT_ID


def test_keystone_discovery_is_unauthenticated(api):
    root = api.get("/", token=False)
    assert root.status_code == 300
    entry = root.get_json()["versions"]["values"][0]
    assert entry["id"].startswith("v3") and entry["status"] == "stable"
    assert entry["links"][0]["rel"] == "self"
    assert api.get("/v3", token=False).get_json()["version"]["id"] == entry["id"]


def test_token_has_subject_header_expiry_and_catalog(api):
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": "fakeecs",
                        "password": "fakeecs",
                        "domain": {"name": "Default"},
                    }
                },
            },
            "scope": {"project": {"id": PROJECT_ID}},
        }
    }
    response = api.client.post("/v3/auth/tokens", json=body)
    assert response.status_code == 201
    token = response.get_json()["token"]
    assert response.headers["X-Subject-Token"]
    assert token["expires_at"].startswith("2099")
    assert sorted(r["name"] for r in token["roles"]) == ["admin", "member", "reader"]
    urls = {entry["type"]: entry["endpoints"][0]["url"] for entry in token["catalog"]}
    assert urls["compute"].endswith(f"/v2.1/{PROJECT_ID}")
    assert urls["image"].endswith("/image")
    assert urls["volumev3"].endswith(f"/volume/v3/{PROJECT_ID}")
    assert urls["block-storage"] == urls["volumev3"]
    assert all(e["endpoints"][0]["region_id"] == "cn-north-4" for e in token["catalog"])


def test_token_method_rescopes(api):
    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": api.token}},
            "scope": {"project": {"name": "fakeecs", "domain": {"name": "Default"}}},
        }
    }
    response = api.client.post("/v3/auth/tokens", json=body)
    assert response.status_code == 201
    check = api.get(
        "/v3/auth/tokens", headers={"X-Subject-Token": response.headers["X-Subject-Token"]}
    )
    assert check.status_code == 200
    assert check.get_json()["token"]["project"]["id"] == PROJECT_ID


@pytest.mark.parametrize(
    "body",
    [
        {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": "fakeecs",
                            "password": "wrong",
                            "domain": {"name": "Default"},
                        }
                    },
                }
            }
        },
        {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": "nobody", "password": "x", "domain": {"name": "Default"}}
                    },
                }
            }
        },
    ],
)
def test_bad_credentials_are_401_keystone_body(api, body):
    response = api.client.post("/v3/auth/tokens", json=body)
    assert response.status_code == 401
    assert response.get_json() == {
        "error": {
            "code": 401,
            "title": "Unauthorized",
            "message": "The request you have made requires authentication.",
        }
    }


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'{"auth": 1}', b'{"auth": {"identity": {}}}'])
def test_malformed_token_requests_are_400(api, raw):
    response = api.client.post("/v3/auth/tokens", data=raw, content_type="application/json")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == 400 and error["title"] == "Bad Request" and error["message"]


def test_compute_without_token_is_401(api):
    response = api.get(api.compute("/servers"), token=False)
    assert response.status_code == 401
    assert (
        response.get_json()["error"]["message"]
        == "The request you have made requires authentication."
    )
    assert response.headers["WWW-Authenticate"].startswith("Keystone uri=")
    bad = api.get(api.compute("/servers"), token=False, headers={"X-Auth-Token": "nope"})
    assert bad.status_code == 401


@pytest.mark.parametrize("path", ["/v2.1", "/v2.1/"])
def test_compute_version_document(api, path):
    response = api.get(path, token=False)
    assert response.status_code == 200
    version = response.get_json()["version"]
    assert (version["id"], version["min_version"], version["version"]) == ("v2.1", "2.1", "2.60")
    assert version["links"][0]["rel"] == "self"


def test_project_version_document_needs_token(api):
    assert api.get(f"/v2.1/{PROJECT_ID}", token=False).status_code == 401
    assert api.get(f"/v2.1/{PROJECT_ID}").get_json()["version"]["version"] == "2.60"
    assert api.get("/v2", token=False).get_json()["version"]["id"] == "v2.0"


@pytest.mark.parametrize(
    "headers,expected",
    [
        ({}, "2.1"),
        ({"X-OpenStack-Nova-API-Version": "2.26"}, "2.26"),
        ({"OpenStack-API-Version": "compute 2.45"}, "2.45"),
        ({"OpenStack-API-Version": "volume 3.5, compute 2.50"}, "2.50"),
        ({"OpenStack-API-Version": "compute latest"}, "2.60"),
        ({"OpenStack-API-Version": "compute 2.30", "X-OpenStack-Nova-API-Version": "2.10"}, "2.30"),
    ],
)
def test_microversion_negotiation(api, headers, expected):
    response = api.get(api.compute("/servers"), headers=headers)
    assert response.status_code == 200
    assert response.headers["X-OpenStack-Nova-API-Version"] == expected
    assert response.headers["OpenStack-API-Version"] == f"compute {expected}"


@pytest.mark.parametrize("value", ["2.01", "2.1.3", "2", "LATEST", "abc"])
def test_malformed_microversion_is_400_without_version_headers(api, value):
    response = api.get(api.compute("/servers"), headers={"X-OpenStack-Nova-API-Version": value})
    assert response.status_code == 400
    assert response.get_json() == {
        "badRequest": {
            "code": 400,
            "message": f"API Version String {value} "
            "is of invalid format. Must be of format MajorNum.MinorNum.",
        }
    }
    assert "X-OpenStack-Nova-API-Version" not in response.headers


@pytest.mark.parametrize("value", ["2.61", "2.0", "3.0", "2.200"])
def test_out_of_range_microversion_is_406_compute_fault(api, value):
    response = api.get(
        api.compute("/servers"), headers={"OpenStack-API-Version": f"compute {value}"}
    )
    assert response.status_code == 406
    assert response.get_json() == {
        "computeFault": {
            "code": 406,
            "message": f"Version {value} is not "
            "supported by the API. Minimum is 2.1 and maximum is 2.60.",
        }
    }
    assert response.headers["X-OpenStack-Nova-API-Version"] == value


def test_unknown_compute_route_is_bare_webob_404(api):
    response = api.get(api.compute("/servers/x/action"), headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["title"] == "Not Found"
    plain = api.get(api.compute("/nothing-here"))
    assert plain.status_code == 404
    assert plain.headers["Content-Type"].startswith("text/plain")
    assert plain.get_data(as_text=True).startswith("404 Not Found")


def test_non_hex_project_segment_is_404(api):
    assert api.get("/v2.1/not_hex_project/servers").status_code == 404


def test_unexpected_exception_is_a_nova_500_not_a_traceback(api, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(api.cloud, "list_servers", boom)
    response = api.get(api.compute("/servers"))
    assert response.status_code == 500
    message = response.get_json()["computeFault"]["message"]
    assert message.startswith("Unexpected API Error.") and "Traceback" not in message
