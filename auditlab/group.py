"""Several orgs as one: a group's audit logs loaded together into one table.

``load_audit_logs(["org_a", "org_b"])`` and ``load_audit_logs("c",
include_sub_orgs=True)`` come here; each org is loaded by the one-org engine
(``auditlab.load.sync``), unchanged, and the orgs share everything that
Invent counts or the user watches:

- one client, so one rate limiter (Invent limits per IP) and one bound on
  requests in flight. ``ORGS_IN_FLIGHT`` orgs are synced side by side, so one
  org's fixed requests (its real id, its first day) overlap another's pages
  and the group runs at the shared limit, at the requests the orgs would cost
  one by one, plus the listing of sub-orgs;
- one progress bar, advanced by every page of every org (``_PagesCounted``);
- each org keeps its own cache tree (``org=<id>``), exactly as when loaded alone;
- one org failing (days it could not fetch whole, or the server refusing it)
  stops no other: the others are loaded and cached, and ``FetchIncomplete``
  then names each failed org and its days (``FetchIncomplete.orgs``). Only a
  key the server refuses outright (401) ends the whole load at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from auditlab.api.client import InventClient
from auditlab.api.paging import FetchResult, OnPage
from auditlab.api.query import Query
from auditlab.api.suborgs import fetch_sub_orgs
from auditlab.cache.plan import day_range
from auditlab.clock import Clock, as_utc
from auditlab.errors import (
    APIError,
    AuditlabError,
    AuthError,
    FetchIncomplete,
    InvalidQuery,
    day_ranges,
)
from auditlab.frame.convert import LARGE_TEXT_SCHEMA
from auditlab.progress import entries_bar

logger = logging.getLogger("auditlab")

# Orgs synced at once. Each runs up to RUNS_IN_FLIGHT ranges of its own; the
# client bounds the requests in flight, so more would only hold more memory.
ORGS_IN_FLIGHT = 3
T = TypeVar("T")


def check_orgs(org_id: Any, include_sub_orgs: Any) -> tuple[str, ...]:
    """Return the org ids asked for, each once, in order; raise InvalidQuery naming ``org_id``.

    ``org_id`` is one id (``c``: the key's own org) or a list of them.

    >>> check_orgs(["org_a", "org_b", "org_a"], False)
    ('org_a', 'org_b')
    >>> check_orgs([], False)
    Traceback (most recent call last):
    ...
    auditlab.errors.InvalidQuery: org_id must be an org id or a non-empty list of org ids, not []
    """
    if not isinstance(include_sub_orgs, bool):
        raise InvalidQuery(
            f"include_sub_orgs must be True or False, not {include_sub_orgs!r}",
            parameter="include_sub_orgs",
        )
    ids = [org_id] if isinstance(org_id, str) else org_id
    if not isinstance(ids, Sequence) or not ids:
        raise InvalidQuery(
            f"org_id must be an org id or a non-empty list of org ids, not {org_id!r}",
            parameter="org_id",
        )
    return tuple(dict.fromkeys(Query.build(each).org_id for each in ids))


def group_orgs(client: InventClient, orgs: Sequence[str], include_sub_orgs: bool) -> list[str]:
    """Return the orgs to load: each of ``orgs``, with its sub-orgs after it when asked, once each.

    With ``include_sub_orgs``, each org's listing costs one request per
    hundred sub-orgs.
    """
    found = dict.fromkeys(orgs)
    if include_sub_orgs:
        for parent in orgs:
            for item in fetch_sub_orgs(client, parent):
                if isinstance(item.get("id"), str):
                    found.setdefault(item["id"])
    return [Query.build(org).org_id for org in found]


def load_orgs(
    client: InventClient,
    query: Query,
    orgs: Sequence[str],
    root: Path,
    fingerprint: str,
    *,
    include_sub_orgs: bool = False,
    progress: bool = False,
    clock: Clock,
    **options: Any,
) -> pa.Table:
    """Return the rows of query's filters in every org (sub-orgs too, when asked), newest first.

    The table has ``LARGE_TEXT_SCHEMA``; a row whose entry names no org gets
    the id it was asked under in ``org_id`` (never ``c``). ``options`` are
    ``auditlab.load.sync``'s (``refresh``, ``grace``, ``verify``). Raises
    ``FetchIncomplete`` naming each org that could not be fetched whole once
    every other org is loaded and cached.
    """
    from auditlab.load import sync

    def one(shared: InventClient, asked: Query) -> pa.Table:
        return sync(shared, asked, root, fingerprint, clock=clock, **options)

    loaded = run_orgs(client, query, orgs, one, include_sub_orgs=include_sub_orgs,
                      progress=progress, clock=clock)  # fmt: skip
    tables = [with_org_id(table, org) for org, table in loaded.items() if table.num_rows]
    if not tables:
        return LARGE_TEXT_SCHEMA.empty_table()
    table = pa.concat_tables(tables).unify_dictionaries() if len(tables) > 1 else tables[0]
    # Each org's rows are newest first already; a stable sort interleaves them.
    return table.take(pc.sort_indices(table, [("created_at", "descending")]))


def run_orgs(
    client: InventClient,
    query: Query,
    orgs: Sequence[str],
    work: Callable[[InventClient, Query], T],
    *,
    include_sub_orgs: bool,
    progress: bool,
    clock: Clock,
) -> dict[str, T]:
    """Return work(client, query for org) for every org of the group, by org, in order.

    The orgs are ``group_orgs``'; every org's work shares ``client`` and one
    progress bar of entries. Raises ``FetchIncomplete`` naming each org that
    failed (see ``for_each_org``) once the others are done.
    """
    members = group_orgs(client, orgs, include_sub_orgs)
    with entries_bar(progress) as on_page:
        shared = client if on_page is None else _PagesCounted(client, on_page)
        done, failed = for_each_org(
            members,
            lambda org: work(shared, replace(query, org_id=org)),  # type: ignore[arg-type]
        )
    if failed:
        raise incomplete(failed, query, clock)
    return done


def for_each_org(
    orgs: Sequence[str], work: Callable[[str], T]
) -> tuple[dict[str, T], dict[str, AuditlabError]]:
    """Return work(org) of each org that succeeded, by org in order, and each org's error.

    ``ORGS_IN_FLIGHT`` orgs run at once. An org's ``FetchIncomplete`` or
    ``APIError`` is kept as that org's failure while the others go on; a key
    refused outright (HTTP 401) or a bad query is raised at once.
    """
    results: dict[str, T] = {}
    failed: dict[str, AuditlabError] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(len(orgs), ORGS_IN_FLIGHT))) as pool:
        futures = {org: pool.submit(work, org) for org in orgs}
        try:
            for org, future in futures.items():
                try:
                    results[org] = future.result()
                except AuthError as error:
                    if error.status_code == 401:
                        raise
                    failed[org] = error
                except (FetchIncomplete, APIError) as error:
                    logger.warning("org %r could not be fetched whole: %s", org, error)
                    failed[org] = error
        except BaseException:
            for future in futures.values():
                future.cancel()
            raise
    return results, failed


def incomplete(failed: dict[str, AuditlabError], query: Query, clock: Clock) -> FetchIncomplete:
    """Return the FetchIncomplete naming each failed org with its missing days, or its error."""
    days: dict[str, tuple[dt.date, ...]] = {}
    parts = []
    for org, error in failed.items():
        if isinstance(error, FetchIncomplete):
            days[org] = error.days
            parts.append(f"org {org!r} (incomplete days: {day_ranges(error.days)})")
        else:
            days[org] = _query_days(query, clock)
            span = f"days {day_ranges(days[org])}, " if days[org] else ""
            parts.append(f"org {org!r} ({span}{type(error).__name__}: {error})")
    return FetchIncomplete(
        f"could not fetch {len(failed)} org(s) completely; the other orgs and the days that "
        f"were completed are cached, call again to resume: {'; '.join(parts)}",
        orgs=days,
    )


def _query_days(query: Query, clock: Clock) -> tuple[dt.date, ...]:
    """Return every day of query's range up to today, () when the range has no first day."""
    if query.date_from is None:
        return ()
    today = as_utc(clock()).date()
    return tuple(day_range(query.date_from, min(query.date_to or today, today)))


def with_org_id(table: pa.Table, org: str) -> pa.Table:
    """Return table with ``org_id`` filled where the entry named no org, unless org is ``c``.

    >>> table = pa.table({"org_id": pa.array([None, "org_b"], pa.large_string())})
    >>> with_org_id(table, "org_a").column("org_id").to_pylist()
    ['org_a', 'org_b']
    """
    column = table.column("org_id")
    if org == "c" or not column.null_count:
        return table
    index = table.schema.get_field_index("org_id")
    return table.set_column(index, "org_id", pc.fill_null(column, pa.scalar(org, column.type)))


class _PagesCounted:
    """The client every org's sync shares: the same client, each page also counted on one bar.

    Every attribute is the client's; only ``fetch`` adds the shared ``on_page``.
    """

    def __init__(self, client: InventClient, on_page: OnPage) -> None:
        self._client = client
        self._on_page = on_page

    def fetch(self, query: Query, *, on_page: OnPage | None = None, **options: Any) -> FetchResult:
        """Return the client's fetch of query, each page also advancing the shared bar.

        ``options`` are the rest of ``InventClient.fetch``'s keywords (``live``, ``fetched``).
        """
        if on_page is None:
            return self._client.fetch(query, on_page=self._on_page, **options)

        def both(new: int) -> None:
            on_page(new)
            self._on_page(new)

        return self._client.fetch(query, on_page=both, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
