"""Paging through the stores' indexes returns exactly what a full scan would.

Each example builds a cloud with random images (owners, visibilities, statuses,
names, tags, times), changes them through every mutation path (renames,
visibility and tag changes, in-place tag edits, status moves, deletions), then
pages through every filter with random limits and compares the pages, joined,
with a plain-Python scan of the exported state.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakeecs.model import pager
from fakeecs.model.clock import isoformat
from fakeecs.model.entities import Image
from fakeecs.model.store import Collection
from fakeecs.model.timefilter import TimeFilterError, parse_time_filter, time_matches
from fakeecs.server import build_cloud

PROJECT_ID = "0fae0ec5c0de4e1bb2b3c4d5e6f70819"
OTHER = "9" * 32
NAMES = ["alpha", "beta", None, "gamma"]
TAGS = ["red", "blue", "green"]
STATUSES = ["queued", "saving", "active", "killed", "deactivated"]
VISIBILITIES = ["private", "public", "shared", "community"]
T0 = 1_700_000_000

image_specs = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(NAMES),
            "owner": st.sampled_from([PROJECT_ID, OTHER]),
            "status": st.sampled_from(STATUSES),
            "visibility": st.sampled_from(VISIBILITIES),
            "tags": st.lists(st.sampled_from(TAGS), unique=True, max_size=2),
            "os_hidden": st.booleans(),
            "created": st.integers(0, 50),
            "seq": st.integers(0, 5),
        }
    ),
    max_size=30,
)

mutations = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "rename",
                "visibility",
                "tags",
                "tag_append",
                "tag_remove",
                "status",
                "delete",
                "owner",
                "touch",
                "created",
            ]
        ),
        st.integers(0, 40),
        st.integers(0, 10),
    ),
    max_size=25,
)

filters = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(NAMES[:2] + ["None", "nope"]),
        "status": st.sampled_from(STATUSES),
        "owner": st.sampled_from([PROJECT_ID, OTHER]),
        "visibility": st.sampled_from(VISIBILITIES + ["all"]),
        "tag": st.lists(st.sampled_from(TAGS), unique=True, min_size=1, max_size=2),
        "created_at": st.tuples(
            st.sampled_from(["gt", "gte", "lt", "lte", "eq", "neq"]), st.integers(0, 50)
        ),
    },
)


def _cloud(specs):
    cloud = build_cloud(["default"], seed=7, clock="frozen")
    state = cloud.export_state()
    for number, spec in enumerate(specs):
        # duplicate seqs on purpose: the order is (seq, id)
        state["stores"]["images"].append(
            {
                "id": f"00000000-0000-4000-8000-{number:012d}",
                "name": spec["name"],
                "owner": spec["owner"],
                "status": spec["status"],
                "visibility": spec["visibility"],
                "tags": list(spec["tags"]),
                "os_hidden": spec["os_hidden"],
                "created_at": T0 + spec["created"],
                "updated_at": T0 + spec["created"],
                "seq": 100 + spec["seq"] * 3 + number % 2,
            }
        )
    cloud.import_state(state)
    return cloud


def _mutate(cloud, steps):
    """Change images through every path a model operation or a room's code takes."""
    ids = [image.id for image in cloud.images.values_untracked()]
    for kind, which, value in steps:
        if not ids:
            return
        image = cloud.images.get(ids[which % len(ids)])
        if image is None:
            continue
        if kind == "rename":
            image.name = NAMES[value % len(NAMES)]
        elif kind == "visibility":
            image.visibility = VISIBILITIES[value % len(VISIBILITIES)]
        elif kind == "owner":
            image.owner = [PROJECT_ID, OTHER][value % 2]
        elif kind == "tags":
            image.tags = TAGS[: value % 4]
        elif kind == "tag_append" and TAGS[value % 3] not in image.tags:
            image.tags.append(TAGS[value % 3])
        elif kind == "tag_remove" and image.tags:
            image.tags.remove(image.tags[0])
        elif kind == "status":
            image.status = STATUSES[value % len(STATUSES)]
        elif kind == "delete":
            cloud.images.remove(image.id)
        elif kind == "touch":
            image.updated_at = T0 + value * 5
        elif kind == "created":
            image.created_at = T0 + value * 5


def _reference(cloud, query):
    """The Glance list by a plain scan of the export, newest first."""
    records = cloud.export_state()["stores"]["images"]
    visibility = query.get("visibility")
    chosen = []
    for image in records:
        mine = image["owner"] == PROJECT_ID
        if image["status"] == "deleted" or not (
            mine or image["visibility"] in ("public", "community")
        ):
            continue
        if visibility is None and image["visibility"] == "community" and not mine:
            continue
        if visibility not in (None, "all") and image["visibility"] != visibility:
            continue
        if image.get("os_hidden"):
            continue
        if any(tag not in image["tags"] for tag in query.get("tag", [])):
            continue
        if not all(
            str(image[key]) == query[key] for key in ("name", "status", "owner") if key in query
        ):
            continue
        if "created_at" in query:
            op, offset = query["created_at"]
            if not time_matches(int(image["created_at"]), op, T0 + offset):
                continue
        chosen.append(image)
    chosen.sort(key=lambda image: (image["seq"], image["id"]), reverse=True)
    return [image["id"] for image in chosen]


def _sortable(value):
    """How fakeecs orders a sort key: numbers as numbers, anything else as text, None last."""
    return (value is None, value if isinstance(value, (int, float)) else str(value))


def _all_pages(list_page, limit):
    seen, marker = [], None
    while True:
        page, more = list_page(marker, limit)
        seen += [image.id for image in page]
        if not more:
            return seen
        assert len(page) == limit
        marker = page[-1].id


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=image_specs, steps=mutations, query=filters, limit=st.integers(1, 7))
def test_glance_pages_match_a_full_scan(specs, steps, query, limit):
    cloud = _cloud(specs)
    _mutate(cloud, steps)
    context = cloud.context_for_user("fakeecs")
    model_filters = dict(query)
    if "created_at" in query:
        op, offset = query["created_at"]
        model_filters["created_at"] = (op, T0 + offset)

    def list_page(marker, size):
        return cloud.list_images(context, filters=model_filters, marker=marker, limit=size)

    assert _all_pages(list_page, limit) == _reference(cloud, query)
    whole, more = cloud.list_images(context, filters=model_filters)
    assert [image.id for image in whole] == _reference(cloud, query) and not more


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=image_specs,
    steps=mutations,
    query=filters,
    limit=st.integers(1, 7),
    key=st.sampled_from(
        ["name", "status", "owner", "visibility", "size", "created_at", "updated_at"]
    ),
    descending=st.booleans(),
    view=st.booleans(),
)
def test_sorted_pages_match_a_full_scan(specs, steps, query, limit, key, descending, view):
    """Other sort orders: from the kept sorted view (``view``) or by sorting the candidates."""
    query.pop("created_at", None)
    cloud = _cloud(specs)
    _mutate(cloud, steps)
    context = cloud.context_for_user("fakeecs")
    sort = [(key, "desc" if descending else "asc")]
    expected_ids = _reference(cloud, query)
    records = {r["id"]: r for r in cloud.export_state()["stores"]["images"]}
    oldest_first = list(reversed(expected_ids))
    if key == "created_at" and descending:
        return  # Glance's default order: creation order, checked above
    expected = sorted(oldest_first, key=lambda i: _sortable(records[i][key]), reverse=descending)

    def list_page(marker, size):
        return cloud.list_images(context, filters=query, marker=marker, limit=size, sort=sort)

    saved = pager.VIEW_THRESHOLD
    pager.VIEW_THRESHOLD = -1 if view else 10**9
    try:
        assert _all_pages(list_page, limit) == expected
    finally:
        pager.VIEW_THRESHOLD = saved


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=image_specs,
    steps=mutations,
    limit=st.integers(1, 7),
    key=st.sampled_from(["name", "status", "created_at", "updated_at"]),
    descending=st.booleans(),
    view=st.booleans(),
)
def test_ims_sorted_pages_match_a_full_scan(specs, steps, limit, key, descending, view):
    """IMS sorts ``str(value)`` (a missing name is the text "None"); times as numbers."""
    cloud = _cloud(specs)
    _mutate(cloud, steps)
    context = cloud.context_for_user("fakeecs")
    records = [
        r
        for r in cloud.export_state()["stores"]["images"]
        if r["status"] != "deleted"
        and (r["owner"] == PROJECT_ID or r["visibility"] in ("public", "community"))
    ]
    records.sort(key=lambda r: (r["seq"], r["id"]))
    expected = [
        r["id"]
        for r in sorted(
            records,
            key=lambda r: r[key] if key.endswith("_at") else str(r[key]),
            reverse=descending,
        )
    ]

    def list_page(marker, size):
        return cloud.ims_list_images(
            context, marker=marker, limit=size, sort=[(key, "desc" if descending else "asc")]
        )

    saved = pager.VIEW_THRESHOLD
    pager.VIEW_THRESHOLD = -1 if view else 10**9
    try:
        if key == "created_at" and descending:
            return  # creation order, checked with the Glance lists
        assert _all_pages(list_page, limit) == expected
    finally:
        pager.VIEW_THRESHOLD = saved


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.lists(st.sampled_from(TAGS), max_size=3)),
        max_size=25,
    ),
    steps=mutations,
    wanted=st.sampled_from(["a", "b", "c"]),
    tag=st.sampled_from(TAGS),
    newest_first=st.booleans(),
    limit=st.integers(1, 5),
)
def test_a_collection_walks_its_indexes_like_a_scan(
    values, steps, wanted, tag, newest_first, limit
):
    """The store alone: ``where`` clauses (one field, several fields, tags) against a scan."""
    store = Collection(Image)
    for number, (name, tags) in enumerate(values):
        store.add(
            Image(
                id=f"i{number:03d}",
                name=name,
                owner=PROJECT_ID,
                status="active",
                created_at=0.0,
                updated_at=0.0,
                seq=number // 2,
                tags=list(tags),
            )
        )
    for kind, which, value in steps:
        items = store.values_untracked()
        if not items:
            break
        item = items[which % len(items)]
        if kind in ("rename", "visibility"):
            item.name = "abc"[value % 3]
        elif kind == "tag_append":
            item.tags.append(TAGS[value % 3])
        elif kind == "tag_remove" and item.tags:
            item.tags.pop()
        elif kind == "tags":
            item.tags = TAGS[: value % 4]
        elif kind == "delete":
            store.remove(item.id)
    clauses = [[("name", wanted), ("tags", tag)], [("status", "active")]]

    def keep(item):
        return item.name == wanted or tag in item.tags

    expected = [
        item.id
        for item in (store.values_untracked()[::-1] if newest_first else store.values_untracked())
        if keep(item)
    ]
    seen, marker = [], None
    while True:
        page, more = store.page(
            newest_first=newest_first, marker=marker, limit=limit, keep=keep, where=clauses
        )
        seen += [item.id for item in page]
        if not more:
            break
        marker = page[-1].id
    assert seen == expected


@settings(max_examples=30, deadline=None)
@given(
    names=st.lists(st.sampled_from(["web-1", "web-2", "db-1", "x"]), max_size=12),
    pattern=st.sampled_from(["web", "^db", "1$", "zzz", "."]),
    errors=st.lists(st.booleans(), max_size=12),
)
def test_server_filters_match_a_scan(names, pattern, errors):
    """Nova's regex name filter and status filter, through the name and vm_state indexes."""
    import re

    cloud = build_cloud(["default"], seed=3, clock="frozen")
    context = cloud.context_for_user("fakeecs")
    flavor = next(iter(cloud.flavors))
    for number, name in enumerate(names):
        server = cloud.create_server(
            context, name=name, flavor_id=flavor, image_id="5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01"
        )
        if number < len(errors) and errors[number]:
            cloud.force_state("server", server.id, vm_state="error")
    servers = cloud.export_state()["stores"]["servers"]
    newest = sorted(servers, key=lambda s: (s["seq"], s["id"]), reverse=True)
    by_name = [s["id"] for s in newest if re.search(pattern, s["name"])]
    errored = [s["id"] for s in newest if s["vm_state"] == "error"]
    assert [s.id for s in cloud.list_servers(context, name=pattern)[0]] == by_name
    assert [s.id for s in cloud.list_servers(context, status="ERROR")[0]] == errored


# -- date filters (shared by Glance and IMS) ---------------------------------------------


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("gte:2014-01-01T01:01:01Z", ("gte", 1388538061.0)),
        ("2014-01-01T01:01:01Z", ("eq", 1388538061.0)),
        ("neq:2014-01-01T01:01:01", ("neq", 1388538061.0)),
    ],
)
def test_glance_date_filters_parse_as_glance_splits_them(expression, expected):
    assert parse_time_filter(expression) == expected


@pytest.mark.parametrize(
    "expression, kind",
    [
        ("gte:yesterday", "format"),
        ("in:2014-01-01T01:01:01Z", "operator"),
        ("bad", "format"),
    ],
)
def test_bad_date_filters_say_which_part_is_wrong(expression, kind):
    with pytest.raises(TimeFilterError) as caught:
        parse_time_filter(expression)
    assert caught.value.kind == kind


def test_glance_lists_by_date_and_answers_400s(app):
    from conftest import Api

    api = Api(app)
    cloud = app.extensions["fakeecs"]
    made = api.post("/image/v2/images", json={"name": "dated"}).get_json()
    stamp = made["created_at"]
    names = lambda path: [i["name"] for i in api.get(path).get_json()["images"]]  # noqa: E731
    assert "dated" in names(f"/image/v2/images?created_at=gte:{stamp}")
    assert "dated" in names(f"/image/v2/images?created_at=eq:{stamp}")
    assert "dated" not in names(f"/image/v2/images?created_at=lt:{stamp}")
    assert "dated" in names("/image/v2/images?created_at=gte:2014-01-01T01:01:01Z")
    assert "dated" not in names(f"/image/v2/images?updated_at=gt:{stamp}")
    cloud.advance_clock(5)
    later = isoformat(cloud.now())
    assert names(f"/image/v2/images?created_at=gte:{later}") == []
    bad = api.get("/image/v2/images?created_at=gte:soon")
    assert bad.status_code == 400
    assert bad.get_json()["message"].startswith(
        'Bad "created_at" query filter format. Use ISO 8601 DateTime notation.'
    )
    bad = api.get("/image/v2/images?updated_at=in:2014-01-01T01:01:01Z")
    assert bad.status_code == 400
    assert bad.get_json()["message"].startswith("Unable to filter on a unknown operator.")
