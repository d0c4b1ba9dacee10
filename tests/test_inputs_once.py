"""Each input rule once: Glance's schema, query numbers and error flatteners agree everywhere."""

import pytest
from conftest import BASE_IMAGE, PROJECT_ID
from marshmallow import ValidationError

from fakeecs.api import errors
from fakeecs.api.compute.validation import first_message
from fakeecs.api.errors import ApiError
from fakeecs.api.image import IMAGE_CREATE
from fakeecs.api.params import CINDER_INT, GLANCE_INT, MAX_INT, NOVA_INT, IntQuery
from fakeecs.model import Forbidden
from fakeecs.model import glance_schema as rules
from fakeecs.model.images import SNAPSHOT_DROPPED_KEYS, snapshot_metadata
from fakeecs.testing import strategies

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}


# -- Glance: the served schema, the validator and the refused keys ------------------------


def test_served_schema_is_the_data(api):
    served = api.get("/image/v2/schemas/image").get_json()
    assert served == rules.image_schema()
    assert api.get("/image/v2/schemas/images").get_json()["properties"]["images"]["items"] == served
    read_only = {k for k, v in served["properties"].items() if v.get("readOnly")}
    assert read_only == rules.READ_ONLY_ON_CREATE
    assert set(served["properties"]) - read_only == rules.CREATE_KEYS == set(IMAGE_CREATE.fields)
    assert read_only | {"id"} == rules.READ_ONLY_ON_PATCH


@pytest.mark.parametrize("key", sorted(rules.READ_ONLY_ON_CREATE))
def test_every_served_read_only_key_is_refused_on_create(api, key):
    response = api.post("/image/v2/images", json={"name": "ro", key: "x"})
    assert response.status_code == 403
    assert response.get_json()["message"] == f"Attribute '{key}' is read-only."


@pytest.mark.parametrize("key", sorted(rules.READ_ONLY_ON_PATCH | rules.RESERVED | {"os_glance_x"}))
def test_patch_refuses_what_the_schema_marks(api, key):
    response = api.patch(
        f"/image/v2/images/{BASE_IMAGE}",
        json=[{"op": "replace", "path": f"/{key}", "value": "x"}],
        headers=PATCH,
    )
    word = "read-only" if key in rules.READ_ONLY_ON_PATCH else "reserved"
    assert response.status_code == 403
    assert response.get_json()["message"] == f"Attribute '{key}' is {word}."


def _violations(fragment):
    """Values the served ``fragment`` forbids, and one it allows."""
    kinds = fragment["type"] if isinstance(fragment["type"], list) else [fragment["type"]]
    bad = [True if "boolean" not in kinds else "true", 1.5]
    if "null" not in kinds:
        bad.append(None)
    if "maxLength" in fragment:
        bad.append("x" * (fragment["maxLength"] + 1))
    if "enum" in fragment:
        bad.append("not-in-enum")
    if "pattern" in fragment:
        bad.append("not-a-uuid")
    if "minimum" in fragment:
        bad.append(fragment["minimum"] - 1)
    if "items" in fragment:
        bad.append([5])
    return bad


@pytest.mark.parametrize("key", sorted(rules.CREATE_KEYS))
def test_validator_enforces_each_served_constraint(key):
    fragment = rules.BY_NAME[key].schema
    for value in _violations(fragment):
        if value is True and "integer" in str(fragment["type"]):
            continue  # a JSON true is no integer for Glance, but Python's bool is an int
        with pytest.raises(ValidationError):
            IMAGE_CREATE.load({key: value})
    for value in fragment.get("enum", []):
        assert IMAGE_CREATE.load({key: value}) == {key: value}


def test_create_refusal_messages_keep_glance_wording(api):
    bad = api.post("/image/v2/images", json={"min_disk": "5"}).get_json()["message"]
    assert bad == "Provided object does not match schema 'image': min_disk: Not a valid integer."
    tag = api.post("/image/v2/images", json={"tags": ["x" * 256]}).get_json()["message"]
    assert tag == (
        "Provided object does not match schema 'image': tags.0: Longer than maximum length 255."
    )
    custom = api.post("/image/v2/images", json={"custom": 5}).get_json()["message"]
    assert (
        custom == "Provided object does not match schema 'image': custom: 5 is not of type 'string'"
    )


def test_snapshot_refuses_the_disallowed_and_reserved_keys():
    assert rules.DISALLOWED == strategies.GLANCE_READ_ONLY  # the harness's oracle agrees
    for key in sorted(rules.DISALLOWED):
        with pytest.raises(Forbidden, match=f"Attribute '{key}' is read-only."):
            snapshot_metadata({key: "x"})
    for key in ("location", "os_glance_y"):
        with pytest.raises(Forbidden, match=f"Attribute '{key}' is reserved."):
            snapshot_metadata({key: "x"})
    dropped = {key: "x" for key in SNAPSHOT_DROPPED_KEYS}
    assert snapshot_metadata(dict(dropped, owner="o")) == {"owner": "o"}


# -- one flattener per family -------------------------------------------------------------

NESTED = ValidationError({"auth": {"identity": {"methods": ["Not a valid list."]}}})


def test_each_family_words_the_first_error():
    assert errors.first_error(NESTED.messages) == ("auth.identity.methods", "Not a valid list.")
    assert first_message(NESTED) == errors.nova_message(NESTED) == "Not a valid list."
    assert errors.cinder_message(NESTED) == (
        "Invalid input received: auth.identity.methods: Not a valid list."
    )
    assert errors.glance_message(NESTED) == (
        "Provided object does not match schema 'image': auth.identity.methods: Not a valid list."
    )
    assert errors.keystone_message(NESTED) == (
        "Invalid input for field auth.identity.methods: Not a valid list."
    )
    assert errors.huawei_message(NESTED, "P: ") == "P: auth.identity.methods: Not a valid list."
    assert errors.path_message(ValidationError("top")) == "top"


def test_keystone_body_error(api):
    body = {"auth": {"identity": {"methods": "password"}}}
    response = api.post("/v3/auth/tokens", json=body, token=False)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == (
        "Invalid input for field auth.identity.methods: Not a valid list."
    )


def test_huawei_body_errors(api):
    ims = api.post("/v2/cloudimages/action", json={"name": "ok", "instance_id": 5})
    assert ims.get_json()["error"]["message"] == (
        "The request message format is invalid: instance_id: Not a valid string."
    )
    evs = api.post(
        f"/v2/{PROJECT_ID}/cloudsnapshots", json={"snapshot": {"volume_id": "v", "name": 5}}
    )
    assert evs.status_code == 400
    assert (
        evs.get_json()["badRequest"]["message"]
        == "Invalid input received: name: Not a valid string."
    )


# -- query numbers, declared once per family ----------------------------------------------


@pytest.mark.parametrize(
    "spec,value,message",
    [
        (NOVA_INT, "abc", "limit param must be an integer"),
        (NOVA_INT, "-1", "limit param must be positive"),
        (NOVA_INT, "9" * 40, f"limit param must be <= {MAX_INT}"),
        (CINDER_INT, "-1", "Invalid input received: limit must be an integer"),
        (CINDER_INT, "+1", "Invalid input received: limit must be an integer"),
        (CINDER_INT, "9" * 20, f"Invalid input received: limit must be <= {MAX_INT}"),
        (GLANCE_INT, "-1", "limit param must be positive"),
        (GLANCE_INT, "x", "limit param must be positive"),
    ],
)
def test_int_query_refusals(spec, value, message):
    with pytest.raises(Exception) as caught:
        spec.parse("limit", value)
    assert caught.value.message == message


def test_int_query_values():
    assert GLANCE_INT.parse("limit", "9" * 5000) == 1000  # api_limit_max, and never slow
    assert NOVA_INT.parse("limit", None, 7) == 7
    blank = IntQuery(not_integer="bad", minimum=1, maximum=3, blank=True)
    assert blank.parse("limit", "", 2) == 2 and blank.parse("limit", " 3 ") == 3
    with pytest.raises(ApiError) as caught:
        blank.parse("limit", "4")
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "path,query,status,message",
    [
        (f"/v2.1/{PROJECT_ID}/servers", "limit=-1", 400, "limit param must be positive"),
        (
            f"/volume/v3/{PROJECT_ID}/volumes",
            "limit=x",
            400,
            "Invalid input received: limit must be an integer",
        ),
        ("/image/v2/images", "limit=-3", 400, "limit param must be positive"),
        ("/v2/images", "limit=-3", 400, "limit param must be positive"),
        (
            "/v2/cloudimages",
            "limit=0",
            400,
            "The request message format is invalid: limit must be an integer from 1 to 1000.",
        ),
        (
            f"/v1/{PROJECT_ID}/cloudservers/detail",
            "limit=0",
            400,
            "Invalid parameter values: limit must be an integer from 1 to 1000.",
        ),
        (
            f"/v1.1/{PROJECT_ID}/cloudservers/detail",
            "limit=101",
            400,
            "Invalid parameter values: limit must be an integer from 1 to 100.",
        ),
        (
            f"/v1/{PROJECT_ID}/vpcs",
            "limit=x",
            400,
            "Param is invalid: limit 'x' must be an integer from 0 to 2000.",
        ),
        (
            f"/v2/{PROJECT_ID}/cloudsnapshots",
            "offset=-1",
            400,
            "Invalid input received: offset must be >= 0",
        ),
    ],
)
def test_each_list_route_words_its_family(api, path, query, status, message):
    response = api.get(f"{path}?{query}")
    assert response.status_code == status, response.get_data(as_text=True)
    assert message in response.get_data(as_text=True)


def test_bool_query_words_once(api):
    from fakeecs.api.params import BOOL_WORDS, BoolQuery, bool_from_string

    assert [bool_from_string(w) for w in (" Yes ", "off", "maybe", True)] == [
        True,
        False,
        None,
        True,
    ]
    strict = BoolQuery(not_boolean="{name}={value}; {words}")
    with pytest.raises(Exception) as caught:
        strict.read("x", args={"x": ""})
    assert caught.value.message == "x=; " + ", ".join(f"'{w}'" for w in BOOL_WORDS)
    assert BoolQuery(not_boolean="", empty=True).read("x", args={"x": ""}) is True
    nova = api.get(f"/v2.1/{PROJECT_ID}/servers?all_tenants=maybe").get_json()["badRequest"]
    assert nova["message"] == (
        "Unrecognized value 'maybe', acceptable values are: '0', '1', "
        "'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"
    )
    cinder = api.delete(f"/volume/v3/{PROJECT_ID}/volumes/no-such-volume?cascade=maybe")
    assert (
        cinder.get_json()["badRequest"]["message"]
        == "Value 'maybe' for 'cascade' is not a boolean."
    )
