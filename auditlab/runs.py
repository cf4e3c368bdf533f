"""Fetch one run of days and cache it: the step a sync and a verification share.

A run is an inclusive range of days fetched as one query. A run that ends
before today's grace period is stable: fetched page by page at once and, when
it reconciles, cached as complete. A fresh run (today, or a day still in its
grace period) is fetched live and cached as it was, never as complete.

When a stable run stops early (a page's retries ran out), the days its pages
already hold whole are cached as complete anyway (``FetchResult.whole_after``
says why that is safe), so a rerun fetches only the rest.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from auditlab.api.client import InventClient
from auditlab.api.paging import FetchResult, OnPage, Page
from auditlab.api.query import Query
from auditlab.cache.plan import Run, day_range
from auditlab.cache.store import OrgCache
from auditlab.frame import pages_to_table
from auditlab.stamps import utc_day

logger = logging.getLogger("auditlab")


@dataclass(frozen=True)
class RunOutcome:
    """Return value of ``fetch_run``: the days cached and their rows, and the days missing.

    ``kept`` is the (first, last) range written to the cache (None: nothing),
    ``table`` its rows as ``store_range`` wrote them, newest first;
    ``missing`` the days of the run that could not be completed, oldest first.
    """

    kept: Run | None
    table: pa.Table | None = None
    missing: list[dt.date] = field(default_factory=list)


def fetch_run(
    client: InventClient,
    store: OrgCache,
    query: Query,
    first: dt.date,
    last: dt.date,
    *,
    live: bool,
    on_page: OnPage | None = None,
    fetched: Mapping[int, Page] | None = None,
) -> RunOutcome:
    """Fetch first..last under query's filters, cache what is whole, and say what is missing.

    ``live`` for a fresh run (fetched live, cached as not complete);
    otherwise the run is stable and cached as complete when it reconciles.
    ``fetched`` are pages of the run already fetched, by number.
    """
    logger.info("fetching %s..%s%s", first, last, " (live)" if live else "")
    filters = query.filter_key()
    result = client.fetch(query.with_dates(first, last), live=live, on_page=on_page,
                          fetched=fetched)  # fmt: skip
    if result.complete:
        table = store.store_range(
            filters,
            pages_to_table(result.bodies, result.rows),
            first,
            last,
            server_count=result.server_count,
            complete=not live,  # a fresh day may still grow: never complete for good
        )
        return RunOutcome((first, last), table)
    if result.stopped is not None:
        logger.warning("%s..%s stopped after %d entries: %s",
                       first, last, len(result.rows), result.stopped)  # fmt: skip
    else:
        logger.warning(
            "%s..%s did not reconcile: %d unique entries, the server counts %d",
            first, last, len(result.rows), result.server_count,
        )  # fmt: skip
    whole = None if live else first_whole_day(result, first, last)
    if whole is None:
        return RunOutcome(None, missing=list(day_range(first, last)))
    rows = pages_to_table(result.bodies, result.rows)
    rows = rows.filter(pc.field("date") >= pa.scalar(whole, pa.date32()))
    table = store.store_range(
        filters, rows, whole, last, server_count=rows.num_rows, complete=True
    )
    logger.warning("%s..%s cached all the same: every entry of those days was read", whole, last)
    return RunOutcome((whole, last), table, list(day_range(first, whole - dt.timedelta(days=1))))


def newest_entry(client: InventClient, org_id: str) -> dict[str, Any] | None:
    """Return the org's newest entry (one request), or None when it has none."""
    page = client.fetch_page(Query.build(org_id), 1, take=1)
    return page.entries[0] if page.entries else None


def first_whole_day(result: FetchResult, first: dt.date, last: dt.date) -> dt.date | None:
    """Return the first day of first..last that a stable fetch which stopped early holds whole.

    Every day after the UTC day of ``result.whole_after`` is whole; None when
    no day of the run is.

    >>> from auditlab.api.paging import FetchResult
    >>> cut = FetchResult([], [], 500, False, 3, whole_after="2026-10-13T23:00:00+00:00")
    >>> first_whole_day(cut, dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    datetime.date(2026, 10, 14)
    """
    if result.whole_after is None:
        return None
    try:
        whole = max(first, utc_day(result.whole_after) + dt.timedelta(days=1))
    except ValueError:
        return None
    return whole if whole <= last else None
