"""fakeecs.testing.strategies: what they generate, and fakeecs against their oracle."""

import unicodedata

import pytest
from conftest import PROJECT_ID, Api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakeecs.api import create_app
from fakeecs.server import build_cloud
from fakeecs.testing import strategies as fst

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


@pytest.fixture(scope="module")
def world():
    """One cloud with an ACTIVE server, shared by every example of this module."""
    cloud = build_cloud(["default"], seed=99, clock="frozen")
    api = Api(create_app(cloud))
    server_id = api.boot()
    return api, server_id


def action(api, server_id, body, headers):
    return api.post(f"/v2.1/{PROJECT_ID}/servers/{server_id}/action", json=body, headers=headers)


# -- the generators themselves ------------------------------------------------------------


@FAST
@given(fst.valid_image_names())
def test_valid_names_keep_the_rules(name):
    assert 1 <= len(name) <= 255
    assert len(name.encode("utf-8")) <= 242
    assert unicodedata.category(name[0]) != "Zs" and unicodedata.category(name[-1]) != "Zs"
    assert all(ord(ch) < 0xFFFF and not unicodedata.category(ch).startswith("C") for ch in name)


@FAST
@given(fst.boundary_names(valid=True))
def test_boundary_names_sit_at_the_byte_limit(name):
    assert 240 <= len(name.encode("utf-8")) <= 242
    assert fst.name_problem(name) is None


@FAST
@given(fst.boundary_names(valid=False))
def test_boundary_names_just_over_the_byte_limit(name):
    assert 243 <= len(name.encode("utf-8")) <= 245
    assert fst.name_problem(name) == "too_many_bytes"


def test_name_oracle_examples():
    assert fst.name_problem("镜" * 80) is None  # 240 bytes
    assert fst.name_problem("镜" * 81) == "too_many_bytes"  # 243 bytes, 81 characters
    assert fst.name_problem("x" * 256) == "too_long"
    assert fst.name_problem("") == "too_short"
    assert fst.name_problem(" lead") == "format"
    assert fst.name_problem("a\u3000") == "format"
    assert fst.name_problem("in side") is None
    assert fst.name_problem("emoji😀") == "format"
    assert fst.name_problem(5) == "type"


@FAST
@given(fst.metadata_at_quota())
def test_quota_metadata_straddles_128(metadata):
    assert 127 <= len(metadata) <= 131
    assert fst.metadata_problem(metadata) is None


@FAST
@given(fst.invalid_metadata())
def test_invalid_metadata_is_invalid(metadata):
    assert fst.metadata_problem(metadata) is not None


@FAST
@given(fst.create_image_cases())
def test_cases_carry_a_consistent_expectation(case):
    assert case.status in (202, 400, 403)
    assert (case.status == 202) == case.valid == (case.reason is None)
    assert fst.MIN_VERSION <= case.version <= fst.MAX_VERSION
    if case.reason == "metadata_quota":
        assert case.version < (2, 39) and len(case.metadata) > 128
    elif case.status == 403:  # a property Glance keeps for itself
        assert case.reason in ("reserved", "read_only")
        assert any(fst.glance_refusal(key) == case.reason for key in case.metadata)


# -- fakeecs checked against the oracle ------------------------------------------------------


@FAST
@given(case=fst.create_image_cases())
def test_fakeecs_answers_create_image_as_the_oracle_says(world, case):
    api, server_id = world
    response = action(api, server_id, case.body, case.headers)
    assert response.status_code == case.status, (case, response.get_data(as_text=True))
    if case.status == 202:
        if case.version >= (2, 45):
            image_id = response.get_json()["image_id"]
        else:
            image_id = response.headers["Location"].rsplit("/", 1)[1]
        image = api.get(f"/image/v2/images/{image_id}").get_json()
        assert image["name"] == case.name
        api.delete(f"/image/v2/images/{image_id}")  # keep the server free for the next one
        api.cloud.clock.advance(5)
    else:
        fault = {400: "badRequest", 403: "forbidden"}[case.status]
        assert list(response.get_json()) == [fault]
        assert case.fragment in response.get_json()[fault]["message"]


@FAST
@given(name=st.one_of(st.text(max_size=90), st.text(alphabet="镜é a\t", max_size=130)))
def test_any_text_name_is_refused_exactly_when_the_oracle_says(world, name):
    api, server_id = world
    response = action(
        api, server_id, {"createImage": {"name": name}}, {"OpenStack-API-Version": "compute 2.60"}
    )
    expected = 202 if fst.name_problem(name) is None else 400
    assert response.status_code == expected, (name, response.get_data(as_text=True))
    if expected == 202:
        api.delete(f"/image/v2/images/{response.get_json()['image_id']}")
        api.cloud.clock.advance(5)


@FAST
@given(fst.microversion_cases())
def test_fakeecs_negotiates_microversions_as_the_cases_say(world, case):
    api, _ = world
    response = api.get(f"/v2.1/{PROJECT_ID}/servers", headers=case.headers)
    if case.ok:
        assert response.status_code == 200
        assert response.headers["OpenStack-API-Version"] == "compute %d.%d" % case.version
    else:
        assert response.status_code == case.status, response.get_data(as_text=True)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=fst.server_specs())
def test_server_specs_are_accepted(world, spec):
    api, _ = world
    response = api.post(
        f"/v2.1/{PROJECT_ID}/servers",
        json={"server": spec},
        headers={"OpenStack-API-Version": "compute 2.60"},
    )
    assert response.status_code == 202, (spec, response.get_data(as_text=True))
    server_id = response.get_json()["server"]["id"]
    server = api.cloud.servers.get(server_id)
    assert server.name == spec["name"]
    if "availability_zone" in spec:
        assert server.availability_zone == spec["availability_zone"]
    api.delete(f"/v2.1/{PROJECT_ID}/servers/{server_id}")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fst.worlds())
def test_worlds_build_clouds_the_default_user_can_use(world_dict):
    cloud = build_cloud([world_dict], seed=1, clock="frozen")
    api = Api(create_app(cloud))
    zones = api.get(f"/v2.1/{PROJECT_ID}/os-availability-zone").get_json()["availabilityZoneInfo"]
    assert {z["zoneName"] for z in zones} == {z["name"] for z in world_dict["availability_zones"]}
    assert any(z["zoneState"]["available"] for z in zones)
    flavors = api.get(f"/v2.1/{PROJECT_ID}/flavors").get_json()["flavors"]
    assert len(flavors) == len(world_dict["flavors"])
    for image in world_dict["images"]:
        assert api.get(f"/image/v2/images/{image['id']}").status_code == 200
