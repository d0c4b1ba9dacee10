"""Glance v2 under /image: register, upload, patch, list, delete."""

import hashlib

import pytest
from conftest import BASE_IMAGE, CENTOS_IMAGE, PROJECT_ID

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}


def test_versions_document_is_public(api):
    response = api.get("/image", token=False)
    assert response.status_code == 300
    assert response.get_json()["versions"][0]["links"][0]["href"].endswith("/image/v2/")


def test_register_then_upload(api):
    created = api.post(
        "/image/v2/images",
        json={
            "name": "mine",
            "disk_format": "qcow2",
            "container_format": "bare",
            "os_distro": "debian",
        },
    )
    assert created.status_code == 201
    image = created.get_json()
    assert (image["status"], image["owner"], image["visibility"], image["os_distro"]) == (
        "queued",
        PROJECT_ID,
        "private",
        "debian",
    )

    upload = api.put(
        f"/image/v2/images/{image['id']}/file",
        data=b"a" * 1000 + b"b" * 24,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert upload.status_code == 204
    shown = api.get(f"/image/v2/images/{image['id']}").get_json()
    assert shown["status"] == "active" and shown["size"] == 1024
    assert shown["checksum"] == hashlib.md5(b"a" * 1000 + b"b" * 24).hexdigest()
    again = api.put(
        f"/image/v2/images/{image['id']}/file",
        data=b"x",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert again.status_code == 409


def test_upload_needs_formats(api):
    image = api.post("/image/v2/images", json={"name": "bare"}).get_json()
    response = api.put(
        f"/image/v2/images/{image['id']}/file",
        data=b"x",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 400
    assert response.get_json()["message"] == (
        "Properties disk_format, container_format must be set prior to saving data."
    )
    assert response.get_json()["code"] == "400 Bad Request"


@pytest.mark.parametrize(
    "body,status,fragment",
    [
        ({"disk_format": "floppy"}, 400, "disk_format"),
        ({"min_disk": "5"}, 400, "min_disk"),
        ({"protected": "yes"}, 400, "protected"),
        ({"custom": 5}, 400, "custom"),
        ({"status": "active"}, 403, "Attribute 'status' is read-only."),
        ({"os_glance_foo": "x"}, 403, "Attribute 'os_glance_foo' is reserved."),
    ],
)
def test_register_refusals(api, body, status, fragment):
    response = api.post("/image/v2/images", json=body)
    assert response.status_code == status
    assert fragment in response.get_json()["message"]
    assert len(api.cloud.images) == 2


def test_malformed_json_is_400(api):
    response = api.post("/image/v2/images", data=b"{", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["message"] == "Malformed JSON in request body."


def test_patch_properties(api):
    image = api.post("/image/v2/images", json={"name": "p"}).get_json()
    path = f"/image/v2/images/{image['id']}"
    response = api.patch(
        path,
        json=[
            {"op": "add", "path": "/color", "value": "blue"},
            {"op": "replace", "path": "/name", "value": "q"},
            {"op": "replace", "path": "/min_ram", "value": 512},
        ],
        headers=PATCH,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["color"], body["name"], body["min_ram"]) == ("blue", "q", 512)
    removed = api.patch(path, json=[{"op": "remove", "path": "/color"}], headers=PATCH).get_json()
    assert "color" not in removed
    assert (
        api.patch(path, json=[{"op": "remove", "path": "/color"}], headers=PATCH).status_code == 409
    )
    assert (
        api.patch(
            path, json=[{"op": "replace", "path": "/status", "value": "x"}], headers=PATCH
        ).status_code
        == 403
    )
    wrong_type = api.patch(path, json=[], headers={"Content-Type": "application/json"})
    assert wrong_type.status_code == 415


def test_list_filters_sort_and_pages(api):
    ids = [
        api.post("/image/v2/images", json={"name": f"img-{i}"}).get_json()["id"] for i in range(3)
    ]
    everything = [i["id"] for i in api.get("/image/v2/images").get_json()["images"]]
    assert everything == ids[::-1] + [CENTOS_IMAGE, BASE_IMAGE]
    page = api.get("/image/v2/images?limit=2").get_json()
    assert [i["id"] for i in page["images"]] == ids[:0:-1]
    assert page["next"].startswith("/v2/images?") and f"marker={ids[1]}" in page["next"]
    by_name = api.get("/image/v2/images?name=img-1").get_json()["images"]
    assert [i["id"] for i in by_name] == [ids[1]]
    public = api.get("/image/v2/images?visibility=public").get_json()["images"]
    assert {i["id"] for i in public} == {BASE_IMAGE, CENTOS_IMAGE}
    ordered = api.get("/image/v2/images?sort=name:asc&status=queued").get_json()["images"]
    assert [i["name"] for i in ordered] == ["img-0", "img-1", "img-2"]
    bad = api.get("/image/v2/images?sort_key=colour")
    assert bad.status_code == 400 and "Invalid sort key" in bad.get_json()["message"]
    assert api.get("/image/v2/images?marker=nope").status_code == 400


def test_a_list_without_limit_is_a_page_of_25_and_no_page_exceeds_1000(api):
    """Glance's limit_param_default (25) and api_limit_max (1000)."""
    made = [
        api.post("/image/v2/images", json={"name": f"n-{i}"}).get_json()["id"] for i in range(30)
    ]
    page = api.get("/image/v2/images").get_json()
    assert [i["id"] for i in page["images"]] == made[::-1][:25]
    assert page["next"] == f"/v2/images?marker={made[5]}"
    rest = api.get("/image/v2/images?marker=" + made[5]).get_json()
    assert [i["id"] for i in rest["images"]][:5] == made[4::-1] and "next" not in rest
    assert len(api.get("/image/v2/images?limit=5000").get_json()["images"]) == 32


def test_hidden_images(api):
    image = api.post("/image/v2/images", json={"name": "h", "os_hidden": True}).get_json()
    listed = [i["id"] for i in api.get("/image/v2/images").get_json()["images"]]
    assert image["id"] not in listed
    hidden = [i["id"] for i in api.get("/image/v2/images?os_hidden=true").get_json()["images"]]
    assert hidden == [image["id"]]


def test_delete_and_404s(api):
    image = api.post("/image/v2/images", json={"name": "d"}).get_json()
    assert api.delete(f"/image/v2/images/{image['id']}").status_code == 204
    for path in (f"/image/v2/images/{image['id']}", "/image/v2/images/not-even-a-uuid"):
        assert api.get(path).status_code == 404
        response = api.delete(path)
        assert response.status_code == 404
        assert response.get_json()["message"].startswith("No image found with ID")


def test_protected_and_foreign_images_cannot_be_deleted(app, api):
    protected = api.post("/image/v2/images", json={"name": "p", "protected": True}).get_json()
    response = api.delete(f"/image/v2/images/{protected['id']}")
    assert response.status_code == 403
    member = type(api)(app, "fakeecs-member")
    assert member.delete(f"/image/v2/images/{BASE_IMAGE}").status_code == 403
    assert api.get(f"/image/v2/images/{BASE_IMAGE}").status_code == 200


def test_schema_and_tasks(api):
    schema = api.get("/image/v2/schemas/image").get_json()
    assert schema["name"] == "image" and schema["additionalProperties"] == {"type": "string"}
    assert api.get(f"/image/v2/images/{BASE_IMAGE}/tasks").get_json() == {"tasks": []}


def test_reader_cannot_register(app):
    from conftest import Api

    reader = Api(app, "fakeecs-reader")
    response = reader.post("/image/v2/images", json={"name": "x"})
    assert response.status_code == 403
    assert reader.get("/image/v2/images").status_code == 200
