"""The request journal: a bounded list of request records (dicts).

When full, the oldest record is dropped and counted.  The HTTP layer records
each exchange (:mod:`fakeecs.api.control.hooks`); the control plane reads it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from .errors import Invalid
from .pathglob import path_matches

#: a record's lazily computed fields
Details = Callable[[], dict[str, Any]]


class Journal:
    """A bounded journal of request records (dicts), oldest dropped first.

    Recording is cheap: a record may come with ``details``, a callable returning
    more fields (decoded bodies, masked headers, ...) that runs only when someone
    reads the journal, once per record.
    """

    DEFAULT_LIMIT = 1000

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._lock = threading.Lock()
        self._entries: deque[list[Any]] = deque(maxlen=limit)
        self.dropped = 0
        self._seq = 0

    @property
    def limit(self) -> int | None:
        return self._entries.maxlen

    def resize(self, limit: int) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise Invalid(f"journal limit must be an integer >= 1, not {limit!r}", rule="journal")
        with self._lock:
            keep = list(self._entries)[-limit:]
            self.dropped += len(self._entries) - len(keep)
            self._entries = deque(keep, maxlen=limit)

    def record(self, entry: dict[str, Any], details: Details | None = None) -> dict[str, Any]:
        """Append ``entry`` (a dict); it gets an increasing ``seq``.  ``details()``, if
        given, returns the fields to add when the entry is first read."""
        entry = dict(entry)
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            if len(self._entries) == self._entries.maxlen:
                self.dropped += 1
            self._entries.append([entry, details])
        return entry

    def entries(self) -> list[dict[str, Any]]:
        """Every record, oldest first, with its details filled in."""
        with self._lock:
            items = list(self._entries)
        for item in items:
            details = item[1]
            if details is not None:
                item[1] = None
                try:
                    item[0].update(details())
                except Exception as error:  # reading the journal never fails
                    item[0]["details_error"] = f"{type(error).__name__}: {error}"
        return [item[0] for item in items]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.dropped = 0

    def __len__(self) -> int:
        return len(self._entries)

    def find(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        action: str | None = None,
        project: str | None = None,
        since: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Matching records, oldest first; ``path`` is a glob, ``since`` a seq."""
        found: list[dict[str, Any]] = []
        for entry in self.entries():
            if method and entry.get("method", "").upper() != method.upper():
                continue
            if path and not path_matches(path, entry.get("path", "")):
                continue
            if status is not None and entry.get("status") != status:
                continue
            if action and entry.get("action") != action:
                continue
            if project and project not in (entry.get("project_id"), entry.get("project_name")):
                continue
            if since is not None and entry["seq"] <= since:
                continue
            found.append(entry)
        if limit is not None:
            found = found[-limit:] if limit else []
        return found
