"""createImage through the Flask test client: success shapes, validation, states."""

import pytest
from conftest import BASE_IMAGE, PROJECT_ID

MV = {"OpenStack-API-Version": "compute 2.60"}
INVALID_NAME = (
    "An invalid 'name' value was provided. The name must be: printable characters. "
    "Can not start or end with whitespace."
)


def action(api, server_id, body, headers=None, raw=None, version="/v2.1"):
    path = f"{version}/{PROJECT_ID}/servers/{server_id}/action"
    if raw is not None:
        return api.post(
            path, data=raw, headers=dict(headers or {}, **{"Content-Type": "application/json"})
        )
    return api.post(path, json=body, headers=headers or {})


def fault(response, status, key, message):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json() == {key: {"code": status, "message": message}}


# -- success -------------------------------------------------------------------------


def test_below_245_answers_location_and_empty_body(api):
    server_id = api.boot()
    response = action(api, server_id, {"createImage": {"name": "snap"}})
    assert response.status_code == 202
    assert response.get_data() == b""
    image_id = response.headers["Location"].rsplit("/", 1)[1]
    assert response.headers["Location"].endswith(f"/image/images/{image_id}")
    assert response.headers["X-OpenStack-Nova-API-Version"] == "2.1"
    assert response.headers["OpenStack-API-Version"] == "compute 2.1"
    assert response.headers.getlist("Vary") == [
        "OpenStack-API-Version",
        "X-OpenStack-Nova-API-Version",
    ]
    assert response.headers["X-Compute-Request-Id"] == response.headers["X-OpenStack-Request-ID"]
    # the image is in Glance before the 202 returns
    shown = api.get(f"/image/v2/images/{image_id}").get_json()
    assert shown["status"] == "queued" and shown["name"] == "snap"


@pytest.mark.parametrize(
    "header",
    [
        {"OpenStack-API-Version": "compute 2.45"},
        {"X-OpenStack-Nova-API-Version": "2.45"},
        {"OpenStack-API-Version": "compute latest"},
    ],
)
def test_from_245_answers_image_id_and_no_location(api, header):
    server_id = api.boot()
    response = action(api, server_id, {"createImage": {"name": "snap", "metadata": {}}}, header)
    assert response.status_code == 202
    assert "Location" not in response.headers
    assert response.headers["Content-Type"] == "application/json"
    image_id = response.get_json()["image_id"]
    assert api.get(f"/image/v2/images/{image_id}").status_code == 200


def test_image_properties_and_user_metadata_override(api):
    server_id = api.boot()
    response = action(
        api,
        server_id,
        {
            "createImage": {
                "name": "gold",
                "metadata": {"ImageType": "Gold", "ImageVersion": "2.0", "image_type": "custom"},
            }
        },
        MV,
    )
    image = api.get(f"/image/v2/images/{response.get_json()['image_id']}").get_json()
    assert image["instance_uuid"] == server_id
    assert image["image_type"] == "custom"  # user metadata has the final say
    assert image["ImageType"] == "Gold" and image["ImageVersion"] == "2.0"
    assert image["base_image_ref"] == BASE_IMAGE
    assert image["user_id"] == api.cloud.users["1aa0ec5c0de4e1bb2b3c4d5e6f708191"].id
    assert image["owner"] == PROJECT_ID
    assert image["visibility"] == "private"
    assert image["min_disk"] == 40 and image["min_ram"] == 1024
    assert image["disk_format"] is None and image["container_format"] is None
    assert image["size"] is None


def test_snapshot_walks_task_states_and_image_statuses(api):
    server_id = api.boot()
    image_id = action(api, server_id, {"createImage": {"name": "s"}}, MV).get_json()["image_id"]
    seen = []
    for _ in range(5):
        server = api.get(api.compute(f"/servers/{server_id}"), headers=MV).get_json()["server"]
        image = api.get(f"/image/v2/images/{image_id}").get_json()
        seen.append((server["OS-EXT-STS:task_state"], image["status"], server["status"]))
        api.cloud.clock.advance(0.5)
    assert seen == [
        ("image_snapshot_pending", "queued", "ACTIVE"),
        ("image_snapshot", "queued", "ACTIVE"),
        ("image_pending_upload", "queued", "ACTIVE"),
        ("image_uploading", "saving", "ACTIVE"),
        (None, "active", "ACTIVE"),
    ]
    image = api.get(f"/image/v2/images/{image_id}").get_json()
    assert image["disk_format"] == "qcow2" and image["container_format"] == "bare"
    assert image["size"] > 0 and image["os_hash_algo"] == "sha512"


@pytest.mark.parametrize(
    "action_name,state,status",
    [
        ("os-stop", "stopped", "SHUTOFF"),
        ("pause", "paused", "PAUSED"),
        ("suspend", "suspended", "SUSPENDED"),
    ],
)
def test_allowed_states_can_be_imaged(api, action_name, state, status):
    server_id = api.boot()
    assert action(api, server_id, {action_name: None}).status_code == 202
    api.cloud.clock.advance(5)
    server = api.get(api.compute(f"/servers/{server_id}")).get_json()["server"]
    assert (server["OS-EXT-STS:vm_state"], server["status"]) == (state, status)
    assert action(api, server_id, {"createImage": {"name": "x"}}, MV).status_code == 202


def test_locked_server_can_be_imaged(api):
    server_id = api.boot()
    assert action(api, server_id, {"lock": None}).status_code == 202
    assert action(api, server_id, {"createImage": {"name": "x"}}, MV).status_code == 202


# -- state conflicts ---------------------------------------------------------------------


def test_second_create_image_while_snapshotting_is_409(api):
    server_id = api.boot()
    assert action(api, server_id, {"createImage": {"name": "a"}}, MV).status_code == 202
    before = len(api.cloud.images)
    response = action(api, server_id, {"createImage": {"name": "b"}}, MV)
    fault(
        response,
        409,
        "conflictingRequest",
        f"Cannot 'createImage' instance {server_id} while it is in task_state image_snapshot_pending",
    )
    assert len(api.cloud.images) == before


def test_error_server_cannot_be_imaged(api, cloud):
    server_id = api.boot()
    server = cloud.servers.get(server_id)
    cloud.set_server_state(server, "error", fault={"message": "disk failure", "code": 500})
    response = action(api, server_id, {"createImage": {"name": "a"}}, MV)
    fault(
        response,
        409,
        "conflictingRequest",
        f"Cannot 'createImage' instance {server_id} while it is in vm_state error",
    )


def test_building_server_cannot_be_imaged(api):
    server_id = api.boot(settle=False)
    response = action(api, server_id, {"createImage": {"name": "a"}}, MV)
    fault(
        response,
        409,
        "conflictingRequest",
        f"Cannot 'createImage' instance {server_id} while it is in vm_state building",
    )


@pytest.mark.parametrize("server_id", ["0e3c6bd0-5c2b-4c5e-9d0f-000000000000", "not-a-uuid"])
def test_missing_server_is_404(api, server_id):
    response = action(api, server_id, {"createImage": {"name": "a"}}, MV)
    fault(response, 404, "itemNotFound", f"Instance {server_id} could not be found.")


def test_deleted_server_is_404(api):
    server_id = api.boot()
    assert api.delete(api.compute(f"/servers/{server_id}")).status_code == 204
    api.cloud.clock.advance(5)
    response = action(api, server_id, {"createImage": {"name": "a"}}, MV)
    fault(response, 404, "itemNotFound", f"Instance {server_id} could not be found.")


# -- validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec,message",
    [
        (
            {},
            "Invalid input for field/attribute createImage. Value: {}. 'name' is a required property",
        ),
        (
            {"metadata": {}},
            "Invalid input for field/attribute createImage. Value: {'metadata': {}}. "
            "'name' is a required property",
        ),
        (
            {"foo": 1},
            "Invalid input for field/attribute createImage. Value: {'foo': 1}. "
            "'name' is a required property",
        ),
        # property errors come before "required", as JSON schema walks its keywords
        (
            {"metadata": []},
            "Invalid input for field/attribute metadata. Value: []. [] is not of type 'object'",
        ),
        (
            {"name": "", "foo": 1},
            "Invalid input for field/attribute name. Value: . '' is too short",
        ),
        ({"name": ""}, "Invalid input for field/attribute name. Value: . '' is too short"),
        (
            {"name": "a" * 256},
            f"Invalid input for field/attribute name. Value: {'a' * 256}. "
            f"'{'a' * 256}' is too long",
        ),
        (
            {"name": None},
            "Invalid input for field/attribute name. Value: None. None is not of type 'string'",
        ),
        (
            {"name": 123},
            "Invalid input for field/attribute name. Value: 123. 123 is not of type 'string'",
        ),
        ({"name": " snap"}, INVALID_NAME),
        ({"name": "snap "}, INVALID_NAME),
        ({"name": "a\tb"}, INVALID_NAME),
        ({"name": "snap\U0001f600"}, INVALID_NAME),
        ({"name": "a\u200bb"}, INVALID_NAME),
        (
            {"name": "x", "foo": 1},
            "Invalid input for field/attribute createImage. Value: {'name': 'x', "
            "'foo': 1}. Additional properties are not allowed ('foo' was unexpected)",
        ),
        (
            {"name": "x", "metadata": None},
            "Invalid input for field/attribute metadata. Value: None. None is not of type 'object'",
        ),
        (
            {"name": "x", "metadata": []},
            "Invalid input for field/attribute metadata. Value: []. [] is not of type 'object'",
        ),
        (
            {"name": "x", "metadata": {"k": 1}},
            "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'",
        ),
        (
            {"name": "x", "metadata": {"k": "v" * 256}},
            f"Invalid input for field/attribute k. Value: {'v' * 256}. '{'v' * 256}' is too long",
        ),
        (
            {"name": "x", "metadata": {"": "v"}},
            "Invalid input for field/attribute metadata. Value: "
            "{'': 'v'}. '' does not match any of the regexes: "
            "'^[a-zA-Z0-9-_:. ]{1,255}$'",
        ),
        (
            {"name": "x", "metadata": {"a!": "v", "b!": "w"}},
            "Invalid input for field/attribute metadata. Value: {'a!': 'v', 'b!': 'w'}. 'a!', 'b!' do not "
            "match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'",
        ),
    ],
)
def test_validation_messages(api, spec, message):
    server_id = api.boot()
    api.cloud.settle()
    before = api.cloud.servers.get(server_id).task_state
    response = action(api, server_id, {"createImage": spec}, MV)
    fault(response, 400, "badRequest", message)
    assert api.cloud.servers.get(server_id).task_state == before
    assert len(api.cloud.images) == 2


@pytest.mark.parametrize("value,shown", [(None, "None"), ("x", "x"), ([], "[]")])
def test_create_image_not_an_object(api, value, shown):
    response = action(api, api.boot(), {"createImage": value}, MV)
    fault(
        response,
        400,
        "badRequest",
        f"Invalid input for field/attribute createImage. Value: "
        f"{shown}. {value!r} is not of type 'object'",
    )


def test_ecs_name_byte_limit(api):
    server_id = api.boot()
    ok = "\u20a1" * 80 + "ab"  # 242 bytes
    assert len(ok.encode()) == 242
    assert action(api, server_id, {"createImage": {"name": ok}}, MV).status_code == 202
    too_long = "\u20a1" * 81  # 243 bytes, 81 characters
    response = action(api, api.boot("web-02"), {"createImage": {"name": too_long}}, MV)
    assert response.status_code == 400
    assert response.get_json()["badRequest"]["message"].endswith(
        "is too long: the name must be less than 243 bytes in UTF-8"
    )


def test_inner_spaces_and_nbsp_are_fine(api):
    assert (
        action(api, api.boot(), {"createImage": {"name": "my snap\u00a0one"}}, MV).status_code
        == 202
    )


@pytest.mark.parametrize(
    "raw,status,key,message",
    [
        (b"", 400, "badRequest", "Malformed request body"),
        (b"{not json", 400, "badRequest", "Malformed request body"),
        (b"{}", 400, "badRequest", "Malformed request body"),
        (b"[]", 400, "badRequest", "Malformed request body"),
        (b'{"createImage": {"name": "a"}, "foo": 1}', 400, "badRequest", "Malformed request body"),
        (
            b'{"createimage": {"name": "a"}}',
            400,
            "badRequest",
            "There is no such action: createimage",
        ),
        (b"null", 404, "itemNotFound", "The resource could not be found."),
        (b"1", 404, "itemNotFound", "The resource could not be found."),
        (b'"x"', 404, "itemNotFound", "The resource could not be found."),
    ],
)
def test_body_edge_cases(api, raw, status, key, message):
    response = action(api, api.boot(), None, MV, raw=raw)
    fault(response, status, key, message)


def test_unsupported_content_type_is_415(api):
    response = api.post(
        api.compute(f"/servers/{api.boot()}/action"),
        data=b'{"createImage": {"name": "a"}}',
        headers={"Content-Type": "application/xml"},
    )
    fault(response, 415, "badMediaType", "Unsupported Content-Type")


def test_text_plain_body_is_parsed_as_json(api):
    response = api.post(
        api.compute(f"/servers/{api.boot()}/action"),
        data=b'{"createImage": {"name": "a"}}',
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 202


def test_metadata_quota_below_239_is_403(api):
    metadata = {f"k{i}": "v" for i in range(129)}
    server_id = api.boot()
    response = action(
        api,
        server_id,
        {"createImage": {"name": "a", "metadata": metadata}},
        {"OpenStack-API-Version": "compute 2.38"},
    )
    fault(response, 403, "forbidden", "Image metadata limit exceeded")
    response = action(
        api,
        server_id,
        {"createImage": {"name": "a", "metadata": metadata}},
        {"OpenStack-API-Version": "compute 2.39"},
    )
    assert response.status_code == 202


def test_quota_beats_missing_server_as_in_queens(api):
    metadata = {f"k{i}": "v" for i in range(129)}
    response = action(
        api,
        "0e3c6bd0-5c2b-4c5e-9d0f-000000000000",
        {"createImage": {"name": "a", "metadata": metadata}},
    )
    fault(response, 403, "forbidden", "Image metadata limit exceeded")


# -- legacy /v2 ----------------------------------------------------------------------


def test_legacy_v2_has_no_version_headers_and_always_location(api):
    server_id = api.boot()
    response = action(
        api,
        server_id,
        {"createImage": {"name": "a", "extra": 1}},
        {"OpenStack-API-Version": "compute 2.50"},
        version="/v2",
    )
    assert response.status_code == 202
    assert "Location" in response.headers and response.get_data() == b""
    assert "OpenStack-API-Version" not in response.headers
    assert "X-OpenStack-Nova-API-Version" not in response.headers
    assert "Vary" not in response.headers


def test_legacy_v2_metadata_message(api):
    response = action(
        api, api.boot(), {"createImage": {"name": "a", "metadata": {"a!b": "v"}}}, version="/v2"
    )
    fault(
        response,
        400,
        "badRequest",
        "Invalid input for field/attribute metadata. Value: "
        "{'a!b': 'v'}. Additional properties are not allowed "
        "('a!b' was unexpected)",
    )


# -- who may do it -------------------------------------------------------------------


def test_reader_gets_403_and_member_may(app, api):
    server_id = api.boot()
    reader = type(api)(app, "fakeecs-reader")
    response = action(reader, server_id, {"createImage": {"name": "a"}}, MV)
    fault(
        response,
        403,
        "forbidden",
        "Policy doesn't allow os_compute_api:servers:create_image to be performed.",
    )
    assert reader.get(reader.compute(f"/servers/{server_id}")).status_code == 200
    member = type(api)(app, "fakeecs-member")
    assert action(member, server_id, {"createImage": {"name": "a"}}, MV).status_code == 202


def test_other_projects_server_is_404(app, api, cloud):
    server_id = api.boot()
    domain = cloud.find_domain(name="Default")
    other = cloud.add_project("other", domain.id)
    cloud.add_user("alice", "alice", domain.id, {other.id: ["member"]})
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "alice", "password": "alice", "domain": {"name": "Default"}}
                },
            },
            "scope": {"project": {"id": other.id}},
        }
    }
    token = api.client.post("/v3/auth/tokens", json=body).headers["X-Subject-Token"]
    response = api.post(
        f"/v2.1/{other.id}/servers/{server_id}/action",
        json={"createImage": {"name": "a"}},
        headers={"X-Auth-Token": token},
    )
    fault(response, 404, "itemNotFound", f"Instance {server_id} could not be found.")


def test_url_project_must_match_token(api):
    other = "1234567890abcdef1234567890abcdef"
    response = api.post(f"/v2.1/{other}/servers/x/action", json={"createImage": {"name": "a"}})
    fault(
        response,
        400,
        "badRequest",
        f"Malformed request URL: URL's project_id '{other}' doesn't "
        f"match Context's project_id '{PROJECT_ID}'",
    )


@pytest.mark.parametrize(
    "key,message",
    [
        ("location", "Attribute 'location' is reserved."),
        ("os_glance_x", "Attribute 'os_glance_x' is reserved."),
        ("self", "Attribute 'self' is read-only."),
        ("stores", "Attribute 'stores' is read-only."),
    ],
)
def test_metadata_keys_glance_refuses_are_403(api, key, message):
    server_id = api.boot()
    response = action(api, server_id, {"createImage": {"name": "a", "metadata": {key: "v"}}}, MV)
    fault(response, 403, "forbidden", message)
    assert len(api.cloud.images) == 2
    api.cloud.settle()
    assert api.cloud.servers.get(server_id).task_state is None


def test_metadata_keys_nova_drops_do_not_reach_the_image(api):
    server_id = api.boot()
    response = action(
        api,
        server_id,
        {
            "createImage": {
                "name": "a",
                "metadata": {"status": "active", "size": "5", "kept": "yes"},
            }
        },
        MV,
    )
    image = api.get(f"/image/v2/images/{response.get_json()['image_id']}").get_json()
    assert (image["status"], image["size"], image["kept"]) == ("queued", None, "yes")
