"""Resetting to a baseline at the cost of what changed since, and records that share.

A :class:`Baseline` is a state export plus its entity records by store and id.
Once the live stores match a baseline, they :meth:`~fakeecs.model.store.Collection.track`
what they hand out; :func:`restore_touched` then rebuilds only those entries from
the baseline's records.  Everything else the export holds (clock, ids, sequence,
transitions, heap) is small and is set back whole.

:func:`plain` copies JSON-like data to plain dicts and lists, sharing equal
strings through a memo: an entity loaded from a state file or a scenario then
costs no more memory than one the API made.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import MISSING, fields
from typing import Any

from .store import Collection

_FIELDS: dict[type, tuple[tuple[str, Any, Any], ...]] = {}


class Strings:
    """A memo that hands out one object per distinct string (for one import)."""

    def __init__(self) -> None:
        self._memo: dict[str, str] = {}
        #: ``share(text, text)``: the memo's own copy of ``text``
        self.share = self._memo.setdefault


def plain(value: Any, share: Callable[[str, str], str] | None = None) -> Any:
    """A copy of JSON-like ``value`` made of plain dicts and lists (strings shared by
    ``share(text, text)``, see :class:`Strings`)."""
    kind = type(value)
    if kind is str:
        return share(value, value) if share is not None else value
    if kind in (int, float, bool) or value is None:
        return value
    if isinstance(value, dict):
        if share is None:
            return {key: plain(item) for key, item in value.items()}
        return {
            share(key, key) if type(key) is str else key: share(item, item)
            if type(item) is str
            else plain(item, share)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [plain(item, share) for item in value]
    return copy.deepcopy(value)


def _fields(cls: type) -> tuple[tuple[str, Any, Any], ...]:
    """``(name, default, factory)`` of each field of the dataclass ``cls``, in order."""
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = tuple((f.name, f.default, f.default_factory) for f in fields(cls))
    return found


def record(entity: Any) -> dict[str, Any]:
    """An entity's fields as a fresh plain dict (what ``to_dict`` gives, faster)."""
    return {name: plain(getattr(entity, name)) for name, _, _ in _fields(type(entity))}


def build(
    cls: type[Any], data: dict[str, Any], share: Callable[[str, str], str] | None = None
) -> Any:
    """An entity of ``cls`` from a record (a private copy of it; unknown keys are dropped).

    Fills the instance's fields in declaration order as the dataclass ``__init__``
    would, without a call per field; a missing field without a default is a
    ``TypeError`` as there.
    """
    entity = object.__new__(cls)
    values = entity.__dict__
    for name, default, factory in _fields(cls):
        if name in data:
            value = data[name]
            values[name] = (
                (share(value, value) if share is not None else value)
                if type(value) is str
                else plain(value, share)
            )
        elif factory is not MISSING:
            values[name] = factory()
        elif default is not MISSING:
            values[name] = default
        else:
            raise TypeError(f"{cls.__name__}() missing required argument: '{name}'")
    return entity


class Baseline:
    """A fixed state :meth:`~fakeecs.model.control.ControlMixin.reset` goes back to."""

    def __init__(self, export: dict[str, Any], pinned: bool) -> None:
        self.export = export
        self.pinned = pinned
        #: store name -> id (or key) -> record
        self.records: dict[str, dict[Any, Any]] = {}
        for name, raw in export["stores"].items():
            if isinstance(raw, list):
                self.records[name] = {item["id"]: item for item in raw}
            else:
                self.records[name] = raw

    def __iter__(self) -> Iterator[Any]:
        """``(export, pinned)``, as the baseline was kept before."""
        return iter((self.export, self.pinned))


def restore_touched(store: Any, cls: type, records: dict[Any, Any]) -> bool:
    """Rebuild the entries ``store`` handed out since it began tracking; True if any."""
    if not store.touched:
        return False
    touched = list(store.touched)  # a copy: views outside the lock may still read
    if isinstance(store, Collection):
        for key in touched:
            data = records.get(key)
            if data is None:
                store.remove(key)
            else:
                store.add(_entity(cls, data))
    else:
        for key in touched:
            data = records.get(key)
            if data is None:
                dict.pop(store, key, None)
            else:
                dict.__setitem__(store, key, _entity(cls, data))
    store.track()
    return True


def _entity(cls: type | None, data: Any) -> Any:
    """A fresh entity (or plain value) from a baseline record; strings stay shared."""
    if cls is None or cls is dict or not hasattr(cls, "from_dict"):
        return plain(data)
    return build(cls, data)
