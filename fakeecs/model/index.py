"""Indexes a :class:`~fakeecs.model.store.Collection` keeps on its entities' fields.

An index maps each value of one field to the creation-ordered keys
(``(seq, id)``) of the entities that hold it, so a filtered page walks only
the entities that can match.  Values are indexed as ``str(value)`` because
every list filter of the APIs compares strings.

Indexes stay right through every mutation because mutation cannot bypass
them: :class:`Watched` (the base of every entity) reports each assignment
of an indexed field to the collection holding the entity, and a list field
(``tags``) is kept as a :class:`WatchedList` that reports its in-place
changes the same way.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable
from typing import Any, SupportsIndex, TypeVar

#: the instance attribute that links an entity to the collection holding it
WATCH = "_fakeecs_store"

#: which fields each entity kind's collection indexes (by class name)
INDEXED_FIELDS: dict[str, tuple[str, ...]] = {
    "Image": ("name", "status", "owner", "visibility", "tags"),
    "Server": ("name", "project_id", "vm_state", "availability_zone", "tags"),
    "Volume": ("name", "status", "project_id", "availability_zone"),
    "Snapshot": ("name", "status", "project_id", "volume_id"),
    "ImsJob": ("project_id", "status"),
    "ExportedObject": ("image_id", "bucket"),
}
#: fields holding a list of values (each value indexed on its own)
MULTI_VALUED = ("tags",)
#: numeric fields each entity kind's collection keeps in value order (date filters, sorts)
ORDERED_FIELDS: dict[str, tuple[str, ...]] = {
    "Image": ("created_at", "updated_at"),
}

Key = tuple[int, str]  # (seq, id)
_T = TypeVar("_T")


def index_value(value: Any) -> str:
    """The string a filter value is compared as."""
    return value if isinstance(value, str) else str(value)


class Index:
    """``str(value)`` -> sorted keys of the entities whose ``field`` holds it."""

    def __init__(self, field: str):
        self.field = field
        self.multi = field in MULTI_VALUED
        self.lists: dict[str, list[Key]] = {}
        #: the values in sorted order, kept once asked for (a sorted view)
        self._ordered: list[str] | None = None

    def values_of(self, item: Any) -> Iterable[str]:
        value = getattr(item, self.field, None)
        if self.multi:
            return {index_value(v) for v in (value or ())}
        return (index_value(value),)

    def add(self, key: Key, values: Iterable[str]) -> None:
        for value in values:
            keys = self.lists.get(value)
            if keys is None:
                self.lists[value] = [key]
                if self._ordered is not None:
                    insort(self._ordered, value)
            elif keys[-1] < key:
                keys.append(key)
            else:
                insort(keys, key)

    def discard(self, key: Key, values: Iterable[str]) -> None:
        for value in values:
            keys = self.lists.get(value)
            if not keys:
                continue
            position = bisect_left(keys, key)
            if position < len(keys) and keys[position] == key:
                del keys[position]
            if not keys:
                del self.lists[value]
                if self._ordered is not None:
                    del self._ordered[bisect_left(self._ordered, value)]

    def keys_for(self, value: Any) -> list[Key]:
        return self.lists.get(index_value(value), [])

    def ordered(self) -> list[str]:
        """The distinct values, sorted (kept up to date from the first call on)."""
        if self._ordered is None:
            self._ordered = sorted(self.lists)
        return self._ordered

    def distinct(self) -> list[str]:
        """Every value some entity holds (for filters no single value names)."""
        return list(self.lists)


class TimeOrder:
    """The keys sorted by ``(value of a numeric field, key)``: date ranges and time sorts.

    Only keys are kept (no value copies): the order reads each entity's current
    value, so a value must change through :meth:`discard` / :meth:`add`.
    """

    def __init__(self, field: str, by_id: dict[str, Any]):
        self.field = field
        self._by_id = by_id
        self.keys: list[Key] = []

    def value(self, key: Key) -> float:
        found = getattr(self._by_id[key[1]], self.field, None)
        return found if isinstance(found, (int, float)) else float("-inf")

    def _order(self, key: Key) -> tuple[float, Key]:
        return (self.value(key), key)

    def add(self, key: Key) -> None:
        keys = self.keys
        if not keys or self._order(keys[-1]) < self._order(key):
            keys.append(key)
        else:
            insort(keys, key, key=self._order)

    def discard(self, key: Key) -> None:
        if self.keys and self.keys[-1] == key:  # the newest moves most: no search
            self.keys.pop()
            return
        position = bisect_left(self.keys, self._order(key), key=self._order)
        if position < len(self.keys) and self.keys[position] == key:
            del self.keys[position]

    def span(self, low: float, high: float) -> tuple[int, int]:
        """Positions ``[start, end)`` of the keys whose value is in ``[low, high]``."""
        return (
            bisect_left(self.keys, low, key=self.value),
            bisect_right(self.keys, high, key=self.value),
        )

    def position(self, key: Key) -> int:
        return bisect_left(self.keys, self._order(key), key=self._order)


class WatchedList(list[Any]):
    """A list field of an entity that reports its in-place changes to its collection.

    Copies (``copy``, ``deepcopy``, pickling, ``dataclasses.asdict``) are plain
    lists or unlinked, so only the entity's own field reports.
    """

    __slots__ = ("_field", "_owner")

    def __init__(self, values: Iterable[Any] = (), owner: Any = None, field: str = ""):
        super().__init__(values)
        self._owner = owner
        self._field = field

    def _changed(self, change: Callable[..., _T], *args: Any) -> _T:
        owner = self._owner
        store = owner.__dict__.get(WATCH) if owner is not None else None
        if store is None:
            return change(self, *args)
        before = list(self)
        result = change(self, *args)
        store.list_changed(owner, self._field, before, self)
        return result

    def append(self, value: Any) -> None:
        return self._changed(list.append, value)

    def extend(self, values: Iterable[Any]) -> None:
        return self._changed(list.extend, list(values))

    def insert(self, position: SupportsIndex, value: Any) -> None:
        return self._changed(list.insert, position, value)

    def remove(self, value: Any) -> None:
        return self._changed(list.remove, value)

    def pop(self, *position: SupportsIndex) -> Any:
        return self._changed(list.pop, *position)

    def clear(self) -> None:
        return self._changed(list.clear)

    def __setitem__(self, position: Any, value: Any) -> None:
        return self._changed(list.__setitem__, position, value)

    def __delitem__(self, position: Any) -> None:
        return self._changed(list.__delitem__, position)

    def __iadd__(self, values: Iterable[Any]) -> WatchedList:  # type: ignore[misc]
        self._changed(list.extend, list(values))
        return self

    def __imul__(self, count: SupportsIndex) -> WatchedList:
        self._changed(lambda lst, n: list.__imul__(lst, n), count)
        return self

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        import copy

        return [copy.deepcopy(value, memo) for value in self]

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[type, tuple[list[Any]]]:
        return (list, (list(self),))


class Watched:
    """Base of the entities: assignments of indexed fields go through the collection."""

    def __setattr__(self, name: str, value: Any) -> None:
        store = self.__dict__.get(WATCH)
        if store is not None and name in store.indexed:
            store.field_changing(self, name, value)
        else:
            object.__setattr__(self, name, value)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop(WATCH, None)
        return state
