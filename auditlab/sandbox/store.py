"""The server's view of the log: entries as pre-serialised bytes, indexed for filters.

Entries are kept oldest first, so appending live entries never shifts an index
and every per-filter index list stays sorted. A page newest first is read
backwards from the end of the matching range. Each entry is serialised once,
the first time a page holds it, so a million-entry org starts serving at once.
Late entries (``auditlab.sandbox.undocumented``) sit in their place by time
from the start and are skipped while the server's clock is before their time.
"""

from __future__ import annotations

import datetime as dt
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from auditlab.collector import collector_paused
from auditlab.sandbox.contract import FILTER_PARAMETERS, entry_day
from auditlab.sandbox.entries import Entry
from auditlab.sandbox.undocumented import check_user_filter, person_ids


def _nested_id(entry: Entry, key: str) -> tuple[Any, ...]:
    value = entry.get(key)
    found = value.get("id") if isinstance(value, dict) else None
    return () if found is None else (found,)


def filter_values(entry: Entry, user_filter: str = "user") -> dict[str, tuple[Any, ...]]:
    """Return, for each filter parameter, the values under which the entry matches it.

    >>> filter_values({"action": "chat.deleted", "actor": {"id": "usr_1"}}, "actor")
    {'action': ('chat.deleted',), 'user_id': ('usr_1',), 'assistant_id': (), 'workflow_id': (), 'connection_id': ()}
    """  # noqa: E501
    action = entry.get("action")
    return {
        "action": () if action is None else (action,),
        "user_id": person_ids(entry, user_filter),
        "assistant_id": _nested_id(entry, "assistant"),
        "workflow_id": _nested_id(entry, "workflow"),
        "connection_id": _nested_id(entry, "connection"),
    }


class LogStore:
    """Serialised entries with per-filter index lists; thread-safe; append-only.

    ``user_filter`` is the rule of the ``user_id`` filter (``actor``, ``user``
    or ``either``); ``shown_from`` maps the ids of late entries to the moment
    they become visible.
    """

    def __init__(
        self,
        entries_newest_first: list[Entry],
        *,
        user_filter: str = "user",
        shown_from: Mapping[str, dt.datetime] | None = None,
    ) -> None:
        self.lock = threading.Lock()
        self.user_filter = check_user_filter(user_filter)
        self.entries: list[Entry] = []
        self.bodies: list[bytes | None] = []
        self.days: list[str] = []
        self.index: dict[str, dict[Any, list[int]]] = {name: {} for name in FILTER_PARAMETERS}
        self._combined: dict[tuple[tuple[str, Any], ...], list[int]] = {}
        self.append(list(reversed(entries_newest_first)))
        shown_from = shown_from or {}
        # position -> POSIX time it is shown from; few, so scanned on each page
        self.late = {
            position: shown_from[entry["id"]].timestamp()
            for position, entry in enumerate(self.entries)
            if entry["id"] in shown_from
        }

    def __len__(self) -> int:
        return len(self.bodies)

    def append(self, entries_oldest_first: Sequence[Entry]) -> None:
        """Add entries at the newest end, updating every index and cached combination."""
        with self.lock, collector_paused():
            for entry in entries_oldest_first:
                position = len(self.bodies)
                self.entries.append(entry)
                self.bodies.append(None)
                self.days.append(entry_day(entry["created_at"]))
                values = filter_values(entry, self.user_filter)
                for name, matches in values.items():
                    for value in matches:
                        self.index[name].setdefault(value, []).append(position)
                for key, positions in self._combined.items():
                    if all(v in values[n] for n, v in key):
                        positions.append(position)

    def page(
        self,
        filters: dict[str, str],
        date_from: str | None,
        date_to: str | None,
        page: int,
        take: int,
        *,
        now: dt.datetime | None = None,
    ) -> tuple[bytes, int]:
        """Return one page newest first as a JSON array body, and the total count.

        ``filters`` maps filter parameters (``action``, ``user_id``, ...) to
        values; dates are 'YYYY-MM-DD' (inclusive), compared with each
        entry's UTC date. Late entries not yet shown at ``now`` are left out.
        """
        with self.lock:
            positions = self._positions(filters)
            low = bisect_left(self.days, date_from) if date_from else 0
            high = bisect_right(self.days, date_to) if date_to else len(self.days)
            if positions is None:
                first, end = low, max(low, high)
            else:
                first, end = bisect_left(positions, low), bisect_left(positions, high)
            hidden = self._hidden(positions, first, end, now)
            count = max(0, end - first - len(hidden))
            chosen = _newest_visible(first, end, (page - 1) * take, take, hidden)
            wanted = chosen if positions is None else [positions[i] for i in chosen]
            parts = [self._body(i) for i in wanted]
        return b"[" + b",".join(parts) + b"]", count

    def _hidden(
        self, positions: list[int] | None, first: int, end: int, now: dt.datetime | None
    ) -> list[int]:
        """Return the indexes in first..end-1 of the matching list that are not shown yet."""
        if not self.late or now is None:
            return []
        moment = now.timestamp()
        hidden = []
        for position, shown in self.late.items():
            if shown <= moment:
                continue
            index = position if positions is None else bisect_left(positions, position)
            if first <= index < end and (positions is None or positions[index] == position):
                hidden.append(index)
        return sorted(hidden)

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


def _newest_visible(first: int, end: int, skip: int, take: int, hidden: list[int]) -> list[int]:
    """Return up to take indexes below end, newest first, after skipping skip, none hidden.

    ``hidden`` is sorted; indexes below ``first`` are outside the range.

    >>> _newest_visible(0, 10, 2, 3, []), _newest_visible(0, 10, 2, 3, [6, 8])
    ([7, 6, 5], [5, 4, 3])
    """
    if not hidden:
        top = end - 1 - skip
        return list(range(top, max(first, top - take + 1) - 1, -1))
    top = end - 1 - skip
    for index in reversed(hidden):  # each hidden index at or above top pushes it down one
        if index < top:
            break
        top -= 1
    skipped = set(hidden)
    chosen: list[int] = []
    while top >= first and len(chosen) < take:
        if top not in skipped:
            chosen.append(top)
        top -= 1
    return chosen
