"""Glance image download (GET /v2/images/{id}/file) and tags, over HTTP."""

import base64
import hashlib

import pytest
from conftest import BASE_IMAGE, state

from fakeecs.model.images import GENERATED_DATA_SIZE, generated_chunks

MISSING = "0e3c6bd0-5c2b-4c5e-9d0f-000000000000"
MV60 = {"OpenStack-API-Version": "compute 2.60"}


def upload(api, payload=b"0123456789", **extra):
    body = dict({"name": "mine", "disk_format": "raw", "container_format": "bare"}, **extra)
    image = api.post("/image/v2/images", json=body).get_json()
    if payload is not None:
        response = api.put(
            f"/image/v2/images/{image['id']}/file",
            data=payload,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert response.status_code == 204
    return image["id"]


def snapshot(api):
    server_id = api.boot()
    response = api.post(
        api.compute(f"/servers/{server_id}/action"),
        json={"createImage": {"name": "snap"}},
        headers=MV60,
    )
    assert response.status_code == 202
    api.cloud.clock.advance(10)
    return response.get_json()["image_id"]


def glance_error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"message", "code", "title"} and body["code"].startswith(str(status))
    return body["message"]


def test_uploaded_bytes_come_back_with_their_md5(api):
    image_id = upload(api)
    response = api.get(f"/image/v2/images/{image_id}/file")
    assert response.status_code == 200
    assert response.get_data() == b"0123456789"
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Length"] == "10"
    assert response.headers["Content-MD5"] == hashlib.md5(b"0123456789").hexdigest()


def test_snapshot_bytes_match_size_checksum_and_hash(api):
    image_id = snapshot(api)
    image = api.get(f"/image/v2/images/{image_id}").get_json()
    response = api.get(f"/image/v2/images/{image_id}/file")
    data = response.get_data()
    assert image["size"] == len(data) == GENERATED_DATA_SIZE
    assert image["checksum"] == hashlib.md5(data).hexdigest() == response.headers["Content-MD5"]
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert image["virtual_size"] == 40 * 1024**3
    # the same image id always has the same bytes: nothing is stored per image
    assert b"".join(generated_chunks(image_id, GENERATED_DATA_SIZE)) == data
    assert api.cloud.images.get(image_id).payload is None


def _served(cloud, ctx, image_id):
    data = cloud.image_data(ctx, image_id)
    return b"".join(data.chunks())


def test_ims_and_scenario_images_follow_the_same_rule(api, cloud):
    from fakeecs.server import build_cloud

    world = build_cloud(["az-fleet"], seed=1, clock="frozen")
    ctx = world.context_for_user("fakeecs")
    made = [image for image in world.images if image.origin.get("server_id")]
    assert made
    for image in made:
        data = _served(world, ctx, image.id)
        assert image.size == len(data) == GENERATED_DATA_SIZE
        assert (image.checksum, image.os_hash_value) == (
            hashlib.md5(data).hexdigest(),
            hashlib.sha512(data).hexdigest(),
        )
    ctx = cloud.context_for_user("fakeecs")
    server_id = api.boot()
    job = cloud.ims_create_image(ctx, name="ims-sys", instance_id=server_id)
    cloud.advance_clock(120)
    image = cloud.images.get(job.entities["image_id"])
    data = _served(cloud, ctx, image.id)
    assert image.status == "active" and image.size == len(data)
    assert image.properties["__image_size"] == str(len(data))
    assert image.checksum == hashlib.md5(data).hexdigest()


def test_scenario_image_with_a_declared_size_streams_that_many_bytes(api, cloud):
    ctx = cloud.context_for_user("fakeecs")
    data = cloud.image_data(ctx, BASE_IMAGE)
    assert data.size == cloud.images.get(BASE_IMAGE).size == 2361393152
    assert data.checksum is None  # the scenario declares none, so none is claimed
    response = api.get(f"/image/v2/images/{BASE_IMAGE}/file", headers={"Range": "bytes=-100"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == "bytes 2361393052-2361393151/2361393152"
    assert response.get_data() == b"".join(generated_chunks(BASE_IMAGE, 2361393152, 2361393052))
    assert "Content-MD5" not in response.headers


def test_range_requests_as_glance_answers_them(api):
    image_id = upload(api)
    path = f"/image/v2/images/{image_id}/file"
    cases = [
        ("bytes=0-4", b"01234", "bytes 0-4/10"),
        ("bytes=0-", b"0123456789", "bytes 0-9/10"),
        ("bytes=-2", b"89", "bytes 8-9/10"),
        ("bytes=-20", b"0123456789", "bytes 0-9/10"),
        ("bytes=3-100", b"3456789", "bytes 3-9/10"),
    ]
    for header, body, content_range in cases:
        response = api.get(path, headers={"Range": header})
        assert response.status_code == 206, header
        assert (response.get_data(), response.headers["Content-Range"]) == (body, content_range)
        assert response.headers["Content-Length"] == str(len(body))
        assert response.headers["Content-MD5"] == hashlib.md5(b"0123456789").hexdigest()
    legacy = api.get(path, headers={"Content-Range": "bytes 1-3/*"})
    assert (legacy.status_code, legacy.get_data()) == (206, b"123")


@pytest.mark.parametrize(
    "headers,detail",
    [
        (
            {"Range": "bytes=10-"},
            "Invalid start position in Range header. Start position MUST be in "
            "the inclusive range [0, 9].",
        ),
        ({"Range": "bytes=5-2"}, "Invalid Range header."),
        ({"Range": "items=0-1"}, "Invalid Range header."),
        ({"Range": "bytes=abc"}, "Invalid Range header."),
        ({"Content-Range": "bytes x"}, "Invalid Content-Range header."),
        (
            {"Content-Range": "bytes 1-10/*"},
            "Invalid stop position in Content-Range header. The stop "
            "position MUST be in the inclusive range [0, 9].",
        ),
    ],
)
def test_unsatisfiable_ranges_are_416(api, headers, detail):
    image_id = upload(api)
    response = api.get(f"/image/v2/images/{image_id}/file", headers=headers)
    assert response.status_code == 416
    assert response.get_json() == {
        "message": f"The Range requested is not available.<br /><br />\n{detail}\n\n",
        "code": "416 Request Range Not Satisfiable",
        "title": "Request Range Not Satisfiable",
    }


def test_multiple_ranges_are_400(api):
    image_id = upload(api)
    response = api.get(f"/image/v2/images/{image_id}/file", headers={"Range": "bytes=0-1,3-4"})
    assert glance_error(response, 400) == (
        "Requests with multiple ranges are not supported in "
        "Glance. You may make multiple single-range requests "
        "instead."
    )


def test_no_data_is_204_and_unknown_is_404(api):
    queued = upload(api, payload=None)
    response = api.get(f"/image/v2/images/{queued}/file")
    assert (response.status_code, response.get_data()) == (204, b"")
    assert (
        glance_error(api.get(f"/image/v2/images/{MISSING}/file"), 404)
        == f"No image found with ID {MISSING}"
    )


def test_volume_backed_snapshot_has_empty_data(api):
    entry = {
        "source_type": "image",
        "destination_type": "volume",
        "boot_index": 0,
        "uuid": BASE_IMAGE,
        "volume_size": 40,
    }
    server_id = api.boot(image="", block_device_mapping_v2=[entry])
    response = api.post(
        api.compute(f"/servers/{server_id}/action"),
        json={"createImage": {"name": "bfv"}},
        headers=MV60,
    )
    image_id = response.get_json()["image_id"]
    data = api.get(f"/image/v2/images/{image_id}/file")
    assert (data.status_code, data.get_data(), data.headers["Content-Length"]) == (200, b"", "0")
    assert data.headers["Content-MD5"] == hashlib.md5(b"").hexdigest()


def test_deactivated_image_data_is_forbidden_to_members(api, app):
    image_id = upload(api)
    with api.cloud.lock:
        api.cloud.images.get(image_id).status = "deactivated"
    member = type(api)(app, user="fakeecs-member")
    assert glance_error(member.get(f"/image/v2/images/{image_id}/file"), 403) == (
        "The requested image has been deactivated. Image data download is forbidden."
    )
    assert api.get(f"/image/v2/images/{image_id}/file").status_code == 200


def test_uploaded_bytes_survive_a_state_export_and_import(api, cloud):
    image_id = upload(api, payload=b"\x00\xffdata")
    exported = cloud.export_state()
    assert exported["stores"]["images"]
    cloud.import_state(exported)
    assert api.get(f"/image/v2/images/{image_id}/file").get_data() == b"\x00\xffdata"
    assert cloud.images.get(image_id).payload == base64.b64encode(b"\x00\xffdata").decode()


# -- tags -------------------------------------------------------------------------------


def test_tags_are_a_set_added_and_removed(api):
    image_id = upload(api)
    path = f"/image/v2/images/{image_id}/tags"
    before = api.get(f"/image/v2/images/{image_id}").get_json()["updated_at"]
    api.cloud.clock.advance(2)
    for tag in ("gold", "gold", "x y"):
        response = api.put(f"{path}/{tag}")
        assert (response.status_code, response.get_data()) == (204, b"")
    shown = api.get(f"/image/v2/images/{image_id}").get_json()
    assert sorted(shown["tags"]) == ["gold", "x y"] and shown["updated_at"] != before
    assert [i["id"] for i in api.get("/image/v2/images?tag=gold").get_json()["images"]] == [
        image_id
    ]
    response = api.delete(f"{path}/gold")
    assert (response.status_code, response.get_data()) == (204, b"")
    assert api.get(f"/image/v2/images/{image_id}").get_json()["tags"] == ["x y"]
    assert glance_error(api.delete(f"{path}/gold"), 404) == "The resource could not be found."


def test_tag_refusals(api, app):
    image_id = upload(api)
    before = state(api.cloud)
    long_tag = "t" * 256
    message = glance_error(api.put(f"/image/v2/images/{image_id}/tags/{long_tag}"), 400)
    assert message == (
        f"Provided object does not match schema 'image': '{long_tag}' is too long"
        "\n\nFailed validating 'maxLength' in schema['properties']['tags']['items']:"
        "\n    {'maxLength': 255, 'type': 'string'}\n\nOn instance['tags'][0]:\n"
        f"    '{long_tag}'"
    )
    assert (
        glance_error(api.put(f"/image/v2/images/{MISSING}/tags/a"), 404)
        == f"Image {MISSING} not found."
    )
    assert (
        glance_error(api.delete(f"/image/v2/images/{MISSING}/tags/a"), 404)
        == f"Image {MISSING} not found."
    )
    reader = type(api)(app, user="fakeecs-reader")
    assert (
        glance_error(reader.put(f"/image/v2/images/{image_id}/tags/a"), 403)
        == f"Not allowed to update tags for image {image_id}."
    )
    # a public image of the platform: visible, not ours
    assert (
        glance_error(reader.delete(f"/image/v2/images/{BASE_IMAGE}/tags/a"), 403)
        == f"Not allowed to delete tags for image {BASE_IMAGE}."
    )
    assert state(api.cloud) == before


def test_tag_quota_is_413(api):
    image_id = upload(api)
    with api.cloud.lock:
        api.cloud.images.get(image_id).tags = [f"t{i}" for i in range(128)]
    before = state(api.cloud)
    message = glance_error(api.put(f"/image/v2/images/{image_id}/tags/one-more"), 413)
    assert message == (
        f"Image tag limit exceeded for image {image_id}: The limit has been "
        "exceeded on the number of allowed image tags. Attempted: 129, "
        "Maximum: 128:"
    )
    assert state(api.cloud) == before
    assert api.put(f"/image/v2/images/{image_id}/tags/t5").status_code == 204
    assert len(api.cloud.images.get(image_id).tags) == 128


def test_generated_ranges_are_slices_of_the_whole():
    whole = b"".join(generated_chunks("some-image", 200000))
    assert len(whole) == 200000
    ranges = [(0, 1), (1, 63), (63, 65), (65535, 65600), (100, 199999), (5, 5), (199930, 200000)]
    for start, stop in ranges:
        assert b"".join(generated_chunks("some-image", 200000, start, stop)) == whole[start:stop]
    # the last 64 bytes are the image's own; the rest is a stream all images share
    other = b"".join(generated_chunks("other-image", 200000))
    assert whole[-64:] != other[-64:] and whole[:-64] == other[:-64]
    for size in (0, 1, 64, 65):
        data = b"".join(generated_chunks("some-image", size))
        assert len(data) == size and data[: size - 64] == whole[: max(size - 64, 0)]
