"""Use 2: the in-process handle, for your own fixtures, scripts or another test runner."""

import pytest

from fakeecs import FakeCloud


@pytest.fixture(scope="module")
def cloud():
    with FakeCloud.start(scenario="default", clock="frozen", seed=42) as fake:
        yield fake


def test_handle_and_any_client_share_one_cloud(cloud):
    cloud.reset()
    openstack = pytest.importorskip("openstack")
    conn = openstack.connect(
        **cloud.openstack_connect_kwargs(load_yaml_config=False, load_envvars=False)
    )
    server = conn.compute.create_server(
        name="db",
        image_id=cloud.base_image_id,
        flavor_id="s6.medium.2",
        networks="auto",
        availability_zone="cn-north-4b",
    )
    cloud.clock.advance(5)
    assert cloud.server(server.id).vm_state == "active"
    # the ECS rule: a server made from a createImage image stays in the source AZ
    image = cloud.create_server_image(server.id, "db-gold")
    with pytest.raises(Exception, match="availability zone"):
        conn.compute.create_server(
            name="db2",
            image_id=image.id,
            flavor_id="s6.medium.2",
            networks="auto",
            availability_zone="cn-north-4c",
        )
    conn.close()


def test_export_and_restore_a_state(cloud, tmp_path):
    cloud.reset()
    cloud.create_server("keep")
    saved = cloud.export_state()
    cloud.reset()
    assert cloud.servers() == []
    cloud.import_state(saved)
    assert [s.name for s in cloud.servers()] == ["keep"]


def test_configuration_for_other_clients(cloud, tmp_path):
    path = tmp_path / "clouds.yaml"
    cloud.clouds_yaml("fakeecs", path=path)  # for `openstack --os-cloud fakeecs`
    assert "auth_url: " + cloud.auth_url in path.read_text()
    assert cloud.huawei_sdk_config()["endpoint"] == cloud.url
