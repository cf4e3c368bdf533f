"""Checking the cache against the server: one count per cached range, refetching what moved.

A complete past day should never change, but an entry can still arrive after
its day's grace period (a queue that stalled for hours). Each range the cache
holds was fetched in one query; the server's ``pagination-count`` for the
same range and filter (one ``take=1`` request) must equal the rows cached for
it. A range whose count moved is marked not complete and fetched again. When
each range was checked, and what the whole verification found, is recorded in
the manifest (``auditlab.report`` shows it in the evidence appendix).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from auditlab.api.client import InventClient
from auditlab.api.credentials import resolve_api_key, resolve_base_url
from auditlab.api.query import Query
from auditlab.api.ratelimit import INVENT_RATE_LIMIT
from auditlab.cache.files import cache_root
from auditlab.cache.manifest import RangeCheck
from auditlab.cache.orgs import key_fingerprint, resolve_org_folder
from auditlab.cache.plan import DEFAULT_GRACE, last_settled
from auditlab.cache.store import CachedRange, OrgCache
from auditlab.clock import Clock, as_utc, system_clock
from auditlab.errors import RetriesExhausted
from auditlab.runs import fetch_run, newest_entry

logger = logging.getLogger("auditlab")


@dataclass(frozen=True)
class Verification:
    """What one verification found: when, over which days, how many ranges, what moved.

    ``missing`` are days of a moved range that could not be fetched again;
    they stay marked not complete, so the next load fetches them.

    >>> print(Verification("2026-03-15T02:00:00+00:00", None, "2026-03-13", 12, 1))
    cache last verified at 2026-03-15 02:00:00 UTC: 12 ranges checked, 1 refetched
    """

    at: str
    first: str | None
    last: str | None
    checked: int
    refetched: int
    missing: tuple[dt.date, ...] = ()

    def __str__(self) -> str:
        return describe(self.summary())

    def summary(self) -> dict[str, Any]:
        """Return what the manifest keeps of this verification."""
        return {
            "at": self.at,
            "first": self.first,
            "last": self.last,
            "checked": self.checked,
            "refetched": self.refetched,
        }


def describe(summary: dict[str, Any]) -> str:
    """Return one line saying when the cache was verified and what was found.

    >>> describe({"at": "2026-03-15T02:00:00+00:00", "checked": 3, "refetched": 0})
    'cache last verified at 2026-03-15 02:00:00 UTC: 3 ranges checked, 0 refetched'
    """
    at = dt.datetime.fromisoformat(summary["at"]).astimezone(dt.UTC)
    return (
        f"cache last verified at {at:%Y-%m-%d %H:%M:%S} UTC: "
        f"{summary['checked']} ranges checked, {summary['refetched']} refetched"
    )


def verify_cache(
    client: InventClient,
    store: OrgCache,
    org_id: str,
    first: dt.date | None,
    last: dt.date | None,
    *,
    now: dt.datetime,
    keys: Iterable[str] | None = None,
) -> Verification:
    """Compare each cached range holding a day in first..last with the server; refetch what moved.

    ``keys`` limits it to some trees (default: every tree of the org). One
    ``take=1`` request per range, then one stable fetch per range that moved.
    A range whose count the server would not give (retries ran out) is left
    unchecked, not counted.
    """
    ranges = store.ranges(first, last, keys)

    def server_count(cached: CachedRange) -> int | None:
        query = Query.build(org_id, date_from=cached.first, date_to=cached.last, **cached.filter)
        try:
            return client.fetch_page(query, 1, take=1).count
        except RetriesExhausted as error:
            logger.warning("%s..%s not verified: %s", cached.first, cached.last, error)
            return None

    with ThreadPoolExecutor(max_workers=min(max(1, len(ranges)), client.max_concurrency)) as pool:
        counts = list(pool.map(server_count, ranges))
    at = now.astimezone(dt.UTC).isoformat(timespec="seconds")
    checks: dict[tuple[str, dt.date, dt.date], RangeCheck] = {}
    missing: list[dt.date] = []
    for cached, count in zip(ranges, counts, strict=True):
        if count is None:
            continue
        moved = count != cached.rows
        checks[cached.key, cached.first, cached.last] = RangeCheck(at, count, cached.rows, moved)
        if moved:
            store.unsettle(cached.filter, cached.first, cached.last)
            query = Query.build(org_id, **cached.filter)
            refetch = fetch_run(client, store, query, cached.first, cached.last, live=False)
            missing += refetch.missing
    result = Verification(
        at=at,
        first=first.isoformat() if first else None,
        last=last.isoformat() if last else None,
        checked=len(checks),
        refetched=sum(check.refetched for check in checks.values()),
        missing=tuple(sorted(missing)),
    )
    store.record_checks(checks, result.summary())
    return result


def verify_audit_logs(
    org_id: str = "c",
    *,
    date_from: Any = None,
    date_to: Any = None,
    api_key: str | None = None,
    base_url: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    grace: dt.timedelta = DEFAULT_GRACE,
    clock: Clock = system_clock,
    max_concurrency: int = 8,
    rate_limit: int = INVENT_RATE_LIMIT,
) -> Verification:
    """Return what verifying the org's cached days date_from..date_to against the server found.

    Every tree of the org (every filter cached) is checked, each range with
    one ``take=1`` request; ranges whose count moved are fetched again.
    Without dates, every complete day cached. Key, server and cache are found
    as ``load_audit_logs`` finds them. What was found is recorded in the
    manifest. ``auditlab cache verify`` runs this.

    >>> from auditlab import load_audit_logs
    >>> from auditlab.sandbox import serve
    >>> import tempfile
    >>> cache = tempfile.mkdtemp()
    >>> with serve(api_key="sk_test_doc", days=14) as server:
    ...     _ = load_audit_logs(api_key="sk_test_doc", base_url=server.base_url,
    ...                         cache_dir=cache, progress=False)
    ...     found = verify_audit_logs(api_key="sk_test_doc", base_url=server.base_url,
    ...                               cache_dir=cache)
    >>> found.checked > 0, found.refetched
    (True, 0)
    """
    query = Query.build(org_id, date_from=date_from, date_to=date_to)
    root = cache_root(cache_dir)
    key = resolve_api_key(api_key)
    url = resolve_base_url(base_url)
    now = as_utc(clock())
    settled = last_settled(now, grace)
    last = min(query.date_to or settled, settled)
    with InventClient(key, url, max_concurrency=max_concurrency, rate_limit=rate_limit) as client:
        folder = resolve_org_folder(
            root, key_fingerprint(key, url), org_id, lambda: newest_entry(client, org_id)
        )
        return verify_cache(client, OrgCache(root, folder), org_id, query.date_from, last, now=now)

