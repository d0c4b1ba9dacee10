"""The model on its own: clock, ids, transition tables, paging, timed processes, the lock."""

import threading
from datetime import datetime, timezone

import pytest
from conftest import BASE_IMAGE
from freezegun import freeze_time

from fakeecs.model import Cloud, Conflict, Invalid, NotFound, VirtualClock, apply_world, transitions
from fakeecs.model.store import Collection
from fakeecs.server import build_cloud


def test_frozen_clock_moves_only_when_told():
    clock = VirtualClock(mode="frozen", now="2026-01-01T00:00:00Z")
    start = clock.now()
    assert clock.now() == start
    clock.advance(30)
    assert clock.now() == start + 30
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_realtime_clock_follows_freezegun_and_speed():
    with freeze_time("2026-03-01 12:00:00") as frozen:
        clock = VirtualClock(mode="realtime", speed=10)
        start = clock.now()
        frozen.tick(2)
        assert clock.now() == pytest.approx(start + 20)
        assert start == datetime(2026, 3, 1, 12, tzinfo=timezone.utc).timestamp()


def test_seeded_ids_repeat():
    def run():
        cloud = build_cloud(["default"], seed=99, clock="frozen")
        ctx = cloud.context_for_user("fakeecs")
        server = cloud.create_server(ctx, name="a", flavor_id="s6.small.1", image_id=BASE_IMAGE)
        cloud.clock.advance(5)
        image = cloud.create_server_image(ctx, server.id, "snap")
        return server.id, image.id

    assert run() == run()


def test_transition_tables_refuse_impossible_moves():
    transitions.check("image", "queued", "saving")
    with pytest.raises(Invalid):
        transitions.check("image", "deleted", "active")
    with pytest.raises(Invalid):
        transitions.check("server", "deleted", "active")
    assert transitions.server_status("active", "rebooting") == "REBOOT"
    assert transitions.server_status("stopped", "image_snapshot") == "SHUTOFF"


class Item:
    def __init__(self, seq):
        self.seq = seq
        self.id = f"i{seq}"


def test_collection_pages_from_a_marker_without_scanning_everything():
    items = Collection()
    for seq in range(1, 11):
        items.add(Item(seq))
    page, more = items.page(limit=3)
    assert [i.id for i in page] == ["i10", "i9", "i8"] and more
    page, more = items.page(marker="i8", limit=3)
    assert [i.id for i in page] == ["i7", "i6", "i5"] and more
    page, more = items.page(marker="i3")
    assert [i.id for i in page] == ["i2", "i1"] and not more
    items.remove("i2")
    assert [i.id for i in items.page(marker="i3")[0]] == ["i1"]
    calls = []
    items.page(limit=2, keep=lambda item: calls.append(item.id) or True)
    assert calls == ["i10", "i9", "i8"]  # stops as soon as it knows there is more
    with pytest.raises(KeyError):
        items.page(marker="nope")


def test_due_steps_run_in_time_order_when_the_clock_jumps(cloud):
    ctx = cloud.context_for_user("fakeecs")
    server = cloud.create_server(ctx, name="a", flavor_id="s6.small.1", image_id=BASE_IMAGE)
    cloud.clock.advance(100)
    found = cloud.get_server(ctx, server.id)
    assert found.vm_state == "active"
    assert found.launched_at == pytest.approx(found.created_at + 1.0)
    image = cloud.create_server_image(ctx, server.id, "snap")
    cloud.clock.advance(100)
    assert cloud.get_image(ctx, image.id).updated_at == pytest.approx(cloud.now() - 98)


def test_manual_transitions_wait(cloud):
    cloud.transitions["server_build"] = "manual"
    ctx = cloud.context_for_user("fakeecs")
    server = cloud.create_server(ctx, name="a", flavor_id="s6.small.1", image_id=BASE_IMAGE)
    cloud.clock.advance(1000)
    assert cloud.get_server(ctx, server.id).vm_state == "building"
    job = cloud.jobs_for("server", server.id)[0]
    cloud.run_step(job, cloud.now())
    cloud.run_step(job, cloud.now())
    assert cloud.get_server(ctx, server.id).vm_state == "active"


def test_zero_duration_is_instant(cloud):
    cloud.transitions.update(server_build=0, image_snapshot=0)
    ctx = cloud.context_for_user("fakeecs")
    server = cloud.create_server(ctx, name="a", flavor_id="s6.small.1", image_id=BASE_IMAGE)
    assert server.vm_state == "active"
    image = cloud.create_server_image(ctx, server.id, "snap")
    assert image.status == "active" and server.task_state is None


def test_domain_errors_carry_facts(cloud):
    ctx = cloud.context_for_user("fakeecs")
    with pytest.raises(NotFound) as missing:
        cloud.get_server(ctx, "nope")
    assert (missing.value.kind, missing.value.resource_id) == ("server", "nope")
    server = cloud.create_server(ctx, name="a", flavor_id="s6.small.1", image_id=BASE_IMAGE)
    with pytest.raises(Conflict) as busy:
        cloud.create_server_image(ctx, server.id, "snap")
    assert (busy.value.attr, busy.value.state) == ("vm_state", "building")


def test_one_lock_makes_concurrent_creates_safe(cloud):
    ctx = cloud.context_for_user("fakeecs")
    errors = []

    def worker():
        try:
            for index in range(25):
                cloud.create_server(
                    ctx, name=f"s{index}", flavor_id="s6.small.1", image_id=BASE_IMAGE
                )
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(cloud.servers) == 200
    assert len({s.seq for s in cloud.servers}) == 200


def test_worlds_apply_on_top_of_each_other():
    cloud = Cloud(seed=1)
    apply_world(
        cloud,
        {
            "availability_zones": ["z1"],
            "projects": [{"name": "p"}],
            "users": [{"name": "u", "roles": {"p": ["member"]}}],
        },
    )
    apply_world(
        cloud, {"availability_zones": ["z2"], "flavors": [{"name": "f", "vcpus": 1, "ram": 512}]}
    )
    assert list(cloud.availability_zones) == ["z1", "z2"]
    assert cloud.context_for_user("u").roles == ("member",)


def test_snapshot_of_a_gold_image_is_private_for_huawei(cloud):
    ctx = cloud.context_for_user("fakeecs")
    server = cloud.create_server(ctx, name="a", flavor_id="s6.small.1", image_id=BASE_IMAGE)
    cloud.clock.advance(5)
    image = cloud.create_server_image(ctx, server.id, "snap")
    assert cloud.images.get(BASE_IMAGE).properties["__imagetype"] == "gold"
    assert image.properties["__imagetype"] == "private"


def test_data_disk_images_cannot_boot_servers(cloud):
    from fakeecs.model.world import apply_world as apply

    apply(
        cloud,
        {
            "images": [
                {
                    "id": "0e3c6bd0-5c2b-4c5e-9d0f-00000000da7a",
                    "name": "data",
                    "origin": {
                        "kind": "ims_data",
                        "server_id": "gone",
                        "availability_zone": "cn-north-4a",
                    },
                }
            ]
        },
    )
    ctx = cloud.context_for_user("fakeecs")
    with pytest.raises(Invalid) as refused:
        cloud.create_server(
            ctx, name="a", flavor_id="s6.small.1", image_id="0e3c6bd0-5c2b-4c5e-9d0f-00000000da7a"
        )
    assert refused.value.rule == "system_disk"
    assert len(cloud.servers) == 0
