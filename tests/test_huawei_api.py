"""The Huawei-native routes through the Flask test client: signing, auth, rules, errors, jobs."""

import json

import pytest
from conftest import BASE_IMAGE, PROJECT_ID

from fakeecs.model import Invalid, apply_world, signing

AK = "FAKEECSAKEXAMPLE0001"
SK = "fakeecs-secret-key"


@pytest.fixture
def hw(api):
    """The token client of conftest, plus AK/SK-signed requests."""
    if AK not in api.cloud.access_keys:
        apply_world(api.cloud, {"access_keys": [{"ak": AK, "sk": SK, "project": "fakeecs"}]})
    return api


def signed(
    api,
    method,
    path,
    *,
    body=None,
    query="",
    headers=None,
    ak=AK,
    sk=SK,
    content_type="application/json;charset=utf-8",
    now=None,
):
    """Send a request signed as the Huawei SDK signs it."""
    raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    base = {"Host": "localhost", "X-Project-Id": PROJECT_ID}
    if content_type:
        base["Content-Type"] = content_type
    base.update(headers or {})
    all_headers = signing.sign(
        method=method,
        path=path,
        query=query,
        headers=base,
        body=raw,
        access_key=ak,
        secret=sk,
        now=api.cloud.now() if now is None else now,
    )
    url = path + (f"?{query}" if query else "")
    return api.client.open(url, method=method, headers=all_headers, data=raw)


def boot(api, **extra):
    return api.boot(**extra)


def ims_image(api, server_id, name="sys-img", settle=True):
    response = api.post("/v2/cloudimages/action", json={"name": name, "instance_id": server_id})
    assert response.status_code == 200, response.get_data(as_text=True)
    job_id = response.get_json()["job_id"]
    if settle:
        api.cloud.clock.advance(40)
    return job_id, api.cloud.ims_jobs.get(job_id).entities["image_id"]


def ims_error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"]["code"] == code, body
    assert response.headers["X-Request-Id"].startswith("req-")
    return body["error"]["message"]


# -- the signature itself --------------------------------------------------------------


def test_verifier_accepts_what_the_sdk_signer_produces():
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.sdk_request import SdkRequest

    body = b'{"name": "x", "instance_id": "abc"}'
    request = SdkRequest(
        method="POST",
        schema="http",
        host="127.0.0.1:8774",
        resource_path="/v2/cloudimages/action",
        query_params=[("limit", 10), ("name", "a b~c")],
        header_params={
            "Content-Type": "application/json;charset=utf-8",
            "User-Agent": "huaweicloud-usdk-python/3.0",
        },
        body=body,
    )
    BasicCredentials(AK, SK, PROJECT_ID).sign_request(request)
    headers = dict(request.header_params)
    sdk_date = headers["X-Sdk-Date"]
    now = signing.parse_sdk_date(sdk_date)
    query = request.uri.partition("?")[2]
    ok = signing.verify(
        method="POST",
        path="/v2/cloudimages/action",
        query=query,
        headers=headers,
        body=body,
        secret_for={AK: SK}.get,
        now=now,
    )
    assert ok == AK
    with pytest.raises(signing.SignatureError) as tampered:
        signing.verify(
            method="POST",
            path="/v2/cloudimages/action",
            query=query,
            headers=headers,
            body=body + b" ",
            secret_for={AK: SK}.get,
            now=now,
        )
    assert tampered.value.reason == "signature"
    with pytest.raises(signing.SignatureError) as late:
        signing.verify(
            method="POST",
            path="/v2/cloudimages/action",
            query=query,
            headers=headers,
            body=body,
            secret_for={AK: SK}.get,
            now=now + 901,
        )
    assert late.value.reason == "skew"
    assert (
        signing.verify(
            method="POST",
            path="/v2/cloudimages/action",
            query=query,
            headers=headers,
            body=body,
            secret_for={AK: SK}.get,
            now=now - 899,
        )
        == AK
    )


def test_unsigned_payload_and_malformed_authorization():
    headers = signing.sign(
        method="PATCH",
        path="/v2/images/x",
        headers={"Host": "h", "Content-Type": "application/openstack-images-v2.1-json-patch"},
        body=b"[]",
        access_key=AK,
        secret=SK,
        now=1_800_000_000,
    )
    assert headers["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    assert "x-sdk-content-sha256" in headers["Authorization"]
    assert (
        signing.verify(
            method="PATCH",
            path="/v2/images/x",
            query="",
            headers=headers,
            body=b"[1]",
            secret_for={AK: SK}.get,
            now=1_800_000_000,
        )
        == AK
    )
    with pytest.raises(signing.SignatureError) as malformed:
        signing.verify(
            method="GET",
            path="/",
            query="",
            headers={"Authorization": "SDK-HMAC-SHA256 Access=X", "X-Sdk-Date": "20270115T080000Z"},
            body=b"",
            secret_for={AK: SK}.get,
            now=0,
        )
    assert malformed.value.reason == "malformed"


# -- auth on the Huawei routes and the OpenStack ones --------------------------------------


def test_token_and_signature_both_work_on_ims_routes(hw):
    by_token = hw.get("/v2/cloudimages?__imagetype=gold")
    assert by_token.status_code == 200
    by_signature = signed(hw, "GET", "/v2/cloudimages", query="__imagetype=gold")
    assert by_signature.status_code == 200
    assert by_signature.headers["X-Request-Id"].startswith("req-")
    names = sorted(i["name"] for i in by_signature.get_json()["images"])
    assert (
        names
        == sorted(i["name"] for i in by_token.get_json()["images"])
        == ["CentOS 7.9 64bit", "Ubuntu 22.04 server 64bit"]
    )


def test_missing_or_bad_credentials_get_the_gateway_body(hw):
    response = hw.get("/v2/cloudimages", token=False)
    assert response.status_code == 401
    body = response.get_json()
    assert (
        body["error_code"] == "APIG.0301" and body["request_id"] == response.headers["X-Request-Id"]
    )
    assert "neither a valid X-Auth-Token nor an SDK-HMAC-SHA256 signature" in body["error_msg"]
    bad = signed(hw, "GET", "/v2/cloudimages", sk="wrong")
    assert bad.status_code == 401 and bad.get_json()["error_code"] == "APIG.0301"
    assert bad.get_json()["error_msg"] == (
        "Incorrect IAM authentication information: verify aksk signature fail"
    )
    old = signed(hw, "GET", "/v2/cloudimages", now=hw.cloud.now() - 16 * 60)
    assert old.status_code == 401 and "expired" in old.get_json()["error_msg"]


def test_signed_native_createimage_on_the_compute_route(hw):
    server_id = boot(hw)
    path = f"/v2.1/{PROJECT_ID}/servers/{server_id}/action"
    response = signed(
        hw,
        "POST",
        path,
        body={"createImage": {"name": "nova-img"}},
        headers={"X-OpenStack-Nova-API-Version": "2.45"},
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    image = hw.cloud.images.get(response.get_json()["image_id"])
    assert image.origin["kind"] == "nova_snapshot" and image.owner == PROJECT_ID
    wrong = signed(hw, "POST", path, body={"createImage": {"name": "x"}}, sk="nope")
    assert wrong.status_code == 401 and wrong.get_json()["error_code"] == "APIG.0301"


def test_a_key_cannot_reach_another_project(hw):
    other = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    response = signed(hw, "GET", f"/v2.1/{other}/servers")
    assert response.status_code == 403
    assert response.get_json()["error_code"] == "APIG.0302"
    assert f"not authorized for project {other}" in response.get_json()["error_msg"]
    by_header = signed(hw, "GET", "/v2/cloudimages", headers={"X-Project-Id": other})
    assert by_header.status_code == 403


def test_unknown_huawei_route_and_literal_project_placeholder(hw):
    response = hw.get("/v1/cloudimages/nothing/here")
    assert response.status_code == 404
    assert response.get_json()["error_code"] == "APIG.0101"
    placeholder = hw.get("/v1/%7Bproject_id%7D/jobs/abc")
    message = ims_error(placeholder, 400, "IMG.0001")
    assert "BasicCredentials(ak, sk, project_id)" in message


def test_iam_projects_by_region_name_and_by_project_name(hw):
    by_region = signed(hw, "GET", "/v3/projects", query="name=cn-north-4", content_type="")
    assert by_region.status_code == 200
    assert [p["id"] for p in by_region.get_json()["projects"]] == [PROJECT_ID]
    by_name = hw.get("/v3/projects?name=fakeecs")
    assert [p["name"] for p in by_name.get_json()["projects"]] == ["fakeecs"]
    assert hw.get("/v3/projects?name=nope").get_json()["projects"] == []


# -- request validation (never a state change) -------------------------------------------


@pytest.mark.parametrize(
    "body,code,text",
    [
        (None, "IMG.0007", "The request body is empty."),
        ({"name": "x" * 129, "instance_id": "s"}, "IMG.0002", "more than 128 characters"),
        ({"name": " lead", "instance_id": "s"}, "IMG.0003", "format is invalid"),
        ({"name": "ok"}, "IMG.0012", "The ECS ID is not specified"),
        ({"instance_id": "s"}, "IMG.0013", "The image name is not specified."),
        ({"name": "ok", "instance_id": "s", "description": "a<b"}, "IMG.0004", "angle brackets"),
        ({"name": "ok", "instance_id": 5}, "IMG.0001", "instance_id: Not a valid string."),
        ({"name": "ok", "image_url": "b:f.qcow2"}, "IMG.0105", "not from OBS files"),
        (
            {"name": "ok", "instance_id": "s", "tags": ["a"], "image_tags": [{"key": "k"}]},
            "IMG.0001",
            "use either tags or image_tags",
        ),
    ],
)
def test_create_image_validation(hw, body, code, text):
    before = (len(hw.cloud.images), len(hw.cloud.ims_jobs))
    response = hw.post(
        "/v2/cloudimages/action",
        data=b"" if body is None else json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert text in ims_error(response, 400, code)
    assert (len(hw.cloud.images), len(hw.cloud.ims_jobs)) == before


def test_server_state_rules(hw):
    missing = hw.post("/v2/cloudimages/action", json={"name": "x", "instance_id": "nope"})
    assert ims_error(missing, 400, "IMG.0005") == "The ECS nope does not exist."
    server_id = boot(hw, settle=False)
    building = hw.post("/v2/cloudimages/action", json={"name": "x", "instance_id": server_id})
    assert "vm_state building" in ims_error(building, 400, "IMG.0008")
    hw.cloud.clock.advance(5)
    hw.post(hw.compute(f"/servers/{server_id}/action"), json={"os-stop": None})
    busy = hw.post(
        "/v1/cloudimages/wholeimages/action", json={"name": "w", "instance_id": server_id}
    )
    assert "in-progress task (powering-off)" in ims_error(busy, 400, "IMG.0010")
    hw.cloud.clock.advance(5)
    stopped = hw.post("/v2/cloudimages/action", json={"name": "x", "instance_id": server_id})
    assert stopped.status_code == 200
    hw.cloud.force_server_error(server_id)
    broken = hw.post(
        "/v1/cloudimages/wholeimages/action", json={"name": "w", "instance_id": server_id}
    )
    assert "vm_state error" in ims_error(broken, 400, "IMG.0126")


def test_reader_cannot_create_ims_images(hw):
    server_id = boot(hw)
    reader = type(hw)(hw.client.application, user="fakeecs-reader")
    response = reader.post("/v2/cloudimages/action", json={"name": "x", "instance_id": server_id})
    ims_error(response, 403, "IMG.0026")
    assert len(hw.cloud.ims_jobs) == 0


# -- jobs -----------------------------------------------------------------------------


def test_job_shape_on_both_job_apis_as_the_clock_moves(hw):
    server_id = boot(hw)
    job_id, image_id = ims_image(hw, server_id, settle=False)
    first = hw.get(f"/v1/{PROJECT_ID}/jobs/{job_id}").get_json()
    assert first["status"] == "INIT" and first["end_time"] == ""
    assert first["entities"] == {
        "image_id": image_id,
        "image_name": "sys-img",
        "process_percent": 0.0,
    }
    assert hw.get(f"/v2/images/{image_id}").get_json()["status"] == "queued"
    hw.cloud.clock.advance(10)
    running = hw.get(f"/v1/cloudimages/job/{job_id}").get_json()
    assert (running["status"], running["entities"]["process_percent"]) == ("RUNNING", 10.0)
    assert hw.get(f"/v2/images/{image_id}").get_json()["status"] == "saving"
    hw.cloud.clock.advance(20)
    done = hw.get(f"/v1/{PROJECT_ID}/jobs/{job_id}").get_json()
    assert done["status"] == "SUCCESS" and done["job_type"] == "imsCreateImageByInstance"
    assert done["begin_time"].endswith("Z") and done["end_time"].endswith("Z")
    assert done["error_code"] is None and done["fail_reason"] is None
    assert hw.get(f"/v2/images/{image_id}").get_json()["status"] == "active"


def test_a_job_fails_when_its_image_is_deleted_midway(hw):
    job_id, image_id = ims_image(hw, boot(hw), settle=False)
    refused = hw.delete(f"/v2/images/{image_id}")
    assert "being created" in ims_error(refused, 400, "IMG.0090")
    # the OpenStack Glance API does let it go
    assert hw.delete(f"/image/v2/images/{image_id}").status_code == 204
    hw.cloud.clock.advance(40)
    job = hw.get(f"/v1/{PROJECT_ID}/jobs/{job_id}").get_json()
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0144"
    assert "was deleted before the job finished" in job["fail_reason"]


def test_jobs_of_another_project_are_not_reachable(hw):
    job_id, _ = ims_image(hw, boot(hw))
    member = type(hw)(hw.client.application, user="fakeecs-member")
    other = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    ims_error(member.get(f"/v1/{other}/jobs/{job_id}"), 403, "IMG.0026")
    assert member.get(f"/v1/{PROJECT_ID}/jobs/{job_id}").status_code == 200
    assert (
        ims_error(member.get(f"/v1/{PROJECT_ID}/jobs/unknown"), 404, "IMG.0404")
        == "The job unknown does not exist."
    )


# -- data-disk images ---------------------------------------------------------------------


def _attach_data_volume(cloud, server_id, size=10):
    context = cloud.context_for_user("fakeecs")
    volume = cloud.create_volume(context, size=size, availability_zone="cn-north-4a")
    cloud.clock.advance(5)
    cloud.attach_volume(context, server_id, volume.id)
    return volume.id


def test_data_images_of_two_disks_and_the_disk_rules(hw):
    cloud = hw.cloud
    server_id = boot(hw)
    first, second = (
        _attach_data_volume(cloud, server_id, 10),
        _attach_data_volume(cloud, server_id, 30),
    )
    response = hw.post(
        "/v2.1/cloudimages/action",
        json={
            "data_images": [
                {"name": "d1", "volume_id": first},
                {"name": "d2", "volume_id": second, "tags": ["k.v"]},
            ]
        },
    )
    assert response.status_code == 200
    job_id = response.get_json()["job_id"]
    hw.cloud.clock.advance(10)
    running = hw.get(f"/v1/{PROJECT_ID}/jobs/{job_id}").get_json()
    assert running["status"] == "RUNNING"
    assert [s["status"] for s in running["entities"]["sub_jobs_result"]] == ["RUNNING"] * 2
    hw.cloud.clock.advance(30)
    done = hw.get(f"/v1/{PROJECT_ID}/jobs/{job_id}").get_json()
    assert done["status"] == "SUCCESS"
    images = [
        cloud.images.get(s["entities"]["image_id"]) for s in done["entities"]["sub_jobs_result"]
    ]
    assert [(i.name, i.min_disk, i.status) for i in images] == [
        ("d1", 10, "active"),
        ("d2", 30, "active"),
    ]
    assert images[1].tags == ["k.v"]
    # not attached, a system disk, and disks of two servers
    loose = cloud.create_volume(
        cloud.context_for_user("fakeecs"), size=5, availability_zone="cn-north-4a"
    )
    refused = hw.post(
        "/v2/cloudimages/action", json={"data_images": [{"name": "x", "volume_id": loose.id}]}
    )
    assert "not attached to an ECS" in ims_error(refused, 400, "IMG.0120")
    other_server = boot(hw, name="web-02")
    third = _attach_data_volume(cloud, other_server)
    mixed = hw.post(
        "/v2/cloudimages/action",
        json={
            "data_images": [{"name": "x", "volume_id": first}, {"name": "y", "volume_id": third}]
        },
    )
    ims_error(mixed, 400, "IMG.0140")


def test_system_disk_volume_is_not_a_data_disk(hw):
    cloud = hw.cloud
    response = hw.post(
        hw.compute("/servers"),
        json={
            "server": {
                "name": "vb",
                "flavorRef": "s6.small.1",
                "networks": "auto",
                "availability_zone": "cn-north-4a",
                "block_device_mapping_v2": [
                    {
                        "source_type": "image",
                        "destination_type": "volume",
                        "uuid": BASE_IMAGE,
                        "boot_index": 0,
                        "volume_size": 40,
                    }
                ],
            }
        },
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    server_id = response.get_json()["server"]["id"]
    cloud.clock.advance(10)
    root = cloud.servers.get(server_id).block_devices[0]["volume_id"]
    refused = hw.post(
        "/v2/cloudimages/action", json={"data_images": [{"name": "x", "volume_id": root}]}
    )
    assert "system disk" in ims_error(refused, 400, "IMG.0120")


def test_ims_system_images_cannot_become_data_disks(hw):
    cloud = hw.cloud
    _, image_id = ims_image(hw, boot(hw))
    with pytest.raises(Invalid) as refused:
        cloud.create_volume(
            cloud.context_for_user("fakeecs"),
            size=40,
            image_id=image_id,
            availability_zone="cn-north-4a",
        )
    assert refused.value.rule == "data_disk" and "system disk image" in refused.value.message
    # and through the volume API, in Cinder's format
    response = hw.post(
        f"/volume/v3/{PROJECT_ID}/volumes",
        json={"volume": {"size": 40, "imageRef": image_id, "availability_zone": "cn-north-4a"}},
    )
    assert response.status_code == 400
    assert "cannot be used to create data disks" in response.get_json()["badRequest"]["message"]


# -- the export rule ----------------------------------------------------------------------


def test_export_rules(hw):
    cloud = hw.cloud
    server_id = boot(hw)
    public = hw.post(
        f"/v1/cloudimages/{BASE_IMAGE}/file",
        json={"bucket_url": "bucket-1:ubuntu.qcow2", "file_format": "qcow2"},
    )
    ims_error(public, 400, "IMG.0077")
    _, image_id = ims_image(hw, server_id, settle=False)
    creating = hw.post(
        f"/v1/cloudimages/{image_id}/file",
        json={"bucket_url": "bucket-1:a.qcow2", "file_format": "qcow2"},
    )
    assert "status queued" in ims_error(creating, 400, "IMG.0046")
    cloud.clock.advance(40)
    for body, code in (
        ({"bucket_url": ":a.qcow2", "file_format": "qcow2"}, "IMG.0068"),
        ({"bucket_url": "bucket-1", "file_format": "qcow2"}, "IMG.0069"),
        ({"bucket_url": "bucket-1:a.raw", "file_format": "raw"}, "IMG.0072"),
        ({"file_format": "qcow2"}, "IMG.0001"),
    ):
        ims_error(hw.post(f"/v1/cloudimages/{image_id}/file", json=body), 400, code)
    ok = hw.post(
        f"/v2.1/cloudimages/{image_id}/file",
        json={"bucket_url": "bucket-1:a.vhd", "file_format": "vhd"},
    )
    assert ok.status_code == 200
    again = hw.post(
        f"/v1/cloudimages/{image_id}/file",
        json={"bucket_url": "bucket-1:b.vhd", "file_format": "vhd"},
    )
    ims_error(again, 400, "IMG.0148")
    cloud.clock.advance(30)
    same_file = hw.post(
        f"/v1/cloudimages/{image_id}/file",
        json={"bucket_url": "bucket-1:a.vhd", "file_format": "vhd"},
    )
    ims_error(same_file, 400, "IMG.0070")
    quick = hw.post(
        f"/v1/cloudimages/{image_id}/file",
        json={"bucket_url": "bucket-1:q.zvhd2", "is_quick_export": True},
    )
    assert quick.status_code == 200
    cloud.clock.advance(30)
    exported = cloud.list_image_exports(image_id=image_id)
    assert [(e.file_name, e.file_format, e.quick) for e in exported] == [
        ("a.vhd", "vhd", False),
        ("q.zvhd2", "zvhd2", True),
    ]
    assert set(cloud.stores) >= {"ims_jobs", "image_exports"}


def test_exporting_a_native_image_names_the_rule(hw):
    server_id = boot(hw)
    response = hw.post(
        hw.compute(f"/servers/{server_id}/action"),
        json={"createImage": {"name": "nova"}},
        headers={"OpenStack-API-Version": "compute 2.60"},
    )
    image_id = response.get_json()["image_id"]
    hw.cloud.clock.advance(5)
    refused = hw.post(
        f"/v1/cloudimages/{image_id}/file",
        json={"bucket_url": "bucket-1:nova.qcow2", "file_format": "qcow2"},
    )
    message = ims_error(refused, 400, "IMG.0071")
    assert (
        f"image {image_id} was created from ECS {server_id} with the native createImage" in message
    )
    assert hw.cloud.list_image_exports() == []


# -- the IMS list and Glance at the root -------------------------------------------------------


def test_ims_list_filters_paging_and_huawei_fields(hw):
    server_id = boot(hw)
    ids = [ims_image(hw, server_id, name=f"img-{n}")[1] for n in range(3)]
    response = hw.get("/v2/cloudimages?__imagetype=private&limit=2")
    body = response.get_json()
    assert [i["id"] for i in body["images"]] == [ids[2], ids[1]]
    assert body["page_info"] == {"next_marker": ids[1]}
    rest = hw.get(f"/v2/cloudimages?__imagetype=private&limit=2&marker={ids[1]}").get_json()
    assert [i["id"] for i in rest["images"]] == [ids[0]] and "page_info" not in rest
    asc = hw.get("/v2/cloudimages?__imagetype=private&sort_key=name&sort_dir=asc").get_json()
    assert [i["name"] for i in asc["images"]] == ["img-0", "img-1", "img-2"]
    item = rest["images"][0]
    assert item["__imagetype"] == "private" and item["__os_type"] == "Linux"
    # the image's data is fakeecs's made-up bytes, which a test can download (issue 9)
    assert item["virtual_env_type"] == "FusionCompute" and item["__image_size"] == str(64 * 1024)
    assert item["__data_origin"] == f"instance,{server_id}"
    gold = hw.get("/v2/cloudimages?__imagetype=gold&__platform=Ubuntu").get_json()["images"]
    assert [i["id"] for i in gold] == [BASE_IMAGE]
    future = hw.get("/v2/cloudimages?created_at=gt:2999-01-01T00:00:00Z").get_json()
    assert future["images"] == []
    ims_error(hw.get("/v2/cloudimages?limit=0"), 400, "IMG.0001")
    ims_error(hw.get("/v2/cloudimages?created_at=yesterday"), 400, "IMG.0001")
    ims_error(hw.get("/v2/cloudimages?sort_key=color"), 400, "IMG.0001")


def test_glance_root_patch_needs_the_patch_media_type(hw):
    _, image_id = ims_image(hw, boot(hw))
    wrong = hw.patch(
        f"/v2/images/{image_id}", json=[{"op": "replace", "path": "/name", "value": "n"}]
    )
    ims_error(wrong, 415, "IMG.0001")
    ok = hw.patch(
        f"/v2/images/{image_id}",
        data=json.dumps([{"op": "replace", "path": "/name", "value": "n2"}]),
        headers={"Content-Type": "application/openstack-images-v2.1-json-patch"},
    )
    assert ok.status_code == 200 and ok.get_json()["name"] == "n2"
    assert hw.get(f"/image/v2/images/{image_id}").get_json()["name"] == "n2"
    bad = hw.delete(f"/v2/images/{image_id}", json={"delete_backup": "yes"})
    ims_error(bad, 400, "IMG.0001")
    assert hw.cloud.images.get(image_id) is not None


def test_ecs_show_server_shape(hw):
    server_id = boot(hw)
    body = hw.get(f"/v1/{PROJECT_ID}/cloudservers/{server_id}").get_json()["server"]
    assert body["id"] == server_id and body["status"] == "ACTIVE"
    assert body["flavor"] == {
        "id": "s6.small.1",
        "name": "s6.small.1",
        "disk": "0",
        "vcpus": "1",
        "ram": "1024",
    }
    assert body["metadata"]["image_name"] == "Ubuntu 22.04 server 64bit"
    assert body["OS-EXT-AZ:availability_zone"] == "cn-north-4a"
    missing = hw.get(f"/v1/{PROJECT_ID}/cloudservers/nope")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "Ecs.0114"


def test_ims_patch_values_are_checked_like_glance(hw):
    _, image_id = ims_image(hw, boot(hw))
    ok = hw.patch(
        f"/v2/cloudimages/{image_id}",
        json=[
            {"op": "replace", "path": "/min_ram", "value": "2048"},
            {"op": "replace", "path": "/protected", "value": "true"},
            {"op": "replace", "path": "/__description", "value": "d"},
        ],
    )
    assert ok.status_code == 200, ok.get_data(as_text=True)
    body = ok.get_json()
    assert (body["min_ram"], body["protected"], body["__description"]) == (2048, True, "d")
    before = hw.cloud.images.get(image_id).to_dict()
    for change, status, code in (
        ({"op": "replace", "path": "/visibility", "value": 5}, 400, "IMG.0001"),
        ({"op": "replace", "path": "/min_ram", "value": "lots"}, 400, "IMG.0001"),
        ({"op": "replace", "path": "/id", "value": "x"}, 403, "IMG.0105"),
        ({"op": "move", "path": "/name", "value": "x"}, 400, "IMG.0001"),
        ({"op": "replace", "path": "/a/b", "value": "x"}, 400, "IMG.0001"),
    ):
        ims_error(hw.patch(f"/v2/cloudimages/{image_id}", json=[change]), status, code)
    assert hw.cloud.images.get(image_id).to_dict() == before
    protected = hw.delete(f"/v2/images/{image_id}")
    ims_error(protected, 403, "IMG.0047")
