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

Either stops early, without raising, when a page cannot be had
(``RetriesExhausted``): the result holds what was read, ``complete`` is False
and ``stopped`` says why. For a stable range, ``whole_after`` then says how
far back the result is whole anyway (see ``_whole_after``), so a caller keeps
those days instead of losing the range.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
import orjson

from auditlab.errors import RetriesExhausted

Entry = dict[str, Any]
OnPage = Callable[[int], None]

# Each pass after the first usually costs one request (page 1 holds the newcomers).
MAX_LIVE_PASSES = 8


class EntryKey(msgspec.Struct, frozen=True, gc=False):
    """What paging needs of an entry: its ``id`` (to dedupe) and ``created_at`` (to order)."""

    id: str | None = None
    created_at: str | None = None


# Reads only the two keys of each object; every other field is skipped, not built.
_KEYS_DECODER = msgspec.json.Decoder(list[EntryKey])


def _keys_of(body: bytes) -> tuple[list[EntryKey], int]:
    """Return the keys of the body's JSON objects and the number of items in its array.

    Raises ValueError when the body is not JSON, TypeError when it is not an array.
    """
    try:
        keys = _KEYS_DECODER.decode(body)
        return keys, len(keys)
    except msgspec.ValidationError:
        pass  # JSON of another shape (an item not an object, an id not text): read it whole
    except msgspec.DecodeError as error:
        raise ValueError(f"not JSON: {error}") from None
    items = orjson.loads(body)
    if not isinstance(items, list):
        raise TypeError(f"a JSON {type(items).__name__}, not the array of entries")
    keys = [
        EntryKey(_text(item.get("id")), _text(item.get("created_at")))
        for item in items
        if isinstance(item, dict)
    ]
    return keys, len(items)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Page:
    """One answered page: its raw body, the server's total count and what it cost.

    The body is kept as the server sent it (the frame layer builds columns
    straight from it); ``keys`` holds the id and ``created_at`` of each JSON
    object in it, in order, and ``length`` the number of items in its array.
    ``requests`` counts the HTTP requests this page took, retries included.

    >>> page = Page.of([{"id": "b"}, {"id": "a"}], count=5, page=1, take=2)
    >>> page
    Page(page=1, take=2, entries=<2>, count=5, size=23, requests=1)
    >>> [key.id for key in page.keys], page.is_short
    (['b', 'a'], False)
    """

    body: bytes
    keys: list[EntryKey]
    length: int
    count: int
    page: int
    take: int
    requests: int = 1

    @classmethod
    def from_body(cls, body: bytes, *, count: int, page: int, take: int) -> Page:
        """Return the page of a JSON-array response body.

        Raises ValueError when the body is not JSON (e.g. cut short) and
        TypeError when it is JSON but not an array.
        """
        keys, length = _keys_of(body)
        return cls(body, keys, length, count, page, take)

    @classmethod
    def of(cls, entries: list[Any], *, count: int, page: int, take: int) -> Page:
        """Return the page whose body holds these entries, as a server would send them."""
        return cls.from_body(orjson.dumps(entries), count=count, page=page, take=take)

    def __repr__(self) -> str:
        return (
            f"Page(page={self.page}, take={self.take}, entries=<{len(self.keys)}>, "
            f"count={self.count}, size={self.size}, requests={self.requests})"
        )

    @property
    def size(self) -> int:
        """Return the body's size in bytes."""
        return len(self.body)

    @property
    def entries(self) -> list[Entry]:
        """Return the page's entries as dicts (parsed on each call; items not objects skipped)."""
        return [item for item in orjson.loads(self.body) if isinstance(item, dict)]

    @property
    def is_short(self) -> bool:
        """Return True when the page holds fewer entries than asked: the list ends here."""
        return self.length < self.take


@dataclass
class FetchResult:
    """The entries of one range, deduplicated by id, newest first, and how sure we are.

    The entries stay in the raw bodies of ``pages``: ``rows`` numbers the
    JSON objects of all those bodies one after another (0, 1, ...) and lists
    the ones kept, in result order, so the frame layer builds the table
    straight from the bodies (``auditlab.frame.pages_to_table(result.bodies,
    result.rows)``). ``complete`` is True only when the unique entries
    reconciled with the server's ``pagination-count``; ``requests`` counts
    HTTP requests, retries included. ``stopped`` is the error that ended the
    fetch early (a page whose retries ran out), else None; ``whole_after`` is
    set only then, for a stable range: every entry of the range whose
    ``created_at`` is later than it is in the result. The repr shows how many
    entries, not the entries.

    >>> result = FetchResult([Page.of([{"id": "a"}], count=1, page=1, take=100)], rows=[0],
    ...                      server_count=1, complete=True, requests=1)
    >>> result, result.entries
    (FetchResult(entries=<1>, server_count=1, complete=True, requests=1), [{'id': 'a'}])
    """

    pages: list[Page]
    rows: list[int]
    server_count: int
    complete: bool
    requests: int
    stopped: Exception | None = None
    whole_after: str | None = None

    def __repr__(self) -> str:
        stopped = f", stopped={type(self.stopped).__name__}" if self.stopped else ""
        return (
            f"FetchResult(entries=<{len(self.rows)}>, server_count={self.server_count}, "
            f"complete={self.complete}, requests={self.requests}{stopped})"
        )

    @property
    def bodies(self) -> list[bytes]:
        """Return the raw bodies the rows number into, in order."""
        return [page.body for page in self.pages]

    @property
    def entries(self) -> list[Entry]:
        """Return the kept entries as dicts, in result order (parsed on each call)."""
        every = [entry for page in self.pages for entry in page.entries]
        return [every[row] for row in self.rows]


def _identity(key: EntryKey) -> Any:
    """Return what deduplicates an entry: its id; one without an id matches nothing."""
    return key.id or object()


@dataclass
class _Collector:
    """Unique entries by id, in first-seen order, plus the running cost.

    ``sweep`` numbers the pass over the list an entry was first seen in: a
    newcomer found by a later pass is newer than the entries of the same
    second found before it, which orders ties the way the server does. Only
    pages that brought a new entry are kept.
    """

    on_page: OnPage | None = None
    pages: list[Page] = field(default_factory=list)
    seen: set[Any] = field(default_factory=set)
    rows: list[int] = field(default_factory=list)
    stamps: list[str | None] = field(default_factory=list)
    sweeps: list[int] = field(default_factory=list)
    numbered: int = 0  # objects in the kept pages so far
    requests: int = 0
    sweep: int = 0

    def add(self, page: Page) -> None:
        before = len(self.rows)
        for index, key in enumerate(page.keys):
            identity = _identity(key)
            if identity not in self.seen:
                self.seen.add(identity)
                self.rows.append(self.numbered + index)
                self.stamps.append(key.created_at)
                self.sweeps.append(self.sweep)
        if len(self.rows) > before:
            self.pages.append(page)
            self.numbered += len(page.keys)
        self.requests += page.requests
        if self.on_page is not None:
            self.on_page(len(self.rows) - before)

    def result(self, server_count: int, complete: bool) -> FetchResult:
        """Return the entries newest first: by timestamp, then later sweep, then server order."""
        rows = self.rows
        if self.sweep:
            order = sorted(
                range(len(rows)),
                key=lambda n: (_created_at(self.stamps[n]), self.sweeps[n], -n),
                reverse=True,
            )
            rows = [rows[n] for n in order]
        return FetchResult(self.pages, rows, server_count, complete, self.requests)


@dataclass
class _Progress:
    """Calls on_page with the new ids each page brought, as pages arrive in any order."""

    on_page: OnPage | None
    ids: set[Any] = field(default_factory=set)

    def report(self, page: Page) -> None:
        if self.on_page is not None:
            before = len(self.ids)
            self.ids.update(map(_identity, page.keys))
            self.on_page(len(self.ids) - before)


def fetch_stable(
    fetch_page: Callable[[int], Page], *, max_concurrency: int = 8, on_page: OnPage | None = None
) -> FetchResult:
    """Return every entry of a range that cannot change, fetching pages 2.. concurrently.

    Complete when the unique entries equal the count and every page reported
    the same count. ``on_page(n)`` is called in the calling thread after each
    page with the number of new entries it brought. A page whose retries run
    out stops the fetch: the pages not started are dropped, those in flight
    are not waited for, and the result holds the pages read contiguously from
    page 1, with ``stopped`` and ``whole_after`` set.

    >>> pages = {1: Page.of([{"id": "b"}, {"id": "a"}], count=3, page=1, take=2),
    ...          2: Page.of([{"id": "c"}], count=3, page=2, take=2)}
    >>> result = fetch_stable(pages.__getitem__)
    >>> [e["id"] for e in result.entries], result.complete, result.requests
    (['b', 'a', 'c'], True, 2)
    """
    try:
        first = fetch_page(1)
    except RetriesExhausted as error:
        return FetchResult([], [], 0, False, 0, stopped=error)
    pages = [first]
    progress = _Progress(on_page)
    progress.report(first)
    last = math.ceil(first.count / first.take)
    stopped: RetriesExhausted | None = None
    if last > 1:
        pool = ThreadPoolExecutor(max_workers=min(max_concurrency, last - 1))
        try:
            pending: set[Future[Page]] = {
                pool.submit(fetch_page, number) for number in range(2, last + 1)
            }
            while pending and stopped is None:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    try:
                        pages.append(future.result())
                    except RetriesExhausted as error:
                        stopped = stopped or error
                        continue
                    progress.report(pages[-1])
        except BaseException:
            # another error or Ctrl-C: give up the pool as below, then let it rise
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        # after a lost page: drop the pages not started and do not wait for the ones
        # in flight (they may be sleeping in a retry or the rate limiter)
        pool.shutdown(wait=stopped is None, cancel_futures=True)
    pages.sort(key=lambda page: page.page)
    if stopped is not None:
        return _stopped_early(pages, stopped)
    ordered = _Collector()
    for page in pages:
        ordered.add(page)
    counts = {page.count for page in pages}
    complete = len(counts) == 1 and len(ordered.rows) == first.count
    return ordered.result(max(counts), complete)


def _stopped_early(pages: list[Page], stopped: RetriesExhausted) -> FetchResult:
    """Return the result of a stable fetch that lost a page: its pages 1..k without a gap."""
    prefix = []
    for page in pages:  # sorted by number
        if page.page != len(prefix) + 1:
            break
        prefix.append(page)
    ordered = _Collector()
    for page in prefix:
        ordered.add(page)
    result = ordered.result(prefix[0].count, False)
    result.stopped = stopped
    result.whole_after = _whole_after(prefix, len(ordered.rows))
    return result


def _whole_after(prefix: list[Page], unique: int) -> str | None:
    """Return the created_at after which a stable range's pages 1..k hold every entry.

    Why that is never wrong: the range cannot change (it ends before today,
    and the log is append-only), and every page of the prefix was answered
    with the same count, so they all saw one and the same list: had an entry
    arrived between two answers, the count would differ. Pages 1..k of one
    list, without a gap and without a repeated id, are its first
    ``k * take`` entries, and the list is newest first by ``created_at``
    (checked here, not assumed). So every entry of the range newer than the
    oldest one read is among them: for a UTC day after that entry's day,
    every entry of the day was read. None when any of this does not hold
    (counts differ, an id repeats, a page is not full, a ``created_at`` is
    missing or out of order): then nothing is claimed.

    >>> pages = [Page.of([{"id": "b", "created_at": "2026-10-14T08:00:01Z"},
    ...                   {"id": "a", "created_at": "2026-10-13T23:00:00Z"}],
    ...                  count=5, page=1, take=2)]
    >>> _whole_after(pages, 2)
    '2026-10-13T23:00:00Z'
    """
    keys = [key for page in prefix for key in page.keys]
    if not keys or unique != len(keys) or len({page.count for page in prefix}) != 1:
        return None
    if not all(page.length == page.take == len(page.keys) for page in prefix):
        return None
    stamps = [_created_at(key.created_at) for key in keys]
    if any(key.created_at is None for key in keys) or stamps != sorted(stamps, reverse=True):
        return None
    return keys[-1].created_at


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
    read. Only newcomers can then be missing, and almost all of them are newer
    than the top entry of that page 1 (the anchor). A further pass from page 1
    that reads on until it meets the anchor (or a short page) therefore sees
    every entry that existed when it began; it costs about one page per 100
    newcomers, usually one request. An entry written late (its ``created_at``
    older than the anchor's) lands behind the anchor instead: a pass that
    meets the anchor without finding anything new shows that, and so does a
    pass that runs far beyond the list's size; either sets no anchor, so the
    next pass reads the whole list again. After
    ``max_passes`` passes without reconciling, ``complete`` is False and the
    caller must not treat the range as whole. A page whose retries run out
    ends it the same way, with ``stopped`` set.

    >>> pages = {1: Page.of([{"id": "b", "created_at": "2026-10-14T08:00:01Z"},
    ...                      {"id": "a", "created_at": "2026-10-14T08:00:00Z"}],
    ...                     count=2, page=1, take=100)}
    >>> result = fetch_live(pages.__getitem__)
    >>> [e["id"] for e in result.entries], result.complete, result.requests
    (['b', 'a'], True, 1)
    """
    seen = _Collector(on_page)
    count = 0
    anchor: Any = None
    try:
        for sweep in range(1, max_passes + 1):
            seen.sweep = sweep
            found_before = len(seen.rows)
            first = fetch_page(1)
            top = first.keys[0].id if first.keys else None
            # a pass that chases an ever-growing list gives up, and then sets no anchor
            last = 2 * math.ceil(first.count / first.take) + 2
            page = first
            while True:
                seen.add(page)
                count = page.count
                if len(seen.rows) == count:
                    return seen.result(count, True)
                if len(seen.rows) > count:
                    # the server forgot entries it had shown: no pass can reconcile that
                    return seen.result(count, False)
                if page.is_short:
                    anchor = top
                    break
                if anchor is not None and any(key.id == anchor for key in page.keys):
                    # nothing new before the anchor: what is missing was written late,
                    # behind it, so the next pass reads the whole list again
                    anchor = top if len(seen.rows) > found_before else None
                    break
                if page.page >= last:
                    anchor = None
                    break
                page = fetch_page(page.page + 1)
    except RetriesExhausted as error:
        result = seen.result(count, False)
        result.stopped = error
        return result
    return seen.result(count, False)


def _created_at(stamp: str | None) -> datetime:
    """Return an entry's timestamp for ordering; a missing or unreadable one sorts last."""
    try:
        moment = datetime.fromisoformat(stamp)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
