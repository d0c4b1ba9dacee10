"""The one pager of every list route: query hints for the stores' indexes, and sorted pages.

Each list operation states what it accepts in a ``keep`` predicate (the truth)
and, through the builders here, the index clauses any accepted entity
satisfies (the hint :meth:`~fakeecs.model.store.Collection.page` walks).  A
hint may be looser than ``keep`` but never stricter: the Hypothesis tests in
``tests/test_scale_paging.py`` compare every filter with a full scan.

Creation order (newest first, the default of every API) pages straight from
the indexes.  Other sort orders collect the candidates of the narrowest clause
and sort them: their cost is that of the candidates, so an unfiltered sort by
name over the whole cloud is a scan (see ``docs/scale.md``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from . import transitions
from .store import Between, Clause, Collection

Where = list[Clause]


def equal_clauses(
    filters: dict[str, Any], fields: Iterable[str], *, rename: dict[str, str] | None = None
) -> Where:
    """One clause per filter on an indexed field (``rename`` maps filter to field names)."""
    rename = rename or {}
    clauses: Where = []
    for key in fields:
        if key in filters and filters[key] is not None:
            clauses.append([(rename.get(key, key), filters[key])])
    return clauses


def image_visibility_clause(context: Any, visibility: str | None) -> list[tuple[str, Any]]:
    """The images a Glance list can show for ``visibility`` (None: the default list)."""
    if visibility is None:
        return [("owner", context.project_id), ("visibility", "public")]
    if visibility == "all":
        return [
            ("owner", context.project_id),
            ("visibility", "public"),
            ("visibility", "community"),
        ]
    return [("visibility", visibility)]


def image_where(
    context: Any,
    filters: dict[str, Any],
    *,
    visibility: str | None = None,
    tags: Iterable[str] = (),
    times: dict[str, tuple[str, float]] | None = None,
) -> Where:
    """Hints for an image list: visibility, the equality filters, each tag and each date
    filter (``{field: (operator, epoch)}``)."""
    where: Where = [image_visibility_clause(context, visibility)]
    where += equal_clauses(filters, ("name", "status", "owner"))
    where += [[("tags", tag)] for tag in tags]
    where += [
        time_clause(field, op, moment)
        for field, (op, moment) in (times or {}).items()
        if op != "neq"
    ]
    return where


def time_clause(field: str, operator: str, moment: float) -> Between:
    """The values a date filter can accept, a second wider on each side (Glance compares
    whole seconds)."""
    low = moment - 1 if operator in ("gt", "gte", "eq") else float("-inf")
    high = moment + 1 if operator in ("lt", "lte", "eq") else float("inf")
    return Between(field, low, high)


def project_clause(context: Any, all_projects: bool, field: str = "project_id") -> Where:
    """The caller's own project, unless an admin asked for every project."""
    if all_projects and context.is_admin:
        return []
    return [[(field, context.project_id)]]


#: Nova API status -> the vm_states that can show it
_STATUS_VM_STATES: dict[str, set[str]] = {}
for _vm_state, _by_task in transitions.SERVER_STATUS.items():
    for _status in _by_task.values():
        _STATUS_VM_STATES.setdefault(_status, set()).add(_vm_state)


def server_where(
    project_id: str | None,
    *,
    status: str | None = None,
    pattern: re.Pattern[str] | None = None,
    distinct_names: Callable[[], list[str]],
) -> Where:
    """Hints for a server list: the project (None: every project), the vm_states of a
    status, the names the regex finds.

    The name filter is a regular expression, so it is tried once per distinct
    name (``distinct_names``), not once per server.
    """
    where: Where = [[("project_id", project_id)]] if project_id is not None else []
    if status is not None and status in _STATUS_VM_STATES:
        where.append([("vm_state", state) for state in _STATUS_VM_STATES[status]])
    if pattern is not None:
        where.append([("name", name) for name in distinct_names() if pattern.search(name)])
    return where


#: below this many candidates, collecting and sorting them costs less than a sorted view
VIEW_THRESHOLD = 2000


def sorted_page(
    collection: Collection,
    keep: Callable[[Any], bool],
    sort: list[tuple[str, str]],
    value: Callable[[Any, str], Any],
    marker: Any = None,
    limit: int | None = None,
    where: Iterable[Clause] = (),
    viewable: Iterable[str] = (),
    nulls_as_text: bool = False,
) -> tuple[list[Any], bool]:
    """Items ``keep`` accepts, ordered by ``sort`` (``[(key, "asc"|"desc")]``, first key
    first, read with ``value(item, key)``), after ``marker``; returns ``(items, more)``.

    For orders other than creation order (ties stay oldest first).  One key in
    ``viewable`` that the store indexes is walked from the index's sorted view
    (``value`` must then be the attribute itself, or its ``str`` with
    ``nulls_as_text``); otherwise, or when ``where``
    leaves few candidates, the candidates are collected and sorted.  A marker
    that does not match the filters still marks its place in the order.
    """
    if (
        len(sort) == 1
        and sort[0][0] in viewable
        and collection.can_order(sort[0][0])
        and collection.candidate_count(where) > VIEW_THRESHOLD
    ):
        field, direction = sort[0]
        return collection.page(
            marker=marker, limit=limit, keep=keep, order=(field, direction == "desc", nulls_as_text)
        )
    chosen, _ = collection.page(newest_first=False, keep=keep, where=where)
    if marker is not None and all(item.id != marker for item in chosen):
        chosen.append(collection.get(marker))
        chosen.sort(key=lambda item: (item.seq, item.id))
    for key, direction in reversed(sort):
        chosen.sort(key=lambda item: _sortable(value(item, key)), reverse=direction == "desc")
    if marker is not None:
        ids = [item.id for item in chosen]
        chosen = chosen[ids.index(marker) + 1 :]
    if limit is not None and len(chosen) > limit:
        return chosen[:limit], True
    return chosen, False


def _sortable(value: Any) -> tuple[bool, Any]:
    return (value is None, str(value) if not isinstance(value, (int, float)) else value)
