"""Refusals of ECS's own server API: status, Ecs code, message, and nothing left behind.

The seed's constraints on this path (the source AZ of a createImage image, as
``imageRef`` or ``data_image_id``; such an image never a data disk) come from the
same provenance functions the Nova and IMS paths call.  Every refusal is made
through the unmodified SDK and compared with the whole state before it.
"""

import pytest
from conftest import BASE_IMAGE, PROJECT_ID, state

pytest.importorskip("huaweicloudsdkvpc")

from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkecs.v2 import model as m
from test_huawei_ecs_sdk import (  # noqa: F401
    SUBNET_ID,
    VPC_ID,
    create,
    hw,
    ids,
    ims_image,
    later,
    native_create_image,
    post_paid,
)

from fakeecs.model import apply_world

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def refused(cloud, call, status, code):
    """Run ``call``; assert the SDK raised ``status``/``code`` and nothing changed."""
    before = state(cloud)
    with pytest.raises(ClientRequestException) as caught:
        call()
    error = caught.value
    assert (error.status_code, error.error_code) == (status, code), error.error_msg
    assert error.request_id
    assert state(cloud) == before
    return error.error_msg


@pytest.fixture
def source(hw):
    """An ECS-made server in cn-north-4b and a native createImage image of it."""
    [server_id] = create(hw, post_paid(name="source", zone="cn-north-4b", data=[(10, None)]))
    image_id = native_create_image(hw.ecs, server_id, "zone-bound")
    later(hw.cloud)
    return server_id, image_id


# -- the seed's constraints on this path --------------------------------------------------


def test_another_az_than_the_images_source_az_is_refused(hw, source):
    server_id, image_id = source
    message = refused(
        hw.cloud,
        lambda: hw.ecs.create_post_paid_servers(post_paid(image=image_id, zone="cn-north-4a")),
        400,
        "Ecs.0005",
    )
    assert message == (
        f"Image {image_id} was created from ECS {server_id} in availability zone "
        "cn-north-4b; a server created from it must be in cn-north-4b, not "
        "cn-north-4a."
    )


def test_a_data_image_in_another_az_than_its_source_is_refused(hw, source):
    server_id, image_id = source
    message = refused(
        hw.cloud,
        lambda: hw.ecs.create_post_paid_servers(
            post_paid(zone="cn-north-4c", data=[(40, image_id)])
        ),
        400,
        "Ecs.0005",
    )
    assert message.startswith(
        f"Image {image_id} was created from ECS {server_id} in availability zone cn-north-4b"
    )
    assert message.endswith("must be in cn-north-4b, not cn-north-4c.")


def test_a_createimage_image_as_data_image_is_refused_even_in_its_az(hw, source):
    _, image_id = source
    message = refused(
        hw.cloud,
        lambda: hw.ecs.create_post_paid_servers(
            post_paid(zone="cn-north-4b", data=[(40, image_id)])
        ),
        400,
        "Ecs.0007",
    )
    assert message == (
        f"Image {image_id} is an image created from an ECS with the createImage "
        "action and cannot be used to create data disks."
    )


def test_the_v11_create_applies_the_same_rules(hw, source):
    _, image_id = source
    server = m.PrePaidServer(
        name="v11",
        flavor_ref="s6.small.1",
        image_ref=image_id,
        vpcid=VPC_ID,
        nics=[m.PrePaidServerNic(subnet_id=SUBNET_ID)],
        root_volume=m.PrePaidServerRootVolume(volumetype="SSD"),
        availability_zone="cn-north-4a",
    )
    message = refused(
        hw.cloud,
        lambda: hw.ecs.create_servers(
            m.CreateServersRequest(body=m.CreateServersRequestBody(server=server))
        ),
        400,
        "Ecs.0005",
    )
    assert "must be in cn-north-4b, not cn-north-4a" in message


def test_ims_system_images_are_no_data_disks_and_data_images_no_system_disks(hw):
    [server_id] = create(hw, post_paid(name="imaged"))
    system_image = ims_image(hw, server_id, "ims-sys")
    message = refused(
        hw.cloud,
        lambda: hw.ecs.create_post_paid_servers(post_paid(data=[(40, system_image)])),
        400,
        "Ecs.0007",
    )
    assert message == (
        f"Image {system_image} is a system disk image and cannot be used to create data disks."
    )
    apply_world(
        hw.cloud,
        {
            "images": [
                {
                    "id": "d1d1d1d1-0000-4000-8000-000000000001",
                    "name": "data-img",
                    "origin": {
                        "kind": "ims_data",
                        "server_id": server_id,
                        "availability_zone": "cn-north-4a",
                    },
                }
            ]
        },
        record=False,
    )
    message = refused(
        hw.cloud,
        lambda: hw.ecs.create_post_paid_servers(
            post_paid(image="d1d1d1d1-0000-4000-8000-000000000001")
        ),
        400,
        "Ecs.0007",
    )
    assert message == (
        "Image d1d1d1d1-0000-4000-8000-000000000001 is a data disk image and "
        "cannot be used to create a system disk or a server."
    )


# -- request and reference errors ------------------------------------------------------------


def _with(request, **changes):
    for key, value in changes.items():
        setattr(request.body.server, key, value)
    return request


@pytest.mark.parametrize(
    "changes, code, text",
    [
        ({"flavor_ref": "no.such.flavor"}, "Ecs.0029", "The flavor no.such.flavor does not exist."),
        (
            {"image_ref": "0e3c6bd0-0000-4000-8000-000000000000"},
            "Ecs.0031",
            "Image 0e3c6bd0-0000-4000-8000-000000000000 could not be found.",
        ),
        ({"vpcid": "no-such-vpc"}, "Ecs.0014", "The VPC no-such-vpc does not exist."),
        (
            {"nics": [m.PostPaidServerNic(subnet_id="no-such-subnet")]},
            "Ecs.0038",
            "The subnet no-such-subnet does not exist.",
        ),
        (
            {"nics": [m.PostPaidServerNic(subnet_id=SUBNET_ID, ip_address="10.0.0.5")]},
            "Ecs.0039",
            "The specified IP address 10.0.0.5 does not belong to the subnet",
        ),
        (
            {"nics": [m.PostPaidServerNic(subnet_id=SUBNET_ID, ip_address="192.168.0.1")]},
            "Ecs.0039",
            "or is reserved by the system",
        ),
        (
            {"root_volume": m.PostPaidServerRootVolume(volumetype="FAST")},
            "Ecs.0043",
            "The disk type 'FAST' does not exist",
        ),
        (
            {"root_volume": m.PostPaidServerRootVolume(volumetype="SSD", size=20)},
            "Ecs.0005",
            "Volume is smaller than the minimum size specified in image metadata",
        ),
        (
            {"availability_zone": "cn-north-9z"},
            "Ecs.0005",
            "The requested availability zone is not available",
        ),
        ({"name": "bad name!"}, "Ecs.0915", "contains invalid characters"),
        ({"name": "n" * 129}, "Ecs.0914", "must be from 1 to 128 characters"),
        ({"count": 0}, "Ecs.0913", "The number of ECSs to be created (0) must be from 1 to 100."),
        ({"description": "<b>"}, "Ecs.0041", "Invalid description field"),
        (
            {"server_tags": [m.PostPaidServerTag(key=f"k{i}", value="v") for i in range(11)]},
            "Ecs.0905",
            "The number of tags (11) exceeds the maximum of 10.",
        ),
        (
            {
                "server_tags": [
                    m.PostPaidServerTag(key="a", value="1"),
                    m.PostPaidServerTag(key="a", value="2"),
                ]
            },
            "Ecs.0908",
            "The tag key 'a' is duplicated.",
        ),
        (
            {"server_tags": [m.PostPaidServerTag(key="bad key", value="1")]},
            "Ecs.0906",
            "Invalid tag key 'bad key'",
        ),
        (
            {"publicip": m.PostPaidServerPublicip(id="eip-1")},
            "Ecs.0005",
            "publicip is not supported by fakeecs",
        ),
        ({"vpcid": None}, "Ecs.0005", "Invalid parameter values: server.vpcid: Missing data"),
        (
            {"data_volumes": [m.PostPaidServerDataVolume(volumetype="SSD", size=5)]},
            "Ecs.0005",
            "The data disk size 5 GiB must be from 10 to 32768 GiB.",
        ),
    ],
)
def test_bad_create_requests_are_refused_before_anything_exists(hw, changes, code, text):
    message = refused(
        hw.cloud,
        lambda: hw.ecs.create_post_paid_servers(_with(post_paid(name="bad"), **changes)),
        400,
        code,
    )
    assert text in message


def test_network_refusals(hw):
    cloud = hw.cloud
    apply_world(
        cloud,
        {
            "vpcs": [{"id": "other-vpc", "name": "other", "cidr": "10.0.0.0/16"}],
            "subnets": [{"id": "tiny", "name": "tiny", "vpc": "other-vpc", "cidr": "10.0.1.0/28"}],
        },
        record=False,
    )
    message = refused(
        cloud,
        lambda: hw.ecs.create_post_paid_servers(
            _with(post_paid(), nics=[m.PostPaidServerNic(subnet_id="tiny")])
        ),
        400,
        "Ecs.0064",
    )
    assert message == (
        f"The VPC ID {VPC_ID} in the request is inconsistent with the VPC other-vpc of subnet tiny."
    )
    message = refused(
        cloud,
        lambda: hw.ecs.create_post_paid_servers(
            _with(
                post_paid(count=12), vpcid="other-vpc", nics=[m.PostPaidServerNic(subnet_id="tiny")]
            )
        ),
        400,
        "Ecs.0012",
    )
    assert message == (
        "The subnet tiny (10.0.1.0/28) does not contain enough IP addresses: 12 needed, 11 free."
    )
    [taken] = create(hw, post_paid(name="first"))
    address = cloud.servers.get(taken).addresses[VPC_ID][0]["addr"]
    message = refused(
        cloud,
        lambda: hw.ecs.create_post_paid_servers(
            _with(post_paid(), nics=[m.PostPaidServerNic(subnet_id=SUBNET_ID, ip_address=address)])
        ),
        400,
        "Ecs.0010",
    )
    assert message == f"The private IP address {address} is already being used."
    # a fixed address the subnet has free is the server's
    [fixed] = create(
        hw,
        _with(
            post_paid(name="fixed"),
            nics=[m.PostPaidServerNic(subnet_id=SUBNET_ID, ip_address="192.168.0.77")],
        ),
    )
    assert cloud.servers.get(fixed).addresses[VPC_ID][0]["addr"] == "192.168.0.77"


def test_what_fakeecs_does_not_simulate_is_refused_clearly(hw):
    server = m.PrePaidServer(
        name="yearly",
        flavor_ref="s6.small.1",
        image_ref=BASE_IMAGE,
        vpcid=VPC_ID,
        nics=[m.PrePaidServerNic(subnet_id=SUBNET_ID)],
        root_volume=m.PrePaidServerRootVolume(volumetype="SSD"),
        extendparam=m.PrePaidServerExtendParam(
            charging_mode="prePaid", period_type="month", period_num=1
        ),
    )
    message = refused(
        hw.cloud,
        lambda: hw.ecs.create_servers(
            m.CreateServersRequest(body=m.CreateServersRequestBody(server=server))
        ),
        400,
        "Ecs.0005",
    )
    assert "only pay-per-use ECSs (postPaid) are simulated" in message


# -- actions on servers that do not exist or cannot take them ----------------------------------

MISSING = "0e3c6bd0-5c2b-4c5e-9d0f-000000000000"


def test_unknown_servers_refuse_the_whole_batch_with_no_job(hw):
    ecs, cloud = hw.ecs, hw.cloud
    [server_id] = create(hw, post_paid(name="real"))
    message = refused(
        cloud,
        lambda: ecs.batch_stop_servers(
            m.BatchStopServersRequest(
                body=m.BatchStopServersRequestBody(
                    os_stop=m.BatchStopServersOption(servers=ids([server_id, MISSING]))
                )
            )
        ),
        404,
        "Ecs.0114",
    )
    assert message == f"The ECS {MISSING} does not exist."
    refused(
        cloud,
        lambda: ecs.delete_servers(
            m.DeleteServersRequest(
                body=m.DeleteServersRequestBody(servers=ids([MISSING, server_id]))
            )
        ),
        404,
        "Ecs.0114",
    )
    refused(
        cloud,
        lambda: ecs.update_server(
            m.UpdateServerRequest(
                server_id=MISSING,
                body=m.UpdateServerRequestBody(server=m.UpdateServerOption(name="x")),
            )
        ),
        404,
        "Ecs.0114",
    )
    refused(
        cloud,
        lambda: ecs.show_server_tags(m.ShowServerTagsRequest(server_id=MISSING)),
        404,
        "Ecs.0114",
    )
    message = refused(
        cloud,
        lambda: ecs.batch_start_servers(
            m.BatchStartServersRequest(
                body=m.BatchStartServersRequestBody(os_start=m.BatchStartServersOption(servers=[]))
            )
        ),
        400,
        "Ecs.0005",
    )
    assert message == (
        "Invalid parameter values: os-start.servers: Length must be between 1 and 1000."
    )


def test_disk_refusals(hw):
    ecs, cloud = hw.ecs, hw.cloud
    one, two = create(hw, post_paid(name="disk", count=2, data=[(10, None)]))
    root_of_one = next(
        bd["volume_id"] for bd in cloud.servers.get(one).block_devices if bd["boot_index"] == 0
    )
    data_of_two = next(
        bd["volume_id"] for bd in cloud.servers.get(two).block_devices if bd["boot_index"] != 0
    )

    def attach(server_id, volume_id):
        return lambda: ecs.attach_server_volume(
            m.AttachServerVolumeRequest(
                server_id=server_id,
                body=m.AttachServerVolumeRequestBody(
                    volume_attachment=m.AttachServerVolumeOption(volume_id=volume_id)
                ),
            )
        )

    message = refused(cloud, attach(one, data_of_two), 400, "Ecs.0103")
    assert message.startswith(
        f"Invalid input received: Invalid volume: Volume {data_of_two} "
        "status must be available or downloading"
    )
    message = refused(cloud, attach(two, data_of_two), 400, "Ecs.0057")
    assert message == f"Invalid volume: volume {data_of_two} already attached"
    message = refused(cloud, attach(one, MISSING), 400, "Ecs.0103")
    assert message == f"The disk {MISSING} does not exist."
    message = refused(
        cloud,
        lambda: ecs.detach_server_volume(
            m.DetachServerVolumeRequest(server_id=one, volume_id=data_of_two)
        ),
        400,
        "Ecs.0111",
    )
    assert message == f"The EVS disk {data_of_two} is not attached to the ECS."
    message = refused(
        cloud,
        lambda: ecs.detach_server_volume(
            m.DetachServerVolumeRequest(server_id=one, volume_id=root_of_one)
        ),
        400,
        "Ecs.0005",
    )
    assert message == "Can't detach root device volume"


def test_tag_limit_on_an_existing_server(hw):
    [server_id] = create(
        hw,
        post_paid(
            name="tags", server_tags=[m.PostPaidServerTag(key=f"k{i}", value="v") for i in range(9)]
        ),
    )
    message = refused(
        hw.cloud,
        lambda: hw.ecs.batch_create_server_tags(
            m.BatchCreateServerTagsRequest(
                server_id=server_id,
                body=m.BatchCreateServerTagsRequestBody(
                    action="create",
                    tags=[
                        m.BatchAddServerTag(key="x", value="1"),
                        m.BatchAddServerTag(key="y", value="2"),
                    ],
                ),
            )
        ),
        400,
        "Ecs.0905",
    )
    assert message == "The number of tags of the ECS would be 11, more than the maximum of 10."


# -- auth and the project in the URL ---------------------------------------------------------------


def test_unsigned_and_wrong_project_requests(hw, app):
    import requests
    from conftest import Api

    response = requests.get(f"{hw.url}/v1/{PROJECT_ID}/cloudservers/detail", timeout=10)
    body = response.json()
    assert response.status_code == 401 and body["error_code"] == "APIG.0301"
    assert response.headers["X-Request-Id"] == body["request_id"]
    other = "f" * 32
    # an access key is scoped to its project: the gateway refuses another one
    with pytest.raises(ClientRequestException) as caught:
        hw.ecs.call_api(
            "/v1/" + other + "/cloudservers/detail",
            "GET",
            response_type="ListServersDetailsResponse",
        )
    assert (caught.value.status_code, caught.value.error_code) == (403, "APIG.0302")
    # a (non-admin) token of one project naming another in the URL
    member = Api(app, user="fakeecs-member")
    response = member.get(f"/v1/{other}/cloudservers/detail")
    assert response.status_code == 400
    assert response.get_json() == {
        "error": {
            "code": "Ecs.0023",
            "message": f"The project {other} in the URL is not the project of "
            f"the credentials ({PROJECT_ID}).",
        }
    }
    listed = member.get(f"/v1/{PROJECT_ID}/cloudservers/detail")
    assert listed.status_code == 200 and listed.get_json() == {"count": 0, "servers": []}


def test_a_reader_may_list_but_not_create(hw, app):
    from conftest import Api

    reader = Api(app, user="fakeecs-reader")
    body = {
        "server": {
            "name": "nope",
            "flavorRef": "s6.small.1",
            "imageRef": BASE_IMAGE,
            "vpcid": VPC_ID,
            "nics": [{"subnet_id": SUBNET_ID}],
            "root_volume": {"volumetype": "SSD"},
        }
    }
    before = state(hw.cloud)
    response = reader.post(f"/v1/{PROJECT_ID}/cloudservers", json=body)
    assert response.status_code == 403
    assert response.get_json() == {
        "error": {
            "code": "Ecs.0003",
            "message": "Policy doesn't allow ecs:cloudServers:create to be performed.",
        }
    }
    assert response.headers["X-Request-Id"]
    assert state(hw.cloud) == before
    assert reader.get(f"/v1/{PROJECT_ID}/cloudservers/detail").status_code == 200
    not_json = reader.post(
        f"/v1/{PROJECT_ID}/cloudservers", data="{", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400 and not_json.get_json() == {
        "error": {"code": "Ecs.0005", "message": "Invalid parameter values: the body is not JSON."}
    }
