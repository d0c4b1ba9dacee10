"""The stores: id-indexed collections that page without full scans, and tracked dicts.

A :class:`Collection` keeps its entities in creation order (by ``(seq, id)``),
keeps an :class:`~fakeecs.model.index.Index` per filterable field, and pages
through the smallest candidate set a query allows (see :meth:`Collection.page`).

Both kinds of store record which entries they handed out or changed since
:meth:`track` (``touched``), so a reset rebuilds only those (see
:mod:`fakeecs.model.undo`).  Every model read of an entity goes through
``get``/``page``/iteration, so an entity not in ``touched`` is unchanged.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, ItemsView, Iterable, Iterator
from heapq import merge
from typing import (
    TYPE_CHECKING,
    Any,
    NamedTuple,
    SupportsIndex,
)

if TYPE_CHECKING:
    from _collections_abc import dict_items, dict_values

from .index import (
    INDEXED_FIELDS,
    MULTI_VALUED,
    ORDERED_FIELDS,
    WATCH,
    Index,
    Key,
    TimeOrder,
    WatchedList,
    index_value,
)


class Between(NamedTuple):
    """A clause of entities whose ordered numeric ``field`` lies in ``[low, high]``."""

    field: str
    low: float
    high: float


#: a query clause: ``(field, value)`` pairs; an entity matches when it holds any of them
Clause = Iterable[tuple[str, Any]] | Between


def _key(item: Any) -> Key:
    return (item.seq, item.id)


class Collection:
    """Entities by id (O(1)), in creation order, with kept indexes and change tracking."""

    def __init__(self, kind: type | None = None):
        self._by_id: dict[str, Any] = {}
        self._keys: list[Key] = []
        self.indexed: frozenset[str] = frozenset()
        self._indexes: dict[str, Index] = {}
        self._orders: dict[str, TimeOrder] = {}
        #: ids handed out or changed since :meth:`track`; None while not tracking
        self.touched: set[Any] | None = None
        if kind is not None:
            self.bind(kind)

    def bind(self, kind: type) -> None:
        """Index the fields :data:`INDEXED_FIELDS` names for entities of ``kind``, and keep
        those :data:`ORDERED_FIELDS` names in value order."""
        names = INDEXED_FIELDS.get(kind.__name__, ())
        ordered = ORDERED_FIELDS.get(kind.__name__, ())
        if set(names) | set(ordered) == set(self.indexed):
            return
        self.indexed = frozenset(names) | frozenset(ordered)
        self._indexes = {name: Index(name) for name in names}
        self._orders = {name: TimeOrder(name, self._by_id) for name in ordered}
        for key in self._keys:
            item = self._by_id[key[1]]
            self._link(item)
            for index in self._indexes.values():
                index.add(key, index.values_of(item))
            for order in self._orders.values():
                order.add(key)

    # -- reading ------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, resource_id: Any) -> bool:
        return resource_id in self._by_id

    def __iter__(self) -> Iterator[Any]:
        """Every entity, in creation order (all count as handed out)."""
        items = self.values_untracked()
        if self.touched is not None:
            self.touched.update(self._by_id)
        return iter(items)

    def values_untracked(self) -> list[Any]:
        """Every entity in creation order, for readers that never change them (export)."""
        by_id = self._by_id
        return [by_id[key[1]] for key in self._keys]

    def get(self, resource_id: Any) -> Any:
        item = self._by_id.get(resource_id)
        if item is not None and self.touched is not None:
            self.touched.add(resource_id)
        return item

    def distinct(self, field: str) -> list[str]:
        """Every value (as a string) some entity holds in the indexed ``field``."""
        return self._indexes[field].distinct()

    # -- writing ------------------------------------------------------------------

    def add(self, item: Any) -> None:
        """Add an entity (normally with a ``seq`` larger than any before it)."""
        if item.id in self._by_id:
            self.remove(item.id)
        key = _key(item)
        if self._keys and key < self._keys[-1]:
            self._keys.insert(bisect_left(self._keys, key), key)
        else:
            self._keys.append(key)
        self._by_id[item.id] = item
        self._link(item)
        for index in self._indexes.values():
            index.add(key, index.values_of(item))
        for order in self._orders.values():
            order.add(key)
        if self.touched is not None:
            self.touched.add(item.id)

    def remove(self, resource_id: Any) -> Any:
        item = self._by_id.get(resource_id)
        if item is None:
            return None
        key = _key(item)
        for order in self._orders.values():
            order.discard(key)
        del self._by_id[resource_id]
        position = bisect_left(self._keys, key)
        if position < len(self._keys) and self._keys[position] == key:
            del self._keys[position]
        for index in self._indexes.values():
            index.discard(key, index.values_of(item))
        item.__dict__.pop(WATCH, None)
        if self.touched is not None:
            self.touched.add(resource_id)
        return item

    def track(self) -> None:
        """Start recording what is handed out or changed (forgetting what was)."""
        self.touched = set()

    def _link(self, item: Any) -> None:
        if not self._indexes:
            return
        item.__dict__[WATCH] = self
        for name in MULTI_VALUED:
            if name in self._indexes:
                value = item.__dict__.get(name)
                if isinstance(value, list):
                    item.__dict__[name] = self._watched_list(item, name, value)

    def _watched_list(self, item: Any, name: str, values: Iterable[Any]) -> WatchedList:
        return WatchedList(values, item, name)

    def list_changed(self, item: Any, name: str, before: list[Any], after: list[Any]) -> None:
        """``item``'s list field ``name`` changed in place: move it in that index."""
        if self._by_id.get(item.id) is item and item.__dict__.get(name) is after:
            index = self._indexes[name]
            key = _key(item)
            index.discard(key, {index_value(v) for v in before})
            index.add(key, {index_value(v) for v in after})

    def field_changing(self, item: Any, name: str, value: Any) -> None:
        """Assign ``item.name = value`` and move the item in that field's index."""
        if self._by_id.get(item.id) is not item:
            object.__setattr__(item, name, value)
            return
        key = _key(item)
        order = self._orders.get(name)
        if order is not None:
            order.discard(key)
            object.__setattr__(item, name, value)
            order.add(key)
            return
        index = self._indexes[name]
        index.discard(key, index.values_of(item))
        if name in MULTI_VALUED and isinstance(value, list):
            value = self._watched_list(item, name, value)
        object.__setattr__(item, name, value)
        index.add(key, index.values_of(item))

    # -- paging -------------------------------------------------------------------

    def page(
        self,
        *,
        newest_first: bool = True,
        marker: Any = None,
        limit: int | None = None,
        keep: Callable[[Any], bool] | None = None,
        where: Iterable[Clause] = (),
        order: tuple[str, bool, bool] | None = None,
    ) -> tuple[list[Any], bool]:
        """Up to ``limit`` entities after ``marker`` that ``keep`` accepts.

        ``where`` narrows the walk: clauses every match satisfies, each a list of
        ``(field, value)`` pairs of which the entity holds at least one (in
        indexed fields); only the clause with the fewest candidates is walked,
        and ``keep`` still decides, so a clause may be looser than the filter
        but never stricter.  ``order`` ``(field, descending, nulls_as_text)`` walks the sorted
        view of an indexed field instead of creation order (see
        :meth:`_ordered_walk`; ``where`` is then not used).  Raises
        ``KeyError`` for an unknown marker.  Returns ``(items, more)`` where
        ``more`` says whether another matching entity follows.
        """
        start = _key(self._by_id[marker]) if marker is not None else None
        if order is not None:
            walk = self._ordered_walk(*order, marker=marker)
        else:
            walk = self._candidates(where, start, newest_first)
        found: list[Any] = []
        more = False
        for key in walk:
            item = self._by_id[key[1]]
            if keep is not None and not keep(item):
                continue
            if limit is not None and len(found) == limit:
                more = True
                break
            found.append(item)
        if self.touched is not None:
            self.touched.update(item.id for item in found)
        return found, more

    def candidate_count(self, where: Iterable[Clause]) -> int:
        """How many entities the narrowest clause of ``where`` leaves to look at."""
        return sum(len(keys) for keys in self._narrowest(where))

    def _narrowest(self, where: Iterable[Clause]) -> list[list[Key]]:
        lists: list[list[Key]] | tuple[TimeOrder, int, int] = [self._keys]
        best = None
        for clause in where:
            if isinstance(clause, Between):
                order = self._orders.get(clause.field)
                if order is None:
                    continue
                start, end = order.span(clause.low, clause.high)
                if best is None or end - start < best:
                    best, lists = end - start, (order, start, end)
                continue
            if any(field not in self._indexes for field, _ in clause):
                continue
            chosen = [self._indexes[field].keys_for(value) for field, value in set(clause)]
            size = sum(len(keys) for keys in chosen)
            if best is None or size < best:
                best, lists = size, [keys for keys in chosen if keys]
        if isinstance(lists, tuple):  # a value range: its keys in creation order
            order, start, end = lists
            return [sorted(order.keys[start:end])]
        return lists

    def _candidates(
        self, where: Iterable[Clause], start: Key | None, newest_first: bool
    ) -> Iterator[Key]:
        lists = self._narrowest(where)
        walks = [_walk(keys, start, newest_first) for keys in lists]
        if len(walks) == 1:
            return walks[0]
        return _unique(merge(*walks, reverse=newest_first))

    def can_order(self, field: str) -> bool:
        """Whether ``field`` has a sorted view (an indexed single-valued or ordered field)."""
        return field in self._orders or (field in self._indexes and field not in MULTI_VALUED)

    def _ordered_walk(
        self, field: str, descending: bool, nulls_as_text: bool = False, *, marker: Any = None
    ) -> Iterator[Key]:
        """Keys ordered as a stable sort by ``(value is None, str(value))`` of the
        oldest-first entities would order them (``reverse`` when ``descending``).

        Within a value the oldest comes first; ``None`` (indexed as ``"None"``,
        like the string) sorts after every string, or as the string ``"None"``
        with ``nulls_as_text`` (a sort by ``str(value)``).
        """
        if field in self._orders:
            yield from _time_walk(
                self._orders[field],
                descending,
                None if marker is None else _key(self._by_id[marker]),
            )
            return
        if nulls_as_text:
            yield from self._text_walk(self._indexes[field], descending, marker)
            return
        index = self._indexes[field]
        values = index.ordered()
        null = index_value(None)
        after, from_nulls, position = None, False, None
        if marker is not None:
            item = self._by_id[marker]
            after = _key(item)
            from_nulls = getattr(item, field) is None
            if not from_nulls:
                position = bisect_left(values, index_value(getattr(item, field)))
        if descending:
            if marker is None or from_nulls:
                yield from self._bucket(index, null, True, after)
                after, position = None, len(values) - 1
            assert position is not None  # set from the marker, or just above
            for number in range(position, -1, -1):
                yield from self._bucket(index, values[number], False, after)
                after = None
        else:
            if not from_nulls:
                for number in range(position or 0, len(values)):
                    yield from self._bucket(index, values[number], False, after)
                    after = None
            yield from self._bucket(index, null, True, after)

    def _text_walk(self, index: Index, descending: bool, marker: Any) -> Iterator[Key]:
        """Keys by ``str(value)`` (each value's oldest first), from after ``marker``."""
        values = index.ordered()
        after, position = None, (len(values) - 1 if descending else 0)
        if marker is not None:
            item = self._by_id[marker]
            after = _key(item)
            position = bisect_left(values, index_value(getattr(item, index.field)))
        numbers = range(position, -1, -1) if descending else range(position, len(values))
        for number in numbers:
            keys = index.lists.get(values[number], ())
            start = 0 if after is None else bisect_right(keys, after)
            after = None
            yield from (keys[i] for i in range(start, len(keys)))

    def _bucket(self, index: Index, value: str, nulls: bool, after: Key | None) -> Iterator[Key]:
        """The keys holding ``value`` (after ``after``), oldest first; in the ``"None"``
        bucket only real ``None``s when ``nulls``, else only the string."""
        keys = index.lists.get(value, ())
        check = value == index_value(None)
        for number in range(0 if after is None else bisect_right(keys, after), len(keys)):
            key = keys[number]
            if check and (getattr(self._by_id[key[1]], index.field) is None) != nulls:
                continue
            yield key


def _time_walk(order: TimeOrder, descending: bool, start: Key | None) -> Iterator[Key]:
    """Keys by value (ascending, or descending with each value's oldest first), after ``start``."""
    keys = order.keys
    if not descending:
        first = 0 if start is None else order.position(start) + 1
        yield from (keys[i] for i in range(first, len(keys)))
        return
    end = len(keys)
    if start is not None:
        position = order.position(start)
        value = order.value(keys[position])
        following = position + 1
        while following < len(keys) and order.value(keys[following]) == value:
            yield keys[following]
            following += 1
        end = bisect_left(keys, value, key=order.value)
    while end > 0:
        value = order.value(keys[end - 1])
        begin = bisect_left(keys, value, 0, end, key=order.value)
        yield from (keys[i] for i in range(begin, end))
        end = begin


def _walk(keys: list[Key], start: Key | None, newest_first: bool) -> Iterator[Key]:
    """The keys of a sorted list after ``start`` (before it, newest first)."""
    if newest_first:
        position = len(keys) if start is None else bisect_left(keys, start)
        return (keys[i] for i in range(position - 1, -1, -1))
    position = 0 if start is None else bisect_right(keys, start)
    return (keys[i] for i in range(position, len(keys)))


def _unique(keys: Iterator[Key]) -> Iterator[Key]:
    """Drop repeats from a merged walk (an entity in several lists of one clause)."""
    previous = None
    for key in keys:
        if key != previous:
            yield key
            previous = key


class TrackedDict(dict[Any, Any]):
    """A dict store that records the keys it handed out or changed since :meth:`track`."""

    touched: set[Any] | None = None

    def track(self) -> None:
        self.touched = set()

    def _touch(self, key: Any) -> None:
        if self.touched is not None:
            self.touched.add(key)

    def _touch_all(self) -> None:
        if self.touched is not None:
            self.touched.update(dict.keys(self))

    def __getitem__(self, key: Any) -> Any:
        self._touch(key)
        return dict.__getitem__(self, key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._touch(key)
        return dict.get(self, key, default)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._touch(key)
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: Any) -> None:
        self._touch(key)
        dict.__delitem__(self, key)

    def pop(self, key: Any, *default: Any) -> Any:
        self._touch(key)
        return dict.pop(self, key, *default)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self._touch(key)
        return dict.setdefault(self, key, default)

    def popitem(self) -> tuple[Any, Any]:
        self._touch_all()
        return dict.popitem(self)

    def clear(self) -> None:
        self._touch_all()
        dict.clear(self)

    def update(self, *args: Any, **kwargs: Any) -> None:
        other = dict(*args, **kwargs)
        for key in other:
            self._touch(key)
        dict.update(self, other)

    def values(self) -> dict_values[Any, Any]:
        self._touch_all()
        return dict.values(self)

    def items(self) -> dict_items[Any, Any]:
        self._touch_all()
        return dict.items(self)

    def items_untracked(self) -> ItemsView[Any, Any]:
        """The entries, for readers that never change them (export)."""
        return dict.items(self)

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[type, tuple[dict[Any, Any]]]:
        return (dict, (dict(dict.items(self)),))

    def __copy__(self) -> dict[Any, Any]:
        return dict(dict.items(self))

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[Any, Any]:
        import copy

        return {key: copy.deepcopy(value, memo) for key, value in dict.items(self)}
