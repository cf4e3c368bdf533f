"""The sliding-window rate limiter, driven by a fake clock so nothing waits for real."""

from __future__ import annotations

import logging
import threading

import pytest
from helpers import FakeTime

from auditlab.api.ratelimit import RateLimiter
from auditlab.errors import InvalidQuery


def make_limiter(limit: int, time: FakeTime, *, slack: float = 0.0) -> RateLimiter:
    return RateLimiter(limit, window=60.0, slack=slack, clock=time.clock, sleep=time.sleep)


def send(limiter: RateLimiter, time: FakeTime, *, latency: float = 0.0) -> float:
    """Send one request through the limiter; return the moment it was sent."""
    with limiter.slot():
        sent = time.clock()
        time.advance_to(sent + latency)
    return sent


def test_requests_under_the_limit_never_wait() -> None:
    time = FakeTime()
    limiter = make_limiter(3, time)
    assert [send(limiter, time) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert time.sleeps == []


def test_request_over_the_limit_waits_until_the_oldest_leaves_the_window() -> None:
    time = FakeTime()
    limiter = make_limiter(3, time)
    for _ in range(3):
        send(limiter, time)
    time.advance_to(10.0)
    assert send(limiter, time) == 60.0
    assert time.sleeps == [50.0]


def test_slack_lengthens_the_window_by_that_fraction() -> None:
    time = FakeTime()
    limiter = make_limiter(1, time, slack=0.01)
    send(limiter, time)
    assert send(limiter, time) == pytest.approx(60.6)
    assert time.sleeps == [pytest.approx(60.6)]


def test_window_counts_from_the_answer_so_slow_requests_cannot_bunch_up() -> None:
    time = FakeTime()
    limiter = make_limiter(1, time)
    send(limiter, time, latency=2.5)
    assert send(limiter, time) == 62.5
    assert time.sleeps == [60.0]


def test_window_slides_instead_of_refilling_at_an_edge() -> None:
    time = FakeTime()
    limiter = make_limiter(2, time)
    send(limiter, time)  # t=0
    time.advance_to(30.0)
    send(limiter, time)  # t=30
    time.advance_to(59.0)
    assert send(limiter, time) == 60.0  # waits for t=0 to leave
    assert send(limiter, time) == 90.0  # t=30 and t=60 are still in the window
    assert time.sleeps == [1.0, 30.0]


def test_in_window_counts_in_flight_and_recent_requests() -> None:
    time = FakeTime()
    limiter = make_limiter(5, time)
    send(limiter, time)
    limiter.acquire()
    assert limiter.in_window() == 2
    time.advance_to(61.0)
    assert limiter.in_window() == 1  # the answered one left; the in-flight one stays
    limiter.release()


def test_at_the_limit_with_every_slot_in_flight_the_next_waits_for_an_answer() -> None:
    time = FakeTime()
    limiter = make_limiter(1, time)
    limiter.acquire()
    acquired = threading.Event()

    def second() -> None:
        limiter.acquire()
        acquired.set()

    worker = threading.Thread(target=second)
    worker.start()
    assert not acquired.wait(0.05)
    limiter.release()  # answered at t=0: the slot frees at t=60
    assert acquired.wait(5)
    worker.join()
    assert time.sleeps == [60.0]


def test_many_threads_never_exceed_the_limit_in_any_window() -> None:
    time = FakeTime()
    limiter = make_limiter(4, time)
    sent: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        moment = send(limiter, time, latency=0.0)
        with lock:
            sent.append(moment)

    threads = [threading.Thread(target=worker) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent.sort()
    assert len(sent) == 24
    for start in sent:
        assert sum(start <= moment < start + 60.0 for moment in sent) <= 4


def test_a_long_wait_is_reported_at_info_on_the_auditlab_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    time = FakeTime()
    limiter = make_limiter(1, time)
    send(limiter, time)
    with caplog.at_level(logging.DEBUG, logger="auditlab"):
        send(limiter, time)
    [record] = caplog.records
    assert record.name == "auditlab" and record.levelno == logging.INFO
    assert record.getMessage() == "rate limit: 1 requests per 60 s reached; waited 60.00 s"


@pytest.mark.parametrize("limit", [0, -5, 2.5, True, "500"])
def test_bad_rate_limit_is_refused_naming_the_parameter(limit: object) -> None:
    with pytest.raises(InvalidQuery) as caught:
        RateLimiter(limit)  # type: ignore[arg-type]
    assert caught.value.parameter == "rate_limit"
    assert "rate_limit" in str(caught.value)


def test_pause_holds_every_request_until_it_ends() -> None:
    time = FakeTime()
    limiter = make_limiter(100, time)
    send(limiter, time)
    limiter.pause(7.5)
    limiter.pause(2.0)  # a shorter pause never cuts a longer one short
    assert send(limiter, time) == 7.5
    assert send(limiter, time) == 7.5
    assert time.sleeps == [7.5]
