"""A reset after any sequence of operations gives back exactly the baseline's export.

The reset rebuilds only what the stores handed out since the baseline (see
``fakeecs/model/undo.py``); these tests run random sequences of model
operations, control calls and direct entity edits, reset, and compare the
export (clock, ids, sequence, transitions, heap and every store) with the one
taken at the baseline, then check the indexes answer as a full scan does.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakeecs.model.errors import DomainError
from fakeecs.server import build_cloud

BASE_IMAGE = "5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01"
EXTRA_IMAGES = 12


def _cloud():
    """The default world plus a few images of its project, as the fixture's baseline."""
    cloud = build_cloud(["default"], seed=5, clock="frozen")
    context = cloud.context_for_user("fakeecs")
    for number in range(EXTRA_IMAGES):
        cloud.create_image(
            context,
            name=f"base-{number % 4}",
            disk_format="qcow2",
            container_format="bare",
            tags=["keep"] if number % 3 else [],
        )
    server = cloud.create_server(
        context, name="base-server", flavor_id="s6.small.1", image_id=BASE_IMAGE
    )
    cloud.advance_clock(120)
    cloud.create_server_image(context, server.id, "in-progress")  # a pending job in the heap
    cloud.mark_baseline()
    return cloud, context


def _images(cloud):
    return [i.id for i in cloud.images.values_untracked()]


def _servers(cloud):
    return [s.id for s in cloud.servers.values_untracked()]


OPERATIONS = {
    "glance_create": lambda c, x, n: c.create_image(x, name=f"new-{n % 3}", tags=["t"]),
    "glance_rename": lambda c, x, n: c.update_image(
        x, _images(c)[n % len(_images(c))], [{"op": "replace", "path": "name", "value": "ren"}]
    ),
    "glance_property": lambda c, x, n: c.update_image(
        x, _images(c)[n % len(_images(c))], [{"op": "add", "path": "p", "value": str(n)}]
    ),
    "glance_delete": lambda c, x, n: c.delete_image(x, _images(c)[n % len(_images(c))]),
    "tag_in_place": lambda c, x, n: c.images.get(_images(c)[n % len(_images(c))]).tags.append(
        f"inplace-{n}"
    ),
    "property_in_place": lambda c, x, n: c.images.get(
        _images(c)[n % len(_images(c))]
    ).properties.update({"direct": "yes"}),
    "server_create": lambda c, x, n: c.create_server(
        x, name=f"s{n}", flavor_id="s6.small.1", image_id=BASE_IMAGE
    ),
    "server_stop": lambda c, x, n: c.server_action(x, _servers(c)[n % len(_servers(c))], "stop"),
    "server_delete": lambda c, x, n: c.delete_server(x, _servers(c)[n % len(_servers(c))]),
    "server_snapshot": lambda c, x, n: c.create_server_image(
        x, _servers(c)[n % len(_servers(c))], f"snap-{n}"
    ),
    "server_error": lambda c, x, n: c.force_state(
        "server", _servers(c)[n % len(_servers(c))], vm_state="error"
    ),
    "volume_create": lambda c, x, n: c.create_volume(x, size=1 + n % 3, name=f"v{n}"),
    "advance_clock": lambda c, x, n: c.advance_clock(n * 7),
    "transitions": lambda c, x, n: c.set_transitions({"server_build": n}),
    "seed": lambda c, x, n: c.seed(n),
    "fault": lambda c, x, n: c.add_fault({"match": {"action": "createImage"}, "status": 500}),
    "scenario": lambda c, x, n: c.load_scenario(
        {"flavors": [{"id": f"extra-{n}", "name": f"extra-{n}", "vcpus": 1, "ram": 512}]}
    ),
    "token": lambda c, x, n: c.issue_token(
        user={"name": "fakeecs", "domain_name": "Default"}, password="fakeecs"
    ),
}

operations = st.lists(
    st.tuples(st.sampled_from(sorted(OPERATIONS)), st.integers(0, 20)), max_size=20
)


def _run(cloud, context, steps):
    for name, number in steps:
        try:
            OPERATIONS[name](cloud, context, number)
        except (DomainError, IndexError, ZeroDivisionError):
            pass  # refused operations are part of a test too


def _check_indexes(cloud, context):
    """Every indexed list answers as a scan of the export does."""
    records = sorted(
        cloud.export_state()["stores"]["images"], key=lambda r: (r["seq"], r["id"]), reverse=True
    )
    for name in ("base-1", "ren", "new-0"):
        found, _ = cloud.list_images(context, filters={"name": name, "visibility": "all"})
        assert [i.id for i in found] == [r["id"] for r in records if r["name"] == name]
    found, _ = cloud.list_images(context, filters={"tag": ["keep"], "visibility": "all"})
    assert [i.id for i in found] == [r["id"] for r in records if "keep" in r["tags"]]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=operations, second=operations)
def test_reset_gives_back_the_baseline_export(first, second):
    cloud, context = _cloud()
    baseline = cloud.export_state()
    for steps in (first, second):
        _run(cloud, context, steps)
        cloud.reset()
        assert cloud.export_state() == baseline
        assert cloud.faults == []
        _check_indexes(cloud, context)


@pytest.mark.parametrize("scenario", [None, "default"])
def test_reset_after_an_import_or_to_a_scenario_is_whole_then_cheap(scenario):
    """An import loses the tracking: the next reset imports in full, the one after is cheap."""
    cloud, context = _cloud()
    target = cloud.export_state() if scenario is None else None
    if scenario is not None:
        cloud.reset(scenario=scenario)
        target = cloud.export_state()
    state = cloud.export_state()
    state["stores"]["images"] = state["stores"]["images"][:1]
    cloud.import_state(state)
    for _ in range(3):
        cloud.reset(scenario=scenario)
        assert cloud.export_state() == target
        _run(cloud, context, [("glance_create", 1), ("glance_delete", 2), ("server_create", 3)])
        assert all(getattr(cloud, name).touched is not None for name in cloud.stores)


def test_a_reset_rebuilds_only_what_the_test_touched():
    """The cost model: after a test that made 10 images only those 10 are rebuilt."""
    cloud, context = _cloud()
    cloud.reset()
    untouched = cloud.images.values_untracked()[0]
    for number in range(10):
        cloud.create_image(context, name=f"made-{number}")
    assert len(cloud.images.touched) == 10
    cloud.reset()
    assert cloud.images.values_untracked()[0] is untouched
    assert cloud.images.touched == set()


def test_export_does_not_count_as_a_touch():
    cloud, _ = _cloud()
    cloud.reset()
    cloud.export_state()
    assert all(not getattr(cloud, name).touched for name in cloud.stores)


def test_a_list_read_hands_out_only_its_page():
    """With the clock's auto flavour off, a list is no read of the whole store: it neither
    scans every entity for the auto clock nor marks them all for the next reset."""
    cloud, context = _cloud()
    cloud.reset()
    found, _ = cloud.list_images(context, limit=3)
    assert len(found) == 3
    assert len(cloud.images.touched) <= 3
    cloud.ims_list_images(context, filters={}, limit=3)
    assert len(cloud.images.touched) <= 6 < len(cloud.images)
