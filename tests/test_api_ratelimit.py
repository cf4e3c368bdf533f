"""The client's rate limiter, driven by a fake clock so nothing waits for real."""

from __future__ import annotations

import logging
import threading

import httpx2
import pytest
from helpers import FakeTime

from auditlab.api.ratelimit import Budget, RateLimiter, read_budget
from auditlab.errors import InvalidQuery


def make_limiter(limit: int, time: FakeTime, *, slack: float = 0.0) -> RateLimiter:
    return RateLimiter(limit, window=60.0, slack=slack, clock=time.clock, sleep=time.sleep)


def send(limiter: RateLimiter, time: FakeTime, *, latency: float = 0.0) -> float:
    """Send one request through the limiter; return the moment it was sent."""
    with limiter.slot() as sent:
        assert sent == time.clock()
        time.advance_to(sent + latency)
    return sent


def test_requests_leave_evenly_spaced_never_in_a_burst() -> None:
    time = FakeTime()
    limiter = make_limiter(3, time)
    assert [send(limiter, time) for _ in range(4)] == [0.0, 20.0, 40.0, 60.0]
    assert time.sleeps == [20.0, 20.0, 20.0]


def test_slack_lengthens_the_interval_by_that_fraction() -> None:
    time = FakeTime()
    limiter = make_limiter(1, time, slack=0.01)
    send(limiter, time)
    assert send(limiter, time) == pytest.approx(60.6)


def test_window_counts_from_the_answer_so_slow_requests_cannot_bunch_up() -> None:
    time = FakeTime()
    limiter = make_limiter(1, time)
    send(limiter, time, latency=2.5)
    assert send(limiter, time) == 62.5
    assert sum(time.sleeps) == 60.0


def test_a_request_a_little_late_keeps_the_schedule() -> None:
    time = FakeTime()
    limiter = make_limiter(2, time)  # one every 30 s
    send(limiter, time)
    time.advance_to(40.0)  # 10 s late
    assert [send(limiter, time) for _ in range(2)] == [40.0, 60.0]


def test_a_late_schedule_catches_up_at_most_three_back_to_back() -> None:
    time = FakeTime()
    limiter = make_limiter(8, time)  # one every 7.5 s
    send(limiter, time)
    time.advance_to(20.0)  # the slots at 7.5 and 15 were missed
    assert [send(limiter, time) for _ in range(4)] == [20.0, 20.0, 22.5, 30.0]


def test_after_idle_time_no_credit_is_saved_up() -> None:
    time = FakeTime()
    limiter = make_limiter(2, time)
    send(limiter, time)
    time.advance_to(100.0)
    assert [send(limiter, time) for _ in range(3)] == [100.0, 130.0, 160.0]


def test_in_window_counts_in_flight_and_recent_requests() -> None:
    time = FakeTime()
    limiter = make_limiter(5, time)
    send(limiter, time)
    limiter.acquire()
    assert limiter.in_window() == 2
    time.advance_to(73.0)
    assert limiter.in_window() == 1  # the answered one left; the in-flight one stays
    limiter.release()


def test_at_the_ceiling_with_every_slot_in_flight_the_next_waits_for_an_answer() -> None:
    time = FakeTime()
    limiter = make_limiter(1, time)
    limiter.acquire()
    time.advance_to(100.0)  # pacing allows the next one; the ceiling does not
    acquired = threading.Event()

    def second() -> None:
        limiter.acquire()
        acquired.set()

    worker = threading.Thread(target=second)
    worker.start()
    assert not acquired.wait(0.05)
    limiter.release()  # answered at t=100: the slot frees at t=160
    assert acquired.wait(5)
    worker.join()
    assert time.sleeps == [60.0]


def test_many_threads_never_exceed_the_ceiling_in_any_window() -> None:
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


def test_a_429_cuts_to_what_the_server_accepted_in_the_last_window() -> None:
    time = FakeTime()
    limiter = make_limiter(100, time)
    for _ in range(80):
        limiter.succeeded()
    limiter.throttled(sent=0.0)
    assert limiter.rate == 80.0
    assert send(limiter, time) == 0.0
    assert send(limiter, time) == 0.75  # now one every 60/80 s


@pytest.mark.parametrize(
    ("accepted", "rate"),
    # nothing or little accepted: never below 60%; nearly everything: at least 10% off
    [(0, 60.0), (30, 60.0), (95, 90.0), (200, 90.0)],
)
def test_a_cut_takes_between_10_and_40_percent(accepted: int, rate: float) -> None:
    limiter = make_limiter(100, FakeTime())
    for _ in range(accepted):
        limiter.succeeded()
    limiter.throttled(sent=0.0)
    assert limiter.rate == rate


def test_only_requests_accepted_within_the_window_count_as_granted() -> None:
    time = FakeTime()
    limiter = make_limiter(100, time)
    for _ in range(80):
        limiter.succeeded()
    time.advance_to(61.0)
    limiter.throttled(sent=61.0)
    assert limiter.rate == 60.0


def test_429s_of_one_round_cut_once() -> None:
    time = FakeTime()
    limiter = make_limiter(100, time)
    first, second = limiter.acquire(), limiter.acquire()  # both sent before any answer
    time.advance_to(1.0)
    limiter.throttled(first)
    limiter.throttled(second)
    assert limiter.rate == 60.0
    later = limiter.acquire()  # sent after the cut: its 429 is news
    limiter.throttled(later)
    assert limiter.rate == 36.0


def test_accepted_requests_climb_back_in_a_straight_line_to_the_ceiling() -> None:
    limiter = make_limiter(100, FakeTime())
    limiter.throttled(sent=0.0)  # 60 per window
    rates = []
    for _ in range(3):
        for _ in range(round(limiter.rate)):  # one window's worth of answers
            limiter.succeeded()
        rates.append(limiter.rate)
    assert rates == pytest.approx([61.2, 62.4, 63.6], abs=0.05)  # 2% of 60 per window
    for _ in range(10_000):
        limiter.succeeded()
    assert limiter.rate == 100.0


def test_the_rate_never_falls_below_one_request_per_window() -> None:
    limiter = make_limiter(2, FakeTime())
    for _ in range(10):
        limiter.throttled(sent=float("inf"))
    assert limiter.rate == 1.0


def test_pause_holds_every_request_until_it_ends() -> None:
    time = FakeTime()
    limiter = make_limiter(100, time)
    send(limiter, time)
    limiter.pause(7.5)
    limiter.pause(2.0)  # a shorter pause never cuts a longer one short
    assert send(limiter, time) == 7.5
    assert send(limiter, time) == 8.1  # then paced again: one every 0.6 s
    assert time.sleeps == [7.5, pytest.approx(0.6)]


def test_a_server_limit_with_its_window_lowers_the_ceiling_and_the_rate() -> None:
    time = FakeTime()
    limiter = make_limiter(500, time)
    limiter.note(Budget(remaining=9, reset=1.0, limit=5, window=1.0))  # 5/s = 300/min
    assert (limiter.ceiling, limiter.rate, limiter.limit) == (300, 300.0, 500)
    limiter.note(Budget(remaining=9, reset=1.0, limit=50, window=1.0))  # never above ours
    assert limiter.ceiling == 500


def test_a_budget_spent_by_another_consumer_holds_every_request_until_the_reset() -> None:
    time = FakeTime()
    limiter = make_limiter(100, time)
    send(limiter, time)
    limiter.note(Budget(remaining=0, reset=12.0))
    assert send(limiter, time) == 12.0
    assert limiter.rate == 100.0  # a budget running low is not a refusal


def test_a_budget_left_for_the_requests_in_flight_still_holds_the_next() -> None:
    time = FakeTime()
    limiter = make_limiter(100, time)
    limiter.acquire()
    limiter.acquire()
    limiter.note(Budget(remaining=2, reset=5.0))
    assert limiter.paused_for() == 5.0
    limiter.note(Budget(remaining=3, reset=30.0))
    assert limiter.paused_for() == 5.0


def test_a_budget_this_process_spent_is_left_to_the_ceiling() -> None:
    time = FakeTime()
    limiter = make_limiter(2, time)
    send(limiter, time)
    send(limiter, time)
    limiter.note(Budget(remaining=0, reset=50.0))  # our own two requests spent it
    assert limiter.paused_for() == 0.0


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
    assert record.getMessage() == (
        "rate limit: pacing at 1 requests per 60 s (at most 1); waited 60.00 s"
    )


def test_a_429_is_reported_with_the_new_rate(caplog: pytest.LogCaptureFixture) -> None:
    limiter = make_limiter(100, FakeTime())
    with caplog.at_level(logging.INFO, logger="auditlab"):
        limiter.throttled(sent=0.0)
    assert caplog.messages == [
        "rate limit: the server answered 429; slowing to 60 requests per 60 s"
    ]


@pytest.mark.parametrize("limit", [0, -5, 2.5, True, "500"])
def test_bad_rate_limit_is_refused_naming_the_parameter(limit: object) -> None:
    with pytest.raises(InvalidQuery) as caught:
        RateLimiter(limit)  # type: ignore[arg-type]
    assert caught.value.parameter == "rate_limit"
    assert "rate_limit" in str(caught.value)


@pytest.mark.parametrize(
    "tuning",
    [{"window": 0}, {"slack": 1.0}, {"recovery": -0.1}, {"sharp_decrease": 0.0},
     {"decrease": 1.0}, {"decrease": 0.5}],
)  # fmt: skip
def test_bad_tuning_is_refused_naming_the_parameter(tuning: dict[str, float]) -> None:
    with pytest.raises(InvalidQuery) as caught:
        RateLimiter(100, **tuning)  # type: ignore[arg-type]
    assert caught.value.parameter == next(iter(tuning))


@pytest.mark.parametrize(
    ("headers", "budget"),
    [
        ({"RateLimit-Remaining": "7", "RateLimit-Reset": "12"}, Budget(7, 12.0)),
        ({"RateLimit-Limit": "100", "RateLimit-Remaining": "0", "RateLimit-Reset": "3",
          "RateLimit-Policy": "100;w=60, 1000;w=3600"}, Budget(0, 3.0, 100, 60.0)),
        ({"RateLimit": '"default";r=4;t=9', "RateLimit-Policy": '"default";q=50;w=10'},
         Budget(4, 9.0, 50, 10.0)),
        ({"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999",
          "X-RateLimit-Reset": "2"}, Budget(4999, 2.0)),  # a limit without a window: unused
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1793004830",
          "Date": "Mon, 26 Oct 2026 08:53:20 GMT"}, Budget(0, 30.0)),  # a Unix time
        ({"RateLimit-Remaining": "lots", "RateLimit-Reset": "-3"}, None),
        ({"Content-Type": "application/json"}, None),
    ],
    ids=["draft", "draft-policy", "structured", "x-seconds", "x-unix-time", "garbage", "none"],
)  # fmt: skip
def test_rate_limit_headers_are_read_in_each_common_spelling(
    headers: dict[str, str], budget: Budget | None
) -> None:
    response = httpx2.Headers(headers)
    assert read_budget(response, date=response.get("date")) == budget
