"""Paging through an audit-log range without losing or doubling an entry.

Both strategies take a ``fetch_page(number) -> Page`` function, so they are
independent of HTTP and testable alone.

- ``fetch_stable``: a range that ends before today never changes (the log is
  append-only and only today receives entries), so page 1 gives the count and
  the other pages are fetched at once: exactly ``ceil(count / take)`` requests
  plus retries.
- ``fetch_live``: a range that includes today gains entries at the front while
  it is read, shifting every later page; see its docstring for why its result
  is never short or doubled when it says it is complete.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Entry = dict[str, Any]
OnPage = Callable[[int], None]

# Each pass after the first usually costs one request (page 1 holds the newcomers).
MAX_LIVE_PASSES = 8


@dataclass(frozen=True)
class Page:
    """One answered page: its entries, the server's total count and what it cost.

    ``size`` is the raw body in bytes; ``requests`` counts the HTTP requests
    this page took, retries included.
    """

    entries: list[Entry]
    count: int
    page: int
    take: int
    size: int
    requests: int = 1

    def __repr__(self) -> str:
        return (
            f"Page(page={self.page}, take={self.take}, entries=<{len(self.entries)}>, "
            f"count={self.count}, size={self.size}, requests={self.requests})"
        )

    @property
    def is_short(self) -> bool:
        """Return True when the page holds fewer entries than asked: the list ends here."""
        return len(self.entries) < self.take


@dataclass
class FetchResult:
    """The entries of one range, deduplicated by id, newest first, and how sure we are.

    ``complete`` is True only when the unique entries reconciled with the
    server's ``pagination-count``; ``requests`` counts HTTP requests, retries
    included. The repr shows how many entries, not the entries.

    >>> FetchResult([{"id": "a"}], server_count=1, complete=True, requests=1)
    FetchResult(entries=<1>, server_count=1, complete=True, requests=1)
    """

    entries: list[Entry]
    server_count: int
    complete: bool
    requests: int

    def __repr__(self) -> str:
        return (
            f"FetchResult(entries=<{len(self.entries)}>, server_count={self.server_count}, "
            f"complete={self.complete}, requests={self.requests})"
        )


@dataclass
class _Collector:
    """Unique entries by id, in first-seen order, plus the running cost.

    ``sweep`` numbers the pass over the list an entry was first seen in: a
    newcomer found by a later pass is newer than the entries of the same
    second found before it, which orders ties the way the server does.
    """

    on_page: OnPage | None = None
    by_id: dict[Any, Entry] = field(default_factory=dict)
    first_sweep: dict[Any, int] = field(default_factory=dict)
    requests: int = 0
    sweep: int = 0

    def add(self, page: Page) -> None:
        before = len(self.by_id)
        for entry in page.entries:
            # an entry without an id cannot be matched, so it is kept as it is
            key = entry.get("id") or object()
            if key not in self.by_id:
                self.by_id[key] = entry
                self.first_sweep[key] = self.sweep
        self.requests += page.requests
        if self.on_page is not None:
            self.on_page(len(self.by_id) - before)

    def result(self, server_count: int, complete: bool) -> FetchResult:
        """Return the entries newest first: by timestamp, then later sweep, then server order."""
        entries = list(self.by_id.values())
        if self.sweep:
            sweeps = list(self.first_sweep.values())
            order = sorted(
                range(len(entries)),
                key=lambda n: (_created_at(entries[n]), sweeps[n], -n),
                reverse=True,
            )
            entries = [entries[n] for n in order]
        return FetchResult(entries, server_count, complete, self.requests)


@dataclass
class _Progress:
    """Calls on_page with the new ids each page brought, as pages arrive in any order."""

    on_page: OnPage | None
    ids: set[Any] = field(default_factory=set)

    def report(self, page: Page) -> None:
        if self.on_page is not None:
            before = len(self.ids)
            self.ids.update(entry.get("id") for entry in page.entries)
            self.on_page(len(self.ids) - before)


def fetch_stable(
    fetch_page: Callable[[int], Page], *, max_concurrency: int = 8, on_page: OnPage | None = None
) -> FetchResult:
    """Return every entry of a range that cannot change, fetching pages 2.. concurrently.

    Complete when the unique entries equal the count and every page reported
    the same count. ``on_page(n)`` is called in the calling thread after each
    page with the number of new entries it brought.

    >>> pages = {1: Page([{"id": "b"}, {"id": "a"}], count=3, page=1, take=2, size=0),
    ...          2: Page([{"id": "c"}], count=3, page=2, take=2, size=0)}
    >>> result = fetch_stable(pages.__getitem__)
    >>> [e["id"] for e in result.entries], result.complete, result.requests
    (['b', 'a', 'c'], True, 2)
    """
    first = fetch_page(1)
    pages = [first]
    progress = _Progress(on_page)
    progress.report(first)
    last = math.ceil(first.count / first.take)
    if last > 1:
        pool = ThreadPoolExecutor(max_workers=min(max_concurrency, last - 1))
        try:
            pending: set[Future[Page]] = {
                pool.submit(fetch_page, number) for number in range(2, last + 1)
            }
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    pages.append(future.result())  # a failed page raises here: stop
                    progress.report(pages[-1])
        except BaseException:
            # a failed page or Ctrl-C: drop the pages not started and do not wait for
            # the ones in flight (they may be sleeping in a retry or the rate limiter)
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
    pages.sort(key=lambda page: page.page)
    ordered = _Collector()
    for page in pages:
        ordered.add(page)
    counts = {page.count for page in pages}
    complete = len(counts) == 1 and len(ordered.by_id) == first.count
    return ordered.result(max(counts), complete)


def fetch_live(
    fetch_page: Callable[[int], Page],
    *,
    on_page: OnPage | None = None,
    max_passes: int = MAX_LIVE_PASSES,
) -> FetchResult:
    """Return every entry of a range that grows at the front while we read it.

    Pages are read one after another from page 1, deduplicated by id, and
    after every page the unique entries are compared with that same answer's
    ``pagination-count``.

    Why ``complete=True`` is never wrong: the log is append-only, so every
    entry we hold still exists when a later page is answered. Holding as many
    unique entries as that answer's count means holding exactly the set the
    server had at that instant: nothing lost, and nothing doubled (by id).

    Why it gets there: between two reads entries only move backwards (new ones
    push everything down), so reading pages in order until a short page sees
    every entry that existed when page 1 was read: an entry can move from
    page p to p+1, where we see it again, but never jump over the page being
    read. Only newcomers can then be missing, and all of them are newer than
    the top entry of that page 1 (the anchor). A further pass from page 1 that
    reads on until it meets the anchor (or a short page) therefore sees every
    entry that existed when it began; it costs about one page per 100
    newcomers, usually one request. A pass that runs far beyond the list's
    size sets no anchor, so the next pass reads the whole list again. After
    ``max_passes`` passes without reconciling, ``complete`` is False and the
    caller must not treat the range as whole.

    >>> pages = {1: Page([{"id": "b", "created_at": "2026-10-14T08:00:01Z"},
    ...                   {"id": "a", "created_at": "2026-10-14T08:00:00Z"}],
    ...                  count=2, page=1, take=100, size=0)}
    >>> result = fetch_live(pages.__getitem__)
    >>> [e["id"] for e in result.entries], result.complete, result.requests
    (['b', 'a'], True, 1)
    """
    seen = _Collector(on_page)
    count = 0
    anchor: Any = None
    for sweep in range(1, max_passes + 1):
        seen.sweep = sweep
        first = fetch_page(1)
        top = first.entries[0].get("id") if first.entries else None
        # a pass that chases an ever-growing list gives up, and then sets no anchor
        last = 2 * math.ceil(first.count / first.take) + 2
        page = first
        while True:
            seen.add(page)
            count = page.count
            if len(seen.by_id) == count:
                return seen.result(count, True)
            if len(seen.by_id) > count:
                # the server forgot entries it had shown: no pass can reconcile that
                return seen.result(count, False)
            if page.is_short or (
                anchor is not None and any(entry.get("id") == anchor for entry in page.entries)
            ):
                anchor = top
                break
            if page.page >= last:
                anchor = None
                break
            page = fetch_page(page.page + 1)
    return seen.result(count, False)


def _created_at(entry: Entry) -> datetime:
    """Return an entry's timestamp for ordering; unreadable ones sort last."""
    try:
        stamp = datetime.fromisoformat(entry["created_at"])
    except (KeyError, TypeError, ValueError):
        return datetime.min.replace(tzinfo=UTC)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
