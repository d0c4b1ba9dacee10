"""ECS's own server API through the unmodified Huawei SDK (EcsClient, VpcClient, ImsClient).

Every client signs with the default world's AK/SK and points at a live fakeecs;
jobs are followed with ``EcsClient.show_job`` while the frozen virtual clock is
advanced between polls.
"""

import json

import pytest
from conftest import BASE_IMAGE, CENTOS_IMAGE, PROJECT_ID

pytest.importorskip("huaweicloudsdkvpc")

from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkecs.v2 import EcsClient
from huaweicloudsdkecs.v2 import model as m
from huaweicloudsdkevs.v2 import EvsClient
from huaweicloudsdkevs.v2 import model as evs_model
from huaweicloudsdkims.v2 import ImsClient
from huaweicloudsdkims.v2 import model as ims_model
from huaweicloudsdkvpc.v2 import VpcClient
from huaweicloudsdkvpc.v2 import model as vpc_model
from test_huawei_sdk import build

VPC_ID = "7a1c0b9e-5d3f-4e2a-8b6c-9d0e1f2a3b01"
SUBNET_ID = "7a1c0b9e-5d3f-4e2a-8b6c-9d0e1f2a3b02"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def hw(live, cloud):
    live.cloud = cloud
    live.ecs = build(EcsClient, live.url)
    return live


def post_paid(name="web", image=BASE_IMAGE, zone="cn-north-4a", count=1, data=(), **extra):
    """A ``create_post_paid_servers`` request (``data``: ``(size, data_image_id)`` pairs)."""
    server = m.PostPaidServer(
        name=name,
        flavor_ref="s6.small.1",
        image_ref=image,
        vpcid=VPC_ID,
        nics=[m.PostPaidServerNic(subnet_id=SUBNET_ID)],
        root_volume=m.PostPaidServerRootVolume(volumetype="SSD", size=40),
        data_volumes=[
            m.PostPaidServerDataVolume(volumetype="SSD", size=size, data_image_id=image_id)
            for size, image_id in data
        ]
        or None,
        availability_zone=zone,
        count=count,
        **extra,
    )
    return m.CreatePostPaidServersRequest(body=m.CreatePostPaidServersRequestBody(server=server))


def wait_job(ecs, cloud, job_id, step=1, limit=20):
    """Poll an ECS job until it ends, advancing the virtual clock; the statuses seen."""
    seen = []
    for _ in range(limit):
        job = ecs.show_job(m.ShowJobRequest(job_id=job_id))
        seen.append(job.status)
        if job.status in ("SUCCESS", "FAIL"):
            return job, seen
        cloud.clock.advance(step)
    raise AssertionError(f"job {job_id} never finished: {seen}")


def create(hw, request):
    """Create through the SDK, follow the job to SUCCESS; the new server ids."""
    response = hw.ecs.create_post_paid_servers(request)
    job, _ = wait_job(hw.ecs, hw.cloud, response.job_id)
    assert job.status == "SUCCESS", job
    return response.server_ids


def later(cloud, seconds=5):
    """Let virtual time pass and every process that fell due run."""
    cloud.clock.advance(seconds)
    with cloud.lock:
        cloud.settle()


def ids(server_ids):
    return [m.ServerId(id=server_id) for server_id in server_ids]


def status(ecs, server_id):
    return ecs.show_server(m.ShowServerRequest(server_id=server_id)).server.status


# -- create, follow, list, show --------------------------------------------------------------


def test_create_post_paid_follows_the_job_to_success_and_shows_the_server(hw):
    ecs, cloud = hw.ecs, hw.cloud
    response = ecs.create_post_paid_servers(
        post_paid(
            data=[(20, None)],
            server_tags=[m.PostPaidServerTag(key="env", value="test")],
            metadata={"team": "qa"},
            description="first",
        )
    )
    assert len(response.server_ids) == 1 and len(response.job_id) == 32
    job, seen = wait_job(ecs, cloud, response.job_id, step=0.5)
    assert seen == ["INIT", "RUNNING", "SUCCESS"]
    assert (job.job_type, job.error_code, job.fail_reason) == ("createServer", None, None)
    assert job.entities.sub_jobs_total == 1
    [sub] = job.entities.sub_jobs
    assert (sub.job_type, sub.status) == ("createSingleServer", "SUCCESS")
    assert sub.entities.server_id == response.server_ids[0] and sub.end_time

    server = ecs.show_server(m.ShowServerRequest(server_id=sub.entities.server_id)).server
    assert (server.name, server.status, server.os_ext_a_zavailability_zone) == (
        "web",
        "ACTIVE",
        "cn-north-4a",
    )
    assert server.flavor.id == "s6.small.1" and server.image.id == BASE_IMAGE
    assert server.metadata["vpc_id"] == VPC_ID and server.metadata["team"] == "qa"
    assert server.description == "first" and server.tags == ["env=test"]
    [address] = server.addresses[VPC_ID]
    assert address.addr == "192.168.0.2" and address.version == "4"
    disks = sorted(server.os_extended_volumesvolumes_attached, key=lambda d: d.boot_index)
    assert [d.boot_index for d in disks] == ["", "0"]
    root = cloud.volumes.get(disks[1].id)
    assert (root.size, root.volume_type, root.bootable) == (40, "SSD", True)
    assert cloud.volumes.get(disks[0].id).size == 20


def test_create_servers_v11_makes_count_servers_named_with_a_suffix(hw):
    ecs, cloud = hw.ecs, hw.cloud
    server = m.PrePaidServer(
        name="batch",
        flavor_ref="s6.medium.2",
        image_ref=CENTOS_IMAGE,
        vpcid=VPC_ID,
        nics=[m.PrePaidServerNic(subnet_id=SUBNET_ID)],
        root_volume=m.PrePaidServerRootVolume(volumetype="GPSSD"),
        availability_zone="cn-north-4b",
        count=3,
        extendparam=m.PrePaidServerExtendParam(charging_mode="postPaid"),
    )
    response = ecs.create_servers(
        m.CreateServersRequest(body=m.CreateServersRequestBody(server=server))
    )
    assert len(response.server_ids) == 3 and response.order_id is None
    job, _ = wait_job(ecs, cloud, response.job_id)
    assert job.status == "SUCCESS" and job.entities.sub_jobs_total == 3
    assert [s.entities.server_id for s in job.entities.sub_jobs] == response.server_ids
    names = [cloud.servers.get(i).name for i in response.server_ids]
    assert names == ["batch-0001", "batch-0002", "batch-0003"]
    addresses = {cloud.servers.get(i).addresses[VPC_ID][0]["addr"] for i in response.server_ids}
    assert len(addresses) == 3  # each from the subnet, none twice
    root = cloud.volumes.get(
        cloud.servers.get(response.server_ids[0]).block_devices[0]["volume_id"]
    )
    assert (root.size, root.volume_type) == (40, "GPSSD")  # the image's min_disk


def test_list_servers_details_pages_by_page_number_and_filters(hw):
    ecs = hw.ecs
    create(hw, post_paid(name="app", count=3))
    create(hw, post_paid(name="db", server_tags=[m.PostPaidServerTag(key="role", value="db")]))
    everything = ecs.list_servers_details(m.ListServersDetailsRequest())
    assert everything.count == 4
    page = ecs.list_servers_details(m.ListServersDetailsRequest(limit=2, offset=2))
    assert page.count == 4 and len(page.servers) == 2
    first = ecs.list_servers_details(m.ListServersDetailsRequest(limit=2, offset=1))
    assert not {s.id for s in first.servers} & {s.id for s in page.servers}
    named = ecs.list_servers_details(m.ListServersDetailsRequest(name="app-000"))
    assert named.count == 3 and {s.name for s in named.servers} == {
        "app-0001",
        "app-0002",
        "app-0003",
    }
    tagged = ecs.list_servers_details(m.ListServersDetailsRequest(tags="role=db"))
    assert [s.name for s in tagged.servers] == ["db"]
    assert ecs.list_servers_details(m.ListServersDetailsRequest(status="SHUTOFF")).count == 0
    ip = hw.cloud.servers.get(tagged.servers[0].id).addresses[VPC_ID][0]["addr"]
    assert [
        s.name for s in ecs.list_servers_details(m.ListServersDetailsRequest(ip_eq=ip)).servers
    ] == ["db"]


def test_list_by_marker_in_both_list_calls(hw):
    ecs, cloud = hw.ecs, hw.cloud
    made = create(hw, post_paid(name="page", count=3))
    create(hw, post_paid(name="other", zone="cn-north-4b"))
    first = ecs.list_servers_details(m.ListServersDetailsRequest(limit=2, name="page"))
    after = ecs.list_servers_details(
        m.ListServersDetailsRequest(limit=2, name="page", marker=first.servers[-1].id)
    )
    assert first.count == after.count == 3
    assert [s.id for s in first.servers + after.servers] == list(reversed(made))

    listed = ecs.list_cloud_servers(m.ListCloudServersRequest(limit=2))
    assert len(listed.servers) == 2 and listed.servers_links[0].rel == "next"
    rest = ecs.list_cloud_servers(m.ListCloudServersRequest(limit=2, marker=listed.servers[-1].id))
    assert len(rest.servers) == 2 and not rest.servers_links
    assert {s.name for s in listed.servers + rest.servers} == {
        "page-0001",
        "page-0002",
        "page-0003",
        "other",
    }
    one = ecs.list_cloud_servers(
        m.ListCloudServersRequest(availability_zone_eq="cn-north-4b", flavor_name="s6.small.1")
    ).servers
    assert [(s.name, s.availability_zone, s.flavor.vcpus) for s in one] == [
        ("other", "cn-north-4b", 1)
    ]
    [shown] = ecs.list_cloud_servers(m.ListCloudServersRequest(id=made[0])).servers
    assert (shown.status, shown.vm_state, shown.image.id) == ("ACTIVE", "active", BASE_IMAGE)
    assert shown.addresses[VPC_ID][0].primary and shown.addresses[VPC_ID][0].version == 4
    assert [v.size for v in shown.volumes_attached] == [40]
    assert shown.market_info.charge_mode == "postPaid"
    with pytest.raises(ClientRequestException) as bad:
        ecs.list_cloud_servers(m.ListCloudServersRequest(marker="not-a-server"))
    assert (bad.value.status_code, bad.value.error_code) == (400, "Ecs.0005")
    assert cloud.servers.get(made[0]) is not None


def test_nova_and_ecs_see_the_same_servers(hw):
    """A server made through /v1/cloudservers is a volume-backed Nova server, and back."""
    ecs, cloud = hw.ecs, hw.cloud
    [server_id] = create(hw, post_paid(name="both-ways"))
    nova = ecs.nova_show_server(m.NovaShowServerRequest(server_id=server_id)).server
    assert (nova.name, nova.status) == ("both-ways", "ACTIVE")
    assert nova.image == "" or not getattr(nova.image, "id", None)  # volume-backed
    assert cloud.servers.get(server_id).volume_backed
    option = m.NovaCreateServersOption(
        name="from-nova",
        flavor_ref="s6.small.1",
        image_ref=BASE_IMAGE,
        availability_zone="cn-north-4a",
        networks="auto",
    )
    made = ecs.nova_create_servers(
        m.NovaCreateServersRequest(body=m.NovaCreateServersRequestBody(server=option))
    )
    cloud.clock.advance(5)
    listed = ecs.list_servers_details(m.ListServersDetailsRequest(name="from-nova"))
    assert [s.id for s in listed.servers] == [made.server.id]
    assert listed.servers[0].status == "ACTIVE"


# -- actions, update, tags, disks ---------------------------------------------------------------


def test_stop_start_and_reboot_as_batch_jobs(hw):
    ecs, cloud = hw.ecs, hw.cloud
    server_ids = create(hw, post_paid(name="power", count=2))
    stop = ecs.batch_stop_servers(
        m.BatchStopServersRequest(
            body=m.BatchStopServersRequestBody(
                os_stop=m.BatchStopServersOption(servers=ids(server_ids), type="HARD")
            )
        )
    )
    job, seen = wait_job(ecs, cloud, stop.job_id, step=0.25)
    assert (job.job_type, job.status, seen[0]) == ("stopServer", "SUCCESS", "RUNNING")
    assert [s.job_type for s in job.entities.sub_jobs] == ["stopSingleServer"] * 2
    assert [status(ecs, i) for i in server_ids] == ["SHUTOFF", "SHUTOFF"]

    start = ecs.batch_start_servers(
        m.BatchStartServersRequest(
            body=m.BatchStartServersRequestBody(
                os_start=m.BatchStartServersOption(servers=ids(server_ids[:1]))
            )
        )
    )
    job, _ = wait_job(ecs, cloud, start.job_id)
    assert (job.job_type, job.status) == ("startServer", "SUCCESS")
    assert [status(ecs, i) for i in server_ids] == ["ACTIVE", "SHUTOFF"]

    reboot = ecs.batch_reboot_servers(
        m.BatchRebootServersRequest(
            body=m.BatchRebootServersRequestBody(
                reboot=m.BatchRebootSeversOption(servers=ids(server_ids[:1]), type="SOFT")
            )
        )
    )
    assert status(ecs, server_ids[0]) == "REBOOT"
    job, _ = wait_job(ecs, cloud, reboot.job_id)
    assert (job.job_type, job.status) == ("rebootServer", "SUCCESS")
    assert status(ecs, server_ids[0]) == "ACTIVE"


def test_a_sub_job_the_action_cannot_apply_to_fails_with_its_cause(hw):
    ecs, cloud = hw.ecs, hw.cloud
    running, stopped = create(hw, post_paid(name="mixed", count=2))
    wait_job(
        ecs,
        cloud,
        ecs.batch_stop_servers(
            m.BatchStopServersRequest(
                body=m.BatchStopServersRequestBody(
                    os_stop=m.BatchStopServersOption(servers=ids([stopped]))
                )
            )
        ).job_id,
    )
    start = ecs.batch_start_servers(
        m.BatchStartServersRequest(
            body=m.BatchStartServersRequestBody(
                os_start=m.BatchStartServersOption(servers=ids([running, stopped]))
            )
        )
    )
    job, _ = wait_job(ecs, cloud, start.job_id)
    assert job.status == "FAIL" and job.error_code == "Ecs.0100"
    assert f"Cannot 'start' instance {running} while it is in vm_state active" in job.fail_reason
    bad, good = job.entities.sub_jobs
    assert (bad.status, bad.error_code, bad.entities.server_id) == ("FAIL", "Ecs.0100", running)
    assert bad.entities.errorcode_message == bad.fail_reason == job.fail_reason
    assert (good.status, good.error_code) == ("SUCCESS", None)
    assert [status(ecs, i) for i in (running, stopped)] == ["ACTIVE", "ACTIVE"]


def test_a_create_that_fails_to_build_fails_its_sub_job_with_the_fault(hw):
    ecs, cloud = hw.ecs, hw.cloud
    cloud.add_flavor(
        id="broken.1",
        name="broken.1",
        vcpus=1,
        ram=1024,
        extra_specs={"fakeecs:fail_build": "No valid host was found."},
    )
    request = post_paid(name="doomed")
    request.body.server.flavor_ref = "broken.1"
    response = ecs.create_post_paid_servers(request)
    job, _ = wait_job(ecs, cloud, response.job_id)
    assert (job.status, job.error_code) == ("FAIL", "Ecs.0204")
    [sub] = job.entities.sub_jobs
    assert sub.status == "FAIL" and "No valid host was found." in sub.fail_reason
    assert status(ecs, response.server_ids[0]) == "ERROR"


def test_update_name_description_and_hostname(hw):
    ecs = hw.ecs
    [server_id] = create(hw, post_paid(name="old-name"))
    updated = ecs.update_server(
        m.UpdateServerRequest(
            server_id=server_id,
            body=m.UpdateServerRequestBody(
                server=m.UpdateServerOption(
                    name="new-name", description="changed", hostname="new-host"
                )
            ),
        )
    ).server
    assert (updated.id, updated.name, updated.description) == (server_id, "new-name", "changed")
    assert updated.os_ext_srv_att_rhostname == "new-host" and updated.status == "ACTIVE"
    shown = ecs.show_server(m.ShowServerRequest(server_id=server_id)).server
    assert (shown.name, shown.description, shown.os_ext_srv_att_rhostname) == (
        "new-name",
        "changed",
        "new-host",
    )


def test_tags_are_added_replaced_shown_and_deleted(hw):
    ecs = hw.ecs
    [server_id] = create(
        hw, post_paid(name="tagged", server_tags=[m.PostPaidServerTag(key="env", value="dev")])
    )
    ecs.batch_create_server_tags(
        m.BatchCreateServerTagsRequest(
            server_id=server_id,
            body=m.BatchCreateServerTagsRequestBody(
                action="create",
                tags=[
                    m.BatchAddServerTag(key="env", value="prod"),
                    m.BatchAddServerTag(key="owner", value="qa"),
                ],
            ),
        )
    )
    shown = ecs.show_server_tags(m.ShowServerTagsRequest(server_id=server_id)).tags
    assert [(t.key, t.value) for t in shown] == [("env", "prod"), ("owner", "qa")]
    ecs.batch_delete_server_tags(
        m.BatchDeleteServerTagsRequest(
            server_id=server_id,
            body=m.BatchDeleteServerTagsRequestBody(action="delete", tags=[m.ServerTag(key="env")]),
        )
    )
    shown = ecs.show_server_tags(m.ShowServerTagsRequest(server_id=server_id)).tags
    assert [(t.key, t.value) for t in shown] == [("owner", "qa")]
    assert ecs.show_server(m.ShowServerRequest(server_id=server_id)).server.tags == ["owner=qa"]


def test_detach_and_attach_a_data_disk_as_jobs(hw):
    ecs, cloud = hw.ecs, hw.cloud
    [server_id] = create(hw, post_paid(name="disks", data=[(10, None)]))
    data_id = next(
        bd["volume_id"]
        for bd in cloud.servers.get(server_id).block_devices
        if bd["boot_index"] != 0
    )
    detach = ecs.detach_server_volume(
        m.DetachServerVolumeRequest(server_id=server_id, volume_id=data_id)
    )
    job, _ = wait_job(ecs, cloud, detach.job_id, step=0.5)
    assert (job.job_type, job.status, job.entities.server_id) == (
        "detachVolume",
        "SUCCESS",
        server_id,
    )
    assert cloud.volumes.get(data_id).status == "available"
    assert data_id not in [
        v.id
        for v in ecs.show_server(
            m.ShowServerRequest(server_id=server_id)
        ).server.os_extended_volumesvolumes_attached
    ]

    attach = ecs.attach_server_volume(
        m.AttachServerVolumeRequest(
            server_id=server_id,
            body=m.AttachServerVolumeRequestBody(
                volume_attachment=m.AttachServerVolumeOption(volume_id=data_id, device="/dev/vdc")
            ),
        )
    )
    job, _ = wait_job(ecs, cloud, attach.job_id, step=0.5)
    assert (job.job_type, job.status) == ("attachVolume", "SUCCESS")
    volume = cloud.volumes.get(data_id)
    assert volume.status == "in-use" and volume.attachments[0]["device"] == "/dev/vdc"


def test_flavors_by_availability_zone(hw):
    ecs, cloud = hw.ecs, hw.cloud
    cloud.add_flavor(
        id="c7.only.b",
        name="c7.only.b",
        vcpus=2,
        ram=4096,
        extra_specs={"cond:operation:az": "cn-north-4b(normal)"},
    )
    in_a = ecs.list_flavors(m.ListFlavorsRequest(availability_zone="cn-north-4a")).flavors
    in_b = ecs.list_flavors(m.ListFlavorsRequest(availability_zone="cn-north-4b")).flavors
    assert "c7.only.b" not in [f.id for f in in_a] and "c7.only.b" in [f.id for f in in_b]
    small = next(f for f in in_a if f.id == "s6.small.1")
    assert (small.vcpus, small.ram) == ("1", 1024)
    assert ecs.list_flavors(m.ListFlavorsRequest(availability_zone="nowhere-1a")).flavors == []


def test_vpc_client_finds_the_vpc_and_subnet_ecs_create_needs(hw):
    vpc = build(VpcClient, hw.url)
    [found] = vpc.list_vpcs(vpc_model.ListVpcsRequest()).vpcs
    assert (found.id, found.name, found.cidr) == (VPC_ID, "fakeecs-vpc", "192.168.0.0/16")
    assert vpc.show_vpc(vpc_model.ShowVpcRequest(vpc_id=VPC_ID)).vpc.tenant_id == PROJECT_ID
    [subnet] = vpc.list_subnets(vpc_model.ListSubnetsRequest(vpc_id=VPC_ID)).subnets
    assert (subnet.id, subnet.cidr, subnet.gateway_ip) == (
        SUBNET_ID,
        "192.168.0.0/24",
        "192.168.0.1",
    )
    assert subnet.available_ip_address_count == 251
    create(hw, post_paid(name="uses-one"))
    shown = vpc.show_subnet(vpc_model.ShowSubnetRequest(subnet_id=SUBNET_ID)).subnet
    assert shown.available_ip_address_count == 250
    assert vpc.list_subnets(vpc_model.ListSubnetsRequest(vpc_id="other")).subnets == []
    with pytest.raises(ClientRequestException) as missing:
        vpc.show_subnet(vpc_model.ShowSubnetRequest(subnet_id="no-such-subnet"))
    assert (missing.value.status_code, missing.value.error_code, missing.value.error_msg) == (
        404,
        "VPC.0202",
        "Subnet does not exist.",
    )
    with pytest.raises(ClientRequestException) as missing:
        vpc.show_vpc(vpc_model.ShowVpcRequest(vpc_id="no-such-vpc"))
    assert (missing.value.status_code, missing.value.error_code, missing.value.error_msg) == (
        404,
        "VPC.0003",
        "VPC does not exist.",
    )


# -- images of ECS-made servers, and servers from them ---------------------------------------------


def native_create_image(ecs, server_id, name):
    """The native createImage through EcsClient.call_api (the SDK has no typed method)."""
    response = ecs.call_api(
        "/v2.1/{project_id}/servers/{server_id}/action",
        "POST",
        path_params={"server_id": server_id},
        header_params={
            "Content-Type": "application/json;charset=UTF-8",
            "X-OpenStack-Nova-API-Version": "2.45",
        },
        body={"createImage": {"name": name}},
        response_type="NovaDeleteServerResponse",
    )
    return json.loads(response.raw_content)["image_id"]


def ims_image(hw, server_id, name):
    ims = build(ImsClient, hw.url)
    job_id = ims.create_image(
        ims_model.CreateImageRequest(
            body=ims_model.CreateImageRequestBody(name=name, instance_id=server_id)
        )
    ).job_id
    for _ in range(12):
        job = ims.show_job(ims_model.ShowJobRequest(job_id=job_id))
        if job.status in ("SUCCESS", "FAIL"):
            break
        hw.cloud.clock.advance(10)
    assert job.status == "SUCCESS"
    return job.entities.image_id


def test_image_an_ecs_made_server_natively_and_through_ims_then_boot_from_both(hw):
    ecs, cloud = hw.ecs, hw.cloud
    [source] = create(hw, post_paid(name="source", zone="cn-north-4b", data=[(10, None)]))
    native = native_create_image(ecs, source, "native-img")
    assert cloud.images.get(native).origin["kind"] == "nova_snapshot"
    assert cloud.images.get(native).origin["availability_zone"] == "cn-north-4b"
    cloud.clock.advance(5)  # the volume snapshots behind the image become available
    through_ims = ims_image(hw, source, "ims-img")

    [from_native] = create(hw, post_paid(name="copy", image=native, zone="cn-north-4b"))
    server = cloud.servers.get(from_native)
    assert server.availability_zone == "cn-north-4b" and server.vm_state == "active"
    assert len(server.block_devices) == 2  # both disks of the image's mapping
    # the zone-bound image picks its AZ when the request names none
    request = post_paid(name="copy-az", image=native)
    request.body.server.availability_zone = None
    [placed] = create(hw, request)
    assert cloud.servers.get(placed).availability_zone == "cn-north-4b"
    # an IMS image is not bound to its source AZ
    [from_ims] = create(hw, post_paid(name="copy-ims", image=through_ims, zone="cn-north-4c"))
    assert status(ecs, from_ims) == "ACTIVE"


def test_delete_without_volumes_keeps_data_disks_and_with_volumes_keeps_images(hw):
    ecs, cloud = hw.ecs, hw.cloud
    keep_id, drop_id = create(hw, post_paid(name="gone", count=2, data=[(10, None)]))

    def disks(server_id):
        devices = cloud.servers.get(server_id).block_devices
        return (
            next(bd["volume_id"] for bd in devices if bd["boot_index"] == 0),
            next(bd["volume_id"] for bd in devices if bd["boot_index"] != 0),
        )

    keep_root, keep_data = disks(keep_id)
    drop_root, drop_data = disks(drop_id)
    image_id = native_create_image(ecs, drop_id, "survivor")
    later(cloud)
    snapshots = set(cloud.images.get(image_id).origin["snapshot_ids"])

    job_id = ecs.delete_servers(
        m.DeleteServersRequest(
            body=m.DeleteServersRequestBody(servers=ids([keep_id]), delete_volume=False)
        )
    ).job_id
    job, _ = wait_job(ecs, cloud, job_id)
    assert (job.job_type, job.status) == ("deleteServer", "SUCCESS")
    assert job.entities.sub_jobs[0].job_type == "deleteSingleServer"
    later(cloud)
    assert cloud.servers.get(keep_id) is None and cloud.volumes.get(keep_root) is None
    assert cloud.volumes.get(keep_data).status == "available"

    job_id = ecs.delete_servers(
        m.DeleteServersRequest(
            body=m.DeleteServersRequestBody(
                servers=ids([drop_id]), delete_volume=True, delete_publicip=True
            )
        )
    ).job_id
    assert wait_job(ecs, cloud, job_id)[0].status == "SUCCESS"
    later(cloud)
    assert cloud.servers.get(drop_id) is None
    # the image and its snapshots survive; their volumes too (Cinder keeps volumes
    # that have snapshots), only detached
    assert cloud.images.get(image_id).status == "active"
    assert snapshots == {s.id for s in cloud.snapshots if s.volume_id in (drop_root, drop_data)}
    evs = build(EvsClient, hw.url)
    listed = evs.list_snapshots(evs_model.ListSnapshotsRequest(volume_id=drop_root)).snapshots
    assert [(s.status, s.id in snapshots) for s in listed] == [("available", True)]
    assert cloud.volumes.get(drop_root).status == cloud.volumes.get(drop_data).status == "available"
    # with no snapshot to keep it, a data disk goes with delete_volume
    [plain] = create(hw, post_paid(name="plain", data=[(10, None)]))
    plain_root, plain_data = disks(plain)
    wait_job(
        ecs,
        cloud,
        ecs.delete_servers(
            m.DeleteServersRequest(
                body=m.DeleteServersRequestBody(servers=ids([plain]), delete_volume=True)
            )
        ).job_id,
    )
    later(cloud)
    assert cloud.volumes.get(plain_root) is None and cloud.volumes.get(plain_data) is None
    with pytest.raises(ClientRequestException) as gone:
        ecs.show_server(m.ShowServerRequest(server_id=plain))
    assert (gone.value.status_code, gone.value.error_code) == (404, "Ecs.0114")
