"""What to fetch: the sync planner, pure functions over what the cache holds.

A past day never changes once complete (the log is append-only), so it is
answered from the cache; missing past days are grouped into contiguous runs,
each fetched as one query; today is always fetched again, on its own. A day
becomes complete only once a grace period past its end has gone by (entries
written just before midnight can show up just after it); until then it is
"fresh": fetched every time, like today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

# A run longer than this is fetched a month at a time, so a long sync that is
# killed keeps the months it finished. Each split costs at most one request
# (the last, partly filled page of a month).
MAX_RUN_DAYS = 31

Run = tuple[dt.date, dt.date]  # inclusive (first, last) days, fetched as one query

# How long after a UTC midnight the day before may still receive entries. Invent
# documents no delivery delay; queues and clock skew give seconds, minutes at
# worst, and an hour is ten times that. It costs little: only a load in the
# first hour of a UTC day fetches yesterday again (about one request per 100
# of its entries), and an entry later still is what ``verify`` finds.
DEFAULT_GRACE = dt.timedelta(hours=1)


def last_settled(now: dt.datetime, grace: dt.timedelta = DEFAULT_GRACE) -> dt.date:
    """Return the last UTC day whose end lies at least grace before now: it can be complete.

    >>> now = dt.datetime(2026, 3, 15, 0, 30, tzinfo=dt.UTC)
    >>> last_settled(now), last_settled(now, dt.timedelta(minutes=10))
    (datetime.date(2026, 3, 13), datetime.date(2026, 3, 14))
    """
    return (now.astimezone(dt.UTC) - grace).date() - dt.timedelta(days=1)


@dataclass(frozen=True)
class TreeState:
    """What one cached tree (one server-side filter) knows for certain.

    ``complete`` are the days fetched whole; ``start`` is the first day that
    can hold an entry (nothing exists before it), when known.

    >>> TreeState(frozenset(), start=dt.date(2026, 3, 1)).answers(dt.date(2026, 2, 1))
    True
    """

    complete: frozenset[dt.date] = frozenset()
    start: dt.date | None = None

    def answers(self, day: dt.date) -> bool:
        """Return True when this tree holds day whole (possibly as known to be empty)."""
        return day in self.complete or (self.start is not None and day < self.start)


@dataclass(frozen=True)
class SyncPlan:
    """Return value of ``plan_sync``: days answered locally, ranges to fetch, and today.

    ``local`` maps each day answered from the cache to the tree that holds it;
    ``runs`` are inclusive (first, last) ranges of past days to fetch, newest
    first;
    ``today`` is the day to fetch live, or None when the range ends before it;
    ``fresh`` the past days still in their grace period, fetched live as one
    range and never recorded complete (None when there are none).
    """

    local: dict[dt.date, str]
    runs: tuple[Run, ...]
    today: dt.date | None
    fresh: Run | None = None

    @property
    def local_runs(self) -> list[Run]:
        """Return the contiguous (first, last) runs of the days answered locally, newest first."""
        return list(reversed(list(_runs(sorted(self.local)))))

    @property
    def fetches(self) -> list[tuple[dt.date, dt.date, bool]]:
        """Return each range to fetch as (first, last, live): the runs, the fresh days, today.

        ``live`` is True for the ranges that may still grow (fresh days and
        today), fetched live and never cached as complete.

        >>> day = dt.date.fromisoformat
        >>> plan = SyncPlan({}, ((day("2026-10-01"), day("2026-10-04")),), day("2026-10-06"),
        ...                 fresh=(day("2026-10-05"), day("2026-10-05")))
        >>> [(a.day, b.day, live) for a, b, live in plan.fetches]
        [(1, 4, False), (5, 5, True), (6, 6, True)]
        """
        fetches = [(first, last, False) for first, last in self.runs]
        if self.fresh:
            fetches.append((*self.fresh, True))
        if self.today:
            fetches.append((self.today, self.today, True))
        return fetches

    @property
    def missing(self) -> list[dt.date]:
        """Return every day this plan must fetch, oldest first."""
        days = [day for first, last in self.runs for day in day_range(first, last)]
        fresh = list(day_range(*self.fresh)) if self.fresh else []
        return days + fresh + ([self.today] if self.today else [])


def plan_sync(
    first: dt.date,
    last: dt.date,
    today: dt.date,
    trees: Mapping[str, TreeState],
    *,
    refresh: bool = False,
    max_run_days: int = MAX_RUN_DAYS,
    settled: dt.date | None = None,
) -> SyncPlan:
    """Return the plan for days first..last: the trees in ``trees`` are asked in order.

    ``settled`` is the last day that can be complete (``last_settled``;
    default: yesterday, no grace); the days after it before today are fresh.

    Put the broadest tree first (``OrgCache.states`` does): a day it holds
    is read from it, filtered locally.
    ``last`` is clipped to today; with ``refresh`` nothing is answered locally.

    >>> day = dt.date.fromisoformat
    >>> plan = plan_sync(day("2026-10-01"), day("2026-10-06"), day("2026-10-06"),
    ...                  {"all": TreeState(frozenset({day("2026-10-03")}))})
    >>> [(a.isoformat(), b.isoformat()) for a, b in plan.runs], plan.today.isoformat()
    ([('2026-10-04', '2026-10-05'), ('2026-10-01', '2026-10-02')], '2026-10-06')
    """
    last = min(last, today)
    yesterday = today - dt.timedelta(days=1)
    settled = yesterday if settled is None else min(settled, yesterday)
    local: dict[dt.date, str] = {}
    missing: list[dt.date] = []
    for day in day_range(first, min(last, settled)):
        holder = None if refresh else next((k for k, t in trees.items() if t.answers(day)), None)
        if holder is None:
            missing.append(day)
        else:
            local[day] = holder
    runs = tuple(
        piece for run in reversed(list(_runs(missing))) for piece in _split(run, max_run_days)
    )
    fresh = (max(first, settled + dt.timedelta(days=1)), min(last, yesterday))
    return SyncPlan(
        local,
        runs,
        today if first <= today <= last else None,
        fresh if fresh[0] <= fresh[1] else None,
    )


def day_range(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    """Yield each day from first to last inclusive (nothing when last < first).

    >>> [d.day for d in day_range(dt.date(2026, 1, 30), dt.date(2026, 2, 1))]
    [30, 31, 1]
    """
    for offset in range((last - first).days + 1):
        yield first + dt.timedelta(days=offset)


def _runs(days: list[dt.date]) -> Iterator[Run]:
    """Yield the contiguous runs of sorted days as (first, last)."""
    if not days:
        return
    start = previous = days[0]
    for day in days[1:]:
        if (day - previous).days != 1:
            yield start, previous
            start = day
        previous = day
    yield start, previous


def _split(run: Run, max_days: int) -> Iterator[Run]:
    """Yield run cut into pieces of at most max_days, newest first (today's end is hottest)."""
    first, last = run
    while last >= first:
        piece_first = max(first, last - dt.timedelta(days=max_days - 1))
        yield piece_first, last
        last = piece_first - dt.timedelta(days=1)
