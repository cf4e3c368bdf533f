"""``load_audit_logs``: the one front door, tying the API client, the frame and the cache.

How a call runs:

1. Every argument is checked (``Query.build``, the key, the base URL, the
   numbers); nothing is sent before all of them pass.
2. The org is resolved to its real id, so the cache is never keyed by the
   literal ``c``: the first time a key asks for an org, from the first pages
   of the range an empty cache fetches first, sent at once and kept for that
   fetch (``OrgPlanner.folder`` in ``auditlab.planner``).
3. ``date_to`` is clipped to today (UTC). Without ``date_from``, the first day
   holding an entry is found once (two one-entry requests, while the newest
   month is already on the wire), recorded, and the range starts there;
   nothing before it exists, so it is never asked again.
4. With ``verify=True``, each cached range of those days is checked with one
   request and fetched again if the server's count moved (``auditlab.verify``).
5. Each past day is answered from the cache when a tree that can answer the
   filter holds it complete: this filter's own tree, or the unfiltered tree
   where the filter's rule is documented (``FILTER_RULES`` in
   ``auditlab.api.query``: dates and ``action`` yes, id filters never). A
   day is complete only once ``grace`` has passed after its end. The missing
   past days are fetched as contiguous runs, one query each (a month at
   most), pages concurrently; the days still in their grace period, and
   today, are fetched live, every time.
6. Each run is built straight from its raw pages and written day by day, in
   its own thread, as soon as it reconciles; the cached days are read while
   the rest is on the wire, and the rows just written are returned as they
   were written, not read back. If a run cannot be completed, the days its
   pages already hold whole stay cached as complete (``auditlab.runs``), so
   do the other runs, and ``FetchIncomplete`` names the missing days:
   nothing partial is returned as if whole.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

import auditlab.analysis  # noqa: F401  (registers df.audit on the frames returned here)
from auditlab.api.client import InventClient
from auditlab.api.query import Query
from auditlab.api.ratelimit import INVENT_RATE_LIMIT
from auditlab.arguments import LoadArguments
from auditlab.cache.plan import DEFAULT_GRACE, Run, SyncPlan, day_range
from auditlab.cache.store import OrgCache
from auditlab.clock import Clock, system_clock
from auditlab.errors import FetchIncomplete
from auditlab.frame import table_to_frame
from auditlab.frame.convert import LARGE_TEXT_SCHEMA
from auditlab.group import load_orgs
from auditlab.planner import OrgPlanner
from auditlab.progress import entries_bar
from auditlab.runs import fetch_run

logger = logging.getLogger("auditlab")

# Runs in flight at once, each in its own thread; see _fetch. Three keep the
# client's requests busy while one of them builds and writes what it fetched
# (two measured ~8% slower on the latency-bound benchmark, four no faster).
RUNS_IN_FLIGHT = 3


def load_audit_logs(
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
) -> pd.DataFrame:
    """Return the org's audit log as a flat, typed DataFrame, newest first.

    ``org_id`` is an org id (``c``: the key's own org) or a list of them;
    ``include_sub_orgs=True`` adds each org's sub-orgs (as
    ``auditlab.list_sub_orgs`` lists them). Several orgs come back as one
    frame, the ``org_id`` and ``org_name`` columns telling them apart; they
    share one rate limiter and one progress bar, each keeps its own cache,
    and one org failing leaves the others loaded and cached
    (``auditlab.group``).
    Filters are Invent's (``action`` one action or ``"ALL"``; dates inclusive,
    as ``"YYYY-MM-DD"``, date, datetime or Timestamp, in UTC); only dates and
    ``action`` are ever applied to cached rows, id filters are the server's
    (``FILTER_RULES`` in ``auditlab.api.query``). The key comes from
    ``api_key``, else ``INVENT_API_KEY``, else a ``.env`` file; the cache
    from ``cache_dir``, else ``AUDITLAB_CACHE_DIR``, else the user cache dir.
    Complete past days are read from the cache, today is fetched every time;
    a past day counts as complete only once ``grace`` has gone by after its
    end (default one hour: entries written just before midnight may show up
    just after it; until then the day is fetched every time, like today).
    ``verify=True`` first checks each cached range of the query's days with
    one request and fetches again the ranges whose count moved.
    ``refresh=True`` fetches every day again. Without ``date_from`` the whole
    history is loaded (its first day is found once and remembered); a
    ``date_to`` after today means today. ``clock`` says what time it is, and
    so which day is today (see ``auditlab.clock``). Columns are exactly
    ``auditlab.SCHEMA``'s; the index runs 0..n-1. Raises ``InvalidQuery``
    (before any request) for bad input and ``FetchIncomplete`` naming the days
    the server would not give completely (the rest stays cached, including
    the days wholly read before a range failed).

    >>> from auditlab.sandbox import serve
    >>> import tempfile
    >>> with serve(api_key="sk_test_doc", days=20) as server:
    ...     df = load_audit_logs(api_key="sk_test_doc", base_url=server.base_url,
    ...                          cache_dir=tempfile.mkdtemp(), progress=False)
    ...     len(df) == len(server.org.entries)
    True
    """
    args = LoadArguments.build(locals())
    with args.client() as client:
        if args.several:
            table = load_orgs(
                client, args.query, args.orgs, args.root, args.fingerprint,
                include_sub_orgs=args.include_sub_orgs, progress=args.progress, **args.options,
            )  # fmt: skip
        else:
            table = sync(client, args.query, args.root, args.fingerprint,
                         progress=args.progress, **args.options)  # fmt: skip
    return table_to_frame(table)


def sync(
    client: InventClient,
    query: Query,
    root: Path,
    fingerprint: str,
    *,
    refresh: bool = False,
    progress: bool = False,
    grace: dt.timedelta = DEFAULT_GRACE,
    verify: bool = False,
    clock: Clock = system_clock,
) -> pa.Table:
    """Return the query's rows as an Arrow table, newest first, fetching what the cache lacks.

    The table has ``LARGE_TEXT_SCHEMA`` (``SCHEMA`` with large_string text).

    The engine of ``load_audit_logs``, for callers that bring their own
    client (e.g. with another retry policy); ``fingerprint`` is
    ``key_fingerprint(key, base_url)`` of the client's key.
    """
    planner = OrgPlanner(client, query, root, fingerprint, refresh=refresh, grace=grace,
                         clock=clock, look_ahead=True)  # fmt: skip
    last = planner.last
    if query.date_from is not None and query.date_from > last:
        return LARGE_TEXT_SCHEMA.empty_table()
    first = planner.known_start()
    if first is None and verify:
        first = planner.history_start()
    if first is not None and first > last:
        return LARGE_TEXT_SCHEMA.empty_table()
    found = planner.verify(first) if verify and first is not None else None
    if found is not None:
        logger.info("%s", found)

    fetched, failed = _fetch(planner, planner.plans(first), progress)
    if failed:
        raise FetchIncomplete(
            f"could not fetch every day of org {query.org_id!r} completely; "
            "the days that were completed are cached, call again to resume",
            days=failed,
        )
    tables = [fetched[run] for run in sorted(fetched, reverse=True) if fetched[run].num_rows]
    if not tables:
        return LARGE_TEXT_SCHEMA.empty_table()
    return pa.concat_tables(tables).unify_dictionaries() if len(tables) > 1 else tables[0]


def _read_local(store: OrgCache, plan: SyncPlan, local: dict[str, str]) -> dict[Run, pa.Table]:
    """Return the cached rows of each run of days the plan answers locally, newest first."""
    return {
        (first, last): store.read({day: plan.local[day] for day in day_range(first, last)}, local)
        for first, last in plan.local_runs
    }


def _fetch(
    planner: OrgPlanner, plans: Iterable[SyncPlan], progress: bool
) -> tuple[dict[Run, pa.Table], list[dt.date]]:
    """Fetch every run of the plans, their fresh days and today, caching each as it completes.

    Returns the rows of every range, fetched (as ``store_range`` wrote them)
    or read from the cache, and the days that could not be completed.
    ``RUNS_IN_FLIGHT`` runs go at once (the client bounds the requests in
    flight), so a run's last pages overlap the next run's first, and each run
    is built and written in its own thread while the others are on the wire,
    not all together at the end. The cached days are read while the missing
    ones are on the wire. A plan's runs start as soon as it is yielded, so
    ``plans`` may still be working out the next one. A range whose first
    pages the planner fetched ahead starts from them.
    """
    client, store, query = planner.client, planner.store, planner.query
    fetched: dict[Run, pa.Table] = {}
    failed: list[dt.date] = []
    with (
        entries_bar(progress) as on_page,
        ThreadPoolExecutor(max_workers=1) as reader,
        ThreadPoolExecutor(max_workers=min(RUNS_IN_FLIGHT, client.max_concurrency)) as pool,
    ):
        futures, local = [], []
        try:
            for plan in plans:
                local.append(reader.submit(_read_local, store, plan, query.local_filters()))
                futures += [
                    pool.submit(fetch_run, client, store, query, first, last, live=live,
                                on_page=on_page, fetched=planner.fetched_ahead(first, last))
                    for first, last, live in plan.fetches
                ]  # fmt: skip
            for future in as_completed(futures):
                outcome = future.result()
                failed.extend(outcome.missing)
                if outcome.kept is not None and outcome.table is not None:
                    fetched[outcome.kept] = outcome.table
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        for cached in local:
            fetched |= cached.result()
    return fetched, sorted(failed)
