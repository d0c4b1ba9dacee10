"""Cinder v3 under /volume/v3/{project_id}: versions, volumes, snapshots, errors."""

import pytest
from conftest import BASE_IMAGE, PROJECT_ID, fault

V = f"/volume/v3/{PROJECT_ID}"
MV = {"OpenStack-API-Version": "volume 3.59"}


def make_volume(api, **spec):
    spec.setdefault("size", 10)
    response = api.post(V + "/volumes", json={"volume": spec})
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["volume"]


def settle(cloud, seconds=5):
    cloud.clock.advance(seconds)
    cloud.list_availability_zones()  # any operation runs what fell due


# -- version documents and the request rules ---------------------------------------


@pytest.mark.parametrize(
    "path,status", [("/volume/", 300), ("/volume", 300), ("/volume/v3", 200), ("/volume/v3/", 200)]
)
def test_version_documents_need_no_token(api, path, status):
    response = api.get(path, token=False)
    assert response.status_code == status
    (entry,) = response.get_json()["versions"]
    assert entry["id"] == "v3.0" and entry["status"] == "CURRENT"
    assert (entry["min_version"], entry["version"]) == ("3.0", "3.59")
    assert any(
        link["rel"] == "self" and link["href"].endswith("/volume/v3/") for link in entry["links"]
    )


def test_resources_need_a_token(api):
    response = api.get(V + "/volumes", token=False)
    assert response.status_code == 401
    assert (
        response.get_json()["error"]["message"]
        == "The request you have made requires authentication."
    )


def test_project_in_url_must_be_the_tokens(api):
    other = "f" * 32
    message = fault(api.get(f"/volume/v3/{other}/volumes"), 400, "badRequest")
    assert message == "Malformed request url"


def test_microversion_is_echoed_and_checked(api):
    response = api.get(V + "/volumes", headers=MV)
    assert response.status_code == 200
    assert response.headers["OpenStack-API-Version"] == "volume 3.59"
    assert api.get(V + "/volumes").headers["OpenStack-API-Version"] == "volume 3.0"
    message = fault(
        api.get(V + "/volumes", headers={"OpenStack-API-Version": "volume 3.99"}),
        406,
        "computeFault",
    )
    assert (
        message == "Version 3.99 is not supported by the API. Minimum is 3.0 and maximum is 3.59."
    )
    message = fault(
        api.get(V + "/volumes", headers={"OpenStack-API-Version": "volume x"}), 400, "badRequest"
    )
    assert "is of invalid format" in message


def test_unknown_route_is_a_cinder_404(api):
    message = fault(api.get(V + "/nothing-here"), 404, "itemNotFound")
    assert message == "The resource could not be found."


# -- volumes -------------------------------------------------------------------------------


def test_blank_volume_walks_creating_available_deleting_gone(api, cloud):
    volume = make_volume(api, name="data-1", availability_zone="cn-north-4b")
    assert volume["status"] == "creating"
    assert (volume["size"], volume["availability_zone"], volume["bootable"]) == (
        10,
        "cn-north-4b",
        "false",
    )
    shown = api.get(f"{V}/volumes/{volume['id']}").get_json()["volume"]
    assert shown["status"] == "creating"
    settle(cloud)
    shown = api.get(f"{V}/volumes/{volume['id']}").get_json()["volume"]
    assert shown["status"] == "available" and shown["attachments"] == []
    brief = api.get(V + "/volumes").get_json()["volumes"]
    assert brief == [{"id": volume["id"], "name": "data-1", "links": shown["links"]}]
    detail = api.get(V + "/volumes/detail").get_json()["volumes"]
    assert [v["status"] for v in detail] == ["available"]
    response = api.delete(f"{V}/volumes/{volume['id']}")
    assert response.status_code == 202
    assert api.get(f"{V}/volumes/{volume['id']}").get_json()["volume"]["status"] == "deleting"
    settle(cloud)
    message = fault(api.get(f"{V}/volumes/{volume['id']}"), 404, "itemNotFound")
    assert message == f"Volume {volume['id']} could not be found."


def test_volume_from_image_is_bootable_with_image_metadata(api, cloud):
    volume = make_volume(api, size=40, imageRef=BASE_IMAGE)
    assert volume["bootable"] == "true"
    assert volume["volume_image_metadata"]["image_id"] == BASE_IMAGE
    assert volume["volume_image_metadata"]["os_distro"] == "ubuntu"
    assert volume["availability_zone"] == "cn-north-4a"


def test_volume_from_image_must_fit_min_disk(api, cloud):
    before = len(cloud.volumes)
    message = fault(
        api.post(V + "/volumes", json={"volume": {"size": 10, "imageRef": BASE_IMAGE}}),
        400,
        "badRequest",
    )
    assert message == (
        "Invalid input received: Volume size 10GB cannot be smaller than the "
        "image minDisk size 40GB."
    )
    assert len(cloud.volumes) == before


@pytest.mark.parametrize(
    "body,expected",
    [
        (
            {"volume": {"size": "abc"}},
            "Invalid input for field/attribute size. Value: abc. "
            "'abc' is not valid under any of the given schemas",
        ),
        (
            {"volume": {"size": 0}},
            "Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1",
        ),
        (
            {"volume": {}},
            "Invalid input received: Volume size 'None' must be an integer and greater than 0",
        ),
        (
            {"size": 1},
            "Invalid input for field/attribute body. Value: {'size': 1}. "
            "'volume' is a required property",
        ),
        ({"volume": {"size": 1, "imageRef": "no-such-image"}}, "Invalid imageRef provided."),
        (
            {"volume": {"size": 1, "availability_zone": "cn-north-4z"}},
            "Invalid input received: Availability zone 'cn-north-4z' is invalid.",
        ),
        (
            {"volume": {"size": 1, "source_volid": "x"}},
            "Invalid input received: creating a volume from source_volid is not supported by fakeecs.",
        ),
    ],
)
def test_bad_volume_requests_are_refused_without_change(api, cloud, body, expected):
    response = api.post(V + "/volumes", json=body)
    assert fault(response, 400, "badRequest") == expected
    assert len(cloud.volumes) == 0


def test_malformed_json_is_a_400(api):
    response = api.post(V + "/volumes", data="{nope", content_type="application/json")
    assert fault(response, 400, "badRequest") == "Malformed request body"


def test_reader_cannot_create_volumes(app, cloud):
    from conftest import Api

    reader = Api(app, "fakeecs-reader")
    response = reader.post(V + "/volumes", json={"volume": {"size": 1}})
    assert (
        fault(response, 403, "forbidden") == "Policy doesn't allow volume:create to be performed."
    )
    assert reader.get(V + "/volumes").status_code == 200
    assert len(cloud.volumes) == 0


def test_volume_listing_pages_and_filters(api, cloud):
    ids = [make_volume(api, name=f"v{i}")["id"] for i in range(3)]
    first = api.get(V + "/volumes?limit=2").get_json()
    assert [v["id"] for v in first["volumes"]] == ids[::-1][:2]
    next_link = first["volumes_links"][0]["href"]
    assert f"marker={ids[1]}" in next_link
    rest = api.get(f"{V}/volumes?limit=2&marker={ids[1]}").get_json()
    assert [v["id"] for v in rest["volumes"]] == [ids[0]] and "volumes_links" not in rest
    named = api.get(V + "/volumes/detail?name=v1").get_json()["volumes"]
    assert [v["id"] for v in named] == [ids[1]]
    message = fault(api.get(V + "/volumes?marker=nope"), 400, "badRequest")
    assert message == "Invalid input received: marker [nope] not found"


# -- snapshots -----------------------------------------------------------------------------


def test_snapshot_lifecycle_through_the_api(api, cloud):
    volume = make_volume(api, size=20, availability_zone="cn-north-4c")
    settle(cloud)
    response = api.post(
        V + "/snapshots", json={"snapshot": {"volume_id": volume["id"], "name": "s1"}}
    )
    assert response.status_code == 202
    snap = response.get_json()["snapshot"]
    assert (snap["status"], snap["size"], snap["volume_id"]) == ("creating", 20, volume["id"])
    settle(cloud)
    shown = api.get(f"{V}/snapshots/{snap['id']}", headers=MV).get_json()["snapshot"]
    assert shown["status"] == "available"
    assert shown["os-extended-snapshot-attributes:progress"] == "100%"
    assert shown["os-extended-snapshot-attributes:project_id"] == PROJECT_ID
    assert [s["id"] for s in api.get(V + "/snapshots").get_json()["snapshots"]] == [snap["id"]]
    detail = api.get(V + f"/snapshots/detail?volume_id={volume['id']}").get_json()["snapshots"]
    assert [s["name"] for s in detail] == ["s1"]
    # the volume cannot go while it has a snapshot (no cascade)
    message = fault(api.delete(f"{V}/volumes/{volume['id']}"), 400, "badRequest")
    assert message.startswith("Invalid volume: Volume status must be available or error")
    assert "have snapshots" in message
    # a volume made from the snapshot lands in the snapshot's AZ with its size
    clone = make_volume(api, size=None, snapshot_id=snap["id"])
    assert (clone["availability_zone"], clone["size"], clone["snapshot_id"]) == (
        "cn-north-4c",
        20,
        snap["id"],
    )
    assert api.delete(f"{V}/snapshots/{snap['id']}").status_code == 202
    assert api.get(f"{V}/snapshots/{snap['id']}").get_json()["snapshot"]["status"] == "deleting"
    settle(cloud)
    message = fault(api.get(f"{V}/snapshots/{snap['id']}"), 404, "itemNotFound")
    assert message == f"Snapshot {snap['id']} could not be found."
    assert api.delete(f"{V}/volumes/{volume['id']}").status_code == 202


def test_volume_from_snapshot_refuses_another_zone_and_a_smaller_size(api, cloud):
    volume = make_volume(api, size=20, availability_zone="cn-north-4c")
    settle(cloud)
    snap = cloud.create_snapshot(cloud.context_for_user("fakeecs"), volume["id"], name="s")
    body = {"volume": {"snapshot_id": snap.id}}
    message = fault(api.post(V + "/volumes", json=body), 400, "badRequest")
    assert message == (
        "Invalid snapshot: Originating snapshot status must be 'available' to "
        f"create a volume (snapshot {snap.id} is creating)."
    )
    settle(cloud)
    count = len(cloud.volumes)
    body = {"volume": {"snapshot_id": snap.id, "availability_zone": "cn-north-4a"}}
    message = fault(api.post(V + "/volumes", json=body), 400, "badRequest")
    assert message.startswith(
        "Invalid input received: Volume must be in the same availability zone as the snapshot"
    )
    body = {"volume": {"snapshot_id": snap.id, "size": 5}}
    message = fault(api.post(V + "/volumes", json=body), 400, "badRequest")
    assert message == (
        "Invalid input received: Volume size '5'GB cannot be smaller than the "
        "snapshot size 20GB. They must be >= original snapshot size."
    )
    message = fault(
        api.post(V + "/volumes", json={"volume": {"snapshot_id": "nope"}}), 404, "itemNotFound"
    )
    assert message == "Snapshot nope could not be found."
    assert len(cloud.volumes) == count


def test_snapshot_of_an_in_use_volume_needs_force(api, cloud):
    server_id = api.boot(
        block_device_mapping_v2=[
            {
                "source_type": "image",
                "destination_type": "volume",
                "uuid": BASE_IMAGE,
                "boot_index": 0,
                "volume_size": 40,
            }
        ],
        image="",
    )
    volume_id = cloud.get_server(cloud.context_for_user("fakeecs"), server_id).block_devices[0][
        "volume_id"
    ]
    body = {"snapshot": {"volume_id": volume_id}}
    message = fault(api.post(V + "/snapshots", json=body), 400, "badRequest")
    assert message == (
        f"Invalid volume: Volume {volume_id} status must be available, but "
        "current status is: in-use."
    )
    assert len(cloud.snapshots) == 0
    message = fault(
        api.post(V + "/snapshots", json={"snapshot": {"volume_id": volume_id, "force": "maybe"}}),
        400,
        "badRequest",
    )
    assert message == "Invalid value 'maybe' for force."
    response = api.post(
        V + "/snapshots", json={"snapshot": {"volume_id": volume_id, "force": True}}
    )
    assert response.status_code == 202
    assert response.get_json()["snapshot"]["volume_id"] == volume_id
    message = fault(
        api.post(V + "/snapshots", json={"snapshot": {"volume_id": "nope"}}), 404, "itemNotFound"
    )
    assert message == "Volume nope could not be found."


def test_attached_volume_cannot_be_deleted(api, cloud):
    server_id = api.boot(
        block_device_mapping_v2=[
            {
                "source_type": "image",
                "destination_type": "volume",
                "uuid": BASE_IMAGE,
                "boot_index": 0,
                "volume_size": 40,
            }
        ],
        image="",
    )
    volume = api.get(V + "/volumes/detail").get_json()["volumes"][0]
    assert volume["status"] == "in-use"
    assert [a["server_id"] for a in volume["attachments"]] == [server_id]
    assert volume["attachments"][0]["device"] == "/dev/vda"
    message = fault(api.delete(f"{V}/volumes/{volume['id']}"), 400, "badRequest")
    assert message.startswith("Invalid volume: Volume status must be available")
    assert cloud.get_volume(cloud.context_for_user("fakeecs"), volume["id"]).status == "in-use"


def test_snapshot_deletion_requires_a_settled_status(api, cloud):
    volume = make_volume(api)
    settle(cloud)
    snap = api.post(V + "/snapshots", json={"snapshot": {"volume_id": volume["id"]}}).get_json()
    message = fault(api.delete(f"{V}/snapshots/{snap['snapshot']['id']}"), 400, "badRequest")
    assert message == (
        "Invalid snapshot: Snapshot status must be available or error and must "
        "not be part of a group."
    )
