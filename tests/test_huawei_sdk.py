"""Huawei's own SDK (EcsClient, ImsClient, EvsClient, IamClient), unmodified, against a live fakeecs.

Every client is built with ``BasicCredentials`` (AK/SK) and ``with_endpoints``
pointing at the live server; jobs are polled while the frozen virtual clock is
advanced between polls.
"""

import json

import pytest
from conftest import BASE_IMAGE, PROJECT_ID

from fakeecs.model import apply_world

core = pytest.importorskip("huaweicloudsdkcore")

from huaweicloudsdkcore.auth.credentials import BasicCredentials  # noqa: E402
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException  # noqa: E402
from huaweicloudsdkcore.http.http_config import HttpConfig  # noqa: E402
from huaweicloudsdkcore.region.region import Region  # noqa: E402
from huaweicloudsdkecs.v2 import EcsClient  # noqa: E402
from huaweicloudsdkecs.v2 import model as ecs_model  # noqa: E402
from huaweicloudsdkevs.v2 import EvsClient  # noqa: E402
from huaweicloudsdkevs.v2 import model as evs_model  # noqa: E402
from huaweicloudsdkims.v2 import ImsClient  # noqa: E402
from huaweicloudsdkims.v2 import model as ims_model  # noqa: E402

AK = "FAKEECSAKEXAMPLE0001"
SK = "fakeecs-secret-key"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def hw(live, cloud):
    """The live server, with the default scenario's access key present."""
    if AK not in getattr(cloud, "access_keys", {}):
        apply_world(cloud, {"access_keys": [{"ak": AK, "sk": SK, "project": "fakeecs"}]})
    live.cloud = cloud
    return live


def build(cls, url, ak=AK, sk=SK, project_id=PROJECT_ID):
    config = HttpConfig.get_default_config()
    config.timeout = (5, 30)
    return (
        cls.new_builder()
        .with_credentials(BasicCredentials(ak, sk, project_id))
        .with_http_config(config)
        .with_endpoints([url])
        .build()
    )


def member(cloud):
    return cloud.context_for_user("fakeecs")


def boot_sdk(ecs, cloud, name="web-01", zone="cn-north-4a", data_gib=None):
    """Boot a volume-backed server through the SDK (and a blank data disk if asked)."""
    devices = [
        ecs_model.NovaServerBlockDeviceMapping(
            source_type="image",
            destination_type="volume",
            uuid=BASE_IMAGE,
            boot_index=0,
            volume_size=40,
            delete_on_termination=True,
        )
    ]
    if data_gib:
        devices.append(
            ecs_model.NovaServerBlockDeviceMapping(
                source_type="blank",
                destination_type="volume",
                boot_index=-1,
                volume_size=data_gib,
                delete_on_termination=True,
            )
        )
    option = ecs_model.NovaCreateServersOption(
        name=name,
        flavor_ref="s6.small.1",
        image_ref=BASE_IMAGE,
        availability_zone=zone,
        networks="auto",
        block_device_mapping_v2=devices,
    )
    response = ecs.nova_create_servers(
        ecs_model.NovaCreateServersRequest(
            body=ecs_model.NovaCreateServersRequestBody(server=option),
            open_stack_api_version="compute 2.60",
        )
    )
    cloud.clock.advance(10)
    return response.server.id


def wait_job(ims, cloud, job_id, step=10, limit=12):
    """Poll an IMS job with ImsClient.show_job, advancing the virtual clock between polls."""
    seen = []
    for _ in range(limit):
        job = ims.show_job(ims_model.ShowJobRequest(job_id=job_id))
        seen.append(job.status)
        if job.status in ("SUCCESS", "FAIL"):
            return job, seen
        cloud.clock.advance(step)
    raise AssertionError(f"job {job_id} never finished: {seen}")


def create_system_image(ims, server_id, name="sys-img"):
    body = ims_model.CreateImageRequestBody(
        name=name, instance_id=server_id, description="system disk", tags=["env.test"]
    )
    return ims.create_image(ims_model.CreateImageRequest(body=body)).job_id


def native_create_image(ecs, server_id, name="nova-img"):
    """The native createImage through EcsClient.call_api (the SDK has no typed method)."""
    response = ecs.call_api(
        "/v2.1/{project_id}/servers/{server_id}/action",
        "POST",
        path_params={"server_id": server_id},
        header_params={
            "Content-Type": "application/json;charset=UTF-8",
            "X-OpenStack-Nova-API-Version": "2.45",
        },
        body={"createImage": {"name": name, "metadata": {"k": "v"}}},
        response_type="NovaDeleteServerResponse",
    )
    assert response.status_code == 202
    return json.loads(response.raw_content)["image_id"]


# -- system-disk, data-disk and full-ECS images ------------------------------------


def test_system_disk_image_job_runs_to_success(hw):
    cloud = hw.cloud
    ecs, ims = build(EcsClient, hw.url), build(ImsClient, hw.url)
    server_id = boot_sdk(ecs, cloud)
    shown = ecs.show_server(ecs_model.ShowServerRequest(server_id=server_id)).server
    assert (shown.status, shown.os_ext_a_zavailability_zone) == ("ACTIVE", "cn-north-4a")

    job_id = create_system_image(ims, server_id)
    job, seen = wait_job(ims, cloud, job_id)
    assert seen[0] == "INIT" and "RUNNING" in seen and seen[-1] == "SUCCESS"
    assert job.job_type == "imsCreateImageByInstance" and job.error_code is None
    assert job.entities.image_name == "sys-img"
    progress = ims.show_job_progress(ims_model.ShowJobProgressRequest(job_id=job_id))
    assert progress.status == "SUCCESS" and progress.entities.process_percent == 100.0
    assert progress.entities.image_id == job.entities.image_id

    image = ims.glance_show_image(ims_model.GlanceShowImageRequest(image_id=job.entities.image_id))
    assert (image.status, image.visibility, image.name) == ("active", "private", "sys-img")
    assert image.imagetype == "private" and image.os_type == "Linux"
    assert image.virtual_env_type == "FusionCompute" and image.min_disk == 40
    assert image.data_origin == f"instance,{server_id}"
    assert image.originalimagename == BASE_IMAGE and image.description == "system disk"
    assert image.tags == ["env.test"]
    assert cloud.images.get(image.id).origin["kind"] == "ims_system"
    listed = ims.list_images(ims_model.ListImagesRequest(imagetype="private", name="sys-img"))
    assert [i.id for i in listed.images] == [image.id]


def test_data_disk_image_has_sub_jobs_and_can_become_a_data_disk(hw):
    cloud = hw.cloud
    ecs, ims = build(EcsClient, hw.url), build(ImsClient, hw.url)
    server_id = boot_sdk(ecs, cloud, data_gib=20)
    data_volume = next(
        bd["volume_id"]
        for bd in cloud.servers.get(server_id).block_devices
        if bd.get("boot_index") != 0
    )
    body = ims_model.CreateImageRequestBody(
        data_images=[
            ims_model.CreateDataImage(
                name="data-img", volume_id=data_volume, description="dd", tags=["a.b"]
            )
        ]
    )
    job_id = ims.create_image(ims_model.CreateImageRequest(body=body)).job_id
    job, _ = wait_job(ims, cloud, job_id)
    assert (job.status, job.job_type) == ("SUCCESS", "imsVolumesToSysDataImagesJob")
    [sub] = job.entities.sub_jobs_result
    assert (sub.status, sub.job_type) == ("SUCCESS", "imsCopyVolumeToImageJob")
    assert job.entities.sub_jobs_list == [sub.job_id]
    image = ims.glance_show_image(ims_model.GlanceShowImageRequest(image_id=sub.entities.image_id))
    assert image.name == "data-img" and image.virtual_env_type == "DataImage"
    assert image.min_disk == 20 and image.data_origin == f"volume,{data_volume}"
    origin = cloud.images.get(image.id).origin
    assert (origin["kind"], origin["volume_id"], origin["server_id"]) == (
        "ims_data",
        data_volume,
        server_id,
    )
    # IMS data-disk images can become data disks
    volume = cloud.create_volume(
        member(cloud), image_id=image.id, size=20, availability_zone="cn-north-4a"
    )
    assert volume.size == 20


def test_giving_instance_id_and_data_images_together_is_refused(hw):
    cloud = hw.cloud
    ecs, ims = build(EcsClient, hw.url), build(ImsClient, hw.url)
    server_id = boot_sdk(ecs, cloud, data_gib=10)
    data_volume = cloud.servers.get(server_id).block_devices[1]["volume_id"]
    before = len(cloud.images)
    body = ims_model.CreateImageRequestBody(
        name="both",
        instance_id=server_id,
        data_images=[ims_model.CreateDataImage(name="data-img", volume_id=data_volume)],
    )
    with pytest.raises(ClientRequestException) as refused:
        ims.create_image(ims_model.CreateImageRequest(body=body))
    assert (refused.value.status_code, refused.value.error_code) == (400, "IMG.0001")
    assert "instance_id and data_images cannot both be given" in refused.value.error_msg
    assert refused.value.request_id.startswith("req-")
    assert len(cloud.images) == before


def test_full_ecs_image_and_its_export_refusal(hw):
    cloud = hw.cloud
    ecs, ims = build(EcsClient, hw.url), build(ImsClient, hw.url)
    server_id = boot_sdk(ecs, cloud, data_gib=10)
    body = ims_model.CreateWholeImageRequestBody(
        name="whole-img", instance_id=server_id, description="w", vault_id="vault-1"
    )
    job_id = ims.create_whole_image(ims_model.CreateWholeImageRequest(body=body)).job_id
    job, _ = wait_job(ims, cloud, job_id)
    assert (job.status, job.job_type) == ("SUCCESS", "imsCreateWholeImageByInstanceJob")
    image_id = job.entities.image_id
    record = cloud.images.get(image_id)
    assert record.origin["kind"] == "ims_whole" and record.status == "active"
    assert len(record.origin["data_volume_ids"]) == 1
    export = ims_model.ExportImageRequestBody(
        bucket_url="bucket-1:whole.qcow2", file_format="qcow2"
    )
    with pytest.raises(ClientRequestException) as refused:
        ims.export_image(ims_model.ExportImageRequest(image_id=image_id, body=export))
    assert (refused.value.status_code, refused.value.error_code) == (400, "IMG.0128")
    assert "full-ECS image" in refused.value.error_msg
    assert cloud.list_image_exports() == []
    # Glance delete with delete_backup, as the SDK sends it for full-ECS images
    ims.glance_delete_image(
        ims_model.GlanceDeleteImageRequest(
            image_id=image_id, body=ims_model.GlanceDeleteImageRequestBody(delete_backup=True)
        )
    )
    assert cloud.images.get(image_id) is None


# -- the export rule -----------------------------------------------------------------


def test_exporting_an_ims_image_succeeds_and_records_the_object(hw):
    cloud = hw.cloud
    ecs, ims = build(EcsClient, hw.url), build(ImsClient, hw.url)
    server_id = boot_sdk(ecs, cloud)
    job, _ = wait_job(ims, cloud, create_system_image(ims, server_id))
    image_id = job.entities.image_id
    body = ims_model.ExportImageRequestBody(
        bucket_url="my-bucket:exports/sys.qcow2", file_format="qcow2"
    )
    export_id = ims.export_image(ims_model.ExportImageRequest(image_id=image_id, body=body)).job_id
    assert cloud.list_image_exports() == []
    export_job, seen = wait_job(ims, cloud, export_id)
    assert export_job.job_type == "imsNativeExportImageJob" and seen[-1] == "SUCCESS"
    assert export_job.entities.image_id == image_id
    [exported] = cloud.list_image_exports()
    assert (exported.image_id, exported.bucket, exported.file_name, exported.file_format) == (
        image_id,
        "my-bucket",
        "exports/sys.qcow2",
        "qcow2",
    )
    assert exported.image_kind == "ims_system" and exported.job_id == export_id


def test_exporting_a_native_createimage_image_is_refused(hw):
    cloud = hw.cloud
    ecs, ims = build(EcsClient, hw.url), build(ImsClient, hw.url)
    server_id = boot_sdk(ecs, cloud)
    image_id = native_create_image(ecs, server_id)
    cloud.clock.advance(5)
    assert cloud.images.get(image_id).origin["kind"] == "nova_snapshot"
    body = ims_model.ExportImageRequestBody(bucket_url="my-bucket:nova.qcow2", file_format="qcow2")
    with pytest.raises(ClientRequestException) as refused:
        ims.export_image(ims_model.ExportImageRequest(image_id=image_id, body=body))
    error = refused.value
    assert (error.status_code, error.error_code) == (400, "IMG.0071")
    assert error.error_msg.startswith("The image cannot be exported")
    assert "native createImage action" in error.error_msg
    assert "POST /v2/cloudimages/action" in error.error_msg
    assert error.request_id.startswith("req-")
    assert cloud.list_image_exports() == [] and not any(
        j.job_type == "imsNativeExportImageJob" for j in cloud.ims_jobs
    )


# -- Glance through ImsClient, and the same image through openstacksdk -------------------


def test_glance_show_update_delete_through_ims_client(hw):
    cloud = hw.cloud
    ecs, ims = build(EcsClient, hw.url), build(ImsClient, hw.url)
    job, _ = wait_job(ims, cloud, create_system_image(ims, boot_sdk(ecs, cloud)))
    image_id = job.entities.image_id
    patch = [
        ims_model.GlanceUpdateImageRequestBody(op="replace", path="/name", value="renamed"),
        ims_model.GlanceUpdateImageRequestBody(op="add", path="/purpose", value="ci"),
    ]
    updated = ims.glance_update_image(
        ims_model.GlanceUpdateImageRequest(image_id=image_id, body=patch)
    )
    assert updated.name == "renamed"
    assert cloud.images.get(image_id).properties["purpose"] == "ci"
    shown = ims.glance_show_image(ims_model.GlanceShowImageRequest(image_id=image_id))
    assert shown.name == "renamed" and shown.imagetype == "private"
    listed = ims.glance_list_images(ims_model.GlanceListImagesRequest(visibility="private"))
    assert image_id in [i.id for i in listed.images]
    ims_update = ims.update_image(
        ims_model.UpdateImageRequest(
            image_id=image_id,
            body=[
                ims_model.UpdateImageRequestBody(op="replace", path="/__description", value="d2")
            ],
        )
    )
    assert ims_update.description == "d2"
    ims.glance_delete_image(ims_model.GlanceDeleteImageRequest(image_id=image_id))
    assert cloud.images.get(image_id) is None
    with pytest.raises(ClientRequestException) as missing:
        ims.glance_show_image(ims_model.GlanceShowImageRequest(image_id=image_id))
    assert (missing.value.status_code, missing.value.error_code) == (404, "IMG.0027")


def test_same_image_through_openstacksdk_and_ims_client(hw):
    openstack = pytest.importorskip("openstack")
    cloud = hw.cloud
    ecs, ims = build(EcsClient, hw.url), build(ImsClient, hw.url)
    job, _ = wait_job(ims, cloud, create_system_image(ims, boot_sdk(ecs, cloud), name="shared"))
    image_id = job.entities.image_id
    conn = openstack.connect(
        auth_url=hw.url + "/v3",
        username="fakeecs",
        password="fakeecs",
        project_name="fakeecs",
        user_domain_name="Default",
        project_domain_name="Default",
        region_name="cn-north-4",
    )
    try:
        glance = conn.image.get_image(image_id)
    finally:
        conn.close()
    huawei = ims.glance_show_image(ims_model.GlanceShowImageRequest(image_id=image_id))
    for field in (
        "id",
        "name",
        "status",
        "visibility",
        "min_disk",
        "min_ram",
        "owner",
        "disk_format",
        "container_format",
        "size",
        "checksum",
    ):
        assert getattr(glance, field) == getattr(huawei, field), field
    assert glance.properties["__imagetype"] == huawei.imagetype == "private"
    assert glance.properties["__os_type"] == huawei.os_type == "Linux"
    assert glance.properties["virtual_env_type"] == huawei.virtual_env_type == "FusionCompute"
    assert glance.properties["__data_origin"] == huawei.data_origin
    [info] = ims.list_images(ims_model.ListImagesRequest(id=image_id)).images
    assert (info.name, info.status, info.imagetype) == ("shared", "active", "private")


# -- EVS: the snapshots behind a native createImage image -------------------------------


def test_evs_lists_and_deletes_the_snapshots_behind_a_native_image(hw):
    cloud = hw.cloud
    ecs, evs = build(EcsClient, hw.url), build(EvsClient, hw.url)
    server_id = boot_sdk(ecs, cloud, data_gib=10)
    image_id = native_create_image(ecs, server_id)
    cloud.clock.advance(5)
    snapshot_ids = cloud.images.get(image_id).origin["snapshot_ids"]
    assert len(snapshot_ids) == 2
    listed = evs.list_snapshots(evs_model.ListSnapshotsRequest())
    assert listed.count == 2 and sorted(s.id for s in listed.snapshots) == sorted(snapshot_ids)
    assert {s.status for s in listed.snapshots} == {"available"}
    assert all(s.name == "snapshot for nova-img" for s in listed.snapshots)
    shown = evs.show_snapshot(evs_model.ShowSnapshotRequest(snapshot_id=snapshot_ids[0]))
    assert shown.snapshot.os_extended_snapshot_attributesproject_id == PROJECT_ID
    # deleting the image leaves its snapshots (constraint 4); they are deleted through EVS
    ims = build(ImsClient, hw.url)
    ims.glance_delete_image(ims_model.GlanceDeleteImageRequest(image_id=image_id))
    assert evs.list_snapshots(evs_model.ListSnapshotsRequest()).count == 2
    for snapshot_id in snapshot_ids:
        evs.delete_snapshot(evs_model.DeleteSnapshotRequest(snapshot_id=snapshot_id))
    cloud.clock.advance(5)
    assert evs.list_snapshots(evs_model.ListSnapshotsRequest()).count == 0
    with pytest.raises(ClientRequestException) as missing:
        evs.show_snapshot(evs_model.ShowSnapshotRequest(snapshot_id=snapshot_ids[0]))
    assert missing.value.status_code == 404 and missing.value.error_code == 404


# -- AK/SK -------------------------------------------------------------------------------


def test_bad_signature_unknown_key_and_skewed_date_get_401(hw):
    cloud = hw.cloud
    request = ims_model.ListImagesRequest(limit=1)
    with pytest.raises(ClientRequestException) as bad:
        build(ImsClient, hw.url, sk="not-the-secret").list_images(request)
    assert (bad.value.status_code, bad.value.error_code) == (401, "APIG.0301")
    assert bad.value.error_msg == (
        "Incorrect IAM authentication information: verify aksk signature fail"
    )
    assert bad.value.request_id.startswith("req-")
    with pytest.raises(ClientRequestException) as unknown:
        build(ImsClient, hw.url, ak="NOSUCHAKEXAMPLE00000").list_images(request)
    assert (unknown.value.status_code, unknown.value.error_code) == (401, "APIG.0301")
    assert "ak NOSUCHAKEXAMPLE00000 not exist" in unknown.value.error_msg
    # 16 virtual minutes later, the SDK's wall-clock X-Sdk-Date is too far off
    cloud.clock.advance(16 * 60)
    with pytest.raises(ClientRequestException) as skewed:
        build(ImsClient, hw.url).list_images(request)
    assert (skewed.value.status_code, skewed.value.error_code) == (401, "APIG.0301")
    assert "more than 15 minutes" in skewed.value.error_msg
    # the compute routes check signatures too
    with pytest.raises(ClientRequestException) as nova:
        build(EcsClient, hw.url, sk="wrong").nova_list_availability_zones(
            ecs_model.NovaListAvailabilityZonesRequest()
        )
    assert (nova.value.status_code, nova.value.error_code) == (401, "APIG.0301")


def test_region_client_finds_its_project_through_iam(hw, monkeypatch):
    from huaweicloudsdkiam.v3 import IamClient
    from huaweicloudsdkiam.v3 import model as iam_model

    iam = (
        IamClient.new_builder()
        .with_credentials(core.auth.credentials.GlobalCredentials(AK, SK))
        .with_endpoints([hw.url])
        .build()
    )
    projects = iam.keystone_list_projects(iam_model.KeystoneListProjectsRequest(name="fakeecs"))
    assert [p.id for p in projects.projects] == [PROJECT_ID]

    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", hw.url)
    credentials = BasicCredentials(AK, SK)
    ecs = (
        EcsClient.new_builder()
        .with_credentials(credentials)
        .with_region(Region("cn-north-4", hw.url))
        .build()
    )
    assert credentials.project_id == PROJECT_ID
    zones = ecs.nova_list_availability_zones(ecs_model.NovaListAvailabilityZonesRequest())
    assert [z.zone_name for z in zones.availability_zone_info] == [
        "cn-north-4a",
        "cn-north-4b",
        "cn-north-4c",
    ]


def test_ecs_show_server_and_job_errors_use_huawei_bodies(hw):
    ecs, ims = build(EcsClient, hw.url), build(ImsClient, hw.url)
    with pytest.raises(ClientRequestException) as missing:
        ecs.show_server(
            ecs_model.ShowServerRequest(server_id="0e3c6bd0-5c2b-4c5e-9d0f-000000000000")
        )
    assert (missing.value.status_code, missing.value.error_code) == (404, "Ecs.0114")
    with pytest.raises(ClientRequestException) as no_job:
        ims.show_job(ims_model.ShowJobRequest(job_id="0" * 32))
    assert no_job.value.status_code == 404 and no_job.value.error_code == "IMG.0404"
    body = ims_model.CreateImageRequestBody(name="x", instance_id="0e3c6bd0-0000-0000-0000-0")
    with pytest.raises(ClientRequestException) as no_server:
        ims.create_image(ims_model.CreateImageRequest(body=body))
    assert (no_server.value.status_code, no_server.value.error_code) == (400, "IMG.0005")
