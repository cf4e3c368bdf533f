"""What time it is: the one seam through which auditlab reads the calendar.

auditlab needs the current moment for one fact: which UTC day is *today*
(the day that still grows, fetched every time, while earlier days are final
once complete). Everything that asks takes a ``clock`` keyword: a function
of no arguments returning an aware ``datetime``. The default is the system
clock; a test, a benchmark or a replayed report passes a clock of its own, so
what it computes does not depend on the day it runs. Rate limiting and
timeouts measure intervals with ``time.monotonic`` and never ask the clock.

>>> import datetime as dt
>>> clock = clock_from(dt.datetime(2026, 11, 1, 23, 59, 59, tzinfo=dt.UTC))
>>> utc_today(clock).isoformat()
'2026-11-01'
>>> stepped = ManualClock(dt.datetime(2026, 11, 1, 23, 59, 59, tzinfo=dt.UTC))
>>> stepped.advance(seconds=1); utc_today(stepped).isoformat()
'2026-11-02'
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

Clock = Callable[[], dt.datetime]
"""A function of no arguments that returns the current moment, timezone-aware."""


def system_clock() -> dt.datetime:
    """Return the current moment in UTC, from the operating system's clock.

    >>> system_clock().tzinfo
    datetime.timezone.utc
    """
    return dt.datetime.now(dt.UTC)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """Return ``moment`` in UTC; a naive datetime is taken to be UTC already.

    >>> as_utc(dt.datetime(2026, 11, 1, 12)).isoformat()
    '2026-11-01T12:00:00+00:00'
    """
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def clock_from(start: dt.datetime) -> Clock:
    """Return a clock that reads ``start`` now and runs on at the real pace.

    The sandbox serves a pinned org with one, so entries appended while a
    client pages carry times just after the org's ``now``, and the client
    given the same clock agrees on what today is.

    >>> clock = clock_from(dt.datetime(2026, 2, 28, 12, tzinfo=dt.UTC))
    >>> clock() >= dt.datetime(2026, 2, 28, 12, tzinfo=dt.UTC)
    True
    """
    origin = as_utc(start)
    started = time.monotonic()

    def read() -> dt.datetime:
        return origin + dt.timedelta(seconds=time.monotonic() - started)

    return read


class ManualClock:
    """A clock that stands still until a test moves it (``advance`` or ``set``).

    >>> clock = ManualClock(dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC))
    >>> clock.advance(minutes=2); clock().isoformat()
    '2027-01-01T00:01:00+00:00'
    """

    def __init__(self, start: dt.datetime) -> None:
        self._now = as_utc(start)
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self._now

    def __repr__(self) -> str:
        return f"ManualClock({self().isoformat()})"

    def advance(self, **delta: float) -> None:
        """Move the clock on by a ``timedelta``'s keywords (``seconds=1``, ``days=2``)."""
        with self._lock:
            self._now += dt.timedelta(**delta)

    def set(self, moment: dt.datetime) -> None:
        """Move the clock to ``moment``."""
        with self._lock:
            self._now = as_utc(moment)


def utc_today(clock: Clock = system_clock) -> dt.date:
    """Return the UTC calendar day the clock is in.

    >>> berlin_winter = dt.timezone(dt.timedelta(hours=1))
    >>> utc_today(ManualClock(dt.datetime(2026, 1, 1, 0, 30, tzinfo=berlin_winter)))
    datetime.date(2025, 12, 31)
    """
    return as_utc(clock()).date()
