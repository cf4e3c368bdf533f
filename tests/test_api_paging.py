"""Paging strategies over a log that moves exactly as Invent's does (pure, no HTTP)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from auditlab.api.paging import FetchResult, Page, fetch_live, fetch_stable
from auditlab.errors import RetriesExhausted


class MovingLog:
    """An append-only log, newest first, that gains ``arrivals`` entries after each read."""

    def __init__(self, size: int, *, arrivals: int = 0, take: int = 100) -> None:
        self.entries = [self._entry(n) for n in range(size, 0, -1)]
        self.arrivals = arrivals
        self.take = take
        self.reads: list[int] = []
        self._lock = threading.Lock()

    @staticmethod
    def _entry(n: int) -> dict[str, str]:
        return {
            "id": f"alog_{n:06d}",
            "created_at": f"2026-10-14T{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z",
        }

    def page(self, number: int) -> Page:
        with self._lock:
            self.reads.append(number)
            start = (number - 1) * self.take
            answer = Page.of(
                self.entries[start : start + self.take],
                count=len(self.entries),
                page=number,
                take=self.take,
            )
            newest = len(self.entries)
            for n in range(newest + 1, newest + 1 + self.arrivals):
                self.entries.insert(0, self._entry(n))
            return answer


def ids(entries: list[dict[str, str]]) -> list[str]:
    return [entry["id"] for entry in entries]


def assert_incomplete_without_duplicates(result: FetchResult) -> None:
    assert not result.complete
    assert len(set(ids(result.entries))) == len(result.entries)


def test_stable_fetch_reads_each_page_once_and_keeps_server_order() -> None:
    log = MovingLog(1234)
    seen: list[int] = []
    result = fetch_stable(log.page, max_concurrency=4, on_page=seen.append)
    assert ids(result.entries) == ids(log.entries)
    assert result.complete and result.server_count == 1234
    assert result.requests == 13 and sorted(log.reads) == list(range(1, 14))
    assert sum(seen) == 1234 and len(seen) == 13


def test_stable_progress_is_reported_as_each_page_arrives() -> None:
    log = MovingLog(300)
    reports: list[int] = []
    second_reported = threading.Event()

    def on_page(added: int) -> None:
        reports.append(added)
        if len(reports) == 2:
            second_reported.set()

    def page(number: int) -> Page:
        if number == 3 and not second_reported.wait(5):
            raise AssertionError("page 2 was not reported while page 3 was still running")
        return log.page(number)

    result = fetch_stable(page, max_concurrency=2, on_page=on_page)
    assert result.complete and reports == [100, 100, 100]


def test_stable_fetch_of_an_empty_range_costs_one_request() -> None:
    log = MovingLog(0)
    result = fetch_stable(log.page)
    assert result.entries == [] and result.complete and result.requests == 1


def test_stable_fetch_of_a_moving_range_is_not_complete() -> None:
    log = MovingLog(250, arrivals=1)
    assert_incomplete_without_duplicates(fetch_stable(log.page, max_concurrency=1))


def test_stable_fetch_fails_at_once_dropping_pages_not_started() -> None:
    log = MovingLog(1000)
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def failing(number: int) -> Page:
        if number == 5:
            raise RuntimeError("page 5 broke")
        if number == 6:  # may be in flight when page 5 fails: it must not be waited for
            started.set()
            release.wait(5)
            finished.set()
        return log.page(number)

    with pytest.raises(RuntimeError, match="page 5 broke"):
        fetch_stable(failing, max_concurrency=1)
    assert not finished.is_set()
    release.set()
    if started.is_set():
        assert finished.wait(5)
    assert set(log.reads) - {6} == {1, 2, 3, 4}  # 7..10 never start


def losing(log: MovingLog, lost: int) -> Callable[[int], Page]:
    """Return log.page, except that page ``lost`` runs out of retries."""

    def page(number: int) -> Page:
        if number == lost:
            raise RetriesExhausted(f"GET page {number}: gave up after 6 tries")
        return log.page(number)

    return page


def test_stable_fetch_that_loses_a_page_keeps_the_pages_before_it_and_how_far_they_hold() -> None:
    log = MovingLog(1000)
    result = fetch_stable(losing(log, 5), max_concurrency=1)
    assert isinstance(result.stopped, RetriesExhausted) and not result.complete
    assert ids(result.entries) == ids(log.entries[:400])
    assert result.whole_after == log.entries[399]["created_at"]
    assert result.server_count == 1000


def test_stable_fetch_that_loses_page_one_keeps_nothing() -> None:
    result = fetch_stable(losing(MovingLog(300), 1))
    assert result.entries == [] and result.whole_after is None
    assert isinstance(result.stopped, RetriesExhausted)


def test_stable_pages_that_saw_the_list_move_claim_nothing_whole() -> None:
    log = MovingLog(1000, arrivals=1)  # every answer sees another count
    result = fetch_stable(losing(log, 5), max_concurrency=1)
    assert result.stopped is not None and result.whole_after is None


def test_stable_pages_out_of_time_order_claim_nothing_whole() -> None:
    log = MovingLog(1000)
    log.entries[150], log.entries[250] = log.entries[250], log.entries[150]
    result = fetch_stable(losing(log, 5), max_concurrency=1)
    assert result.stopped is not None and len(result.entries) == 400
    assert result.whole_after is None


def test_live_fetch_that_loses_a_page_returns_what_it_read_as_incomplete() -> None:
    log = MovingLog(500)
    result = fetch_live(losing(log, 3))
    assert isinstance(result.stopped, RetriesExhausted) and not result.complete
    assert ids(result.entries) == ids(log.entries[:200]) and result.whole_after is None


class LateLog(MovingLog):
    """A log that, once page ``after`` is read, gets an entry written late at ``at``."""

    def __init__(self, size: int, *, after: int, at: int) -> None:
        super().__init__(size)
        self.after, self.at, self.done = after, at, False

    def page(self, number: int) -> Page:
        answer = super().page(number)
        if number == self.after and not self.done:
            self.done = True
            older = self.entries[self.at]
            self.entries.insert(self.at, {**older, "id": older["id"] + "_late"})
        return answer


def test_live_fetch_finds_an_entry_written_late_behind_the_anchor() -> None:
    log = LateLog(250, after=2, at=120)  # lands on page 2, after the first pass read it
    result = fetch_live(log.page)
    assert result.complete and ids(result.entries) == ids(log.entries)
    assert log.reads == [1, 2, 3, 1, 1, 2]  # the anchored pass found nothing: read from the top


@pytest.mark.parametrize(("size", "arrivals"), [(0, 3), (99, 1), (100, 0), (450, 5), (1000, 37)])
def test_live_fetch_equals_the_log_at_the_end_with_no_duplicates(size: int, arrivals: int) -> None:
    log = MovingLog(size, arrivals=arrivals)
    result = fetch_live(log.page)
    # the last read added arrivals after answering; the result is the log as of that answer
    truth = log.entries[arrivals:]
    assert result.complete
    assert ids(result.entries) == ids(truth)
    assert result.server_count == len(truth)


def test_live_fetch_costs_one_request_per_page_plus_about_one_per_extra_pass() -> None:
    log = MovingLog(1000, arrivals=5)
    result = fetch_live(log.page)
    assert result.complete
    assert log.reads == [*range(1, 12), 1]
    assert result.requests == 12


def test_live_fetch_that_cannot_keep_up_says_it_is_incomplete() -> None:
    log = MovingLog(300, arrivals=150)
    assert_incomplete_without_duplicates(fetch_live(log.page, max_passes=3))


def test_live_on_page_reports_new_entries_only() -> None:
    log = MovingLog(250, arrivals=2)
    added: list[int] = []
    result = fetch_live(log.page, on_page=added.append)
    assert sum(added) == len(result.entries)


def test_page_keys_skip_items_that_are_not_objects_and_ids_that_are_not_text() -> None:
    body = b'[{"id": "alog_2", "created_at": "2026-10-14T08:00:01Z"}, 7, {"id": 5}, null]'
    page = Page.from_body(body, count=4, page=1, take=4)
    assert [(key.id, key.created_at) for key in page.keys] == [
        ("alog_2", "2026-10-14T08:00:01Z"),
        (None, None),
    ]
    assert page.length == 4 and not page.is_short
    assert page.entries == [{"id": "alog_2", "created_at": "2026-10-14T08:00:01Z"}, {"id": 5}]


@pytest.mark.parametrize(
    ("body", "error"),
    [(b'[{"id": "alog_1"}', ValueError), (b'{"id": "alog_1"}', TypeError), (b"", ValueError)],
    ids=["cut short", "an object", "empty"],
)
def test_page_of_a_body_that_is_not_a_json_array_raises(body: bytes, error: type) -> None:
    with pytest.raises(error):
        Page.from_body(body, count=1, page=1, take=100)


def test_rows_number_the_objects_of_the_kept_bodies_and_drop_doubles() -> None:
    first = Page.of([{"id": "c"}, {"id": "b"}], count=4, page=1, take=2)
    second = Page.of([{"id": "b"}, {"id": "a"}], count=4, page=2, take=2)
    result = fetch_stable({1: first, 2: second}.__getitem__)
    assert result.rows == [0, 1, 3] and result.bodies == [first.body, second.body]
    assert ids(result.entries) == ["c", "b", "a"]
    assert not result.complete  # 3 unique entries, the server counts 4


def test_a_page_that_brings_no_new_entry_is_not_kept() -> None:
    first = Page.of([{"id": "b"}, {"id": "a"}], count=4, page=1, take=2)
    again = Page.of([{"id": "b"}, {"id": "a"}], count=4, page=2, take=2)
    result = fetch_stable({1: first, 2: again}.__getitem__)
    assert result.pages == [first] and result.rows == [0, 1]


def test_live_rows_put_the_newcomers_of_a_later_pass_first() -> None:
    log = MovingLog(150, arrivals=1)
    result = fetch_live(log.page)
    assert result.complete and log.reads == [1, 2, 1]
    # rows 0-99 are page 1, 100-150 page 2 (one entry pushed over), 151- the second page 1,
    # whose first two entries are the two newcomers
    assert len(result.pages) == 3 and result.rows[:3] == [151, 152, 0]
    assert ids(result.entries) == ids(log.entries[1:])
