"""OpenStack's limits at fakeecs's edge, each with its exact status and body.

* JSON bodies over 112 KiB (oslo.middleware's ``max_request_body_size``): 413;
* JSON nested too deep to parse: 400 in each family's words;
* numbers too large to mean anything in headers and queries: 400 (406 for microversions);
* image data is not JSON and uploads at any size.
"""

import json

import pytest
import requests
from conftest import BASE_IMAGE, PROJECT_ID, fault, state

from fakeecs.api.identity import MALFORMED as KEYSTONE_MALFORMED
from fakeecs.api.jsonbody import MAX_BODY_BYTES, MAX_DEPTH

#: oslo.middleware's sizelimit answer, rendered by WebOb as JSON (Nova, Cinder, Keystone)
WEBOB_413 = {
    "message": "Request is too large.<br /><br />\n\n\n",
    "code": "413 Request Entity Too Large",
    "title": "Request Entity Too Large",
}
JSON = {"Content-Type": "application/json"}
DEEP = b"[" * 100_000  # past Python's recursion limit, under the size limit


def over_limit(size=MAX_BODY_BYTES + 1):
    """A JSON document of exactly ``size`` bytes."""
    return b'{"x": "' + b"a" * (size - 9) + b'"}'


def test_the_limit_is_osloes_default():
    assert MAX_BODY_BYTES == 114688
    assert len(over_limit()) == MAX_BODY_BYTES + 1


@pytest.mark.parametrize(
    "path",
    [
        "/v3/auth/tokens",
        f"/v2.1/{PROJECT_ID}/servers",
        f"/volume/v3/{PROJECT_ID}/volumes",
        f"/v2.1/{PROJECT_ID}/servers/any/action",
    ],
)
def test_openstack_json_bodies_over_112_kib_get_the_sizelimit_413(api, path):
    before = state(api.cloud)
    response = api.post(path, data=over_limit(), headers=JSON)
    assert response.status_code == 413
    assert response.get_json() == WEBOB_413
    assert state(api.cloud) == before


def test_the_413_comes_before_authentication(api):
    """oslo's size limiter runs before keystonemiddleware in Nova's pipeline."""
    response = api.post(f"/v2.1/{PROJECT_ID}/servers", data=over_limit(), headers=JSON, token=False)
    assert response.status_code == 413
    assert response.get_json() == WEBOB_413


def test_a_body_at_the_limit_is_read(api):
    response = api.post(
        f"/v2.1/{PROJECT_ID}/servers", data=over_limit(MAX_BODY_BYTES), headers=JSON
    )
    message = fault(response, 400, "badRequest")  # read and validated, not refused unread
    assert "'server' is a required property" in message


def test_glance_json_over_the_limit_is_a_glance_413(api):
    response = api.post("/image/v2/images", data=over_limit(), headers=JSON)
    assert response.status_code == 413
    assert response.get_json() == {
        "message": "Request is too large.",
        "code": "413 Request Entity Too Large",
        "title": "Request Entity Too Large",
    }


def test_ims_json_over_the_limit_is_an_ims_413(api):
    response = api.post("/v2/cloudimages/action", data=over_limit(), headers=JSON)
    assert response.status_code == 413
    assert response.get_json() == {
        "error": {"code": "IMG.0001", "message": "Request is too large."}
    }


def login(url):
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
            }
        }
    }
    return requests.post(f"{url}/v3/auth/tokens", json=body, timeout=10).headers["X-Subject-Token"]


def test_a_chunked_body_over_the_limit_is_refused_too(live):
    """No Content-Length: the body is read when the view asks for it, then refused."""

    def chunks():
        for _ in range(4):
            yield b"[" + b"1," * (MAX_BODY_BYTES // 8) + b"1]"

    response = requests.post(
        f"{live.url}/v2.1/{PROJECT_ID}/servers",
        data=chunks(),
        headers={"Content-Type": "application/json", "X-Auth-Token": login(live.url)},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json() == WEBOB_413


def test_image_data_uploads_at_any_size(api):
    image = api.post(
        "/image/v2/images", json={"name": "big", "disk_format": "qcow2", "container_format": "bare"}
    ).get_json()
    data = b"\x00\x01" * (MAX_BODY_BYTES * 2)
    response = api.put(
        f"/image/v2/images/{image['id']}/file",
        data=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 204, response.get_data(as_text=True)
    assert api.get(f"/image/v2/images/{image['id']}").get_json()["size"] == len(data)


def test_a_10_mib_body_over_http_is_refused_without_being_parsed(live):
    """A real client sending 10 MiB gets the 413 (not a reset), and its connection goes on."""
    client = requests.Session()
    client.trust_env = False
    response = client.post(
        f"{live.url}/v2.1/{PROJECT_ID}/servers",
        data=b"[" * (10 << 20),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 413
    assert response.json() == WEBOB_413
    assert len(response.content) < 200
    assert client.get(f"{live.url}/v3", timeout=10).status_code == 200


# -- nesting ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path,expected",
    [
        (
            f"/v2.1/{PROJECT_ID}/servers",
            {"badRequest": {"code": 400, "message": "Malformed request body"}},
        ),
        (
            f"/v2.1/{PROJECT_ID}/servers/x/action",
            {"badRequest": {"code": 400, "message": "Malformed request body"}},
        ),
        (
            f"/volume/v3/{PROJECT_ID}/volumes",
            {"badRequest": {"code": 400, "message": "Malformed request body"}},
        ),
        (
            "/v3/auth/tokens",
            {"error": {"code": 400, "title": "Bad Request", "message": KEYSTONE_MALFORMED}},
        ),
        (
            "/image/v2/images",
            {
                "message": "Malformed JSON in request body.",
                "code": "400 Bad Request",
                "title": "Bad Request",
            },
        ),
        (
            "/v2/cloudimages/action",
            {
                "error": {
                    "code": "IMG.0001",
                    "message": ("The request message format is invalid: the body is not JSON."),
                }
            },
        ),
        ("/_fakeecs/faults", {"error": {"status": 400, "message": "the body is not valid JSON"}}),
    ],
)
@pytest.mark.parametrize(
    "body",
    [DEEP, b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), b'{"a":' * 5000 + b"1" + b"}" * 5000],
    ids=["past-recursion-limit", "one-past-the-limit", "deep-objects"],
)
def test_nesting_too_deep_is_malformed_in_each_familys_words(api, path, expected, body):
    before = state(api.cloud)
    response = api.post(path, data=body, headers=JSON)
    assert response.status_code == 400
    assert response.get_json() == expected
    assert state(api.cloud) == before


def test_nesting_at_the_limit_still_parses(api):
    body = b'{"server": ' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}"
    response = api.post(f"/v2.1/{PROJECT_ID}/servers", data=body, headers=JSON)
    message = fault(response, 400, "badRequest")
    assert message.startswith("Invalid input for field/attribute server.")


def test_brackets_inside_strings_do_not_count(api):
    body = json.dumps({"server": {"name": "[" * 5000}}).encode()
    response = api.post(f"/v2.1/{PROJECT_ID}/servers", data=body, headers=JSON)
    assert "Malformed" not in fault(response, 400, "badRequest")


def test_a_lone_surrogate_is_malformed(api):
    response = api.post("/image/v2/images", data=b'{"name": "\\ud800"}', headers=JSON)
    assert response.status_code == 400
    assert response.get_json()["message"] == "Malformed JSON in request body."


# -- numbers too large to mean anything -----------------------------------------------------------


def test_a_thousand_digit_compute_microversion_is_406(api):
    version = "2." + "9" * 5000
    response = api.get(
        f"/v2.1/{PROJECT_ID}/servers", headers={"OpenStack-API-Version": f"compute {version}"}
    )
    assert fault(response, 406, "computeFault") == (
        f"Version {version} is not supported by the API. Minimum is 2.1 and maximum is 2.60."
    )


def test_a_thousand_digit_legacy_microversion_header_is_406(api):
    version = "9" * 5000 + ".1"
    response = api.get(
        f"/v2.1/{PROJECT_ID}/servers", headers={"X-OpenStack-Nova-API-Version": version}
    )
    assert fault(response, 406, "computeFault").startswith(f"Version {version} is not supported")


def test_a_thousand_digit_volume_microversion_is_406(api):
    version = "3." + "1" * 4400
    response = api.get(
        f"/volume/v3/{PROJECT_ID}/volumes", headers={"OpenStack-API-Version": f"volume {version}"}
    )
    assert fault(response, 406, "computeFault") == (
        f"Version {version} is not supported by the API. Minimum is 3.0 and maximum is 3.59."
    )


def test_a_huge_cinder_limit_is_400(api):
    response = api.get(f"/volume/v3/{PROJECT_ID}/volumes", query_string={"limit": "9" * 5000})
    assert fault(response, 400, "badRequest") == (
        "Invalid input received: limit must be <= 9223372036854775807"
    )


def test_a_huge_nova_limit_is_400(api):
    response = api.get(f"/v2.1/{PROJECT_ID}/servers", query_string={"limit": "9" * 5000})
    assert fault(response, 400, "badRequest") == "limit param must be <= 9223372036854775807"


def test_the_largest_meaningful_limit_is_accepted(api):
    response = api.get(f"/v2.1/{PROJECT_ID}/servers", query_string={"limit": str(2**63 - 1)})
    assert response.status_code == 200
    response = api.get(f"/volume/v3/{PROJECT_ID}/volumes", query_string={"limit": str(2**63 - 1)})
    assert response.status_code == 200


def test_a_non_integer_limit_is_still_refused_as_before(api):
    response = api.get(f"/v2.1/{PROJECT_ID}/servers", query_string={"limit": "1e5"})
    assert fault(response, 400, "badRequest") == "limit param must be an integer"


def test_the_image_behind_nova_is_unaffected(api):
    """Sanity: the edge leaves an ordinary request alone."""
    response = api.get(f"/v2.1/{PROJECT_ID}/images/{BASE_IMAGE}")
    assert response.status_code == 200
