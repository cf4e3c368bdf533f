"""Rows: the columnar draft of an org's history before it becomes entry dicts.

The background is drawn in bulk as numpy columns; lifecycle events and planted
incidents are added one by one with ``Rows.add`` and may override any field of
the entry they become. ``Clock`` turns "this person's local hour on day d"
into UTC milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from auditlab.actions import ACTIONS
from auditlab.sandbox.people import Person

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
ACTION_INDEX: dict[str, int] = {a: i for i, a in enumerate(ACTIONS)}


def in_hours(
    rng: np.random.Generator, day_ms: np.ndarray, people: list[Person], who: np.ndarray
) -> np.ndarray:
    """Return UTC ms inside each person's local working hours on the given UTC days.

    >>> from auditlab.sandbox.people import make_bot
    >>> when = in_hours(np.random.default_rng(0), np.array([0]), [make_bot()], np.array([0]))
    >>> 0 <= int(when[0]) < DAY_MS
    True
    """
    start = np.array([p.work_start for p in people])[who]
    end = np.array([p.work_end for p in people])[who]
    offset = np.array([p.utc_offset for p in people])[who]
    hour = start + rng.beta(2.0, 2.0, len(who)) * (end - start) - offset
    return day_ms + (hour * HOUR_MS).astype(np.int64)


def working_time(rng: np.random.Generator, person: Person, day_ms: int) -> int:
    """Return a UTC ms inside the person's working hours on a UTC day.

    >>> from auditlab.sandbox.people import make_bot
    >>> 0 <= working_time(np.random.default_rng(0), make_bot(), 0) < DAY_MS
    True
    """
    who = np.array([0])
    return int(in_hours(rng, np.array([day_ms]), [person], who)[0])


@dataclass
class Clock:
    """The org's calendar: UTC midnights of each day from the first to today."""

    now_ms: int
    days: int
    start_ms: int = field(init=False)
    midnights: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.start_ms = self.now_ms - self.days * DAY_MS
        first = self.start_ms // DAY_MS * DAY_MS
        self.midnights = np.arange(first, self.now_ms + 1, DAY_MS, dtype=np.int64)

    @property
    def today_ms(self) -> int:
        """Return UTC midnight of the day that holds ``now``."""
        return int(self.midnights[-1])

    def weekday(self, day_ms: np.ndarray | int) -> np.ndarray | int:
        """Return Monday=0 .. Sunday=6 for UTC midnights (1970-01-01 was a Thursday)."""
        return (np.asarray(day_ms) // DAY_MS + 3) % 7

    def local(self, person: Person, days_ago: int, hour: float) -> int:
        """Return UTC ms of ``hour`` (local) on the day ``days_ago`` days before today."""
        day = self.today_ms - days_ago * DAY_MS
        return int(day + (hour - person.utc_offset) * HOUR_MS)


@dataclass
class Rows:
    """Columns of drafted rows, plus per-row field overrides for special rows."""

    ts: list[np.ndarray] = field(default_factory=list)
    who: list[np.ndarray] = field(default_factory=list)
    action: list[np.ndarray] = field(default_factory=list)
    r: list[np.ndarray] = field(default_factory=list)
    special: list[np.ndarray] = field(default_factory=list)
    overrides: list[dict[str, Any]] = field(default_factory=list)
    _pending: list[tuple[int, int, int, int]] = field(default_factory=list)
    _count: int = 0

    def extend(self, ts: np.ndarray, who: np.ndarray, action: np.ndarray, r: np.ndarray) -> None:
        """Add a block of ordinary rows (equal-length arrays)."""
        self._flush()
        self.ts.append(ts.astype(np.int64))
        self.who.append(who.astype(np.int32))
        self.action.append(action.astype(np.int32))
        self.r.append(r.astype(np.int64))
        self.special.append(np.full(len(ts), -1, dtype=np.int32))
        self._count += len(ts)

    def __len__(self) -> int:
        """Return how many rows have been drafted."""
        return self._count

    def add(self, ts: int, who: int, action: str, r: int = 0, **overrides: Any) -> int:
        """Add one row whose entry gets ``overrides``; return its row number."""
        self._pending.append((ts, who, ACTION_INDEX[action], r))
        self.overrides.append(overrides)
        self._count += 1
        return self._count - 1

    def columns(self) -> dict[str, np.ndarray]:
        """Return every row as five equal-length columns."""
        self._flush()
        return {
            "ts": np.concatenate(self.ts),
            "who": np.concatenate(self.who),
            "action": np.concatenate(self.action),
            "r": np.concatenate(self.r),
            "special": np.concatenate(self.special),
        }

    def _flush(self) -> None:
        if not self._pending:
            return
        ts, who, action, r = (
            np.asarray(col, dtype=np.int64) for col in zip(*self._pending, strict=True)
        )
        first = len(self.overrides) - len(self._pending)
        self.ts.append(ts)
        self.who.append(who.astype(np.int32))
        self.action.append(action.astype(np.int32))
        self.r.append(r)
        self.special.append(np.arange(first, len(self.overrides), dtype=np.int32))
        self._pending.clear()
