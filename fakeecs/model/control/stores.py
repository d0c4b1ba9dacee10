"""Each store of the cloud to and from the plain data of a state export."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import MISSING, fields, is_dataclass
from typing import Any

from ..entities import Entity
from ..errors import Invalid
from ..store import Collection, TrackedDict
from ..undo import build, plain, record

Share = Callable[[str, str], str] | None


def _dump(value: Any) -> Any:
    if type(value).to_dict is Entity.to_dict:
        return record(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return plain(value)


def export_store(store: Any) -> Any:
    """A store (Collection, dict or list) as plain data."""
    if isinstance(store, Collection):
        return [_dump(item) for item in store.values_untracked()]
    if isinstance(store, TrackedDict):
        return {key: _dump(value) for key, value in store.items_untracked()}
    if isinstance(store, dict):
        return {key: _dump(value) for key, value in store.items()}
    if isinstance(store, list):
        return [_dump(item) for item in store]
    raise TypeError(f"cannot export a store of type {type(store).__name__}")


@functools.cache
def _required_fields(cls: type) -> list[str]:
    if not is_dataclass(cls):
        return []
    return [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]


def _load(cls: Any, value: Any, where: str, share: Share = None) -> Any:
    if cls is None or cls is dict or not hasattr(cls, "from_dict"):
        return plain(value, share)
    if not isinstance(value, dict):
        raise Invalid(f"{where}: must be an object", rule="state")
    missing = [name for name in _required_fields(cls) if name not in value]
    if missing:
        raise Invalid(f"{where}: missing field(s) {', '.join(missing)}", rule="state")
    try:
        if getattr(cls.from_dict, "__func__", None) is getattr(Entity.from_dict, "__func__", 0):
            return build(cls, value, share)
        return cls.from_dict(copy.deepcopy(value))
    except (TypeError, ValueError) as error:
        raise Invalid(f"{where}: {error}", rule="state") from None


def import_store(current: Any, cls: Any, raw: Any, where: str, share: Share = None) -> Any:
    """A new store shaped like ``current`` from the plain data ``raw`` (Invalid names where)."""
    if isinstance(current, Collection):
        raw = [] if raw is None else raw
        if not isinstance(raw, list):
            raise Invalid(f"{where}: must be a list", rule="state")
        store = Collection(cls)
        for index, value in enumerate(raw):
            item = _load(cls, value, f"{where}[{index}]", share)
            if item.id in store:
                raise Invalid(f"{where}[{index}]: duplicate id {item.id}", rule="state")
            if not isinstance(getattr(item, "seq", None), int):
                raise Invalid(f"{where}[{index}]: seq must be an integer", rule="state")
            store.add(item)
        return store
    if isinstance(current, dict):
        raw = {} if raw is None else raw
        if not isinstance(raw, dict):
            raise Invalid(f"{where}: must be an object", rule="state")
        loaded = {key: _load(cls, value, f"{where}.{key}", share) for key, value in raw.items()}
        return TrackedDict(loaded) if isinstance(current, TrackedDict) else loaded
    if isinstance(current, list):
        raw = [] if raw is None else raw
        if not isinstance(raw, list):
            raise Invalid(f"{where}: must be a list", rule="state")
        return [_load(cls, value, f"{where}[{i}]", share) for i, value in enumerate(raw)]
    raise Invalid(f"{where}: cannot import a store of type {type(current).__name__}", rule="state")
