"""``auditlab.sync``: fill the cache for a range and orgs without building a DataFrame.

For a year of a busy org, or a group of orgs, before reading it lazily
(``auditlab.dataset``, ``auditlab.duckdb``) or from another engine. Each org
is planned as the loader plans it (runs of missing past days, the days in
their grace period, today), with runs cut to hold about
``ENTRIES_PER_RANGE`` entries (one request counts them), and each range goes
through the loader's engine (``auditlab.load.sync``) on its own,
``RUNS_IN_FLIGHT`` at a time; what it returns is dropped at once. So a
range's pages are held only until it is built and written, never the whole
log, and the days already cached are not read at all. The requests are a
load's, plus the count and at most one per cut. Several orgs share one
client, limiter and progress bar, as a load of several orgs does
(``auditlab.group``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditlab.api.client import InventClient
from auditlab.api.query import Query
from auditlab.api.ratelimit import INVENT_RATE_LIMIT
from auditlab.arguments import LoadArguments
from auditlab.cache.plan import DEFAULT_GRACE, MAX_RUN_DAYS, Run
from auditlab.clock import Clock, system_clock
from auditlab.errors import FetchIncomplete
from auditlab.group import run_orgs
from auditlab.load import RUNS_IN_FLIGHT
from auditlab.load import sync as sync_rows
from auditlab.planner import OrgPlanner

# A range is held whole (pages, table, files; about 3 KB an entry) until it is
# written, RUNS_IN_FLIGHT at a time: ranges of about this many entries keep a
# sync of any size within a few hundred MB, for one request more per range.
ENTRIES_PER_RANGE = 50_000


@dataclass(frozen=True)
class OrgSync:
    """What a sync did for one org: the days it covers, the days fetched now, their entries.

    ``org_id`` is the id asked for (``c`` too), ``folder`` the org's cache
    folder under the root (``org=<folder>``, named by the real org id).
    ``first`` and ``last`` are None when the range holds no day (it starts
    after today, or the org has no history yet).
    """

    org_id: str
    folder: str
    first: dt.date | None
    last: dt.date | None
    fetched_days: int
    entries: int


def sync(
    org_id: str | Sequence[str] = "c",
    *,
    include_sub_orgs: bool = False,
    action: str | None = None,
    date_from: Any = None,
    date_to: Any = None,
    user_id: str | None = None,
    assistant_id: str | None = None,
    workflow_id: str | None = None,
    connection_id: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    refresh: bool = False,
    progress: bool | None = None,
    max_concurrency: int = 8,
    rate_limit: int = INVENT_RATE_LIMIT,
    grace: dt.timedelta = DEFAULT_GRACE,
    verify: bool = False,
    clock: Clock = system_clock,
) -> list[OrgSync]:
    """Return what was synced for each org, after fetching into the cache what it lacks.

    Takes ``load_audit_logs``'s arguments and fetches exactly what a load
    would, but builds no DataFrame and reads no cached day back. Raises
    ``InvalidQuery`` before any request for bad input, and
    ``FetchIncomplete`` naming the days (and, for several orgs, the orgs)
    that could not be fetched whole; everything else stays cached.

    >>> from auditlab.sandbox import serve
    >>> import tempfile
    >>> with serve(api_key="sk_test_doc", days=20, sub_orgs=1) as server:
    ...     done = sync(include_sub_orgs=True, api_key="sk_test_doc", base_url=server.base_url,
    ...                 cache_dir=tempfile.mkdtemp(), progress=False, clock=server.clock)
    ...     [d.org_id for d in done], sum(d.entries for d in done) == sum(
    ...         len(org.entries) for org in server.orgs.values())
    (['c', 'org_sandbox_sub1'], True)
    """
    args = LoadArguments.build(locals())

    def one(client: InventClient, query: Query) -> OrgSync:
        return fill_org(client, query, args.root, args.fingerprint, **args.options)

    with args.client() as client:
        done = run_orgs(client, args.query, args.orgs, one, include_sub_orgs=include_sub_orgs,
                        progress=args.progress, clock=clock)  # fmt: skip
    return list(done.values())


def fill_org(
    client: InventClient,
    query: Query,
    root: Path,
    fingerprint: str,
    *,
    refresh: bool = False,
    grace: dt.timedelta = DEFAULT_GRACE,
    verify: bool = False,
    clock: Clock = system_clock,
) -> OrgSync:
    """Return what was synced for query's org, fetching every range of its days the cache lacks.

    The engine of ``sync`` for callers that bring their own client, as
    ``auditlab.load.sync`` is ``load_audit_logs``'. Raises ``FetchIncomplete``
    naming the days that could not be fetched whole, once every range has
    been tried.
    """
    planner = OrgPlanner(client, query, root, fingerprint, refresh=refresh, grace=grace,
                         clock=clock)  # fmt: skip
    folder = planner.folder
    first, last = planner.known_start() or planner.history_start(), planner.last
    if first > last:
        return OrgSync(query.org_id, folder, None, None, 0, 0)
    if verify:
        planner.verify(first)
    planned = planner.plan(first, last)
    if planned.runs:
        planned = planner.plan(first, last, range_days(client, query, planned.runs))
    ranges: list[Run] = [(low, high) for low, high, _ in planned.fetches]

    def fetch(span: Run) -> tuple[int, tuple[dt.date, ...]]:
        try:
            rows = sync_rows(client, query.with_dates(*span), root, fingerprint,
                             refresh=refresh, grace=grace, clock=clock)  # fmt: skip
        except FetchIncomplete as error:
            return 0, error.days
        return rows.num_rows, ()

    with ThreadPoolExecutor(max_workers=max(1, min(len(ranges), RUNS_IN_FLIGHT))) as pool:
        outcomes = list(pool.map(fetch, ranges))
    missing = sorted(day for _, days in outcomes for day in days)
    if missing:
        raise FetchIncomplete(
            f"could not fetch every day of org {query.org_id!r} completely; the days that "
            "were completed are cached, call again to resume",
            days=missing,
        )
    fetched = sum(rows for rows, _ in outcomes)
    return OrgSync(query.org_id, folder, first, last, len(planned.missing), fetched)


def range_days(client: InventClient, query: Query, runs: Sequence[Run]) -> int:
    """Return how many days a range may span to hold about ``ENTRIES_PER_RANGE`` entries.

    One one-entry request counts the entries from the first missing day to
    the last; the answer is 1 to ``MAX_RUN_DAYS``, so a quiet org still
    fetches a month per query and a busy one is never held a month at a time.
    """
    low, high = min(first for first, _ in runs), max(last for _, last in runs)
    count = client.fetch_page(query.with_dates(low, high), 1, take=1).count
    per_day = count / ((high - low).days + 1)
    return max(1, min(MAX_RUN_DAYS, int(ENTRIES_PER_RANGE // max(per_day, 1))))
