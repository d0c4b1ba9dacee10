"""Scenario files: the shipped ones work as described, and mistakes are reported precisely."""

import os
import textwrap

import pytest
from conftest import PROJECT_ID

from fakeecs.model import Conflict, Invalid, scenario
from fakeecs.server import build_cloud

SHIPPED = ["default", "server-in-error", "az-fleet", "slow-cloud", "manual", "busy-project"]


def write(tmp_path, text, name="world.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def errors_of(source):
    with pytest.raises(scenario.ScenarioError) as error:
        scenario.load(source)
    return str(error.value)


# -- the shipped scenarios ------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_scenario_validates_builds_and_round_trips(name):
    assert name in scenario.available()
    cloud = build_cloud([name], seed=1, clock="frozen")
    state = cloud.export_state()
    cloud.reset()
    assert cloud.export_state() == state


def test_default_has_the_huawei_access_key():
    cloud = build_cloud(["default"])
    key = cloud.access_keys["FAKEECSAKEXAMPLE0001"]
    assert (key.sk, key.project_id) == ("fakeecs-secret-key", PROJECT_ID)
    assert cloud.users[key.user_id].name == "fakeecs"


def test_server_in_error(tmp_path):
    cloud = build_cloud(["server-in-error"], seed=1, clock="frozen")
    context = cloud.context_for_user("fakeecs")
    broken = cloud.get_server(context, "5e7e0000-0000-4000-8000-00000000e002")
    assert broken.vm_state == "error" and broken.fault["message"] == "disk failure"
    with pytest.raises(Conflict, match="vm_state error"):
        cloud.create_server_image(context, broken.id, "x")
    ok = cloud.get_server(context, "5e7e0000-0000-4000-8000-00000000e001")
    assert cloud.create_server_image(context, ok.id, "fine").status == "queued"


def test_az_fleet_provenance_rules():
    cloud = build_cloud(["az-fleet"], seed=1, clock="frozen")
    context = cloud.context_for_user("fakeecs")
    assert {s.availability_zone for s in cloud.servers} == {
        "cn-north-4a",
        "cn-north-4b",
        "cn-north-4c",
    }
    web_a_snap = cloud.images.get("1a9e0000-0000-4000-8000-00000000a001")
    assert web_a_snap.origin == {
        "kind": "nova_snapshot",
        "server_id": "5e7e0000-0000-4000-8000-00000000a001",
        "availability_zone": "cn-north-4a",
        "project_id": PROJECT_ID,
        "volume_backed": False,
    }
    assert web_a_snap.properties["image_type"] == "snapshot" and web_a_snap.visibility == "private"
    # a server from a createImage snapshot must stay in the source AZ
    with pytest.raises(Invalid, match="must be in cn-north-4a"):
        cloud.create_server(
            context,
            name="x",
            flavor_id="s6.small.1",
            image_id=web_a_snap.id,
            availability_zone="cn-north-4b",
        )
    db = cloud.servers.get("5e7e0000-0000-4000-8000-00000000c001")
    assert db.volume_backed and db.image_id == ""
    assert [bd["device_name"] for bd in db.block_devices] == ["/dev/vda", "/dev/vdb"]
    root = cloud.volumes.get("7015e000-0000-4000-8000-00000000c001")
    assert root.status == "in-use" and root.bootable and root.attachments[0]["server_id"] == db.id
    assert cloud.images.get("1a9e0000-0000-4000-8000-00000000c001").origin["volume_backed"]
    # createImage snapshots cannot become data disks; IMS data-disk images can
    with pytest.raises(Invalid, match="cannot be used to create data disks"):
        cloud.create_volume(
            context,
            size=50,
            image_id="1a9e0000-0000-4000-8000-00000000c001",
            availability_zone="cn-north-4c",
        )
    assert cloud.snapshots.get("5a45e000-0000-4000-8000-00000000c002").status == "available"
    legacy = cloud.images.get("1a9e0000-0000-4000-8000-00000000d001")
    assert legacy.origin["server_id"] not in cloud.servers


def test_slow_cloud_snapshots_take_minutes_of_virtual_time():
    cloud = build_cloud(["slow-cloud"], seed=1)
    assert cloud.get_clock()["now"] == "2026-01-01T00:00:00.000000Z"
    context = cloud.context_for_user("fakeecs")
    image = cloud.create_server_image(context, "5e7e0000-0000-4000-8000-00000000510e", "slow")
    cloud.advance_clock(599)
    assert image.status == "saving"
    cloud.advance_clock(1)
    assert image.status == "active"


def test_manual_nothing_moves_until_told():
    cloud = build_cloud(["manual"], seed=1)
    context = cloud.context_for_user("fakeecs")
    server = cloud.create_server(
        context, name="m", flavor_id="s6.small.1", image_id="5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01"
    )
    cloud.advance_clock(10**6)
    assert server.vm_state == "building"
    cloud.advance_resource("server", server.id, "all")
    assert server.vm_state == "active"


def test_busy_project_pages_and_hides_the_other_team():
    cloud = build_cloud(["busy-project"], seed=1, clock="frozen")
    context = cloud.context_for_user("fakeecs")
    page, more = cloud.list_servers(context, limit=25)
    assert len(page) == 25 and more
    rest, more = cloud.list_servers(context, limit=25, marker=page[-1].id)
    assert len(rest) == 5 and not more
    assert {s.vm_state for s in page + rest} >= {
        "active",
        "stopped",
        "paused",
        "suspended",
        "error",
        "building",
    }
    other = cloud.context_for_user("other-user")
    assert [s.name for s in cloud.list_servers(other)[0]] == ["other-3", "other-2", "other-1"]
    private = [i for i in cloud.images if i.visibility == "private"]
    assert len(private) == 40


def test_a_base_is_skipped_when_loaded_on_top():
    cloud = build_cloud(["default", "server-in-error"], seed=1)
    assert len(cloud.users) == 3 and len(cloud.servers) == 2


# -- caching ---------------------------------------------------------------------------------


def test_parsed_worlds_are_cached_until_the_file_changes(tmp_path):
    path = write(tmp_path, "flavors: [{id: a, name: a, vcpus: 1, ram: 1}]\n")
    first = scenario.load(path)
    assert scenario.load(path) is first
    write(
        tmp_path,
        "flavors: [{id: b, name: b, vcpus: 2, ram: 2}, {id: c, name: c, vcpus: 1, ram: 1}]\n",
    )
    os.utime(path, ns=(1, 1))
    second = scenario.load(path)
    assert second is not first and len(second["flavors"]) == 2


# -- mistakes name the file, the key path, the line and the problem ----------------------------


def test_schema_errors_name_file_key_and_line(tmp_path):
    path = write(
        tmp_path,
        """\
        region: cn-north-4
        flavors:
          - id: f1
            name: f1
            vcpus: many
            ram: 512
        servers:
          - name: web
            flavour: f1
        """,
    )
    assert errors_of(path).splitlines() == [
        f"{path}: flavors[0].vcpus (line 5): Not a valid integer.",
        f"{path}: servers[0].flavor (line 8): Missing data for required field.",
        f"{path}: servers[0].flavour (line 9): Unknown field.",
    ]


def test_unknown_top_level_key_lists_the_known_ones(tmp_path):
    path = write(tmp_path, "regions: [cn-north-4]\n")
    message = errors_of(path)
    assert message.startswith(
        f"{path}: regions (line 1): Unknown field. Known top-level keys: "
        "base, region, availability_zones"
    )


def test_yaml_syntax_error_has_a_line(tmp_path):
    path = write(tmp_path, "flavors:\n  - {id: a, name: a\nimages: []\n")
    message = errors_of(path)
    assert message.startswith(f"{path}: (top level) (line 3): not valid YAML:")


def test_not_a_mapping(tmp_path):
    path = write(tmp_path, "- a\n- b\n")
    assert errors_of(path) == (
        f"{path}: (top level) (line 1): a scenario must be a mapping at the top level"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "servers:\n  - {name: a, flavor: s6.small.1, vm_state: melting}\n",
            "servers[0].vm_state (line 2): Must be one of: building, active",
        ),
        (
            "transitions: {image_snapshot: slow}\n",
            "transitions.image_snapshot.value (line 1): must be seconds >= 0, 'manual' or 'immediate'",
        ),
        (
            "clock: {mode: frozen, now: someday}\n",
            "clock.now (line 1): not a time (ISO-8601 like 2026-01-01T00:00:00Z, or epoch seconds)",
        ),
        (
            "images:\n  - name: x\n    origin: {kind: nova_snapshot}\n",
            "images[0].origin (line 3): an image made from a server needs origin.server",
        ),
        (
            "access_keys:\n  - {ak: short, sk: s, project: fakeecs}\n",
            "access_keys[0].ak (line 2): an access key id is 8-128 letters and digits",
        ),
        (
            "availability_zones: [{nom: x}]\n",
            "availability_zones[0].name (line 1): Missing data for required field.",
        ),
    ],
)
def test_field_errors(tmp_path, text, message):
    path = write(tmp_path, text)
    assert errors_of(path).startswith(f"{path}: {message}")


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "servers:\n  - {name: a, flavor: nope, image: Ubuntu 22.04 server 64bit}\n",
            "servers[0].flavor (line 2): unknown flavor 'nope'; known: s6.small.1",
        ),
        (
            "servers:\n  - {name: a, flavor: s6.small.1}\n",
            "servers[0] (line 2): a server needs an image, or a volume attached with boot_index 0",
        ),
        (
            "servers:\n  - name: a\n    flavor: s6.small.1\n    image: CentOS 7.9 64bit\n"
            "    availability_zone: cn-south-1a\n",
            "servers[0].availability_zone (line 5): unknown availability zone 'cn-south-1a'",
        ),
        (
            "volumes:\n  - {size: 10, attached_to: {server: ghost}}\n",
            "volumes[0].attached_to.server (line 2): unknown server 'ghost'",
        ),
        (
            "images:\n  - {name: x, origin: {kind: ims_system, server: ghost}}\n",
            "images[0].origin.server (line 2): unknown server 'ghost'",
        ),
        (
            "users:\n  - {name: u, roles: {nowhere: [member]}}\n",
            "users[0].roles.nowhere (line 2): unknown project 'nowhere'",
        ),
        (
            "access_keys:\n  - {ak: ABCDEFGH12, sk: s, project: nowhere}\n",
            "access_keys[0].project (line 2): unknown project 'nowhere'",
        ),
        (
            "images:\n  - {id: 5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01, name: dup}\n",
            "images[0].id (line 2): a image with id 5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01 already exists",
        ),
        (
            "transitions: {warp: 3}\n",
            "transitions (line 1): unknown process(es) warp; known: server_build",
        ),
        ("base: nowhere\n", "base (line 1): no scenario named 'nowhere'"),
    ],
)
def test_reference_errors_name_file_key_and_line_and_change_nothing(tmp_path, text, message):
    path = write(tmp_path, text)
    cloud = build_cloud(["default"], seed=1, clock="frozen")
    before = cloud.export_state()
    with pytest.raises(Invalid) as error:
        cloud.load_scenario(path)
    assert error.value.message.startswith(f"{path}: {message}")
    assert cloud.export_state() == before


def test_inline_scenarios_are_validated_too():
    with pytest.raises(scenario.ScenarioError) as error:
        scenario.validate({"flavors": [{"name": "x"}]})
    assert str(error.value).splitlines() == [
        "<inline>: flavors[0].ram: Missing data for required field.",
        "<inline>: flavors[0].vcpus: Missing data for required field.",
    ]


def test_cli_reports_a_broken_scenario(tmp_path, capsys):
    from fakeecs.cli import main

    path = write(tmp_path, "flavors:\n  - {id: f, name: f, vcpus: 0, ram: 1}\n")
    assert main(["serve", "--port", "0", "--scenario", "default", "--scenario", path]) == 2
    err = capsys.readouterr().err
    assert f"{path}: flavors[0].vcpus (line 2): Must be greater than or equal to 1." in err
