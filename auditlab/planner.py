"""Planning one org's sync: its cache folder, the first day that can hold an entry, the plan.

``load_audit_logs`` (``auditlab.load.sync``) and ``auditlab.sync``
(``auditlab.fill.fill_org``) plan an org alike and differ only in how they
fetch what the plan lists, so both ask an ``OrgPlanner``:

- which folder caches the org (``folder``, ``store``): the real org id, read
  from an entry the first time a key asks for it (``auditlab.cache.orgs``),
  on the first pages of the sync when it looks ahead;
- where the query's days start (``known_start``, else ``history_start``:
  two one-entry requests, recorded, never asked again);
- which cached ranges still match the server (``verify``);
- what to fetch for a range of days (``plan``, ``plans``, then
  ``SyncPlan.fetches``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from auditlab.api.client import InventClient
from auditlab.api.paging import Page
from auditlab.api.query import Query
from auditlab.cache.orgs import known_org_folder, resolve_org_folder
from auditlab.cache.plan import (
    DEFAULT_GRACE,
    MAX_RUN_DAYS,
    Run,
    SyncPlan,
    last_settled,
    plan_sync,
)
from auditlab.cache.store import OrgCache
from auditlab.clock import Clock, as_utc, system_clock
from auditlab.errors import APIError, AuditlabError
from auditlab.runs import newest_entry
from auditlab.stamps import utc_day
from auditlab.verify import Verification, verify_cache


class OrgPlanner:
    """What one org's sync fetches: the org's cache, its first day, and the plan for a range.

    The time is read once, from ``clock``: ``today``, ``settled`` (the last
    day that can be complete, ``grace`` after its end) and ``last`` (the
    query's last day, at most today) hold for the whole sync. Nothing is
    sent until ``folder`` is first needed or ``history_start`` is called.
    ``look_ahead`` lets the org's first lookup ride on the first pages of
    the opening range (see ``folder``), for a caller that fetches ranges
    with ``fetched_ahead``.

    >>> import tempfile
    >>> from auditlab.sandbox import serve
    >>> with serve(api_key="sk_test_doc", days=14) as server, InventClient(
    ...         "sk_test_doc", server.base_url) as client:
    ...     planner = OrgPlanner(client, Query.build(), Path(tempfile.mkdtemp()), "doc",
    ...                          clock=server.clock)
    ...     plan = planner.plan(planner.history_start(), planner.last)
    >>> planner.folder, len(plan.runs), plan.today == planner.today
    ('org_sandbox', 1, True)
    """

    def __init__(
        self,
        client: InventClient,
        query: Query,
        root: Path,
        fingerprint: str,
        *,
        refresh: bool = False,
        grace: dt.timedelta = DEFAULT_GRACE,
        clock: Clock = system_clock,
        look_ahead: bool = False,
    ) -> None:
        self.client = client
        self.look_ahead = look_ahead
        self.query = query
        self.root = root
        self.fingerprint = fingerprint
        self.refresh = refresh
        self.filters = query.filter_key()
        self.now = as_utc(clock())
        self.today = self.now.date()
        self.settled = last_settled(self.now, grace)
        self.last = min(query.date_to or self.today, self.today)
        self._ahead: dict[Run, dict[int, Page]] = {}

    @functools.cached_property
    def folder(self) -> str:
        """Return the name of the org's cache folder: the org's real id, as its entries say.

        The first time a key asks for an org, one request reads the org's
        newest entry. With ``look_ahead``, when no folder is there yet for
        the id asked for, the id is read instead from the range a sync of an
        empty cache fetches first (``opening``), whose first pages are kept
        for that fetch (``fetched_ahead``): the question then costs no
        request of its own, unless the range holds no entry.

        Nothing else can be sent before the folder is known, so the requests
        the client may have in flight would carry page 1 alone. A stable
        range's first ``max_concurrency`` pages go at once instead (a live
        range's later pages must be read after page 1, so it sends page 1
        alone): a range of that many pages or more has its count and its
        first pages after one round trip; a shorter one spends the pages
        past its end, once per key and org.
        """
        return resolve_org_folder(self.root, self.fingerprint, self.query.org_id, self._an_entry)

    def _an_entry(self) -> dict[str, Any] | None:
        """Return an entry of the org: from the opening range's first pages when looking ahead."""
        cached = known_org_folder(self.root, self.fingerprint, self.query.org_id) is not None
        opening = self.opening() if self.look_ahead and not cached else None
        if opening is not None:
            first, last, live = opening
            query = self.query.with_dates(first, last)
            pages = _first_pages(self.client, query, 1 if live else self.client.max_concurrency)
            self._ahead[first, last] = pages
            entries = pages[1].entries
            if entries:
                return entries[0]
        return newest_entry(self.client, self.query.org_id)

    def fetched_ahead(self, first: dt.date, last: dt.date) -> dict[int, Page]:
        """Return the pages of first..last fetched ahead (``folder``), by number, once."""
        return self._ahead.pop((first, last), {})

    @functools.cached_property
    def store(self) -> OrgCache:
        """Return the org's cache, in ``folder``."""
        return OrgCache(self.root, self.folder)

    def known_start(self) -> dt.date | None:
        """Return the query's first day: ``date_from``, else the start an earlier sync recorded.

        None when neither is known. The unfiltered tree's start bounds every
        filter; ``refresh`` forgets the recorded start.
        """
        if self.query.date_from is not None or self.refresh:
            return self.query.date_from
        known = [state.start for state in self.store.states(self.filters).values() if state.start]
        return max(known) if known else None

    def history_start(self) -> dt.date:
        """Return the first day that can hold an entry of the query before today, and record it.

        Found with two one-entry requests: the count of entries before today,
        then the oldest of them. Recorded, as the log only grows at the front:
        no entry can appear before that day later.
        """
        past = self.query.with_dates(None, self.today - dt.timedelta(days=1))
        count = self.client.fetch_page(past, 1, take=1).count
        start = self.today
        if count:
            oldest = self.client.fetch_page(past, count, take=1).keys
            stamp = oldest[0].created_at if oldest else None
            try:
                start = utc_day(stamp)  # type: ignore[arg-type]
            except ValueError:
                raise APIError(
                    "the oldest audit-log entry came back without a readable created_at "
                    f"({stamp!r})"
                ) from None
        self.store.set_start(self.filters, start)
        return start

    def verify(self, first: dt.date) -> Verification | None:
        """Return what checking the cached ranges of first..``last`` (settled days) found.

        One request per cached range; a range whose count moved is fetched
        again (``auditlab.verify``). None, with no request, under
        ``refresh`` or when no day of the range is settled.
        """
        last = min(self.last, self.settled)
        if self.refresh or first > last:
            return None
        return verify_cache(self.client, self.store, self.query.org_id, first, last,
                            now=self.now, keys=self.store.states(self.filters))  # fmt: skip

    def plan(self, first: dt.date, last: dt.date, max_run_days: int = MAX_RUN_DAYS) -> SyncPlan:
        """Return what to fetch of first..last: the cache's state now, the grace, ``refresh``."""
        return plan_sync(first, last, self.today, self.store.states(self.filters),
                         refresh=self.refresh, settled=self.settled,
                         max_run_days=max_run_days)  # fmt: skip

    def plans(self, first: dt.date | None) -> Iterator[SyncPlan]:
        """Yield the plans of first..``last``, the newest month first when first is unknown.

        Where the history starts is unknown until two one-entry requests come
        back (``history_start``), but the newest month is needed whatever the
        answer: its plan comes first, so its fetch starts meanwhile. Days of
        it before the start are cached as the empty days they are.
        """
        if first is not None:
            yield self.plan(first, self.last)
            return
        newest = self.newest_month()
        yield self.plan(newest, self.last)
        start = self.history_start()
        if start < newest:
            yield self.plan(start, min(self.last, newest - dt.timedelta(days=1)))

    def newest_month(self) -> dt.date:
        """Return the first day of the newest run of settled days: ``MAX_RUN_DAYS`` to ``last``."""
        return min(self.last, self.settled) - dt.timedelta(days=MAX_RUN_DAYS - 1)

    def opening(self) -> tuple[dt.date, dt.date, bool] | None:
        """Return the range a sync of an empty cache fetches first, as (first, last, live).

        The newest run of the query's days (from ``date_from``, else the newest
        month), else its fresh days, else today; None when it has no day.
        """
        first = self.query.date_from or self.newest_month()
        fetches = plan_sync(first, self.last, self.today, {}, settled=self.settled).fetches
        return fetches[0] if fetches else None


def _first_pages(client: InventClient, query: Query, count: int) -> dict[int, Page]:
    """Return pages 1..count of query, asked for at once, by number: page 1 and those answered.

    Page 1's error is raised; a later page that fails is left out (its fetch
    asks for it again).
    """
    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = {number: pool.submit(client.fetch_page, query, number)
                   for number in range(1, count + 1)}  # fmt: skip
        pages = {1: futures.pop(1).result()}
        for number, future in futures.items():
            try:
                pages[number] = future.result()
            except AuditlabError:
                continue
    return pages
