"""Planning one org's sync: its cache folder, the first day that can hold an entry, the plan.

``load_audit_logs`` (``auditlab.load.sync``) and ``auditlab.sync``
(``auditlab.fill.fill_org``) plan an org alike and differ only in how they
fetch what the plan lists, so both ask an ``OrgPlanner``:

- which folder caches the org (``store``): the real org id, found with one
  request the first time a key asks for it (``auditlab.cache.orgs``);
- where the query's days start (``known_start``, else ``history_start``:
  two one-entry requests, recorded, never asked again);
- which cached ranges still match the server (``verify``);
- what to fetch for a range of days (``plan``, then ``SyncPlan.fetches``).
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from auditlab.api.client import InventClient
from auditlab.api.query import Query
from auditlab.cache.orgs import resolve_org_folder
from auditlab.cache.plan import DEFAULT_GRACE, MAX_RUN_DAYS, SyncPlan, last_settled, plan_sync
from auditlab.cache.store import OrgCache
from auditlab.clock import Clock, as_utc, system_clock
from auditlab.errors import APIError
from auditlab.runs import newest_entry
from auditlab.stamps import utc_day
from auditlab.verify import Verification, verify_cache


class OrgPlanner:
    """What one org's sync fetches: the org's cache, its first day, and the plan for a range.

    The time is read once, from ``clock``: ``today``, ``settled`` (the last
    day that can be complete, ``grace`` after its end) and ``last`` (the
    query's last day, at most today) hold for the whole sync. Nothing is
    sent until ``store`` or ``history_start`` is first used.

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
    ) -> None:
        self.client = client
        self.query = query
        self.root = root
        self.fingerprint = fingerprint
        self.refresh = refresh
        self.filters = query.filter_key()
        self.now = as_utc(clock())
        self.today = self.now.date()
        self.settled = last_settled(self.now, grace)
        self.last = min(query.date_to or self.today, self.today)

    @functools.cached_property
    def folder(self) -> str:
        """Return the name of the org's cache folder: its real id (one request the first time)."""
        org = self.query.org_id
        return resolve_org_folder(
            self.root, self.fingerprint, org, lambda: newest_entry(self.client, org)
        )

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
