"""An id-indexed collection that pages in creation order without full scans."""
from bisect import bisect_left


class Collection:
    """Resources by id (O(1)), kept in creation order by their ``seq``."""

    def __init__(self):
        self._by_id = {}
        self._seqs = []
        self._ids = []

    def __len__(self):
        return len(self._by_id)

    def __contains__(self, resource_id):
        return resource_id in self._by_id

    def __iter__(self):
        return iter(list(self._by_id.values()))

    def get(self, resource_id):
        return self._by_id.get(resource_id)

    def add(self, item):
        """Add an item whose ``seq`` is larger than any before it."""
        if self._seqs and item.seq <= self._seqs[-1]:
            position = bisect_left(self._seqs, item.seq)
            self._seqs.insert(position, item.seq)
            self._ids.insert(position, item.id)
        else:
            self._seqs.append(item.seq)
            self._ids.append(item.id)
        self._by_id[item.id] = item

    def remove(self, resource_id):
        item = self._by_id.pop(resource_id, None)
        if item is not None:
            position = bisect_left(self._seqs, item.seq)
            del self._seqs[position]
            del self._ids[position]
        return item

    def page(self, *, newest_first=True, marker=None, limit=None, keep=None):
        """Up to ``limit`` items after ``marker`` that ``keep`` accepts.

        Raises ``KeyError`` for an unknown marker.  Returns ``(items, more)``
        where ``more`` says whether another matching item follows.
        """
        count = len(self._ids)
        if marker is not None:
            start_item = self._by_id[marker]
            position = bisect_left(self._seqs, start_item.seq)
            indexes = range(position - 1, -1, -1) if newest_first else range(position + 1, count)
        else:
            indexes = range(count - 1, -1, -1) if newest_first else range(count)
        found = []
        for index in indexes:
            item = self._by_id[self._ids[index]]
            if keep is not None and not keep(item):
                continue
            if limit is not None and len(found) == limit:
                return found, True
            found.append(item)
        return found, False
