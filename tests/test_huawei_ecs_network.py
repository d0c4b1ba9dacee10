"""The network world of ECS creates: scenario VPCs and subnets, and address allocation."""

import pytest
from conftest import BASE_IMAGE

from fakeecs.model import Invalid, apply_world
from fakeecs.model.ecs import DiskSpec, EcsServerSpec
from fakeecs.model.network import NicPlan
from fakeecs.server import build_cloud

VPC_ID = "7a1c0b9e-5d3f-4e2a-8b6c-9d0e1f2a3b01"
SUBNET_ID = "7a1c0b9e-5d3f-4e2a-8b6c-9d0e1f2a3b02"


def spec(count=1, subnet=SUBNET_ID, vpc=VPC_ID, ip=None):
    return EcsServerSpec(
        name="net",
        flavor_id="s6.small.1",
        image_id=BASE_IMAGE,
        vpc_id=vpc,
        nics=(NicPlan(subnet, ip),),
        root_volume=DiskSpec("SSD", 40),
        availability_zone="cn-north-4a",
        count=count,
    )


def test_the_default_world_has_one_vpc_and_one_subnet(cloud):
    context = cloud.context_for_user("fakeecs")
    [vpc], _ = cloud.list_vpcs(context)
    [subnet], _ = cloud.list_subnets(context, vpc_id=vpc.id)
    assert (vpc.id, vpc.name, vpc.cidr) == (VPC_ID, "fakeecs-vpc", "192.168.0.0/16")
    assert (subnet.id, subnet.cidr, subnet.gateway_ip) == (
        SUBNET_ID,
        "192.168.0.0/24",
        "192.168.0.1",
    )
    usable = cloud.usable_addresses(subnet)
    assert usable[0] == "192.168.0.2" and usable[-1] == "192.168.0.252" and len(usable) == 251


def test_addresses_are_the_lowest_free_and_come_back_when_the_server_goes(cloud):
    context = cloud.context_for_user("fakeecs")
    job = cloud.ecs_create_servers(context, spec(count=2))
    first, second = (cloud.servers.get(i) for i in job.data["server_ids"])
    assert [first.addresses[VPC_ID][0]["addr"], second.addresses[VPC_ID][0]["addr"]] == [
        "192.168.0.2",
        "192.168.0.3",
    ]
    cloud.clock.advance(5)
    cloud.ecs_delete_servers(context, [first.id])
    cloud.clock.advance(5)
    subnet = cloud.get_subnet(context, SUBNET_ID)
    assert cloud.used_addresses(subnet) == {"192.168.0.3"}
    job = cloud.ecs_create_servers(context, spec())
    assert (
        cloud.servers.get(job.data["server_ids"][0]).addresses[VPC_ID][0]["addr"] == "192.168.0.2"
    )
    with pytest.raises(Invalid) as refused:
        cloud.ecs_create_servers(context, spec(count=2, ip="192.168.0.50"))
    assert refused.value.facts["rule"] == "ip_count"


@pytest.mark.parametrize(
    "world, message",
    [
        (
            {"vpcs": [{"name": "v", "cidr": "10.0.0.0/33"}]},
            "vpcs[0].cidr: cidr '10.0.0.0/33' is not an IPv4 CIDR such as 192.168.0.0/24",
        ),
        (
            {
                "vpcs": [{"name": "v", "cidr": "10.0.0.0/16"}],
                "subnets": [{"name": "s", "vpc": "v", "cidr": "10.1.0.0/24"}],
            },
            "subnets[0].cidr: subnet CIDR 10.1.0.0/24 is not inside the CIDR 10.0.0.0/16 of VPC v",
        ),
        (
            {
                "vpcs": [{"name": "v", "cidr": "10.0.0.0/16"}],
                "subnets": [
                    {"name": "a", "vpc": "v", "cidr": "10.0.0.0/24"},
                    {"name": "b", "vpc": "v", "cidr": "10.0.0.128/25"},
                ],
            },
            "subnets[1].cidr: subnet CIDR 10.0.0.128/25 overlaps subnet a (10.0.0.0/24)",
        ),
        (
            {"subnets": [{"name": "s", "vpc": "nowhere", "cidr": "10.0.0.0/24"}]},
            "subnets[0].vpc: unknown vpc 'nowhere'",
        ),
        (
            {
                "vpcs": [{"name": "v", "cidr": "10.0.0.0/16"}],
                "subnets": [
                    {"name": "s", "vpc": "v", "cidr": "10.0.0.0/24", "gateway_ip": "10.0.1.1"}
                ],
            },
            "subnets[0].cidr: gateway_ip 10.0.1.1 is not in the subnet CIDR 10.0.0.0/24",
        ),
        (
            {
                "vpcs": [{"name": "v", "cidr": "10.0.0.0/16"}],
                "subnets": [{"name": "s", "vpc": "v", "cidr": "10.0.0.0/30"}],
            },
            "subnets[0].cidr: subnet CIDR 10.0.0.0/30 is too small (use a /28 or larger)",
        ),
    ],
)
def test_scenario_networks_are_checked_with_their_key_path(world, message):
    cloud = build_cloud(["default"], seed=1, clock="frozen")
    with pytest.raises(Invalid) as refused:
        apply_world(cloud, world, record=False)
    assert refused.value.message.endswith(message), refused.value.message


def test_a_scenario_adds_vpcs_and_subnets_of_another_project(cloud):
    apply_world(
        cloud,
        {
            "projects": [{"name": "other"}],
            "vpcs": [{"id": "vpc-2", "name": "v2", "cidr": "172.16.0.0/12", "project": "other"}],
            "subnets": [
                {
                    "id": "sub-2",
                    "name": "s2",
                    "vpc": "v2",
                    "cidr": "172.16.1.0/24",
                    "availability_zone": "cn-north-4c",
                }
            ],
        },
        record=False,
    )
    member = cloud.context_for_user("fakeecs-member")
    assert [v.id for v in cloud.list_vpcs(member)[0]] == [VPC_ID]  # not the other project's
    subnet = cloud.subnets.get("sub-2")
    assert (subnet.vpc_id, subnet.availability_zone, subnet.gateway_ip) == (
        "vpc-2",
        "cn-north-4c",
        "172.16.1.1",
    )
    with pytest.raises(Invalid) as refused:
        cloud.ecs_create_servers(member, spec(subnet="sub-2"))
    assert refused.value.facts["rule"] == "subnet"  # another project's subnet is unknown


def test_a_batch_naming_an_ecs_twice_acts_on_it_once(cloud):
    context = cloud.context_for_user("fakeecs")
    [server_id] = cloud.ecs_create_servers(context, spec()).data["server_ids"]
    cloud.clock.advance(5)
    job = cloud.ecs_batch_action(context, [server_id, server_id], "stop")
    assert len(job.sub_job_ids) == 1
    cloud.clock.advance(5)
    assert cloud.get_ecs_job(context, job.id).status == "SUCCESS"
    assert cloud.get_server(context, server_id).vm_state == "stopped"


def test_a_nova_server_on_a_vpc_subnet_gets_its_address_there(api):
    """On ECS a Nova network uuid is a VPC subnet id: both APIs share the subnet's addresses."""
    from conftest import PROJECT_ID

    cloud = api.cloud
    context = cloud.context_for_user("fakeecs")
    [ecs_id] = cloud.ecs_create_servers(context, spec()).data["server_ids"]
    nova_id = api.boot("nova-on-vpc", networks=[{"uuid": SUBNET_ID}])
    nova = api.get(api.compute(f"/servers/{nova_id}")).get_json()["server"]
    assert [a["addr"] for a in nova["addresses"][VPC_ID]] == ["192.168.0.3"]
    shown = api.get(f"/v1/{PROJECT_ID}/cloudservers/{nova_id}").get_json()["server"]
    assert shown["metadata"]["vpc_id"] == VPC_ID
    assert cloud.servers.get(ecs_id).addresses[VPC_ID][0]["addr"] == "192.168.0.2"
    taken = api.post(
        api.compute("/servers"),
        json={
            "server": {
                "name": "dup",
                "flavorRef": "s6.small.1",
                "imageRef": BASE_IMAGE,
                "networks": [{"uuid": SUBNET_ID, "fixed_ip": "192.168.0.2"}],
            }
        },
        headers={"OpenStack-API-Version": "compute 2.60"},
    )
    assert taken.status_code == 400
    assert (
        taken.get_json()["badRequest"]["message"]
        == "The private IP address 192.168.0.2 is already being used."
    )
    assert [s.name for s in cloud.servers if s.name == "dup"] == []
