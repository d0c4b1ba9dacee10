"""Cinder v3 calls of issue 9: update, cascade, extend, metadata, reset_status, AZs."""

import hashlib
import json

import pytest
from conftest import PROJECT_ID, fault, state

V = f"/volume/v3/{PROJECT_ID}"
MISSING = "0e3c6bd0-5c2b-4c5e-9d0f-000000000000"


def mv(version):
    return {"OpenStack-API-Version": f"volume {version}"}


def make_volume(api, settle=True, **spec):
    spec.setdefault("size", 10)
    spec.setdefault("availability_zone", "cn-north-4a")
    response = api.post(V + "/volumes", json={"volume": spec})
    assert response.status_code == 202, response.get_data(as_text=True)
    if settle:
        api.cloud.clock.advance(5)
    return response.get_json()["volume"]["id"]


def make_snapshot(api, volume_id, settle=True, **spec):
    response = api.post(V + "/snapshots", json={"snapshot": dict(spec, volume_id=volume_id)})
    assert response.status_code == 202, response.get_data(as_text=True)
    if settle:
        api.cloud.clock.advance(5)
    return response.get_json()["snapshot"]["id"]


def show(api, kind, item_id):
    response = api.get(f"{V}/{kind}s/{item_id}")
    return response.get_json()[kind] if response.status_code == 200 else None


@pytest.fixture
def member(app):
    from conftest import Api

    return Api(app, user="fakeecs-member")


# -- metadata null on create ----------------------------------------------------------


def test_metadata_null_is_accepted_on_create(api):
    response = api.post(V + "/volumes", json={"volume": {"size": 1, "metadata": None}})
    assert response.status_code == 202
    volume = response.get_json()["volume"]
    assert volume["metadata"] == {}
    api.cloud.clock.advance(5)
    response = api.post(
        V + "/snapshots", json={"snapshot": {"volume_id": volume["id"], "metadata": None}}
    )
    assert response.status_code == 202 and response.get_json()["snapshot"]["metadata"] == {}
    bad = api.post(V + "/volumes", json={"volume": {"size": 1, "metadata": []}})
    assert (
        fault(bad, 400, "badRequest")
        == "Invalid input for field/attribute metadata. Value: []. [] is not of type 'object'"
    )


# -- PUT /volumes/{id} ---------------------------------------------------------------------


def test_update_volume_name_description_and_metadata(api):
    volume_id = make_volume(api, name="old", metadata={"a": "1"})
    response = api.put(
        f"{V}/volumes/{volume_id}",
        json={
            "volume": {"name": "  new  ", "description": "d", "metadata": {"b": "2"}, "ignored": 1}
        },
    )
    assert response.status_code == 200
    body = response.get_json()["volume"]
    assert (body["name"], body["description"], body["metadata"]) == ("new", "d", {"b": "2"})
    response = api.put(
        f"{V}/volumes/{volume_id}", json={"volume": {"display_name": None, "metadata": None}}
    )
    body = response.get_json()["volume"]
    assert (body["name"], body["metadata"]) == (None, {"b": "2"})


@pytest.mark.parametrize(
    "body,status,message",
    [
        ({}, 400, "Missing required element 'volume' in request body"),
        (
            {"volume": {"name": "x" * 256}},
            400,
            "Invalid input received: name has 256 characters, more than 255.",
        ),
        (
            {"volume": {"description": 5}},
            400,
            "Invalid input received: description is not a string or unicode",
        ),
        ({"volume": {"metadata": "x"}}, 400, "Invalid input received: Metadata should be a dict."),
        (
            {"volume": {"metadata": {"": "v"}}},
            400,
            "Invalid metadata: Invalid input received: Metadata key:  has 0 characters, less than 1.",
        ),
        (
            {"volume": {"metadata": {"k" * 256: "v"}}},
            413,
            f"Invalid metadata size: Metadata property key {'k' * 256} greater than 255 characters.",
        ),
        (
            {"volume": {"metadata": {"k": "v" * 256}}},
            413,
            "Invalid metadata size: Metadata property key k value greater than 255 characters.",
        ),
    ],
)
def test_update_volume_refusals(api, body, status, message):
    volume_id = make_volume(api)
    before = state(api.cloud)
    name = {400: "badRequest", 413: "overLimit"}[status]
    assert fault(api.put(f"{V}/volumes/{volume_id}", json=body), status, name) == message
    assert state(api.cloud) == before


def test_update_volume_needs_a_body_and_not_maintenance(api):
    volume_id = make_volume(api)
    assert fault(api.put(f"{V}/volumes/{volume_id}"), 400, "badRequest") == "Missing request body"
    assert (
        fault(api.put(f"{V}/volumes/{MISSING}", json={"volume": {}}), 404, "itemNotFound")
        == f"Volume {MISSING} could not be found."
    )
    api.post(f"{V}/volumes/{volume_id}/action", json={"os-reset_status": {"status": "maintenance"}})
    assert (
        fault(
            api.put(f"{V}/volumes/{volume_id}", json={"volume": {"name": "x"}}), 400, "badRequest"
        )
        == "Invalid volume: The volume cannot be updated during maintenance."
    )


# -- DELETE ?cascade=true --------------------------------------------------------------------


def test_cascade_deletes_the_volumes_snapshots(api):
    volume_id = make_volume(api)
    first, second = make_snapshot(api, volume_id), make_snapshot(api, volume_id)
    before = state(api.cloud)
    message = fault(api.delete(f"{V}/volumes/{volume_id}"), 400, "badRequest")
    assert "have snapshots" in message
    assert (
        fault(api.delete(f"{V}/volumes/{volume_id}?cascade=maybe"), 400, "badRequest")
        == "Value 'maybe' for 'cascade' is not a boolean."
    )
    assert state(api.cloud) == before
    assert api.delete(f"{V}/volumes/{volume_id}?cascade=true").status_code == 202
    assert show(api, "volume", volume_id)["status"] == "deleting"
    assert show(api, "snapshot", first)["status"] == "deleting"
    api.cloud.clock.advance(5)
    assert [
        show(api, "volume", volume_id),
        show(api, "snapshot", first),
        show(api, "snapshot", second),
    ] == [None, None, None]


def test_cascade_waits_for_snapshots_being_made(api):
    volume_id = make_volume(api)
    make_snapshot(api, volume_id, settle=False)
    before = state(api.cloud)
    message = fault(api.delete(f"{V}/volumes/{volume_id}?cascade=true"), 400, "badRequest")
    assert message.startswith("Invalid volume: Volume status must be available or error")
    assert state(api.cloud) == before


def test_cascade_takes_a_volume_backed_images_snapshots_and_the_image_stays(api):
    entry = {
        "source_type": "image",
        "destination_type": "volume",
        "boot_index": 0,
        "uuid": "5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01",
        "volume_size": 40,
    }
    server_id = api.boot(image="", block_device_mapping_v2=[entry])
    image_id = api.post(
        api.compute(f"/servers/{server_id}/action"),
        json={"createImage": {"name": "bfv"}},
        headers={"OpenStack-API-Version": "compute 2.60"},
    ).get_json()["image_id"]
    api.cloud.clock.advance(5)
    api.delete(api.compute(f"/servers/{server_id}"))
    api.cloud.clock.advance(5)
    (volume,) = [v for v in api.get(V + "/volumes/detail").get_json()["volumes"] if v["size"] == 40]
    assert api.delete(f"{V}/volumes/{volume['id']}?cascade=true").status_code == 202
    api.cloud.clock.advance(5)
    assert api.get(V + "/snapshots").get_json()["snapshots"] == []
    assert api.get(f"/image/v2/images/{image_id}").status_code == 200
    again = api.post(
        api.compute("/servers"),
        json={
            "server": {
                "name": "again",
                "flavorRef": "s6.small.1",
                "imageRef": image_id,
                "networks": "auto",
            }
        },
        headers={"OpenStack-API-Version": "compute 2.60"},
    )
    assert "it was deleted" in fault(again, 400, "badRequest")


# -- os-extend ----------------------------------------------------------------------------------


def test_extend_walks_extending_then_back(api):
    volume_id = make_volume(api)
    response = api.post(f"{V}/volumes/{volume_id}/action", json={"os-extend": {"new_size": "20"}})
    assert (response.status_code, response.get_data()) == (202, b"")
    assert show(api, "volume", volume_id)["status"] == "extending"
    api.cloud.clock.advance(5)
    shown = show(api, "volume", volume_id)
    assert (shown["status"], shown["size"]) == ("available", 20)


def test_extend_refusals_size_first_then_status(api):
    server_id = api.boot()
    volume_id = make_volume(api)
    api.post(
        api.compute(f"/servers/{server_id}/os-volume_attachments"),
        json={"volumeAttachment": {"volumeId": volume_id}},
    )
    before = state(api.cloud)
    path = f"{V}/volumes/{volume_id}/action"
    for body in ({"os-extend": {}}, {"os-extend": {"new_size": "x"}}, {"os-extend": None}):
        assert (
            fault(api.post(path, json=body), 400, "badRequest")
            == "New volume size must be specified as an integer."
        )
    assert fault(api.post(path, json={"os-extend": {"new_size": 10}}), 400, "badRequest") == (
        "Invalid input received: New size for extend must be greater than current size. "
        "(current: 10, extended: 10)."
    )
    assert fault(
        api.post(path, json={"os-extend": {"new_size": 11}}, headers=mv("3.41")), 400, "badRequest"
    ) == (
        f"Invalid volume: Volume {volume_id} status must be "
        "'{'status': 'available'}' to extend, currently in-use."
    )
    assert (
        fault(api.post(path, json={"os-nothing": {}}), 400, "badRequest")
        == "There is no such action: os-nothing"
    )
    assert state(api.cloud) == before
    assert (
        api.post(path, json={"os-extend": {"new_size": 11}}, headers=mv("3.42")).status_code == 202
    )
    api.cloud.clock.advance(5)
    shown = show(api, "volume", volume_id)
    assert (shown["status"], shown["size"], len(shown["attachments"])) == ("in-use", 11, 1)


# -- volume metadata -----------------------------------------------------------------------------


def test_volume_metadata_routes(api):
    volume_id = make_volume(api, metadata={"a": "1"})
    path = f"{V}/volumes/{volume_id}/metadata"
    assert api.get(path).get_json() == {"metadata": {"a": "1"}}
    merged = api.post(path, json={"metadata": {"b": "2"}})
    assert (merged.status_code, merged.get_json()) == (200, {"metadata": {"a": "1", "b": "2"}})
    assert api.get(f"{path}/b").get_json() == {"meta": {"b": "2"}}
    assert api.put(f"{path}/b", json={"meta": {"b": "3"}}).get_json() == {"meta": {"b": "3"}}
    replaced = api.put(path, json={"metadata": {"c": "4"}})
    assert replaced.get_json() == {"metadata": {"c": "4"}}
    gone = api.delete(f"{path}/c")
    assert (gone.status_code, gone.get_data()) == (200, b"")
    assert show(api, "volume", volume_id)["metadata"] == {}


def test_volume_metadata_etag_from_315(api):
    volume_id = make_volume(api, metadata={"a": "1"})
    path = f"{V}/volumes/{volume_id}/metadata"
    assert "Etag" not in api.get(path, headers=mv("3.14")).headers
    etag = api.get(path, headers=mv("3.15")).headers["Etag"]
    assert etag == hashlib.md5(json.dumps({"metadata": {"a": "1"}}).encode()).hexdigest()
    stale = api.put(
        path, json={"metadata": {"x": "1"}}, headers=dict(mv("3.15"), **{"If-Match": '"nope"'})
    )
    assert (stale.status_code, stale.get_data()) == (412, b"")
    fresh = api.put(
        path, json={"metadata": {"x": "1"}}, headers=dict(mv("3.15"), **{"If-Match": f'"{etag}"'})
    )
    assert fresh.status_code == 200


@pytest.mark.parametrize(
    "method,suffix,body,status,message",
    [
        ("put", "/k", {"meta": {"j": "v"}}, 400, "Request body and URI mismatch"),
        (
            "put",
            "/k",
            {"meta": {"k": "v", "j": "w"}},
            400,
            "Invalid input for field/attribute meta. Value: {'k': 'v', 'j': 'w'}. {'k': 'v', 'j': 'w'} "
            "has too many properties",
        ),
        (
            "post",
            "",
            {"metadata": {"a/b": "v"}},
            400,
            "Invalid input for field/attribute metadata. Value: {'a/b': 'v'}. 'a/b' does not match "
            "any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'",
        ),
        (
            "post",
            "",
            {},
            400,
            "Invalid input for field/attribute body. Value: {}. 'metadata' is a required property",
        ),
        ("get", "/nope", None, 404, "Volume {id} has no metadata with key nope."),
        ("delete", "/nope", None, 404, "Volume {id} has no metadata with key nope."),
    ],
)
def test_volume_metadata_refusals(api, method, suffix, body, status, message):
    volume_id = make_volume(api)
    before = state(api.cloud)
    response = getattr(api, method)(f"{V}/volumes/{volume_id}/metadata{suffix}", json=body)
    name = {400: "badRequest", 404: "itemNotFound"}[status]
    assert fault(response, status, name) == message.replace("{id}", volume_id)
    assert state(api.cloud) == before


def test_volume_metadata_writes_blocked_in_maintenance(api):
    volume_id = make_volume(api, metadata={"a": "1"})
    api.post(f"{V}/volumes/{volume_id}/action", json={"os-reset_status": {"status": "maintenance"}})
    path = f"{V}/volumes/{volume_id}/metadata"
    assert fault(api.post(path, json={"metadata": {"b": "2"}}), 400, "badRequest") == (
        "Invalid volume: Updating volume metadata is not allowed for volumes in maintenance status."
    )
    assert fault(api.delete(f"{path}/a"), 400, "badRequest") == (
        "Invalid volume: Deleting volume metadata is not allowed for volumes in maintenance status."
    )
    assert api.get(path).status_code == 200


# -- snapshots: update and metadata --------------------------------------------------------------


def test_update_snapshot(api):
    snapshot_id = make_snapshot(api, make_volume(api), name="a")
    response = api.put(
        f"{V}/snapshots/{snapshot_id}",
        json={"snapshot": {"name": " b ", "display_description": "d"}},
        headers=mv("3.41"),
    )
    assert response.status_code == 200
    body = response.get_json()["snapshot"]
    assert (body["name"], body["description"], body["status"]) == ("b", "d", "available")
    assert "user_id" in body and "group_snapshot_id" in body
    assert fault(
        api.put(f"{V}/snapshots/{snapshot_id}", json={"snapshot": {}}), 400, "badRequest"
    ) == (
        "Invalid input for field/attribute snapshot. Value: {}. {} is "
        "not valid under any of the given schemas"
    )
    assert "Additional properties are not allowed" in fault(
        api.put(f"{V}/snapshots/{snapshot_id}", json={"snapshot": {"size": 1}}), 400, "badRequest"
    )
    assert (
        fault(
            api.put(f"{V}/snapshots/{MISSING}", json={"snapshot": {"name": "x"}}),
            404,
            "itemNotFound",
        )
        == f"Snapshot {MISSING} could not be found."
    )


def test_snapshot_metadata(api):
    snapshot_id = make_snapshot(api, make_volume(api), metadata={"a": "1"})
    path = f"{V}/snapshots/{snapshot_id}/metadata"
    assert api.get(path).get_json() == {"metadata": {"a": "1"}}
    assert api.post(path, json={"metadata": {"b": "2"}}).get_json() == {
        "metadata": {"a": "1", "b": "2"}
    }
    assert api.put(f"{path}/a", json={"meta": {"a": "9"}}).get_json() == {"meta": {"a": "9"}}
    assert api.delete(f"{path}/b").status_code == 200
    assert show(api, "snapshot", snapshot_id)["metadata"] == {"a": "9"}
    before = state(api.cloud)
    cases = [
        (
            api.post(path, json={"meta": {}}),
            400,
            "Missing required element 'metadata' in request body.",
        ),
        (api.put(f"{path}/a", json={"meta": {"b": "1"}}), 400, "Request body and URI mismatch"),
        (
            api.put(f"{path}/a", json={"meta": {"a": "1", "b": "2"}}),
            400,
            "Request body contains too many items",
        ),
        (
            api.post(path, json={"metadata": {"": "1"}}),
            400,
            "Invalid metadata: Invalid input received: Metadata key:  has 0 characters, less "
            "than 1.",
        ),
        (
            api.post(path, json={"metadata": {"k": "v" * 256}}),
            413,
            "Invalid metadata size: Metadata property key k value greater than 255 characters.",
        ),
        (api.get(f"{path}/zz"), 404, f"Snapshot {snapshot_id} has no metadata with key zz."),
    ]
    for response, status, message in cases:
        name = {400: "badRequest", 404: "itemNotFound", 413: "overLimit"}[status]
        assert fault(response, status, name) == message
    assert state(api.cloud) == before


# -- os-reset_status -------------------------------------------------------------------------------


def test_reset_status_is_admin_only_and_checks_values_first(api, member):
    volume_id = make_volume(api)
    path = f"{V}/volumes/{volume_id}/action"
    before = state(api.cloud)
    cases = [
        ({"os-reset_status": {"status": "reserved"}}, "Must specify a valid status"),
        ({"os-reset_status": {"attach_status": "half"}}, "Must specify a valid attach status"),
        ({"os-reset_status": {"migration_status": "x"}}, "Must specify a valid migration status"),
        (
            {"os-reset_status": {}},
            "Must specify 'status', 'attach_status' or 'migration_status' for update.",
        ),
    ]
    for body, message in cases:
        assert fault(member.post(path, json=body), 400, "badRequest") == message
    assert fault(
        member.post(path, json={"os-reset_status": {"status": "error"}}), 403, "forbidden"
    ) == (
        "Policy doesn't allow volume_extension:volume_admin_actions:reset_status to be performed."
    )
    assert state(api.cloud) == before
    response = api.post(path, json={"os-reset_status": {"status": "ERROR"}})
    assert (response.status_code, response.get_data()) == (202, b"")
    assert show(api, "volume", volume_id)["status"] == "error"


def test_snapshot_reset_status(api, member):
    snapshot_id = make_snapshot(api, make_volume(api))
    path = f"{V}/snapshots/{snapshot_id}/action"
    assert (
        fault(api.post(path, json={"os-reset_status": {}}), 400, "badRequest")
        == "Must specify 'status'"
    )
    assert (
        fault(api.post(path, json={"os-reset_status": {"status": "in-use"}}), 400, "badRequest")
        == "Must specify a valid status"
    )
    assert fault(
        member.post(path, json={"os-reset_status": {"status": "error"}}), 403, "forbidden"
    ) == (
        "Policy doesn't allow volume_extension:snapshot_admin_actions:reset_status to be performed."
    )
    assert api.post(path, json={"os-reset_status": {"status": "error"}}).status_code == 202
    assert show(api, "snapshot", snapshot_id)["status"] == "error"


# -- availability zones ------------------------------------------------------------------------------


def test_availability_zones(api, member):
    response = member.get(V + "/os-availability-zone")
    assert response.status_code == 200
    assert response.get_json() == {
        "availabilityZoneInfo": [
            {"zoneName": name, "zoneState": {"available": True}}
            for name in ("cn-north-4a", "cn-north-4b", "cn-north-4c")
        ]
    }


# -- os-set_bootable and volume image metadata (openstack volume set --bootable/--image-property)


def test_bootable_and_image_metadata_actions(api):
    volume_id = make_volume(api)
    path = f"{V}/volumes/{volume_id}/action"
    response = api.post(path, json={"os-set_bootable": {"bootable": "true"}})
    assert (response.status_code, show(api, "volume", volume_id)["bootable"]) == (200, "true")
    response = api.post(path, json={"os-set_image_metadata": {"metadata": {"a": "b", "c": "d"}}})
    assert response.get_json() == {"metadata": {"a": "b", "c": "d"}}
    assert show(api, "volume", volume_id)["volume_image_metadata"] == {"a": "b", "c": "d"}
    response = api.post(path, json={"os-unset_image_metadata": {"key": "a"}})
    assert (response.status_code, response.get_data()) == (200, b"")
    assert show(api, "volume", volume_id)["volume_image_metadata"] == {"c": "d"}
    before = state(api.cloud)
    cases = [
        ({"os-set_bootable": {}}, 400, "Must specify bootable in request."),
        ({"os-set_bootable": {"bootable": "maybe"}}, 400, "Bad value for 'bootable'"),
        ({"os-set_image_metadata": {}}, 400, "Malformed request body."),
        ({"os-unset_image_metadata": {"key": ""}}, 400, "The key cannot be None."),
        (
            {"os-unset_image_metadata": {"key": "zz"}},
            404,
            f"Glance metadata for volume/snapshot {volume_id} cannot be found.",
        ),
    ]
    for body, status, message in cases:
        name = {400: "badRequest", 404: "itemNotFound"}[status]
        assert fault(api.post(path, json=body), status, name) == message
    assert state(api.cloud) == before


def test_attached_volume_extending_when_its_server_goes_ends_available(api):
    server_id = api.boot()
    volume_id = make_volume(api)
    api.post(
        api.compute(f"/servers/{server_id}/os-volume_attachments"),
        json={"volumeAttachment": {"volumeId": volume_id}},
    )
    api.cloud.transitions["volume_extend"] = "manual"
    assert (
        api.post(
            f"{V}/volumes/{volume_id}/action",
            json={"os-extend": {"new_size": 12}},
            headers=mv("3.42"),
        ).status_code
        == 202
    )
    assert api.delete(api.compute(f"/servers/{server_id}")).status_code == 204
    api.cloud.clock.advance(5)
    (job,) = [j for j in api.cloud.jobs.values() if j.process == "volume_extend"]
    with api.cloud.lock:
        api.cloud.run_step(job, api.cloud.now())
    shown = show(api, "volume", volume_id)
    assert (shown["status"], shown["size"], shown["attachments"]) == ("available", 12, [])
