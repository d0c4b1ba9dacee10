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
from dataclasses import fields
from typing import Any, Callable, Optional

from .store import Collection

#: strings longer than this are not worth sharing (digests, long descriptions)
SHARED_STRING_MAX = 64

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


class Strings:
    """A memo that hands out one object per distinct short string."""

    def __init__(self) -> None:
        self._memo: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        if len(text) > SHARED_STRING_MAX:
            return text
        return self._memo.setdefault(text, text)


def plain(value: Any, share: Optional[Callable[[str], str]] = None) -> Any:
    """A copy of JSON-like ``value`` made of plain dicts and lists (strings shared)."""
    kind = type(value)
    if kind is str:
        return share(value) if share is not None else value
    if kind in (int, float, bool) or value is None:
        return value
    if isinstance(value, dict):
        if share is None:
            return {key: plain(item) for key, item in value.items()}
        return {share(key) if type(key) is str else key: plain(item, share)
                for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item, share) for item in value]
    return copy.deepcopy(value)


def field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def record(entity: Any) -> dict:
    """An entity's fields as a fresh plain dict (what ``to_dict`` gives, faster)."""
    return {name: plain(getattr(entity, name)) for name in field_names(type(entity))}


def build(cls: type, data: dict, share: Optional[Callable[[str], str]] = None) -> Any:
    """An entity of ``cls`` from a record (a private copy of it)."""
    names = field_names(cls)
    return cls(**{key: plain(value, share) for key, value in data.items() if key in names})


class Baseline:
    """A fixed state :meth:`~fakeecs.model.control.ControlMixin.reset` goes back to."""

    def __init__(self, export: dict, pinned: bool):
        self.export = export
        self.pinned = pinned
        #: store name -> id (or key) -> record
        self.records: dict[str, dict] = {}
        for name, raw in export["stores"].items():
            if isinstance(raw, list):
                self.records[name] = {item["id"]: item for item in raw}
            else:
                self.records[name] = raw

    def __iter__(self):
        """``(export, pinned)``, as the baseline was kept before."""
        return iter((self.export, self.pinned))


def restore_touched(store: Any, cls: type, records: dict) -> bool:
    """Rebuild the entries ``store`` handed out since it began tracking; True if any."""
    touched = store.touched
    if not touched:
        return False
    share = None
    if isinstance(store, Collection):
        for key in touched:
            data = records.get(key)
            if data is None:
                store.remove(key)
            else:
                store.add(_entity(cls, data, share))
    else:
        for key in touched:
            data = records.get(key)
            if data is None:
                dict.pop(store, key, None)
            else:
                dict.__setitem__(store, key, _entity(cls, data, share))
    store.track()
    return True


def _entity(cls: Optional[type], data: Any, share: Any) -> Any:
    if cls is None or cls is dict or not hasattr(cls, "from_dict"):
        return plain(data, share)
    return build(cls, data, share)
