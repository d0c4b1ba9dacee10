"""Use 1: the pytest plugin. No conftest, no configuration: the fixtures come with fakeecs."""

import time

import pytest

UBUNTU = "5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01"


def test_image_a_server(fakeecs_openstack):
    server = fakeecs_openstack.compute.create_server(
        name="web", image_id=UBUNTU, flavor_id="s6.small.1", networks="auto"
    )
    server = fakeecs_openstack.compute.wait_for_server(server)  # virtual time: no real wait
    image = fakeecs_openstack.compute.create_server_image(server, "web-image", wait=True)
    assert image.status == "active"
    assert image.instance_uuid == server.id


def test_time_only_moves_when_told(fakeecs, fakeecs_openstack):
    server = fakeecs.create_server("web")  # arranged through the model
    image = fakeecs_openstack.compute.create_server_image(server.id, "img")
    assert fakeecs_openstack.image.get_image(image.id).status == "queued"
    fakeecs.clock.advance(1.5)
    assert fakeecs_openstack.image.get_image(image.id).status == "saving"
    time.sleep(60)  # a frozen clock: this is instant
    assert fakeecs.image(image.id).status == "active"  # the model, read directly


@pytest.mark.fakeecs(transitions={"image_snapshot": "manual"})
def test_a_snapshot_that_never_finishes(fakeecs, fakeecs_openstack):
    server = fakeecs.create_server("web")
    image = fakeecs_openstack.compute.create_server_image(server.id, "stuck")
    fakeecs.clock.advance(3600)
    assert fakeecs.image(image.id).status == "queued"
    fakeecs.advance_resource("server", server.id, steps="all")  # now let it finish
    assert fakeecs.image(image.id).status == "active"


def test_retry_survives_a_false_negative(fakeecs, fakeecs_client):
    """createImage answers 500 but the image is made anyway: the retry must not duplicate."""
    server = fakeecs.create_server("web")
    fakeecs.add_fault(match={"action": "createImage"}, status=500, times=1, side_effect=True)
    first = fakeecs_client.create_image(server.id, "nightly")
    assert first.status_code == 500
    existing = [
        i for i in fakeecs_client.list_images(visibility="private") if i["name"] == "nightly"
    ]
    assert len(existing) == 1  # what idempotent retry logic must look for first
    posts = fakeecs.requests(method="POST", action="createImage")
    assert [p["status"] for p in posts] == [500]


@pytest.mark.fakeecs(scenario={"availability_zones": [{"name": "cn-north-4d", "available": False}]})
def test_a_world_from_the_marker(fakeecs_client):
    zones = fakeecs_client.compute("GET", "/os-availability-zone").json()["availabilityZoneInfo"]
    states = {z["zoneName"]: z["zoneState"]["available"] for z in zones}
    assert states["cn-north-4d"] is False and states["cn-north-4a"] is True
