"""The server's view of the log: entries as pre-serialised bytes, indexed for filters.

Entries are kept oldest first, so appending live entries never shifts an index
and every per-filter index list stays sorted. A page newest first is read
backwards from the end of the matching range. Each entry is serialised once,
the first time a page holds it, so a million-entry org starts serving at once.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import Any

import orjson

from auditlab.collector import collector_paused
from auditlab.sandbox.entries import Entry

# The filters the endpoint supports, by our parameter name, and how to read
# each one's value from an entry.
FILTER_FIELDS: tuple[str, ...] = (
    "action",
    "user_id",
    "assistant_id",
    "workflow_id",
    "connection_id",
)


def _nested_id(entry: Entry, key: str) -> Any:
    value = entry.get(key)
    return value.get("id") if isinstance(value, dict) else None


def filter_values(entry: Entry) -> tuple[Any, ...]:
    """Return the entry's value for each of FILTER_FIELDS, in order.

    >>> filter_values({"action": "chat.deleted", "user": {"id": "usr_1"}})
    ('chat.deleted', 'usr_1', None, None, None)
    """
    return (
        entry.get("action"),
        _nested_id(entry, "user"),
        _nested_id(entry, "assistant"),
        _nested_id(entry, "workflow"),
        _nested_id(entry, "connection"),
    )


class LogStore:
    """Serialised entries with per-filter index lists; thread-safe; append-only."""

    def __init__(self, entries_newest_first: list[Entry]) -> None:
        self.lock = threading.Lock()
        self.entries: list[Entry] = []
        self.bodies: list[bytes | None] = []
        self.days: list[str] = []
        self.index: dict[str, dict[Any, list[int]]] = {name: {} for name in FILTER_FIELDS}
        self._combined: dict[tuple[tuple[str, Any], ...], list[int]] = {}
        self.append(list(reversed(entries_newest_first)))

    def __len__(self) -> int:
        return len(self.bodies)

    def append(self, entries_oldest_first: Sequence[Entry]) -> None:
        """Add entries at the newest end, updating every index and cached combination."""
        with self.lock, collector_paused():
            for entry in entries_oldest_first:
                position = len(self.bodies)
                self.entries.append(entry)
                self.bodies.append(None)
                self.days.append(entry["created_at"][:10])
                values = filter_values(entry)
                for name, value in zip(FILTER_FIELDS, values, strict=True):
                    if value is not None:
                        self.index[name].setdefault(value, []).append(position)
                for key, positions in self._combined.items():
                    if all(values[FILTER_FIELDS.index(n)] == v for n, v in key):
                        positions.append(position)

    def page(
        self,
        filters: dict[str, str],
        date_from: str | None,
        date_to: str | None,
        page: int,
        take: int,
    ) -> tuple[bytes, int]:
        """Return one page newest first as a JSON array body, and the total count.

        ``filters`` maps names of FILTER_FIELDS to values; dates are
        'YYYY-MM-DD' (inclusive), compared with each entry's UTC date.
        """
        with self.lock:
            positions = self._positions(filters)
            low = bisect_left(self.days, date_from) if date_from else 0
            high = bisect_right(self.days, date_to) if date_to else len(self.days)
            if positions is None:
                first, end = low, max(low, high)
            else:
                first, end = bisect_left(positions, low), bisect_left(positions, high)
            count = max(0, end - first)
            top = end - 1 - (page - 1) * take
            bottom = max(first, end - (page - 1) * take - take)
            chosen = range(top, bottom - 1, -1)
            wanted = chosen if positions is None else [positions[i] for i in chosen]
            parts = [self._body(i) for i in wanted]
        return b"[" + b",".join(parts) + b"]", count

    def _body(self, position: int) -> bytes:
        body = self.bodies[position]
        if body is None:
            body = self.bodies[position] = orjson.dumps(self.entries[position])
        return body

    def _positions(self, filters: dict[str, str]) -> list[int] | None:
        """Return the sorted positions matching every filter (None: all entries)."""
        if not filters:
            return None
        lists = [self.index[name].get(value, []) for name, value in filters.items()]
        if len(lists) == 1:
            return lists[0]
        key = tuple(sorted(filters.items()))
        if key not in self._combined:
            smallest, *others = sorted(lists, key=len)
            sets = [set(other) for other in others]
            self._combined[key] = [p for p in smallest if all(p in s for s in sets)]
        return self._combined[key]
