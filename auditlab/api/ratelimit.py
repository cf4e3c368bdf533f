"""One client-side rate limiter, shared by every request in flight, that learns the server's.

Invent allows "500 requests per minute per IP" and documents nothing more: not
how the minute is counted (a sliding window, fixed windows, a token bucket),
nor who else behind the same IP spends it. So ``rate_limit`` is a ceiling the
caller allows, and the limiter learns, below it, what the server grants.

Never above the ceiling. A request holds one of ``limit`` slots from the
moment it is sent until ``window * (1 + slack)`` seconds after its answer
arrived. The server counts a request at some instant between the two, so any
``limit + 1`` requests the server sees in one window of ``window`` seconds
would all have held a slot at the moment the last of them was sent: the
limiter would have made it wait. The slack (1%) absorbs clock rate
differences and the server's rounding of its window edges. A server that
counts the caller's limit as a sliding or fixed window therefore never
answers 429.

Evenly paced. Requests leave one every ``window * (1 + slack) / rate``
seconds, never in bursts: a token bucket with a small burst refuses a burst
that a minute's budget would allow. A request that leaves up to two
intervals late (a thread woke late on a busy machine) keeps the schedule, so
the next ones catch up, at most three back to back; one later than that, or
after idle time, starts a new schedule: no credit is saved up.

Learning the rate: AIMD, the rule TCP uses to share a link it cannot see.
``rate`` (requests per window) starts at the ceiling. A 429 sets it to the
number of requests the server accepted in the last window, what it has just
shown it grants, but never cuts less than to ``decrease`` (0.9) nor more than
to ``sharp_decrease`` (0.6) times the rate: multiplicative decrease, with the
factor read from the server. Once per round: a 429 for a request sent before
the last cut says nothing the cut did not already answer. Each accepted
request adds ``recovery * base / rate``, where ``base`` is the rate the last
cut left: the rate climbs back in a straight line, ``recovery`` (2%) of
``base`` per window's worth of answers. Why this and not a guess of the
algorithm: whatever the server counts, sending faster than it grants ends in
429s and slower never does, so a rate that backs off by a fraction on a 429
and probes upwards slowly settles just below the grant, and follows it when
another program behind the IP starts or stops spending. Reading the factor
from the last window finds a grant far below the ceiling in one or two 429s
(a sliding window shows it exactly) without cutting deep when the ceiling
was only a little high; the gentle 10% then keeps the rate within about 5%
of the grant at one 429 every few windows. ``benchmarks/limiters.py``
measures it against the sandbox's three algorithms. A 429 with a
``Retry-After`` the retry policy honours also pauses every request until then:
one 429 instead of one per request in flight.

Headers, when the server sends them (``RateLimit-*`` or ``X-RateLimit-*``,
see ``read_budget``): a limit with its window (``RateLimit-Policy: 500;w=60``)
lowers the ceiling to the server's own. An answer saying that no more than
the requests still in flight remain, while this process has not spent the
whole ceiling itself, means another consumer is spending it: that is a 429
foretold, so every request waits for the reset instead. (The rate is left
alone: a budget running low is not a refusal, and cutting on it too paced
well below the grant against the sandbox's token bucket.) When this process
spent it, the slots above already pace it.

Invent counts per IP, so ``shared_limiter`` gives every client of a process
that talks to one base URL, whatever org it asks for, the same limiter (one
per ``rate_limit``, the ceiling each caller chose).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from auditlab.checks import check_whole_number
from auditlab.errors import InvalidQuery

logger = logging.getLogger("auditlab")

INVENT_RATE_LIMIT = 500
WINDOW_SECONDS = 60.0
SLACK = 0.01
DECREASE = 0.9
SHARP_DECREASE = 0.6
RECOVERY = 0.02
# How many intervals late a request may leave and still keep the schedule.
CATCH_UP = 2
# Waits shorter than this are routine pacing and logged at DEBUG; longer ones at INFO.
NOTABLE_WAIT = 1.0
# A reset header larger than this is a moment (Unix time), not a number of seconds.
EPOCH_RESET = 1e9


@dataclass(frozen=True)
class Budget:
    """What a server's rate-limit headers said: requests left, seconds until more, its limit.

    ``limit`` counts requests per ``window`` seconds; both are None unless the
    server said both.

    >>> Budget(remaining=0, reset=12.0)
    Budget(remaining=0, reset=12.0, limit=None, window=None)
    """

    remaining: int | None
    reset: float | None
    limit: int | None = None
    window: float | None = None


def read_budget(headers: Mapping[str, str], *, date: str | None = None) -> Budget | None:
    """Return the budget a response's rate-limit headers describe, or None if they say nothing.

    Reads the IETF draft's ``RateLimit-Remaining``/``-Reset``/``-Limit`` with
    ``RateLimit-Policy: <limit>;w=<seconds>`` (or the newer ``RateLimit:
    r=..;t=..`` and ``RateLimit-Policy: q=..;w=..``), and the common
    ``X-RateLimit-*``. A reset may be seconds or a Unix time (measured from
    the response's ``Date`` when there is one). A limit without a window is
    ignored: "60" per second and "60" per hour would mean opposite things.
    ``headers`` must look names up case-insensitively (``httpx2.Headers``) or
    hold them in lower case.

    >>> read_budget({"ratelimit-remaining": "3", "ratelimit-reset": "20",
    ...              "ratelimit-limit": "500", "ratelimit-policy": "500;w=60"})
    Budget(remaining=3, reset=20.0, limit=500, window=60.0)
    >>> read_budget({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1793004830"},
    ...             date="Mon, 26 Oct 2026 08:53:20 GMT")
    Budget(remaining=0, reset=30.0, limit=None, window=None)
    >>> read_budget({"content-type": "application/json"}) is None
    True
    """
    remaining = _number(headers.get("ratelimit-remaining") or headers.get("x-ratelimit-remaining"))
    reset = _number(headers.get("ratelimit-reset") or headers.get("x-ratelimit-reset"))
    structured = headers.get("ratelimit")
    if structured:
        remaining = _number(_parameter(structured, "r"), remaining)
        reset = _number(_parameter(structured, "t"), reset)
    if reset is not None and reset > EPOCH_RESET:
        reset = max(0.0, reset - _unix_now(date))
    limit = window = None
    policy = headers.get("ratelimit-policy")
    if policy:
        first = policy.split(",")[0]
        window = _number(_parameter(first, "w"))
        limit = _number(_parameter(first, "q") or first.split(";")[0])
        if not (limit and window and limit >= 1):
            limit = window = None
    if remaining is None and limit is None:
        return None
    return Budget(
        None if remaining is None else max(0, int(remaining)),
        reset,
        None if limit is None else int(limit),
        window,
    )


def _parameter(text: str, name: str) -> str | None:
    match = re.search(rf"(?:^|;)\s*{name}\s*=\s*([0-9.]+)", text)
    return match.group(1) if match else None


def _number(text: str | None, default: float | None = None) -> float | None:
    try:
        value = float((text or "").strip())
    except ValueError:
        return default
    return value if math.isfinite(value) and value >= 0 else default


def _unix_now(date: str | None) -> float:
    try:
        moment = parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError, IndexError):
        moment = None
    return (moment or datetime.now(UTC)).timestamp()


class RateLimiter:
    """A limiter pacing requests evenly, never above ``limit`` per ``window`` seconds.

    Thread-safe; ``clock`` and ``sleep`` are injectable so tests never wait.
    ``decrease``, ``sharp_decrease`` and ``recovery`` tune how it learns (see
    the module's docstring); ``rate`` is what it allows now, in requests per
    window.

    >>> limiter = RateLimiter(500)
    >>> with limiter.slot():
    ...     pass  # send one request here
    >>> limiter.in_window(), limiter.rate
    (1, 500.0)
    """

    def __init__(
        self,
        limit: int = INVENT_RATE_LIMIT,
        *,
        window: float = WINDOW_SECONDS,
        slack: float = SLACK,
        decrease: float = DECREASE,
        sharp_decrease: float = SHARP_DECREASE,
        recovery: float = RECOVERY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        check_whole_number("rate_limit", limit, "requests per window, Invent allows 500/min")
        if not window > 0:
            raise InvalidQuery(f"window must be > 0 seconds, not {window!r}", parameter="window")
        for name, value, low, what in (
            ("slack", slack, 0, "0"),
            ("recovery", recovery, 0, "0"),
            ("sharp_decrease", sharp_decrease, 1e-9, "0 (excluded)"),
            ("decrease", decrease, sharp_decrease, "sharp_decrease"),
        ):
            if not low <= value < 1:
                raise InvalidQuery(
                    f"{name} must be from {what} to 1 (excluded), not {value!r}", parameter=name
                )
        self.limit = limit
        self.window = window
        self.hold = window * (1 + slack)
        self.decrease = decrease
        self.sharp_decrease = sharp_decrease
        self.recovery = recovery
        self.ceiling = limit
        self.rate = float(limit)
        self.last_success = -math.inf
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Condition()
        self._in_flight = 0
        self._expiries: deque[float] = deque()
        self._paused_until = -math.inf
        self._next_send = -math.inf
        self._accepted: deque[float] = deque()  # when answers the server accepted arrived
        self._last_sent = -math.inf
        self._cut_at = -math.inf
        self._base: float | None = None  # the rate the last cut left

    def __repr__(self) -> str:
        return f"RateLimiter(limit={self.limit}, window={self.window:g}, rate={self.rate:.4g})"

    @contextmanager
    def slot(self) -> Iterator[float]:
        """Wait for a slot, hold it while the request runs; yield the moment it was sent."""
        sent = self.acquire()
        try:
            yield sent
        finally:
            self.release()

    def acquire(self) -> float:
        """Block until one more request may be sent now; count it as sent and return the moment."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._drop_expired()
                if now < self._paused_until:
                    wait = self._paused_until - now
                elif now < self._next_send:
                    wait = self._next_send - now
                elif self._in_flight + len(self._expiries) < self.ceiling:
                    interval = self._interval()
                    if now - self._next_send > CATCH_UP * interval:
                        self._next_send = now  # idle, or far behind: no credit saved up
                    self._next_send += interval
                    self._last_sent = now
                    self._in_flight += 1
                    break
                elif not self._expiries:
                    # every slot is a request still in flight: wait for an answer
                    self._lock.wait()
                    continue
                else:
                    wait = self._expiries[0] - now
            self._sleep(wait)
            waited += wait
        if waited:
            level = logging.INFO if waited >= NOTABLE_WAIT else logging.DEBUG
            logger.log(
                level,
                "rate limit: pacing at %.4g requests per %g s (at most %d); waited %.2f s",
                self.rate,
                self.window,
                self.ceiling,
                waited,
            )
        return now

    def release(self) -> None:
        """Mark one request as answered; its slot frees ``window * (1 + slack)`` s later."""
        with self._lock:
            self._in_flight -= 1
            self._expiries.append(self._clock() + self.hold)
            self._lock.notify()

    def succeeded(self) -> None:
        """Count one request the server accepted: the rate climbs back towards the ceiling.

        >>> limiter = RateLimiter(100, recovery=0.02)
        >>> limiter.throttled(limiter.acquire()); limiter.rate  # nothing accepted yet: a sharp cut
        60.0
        >>> limiter.succeeded(); limiter.rate  # climbs 2% of 60 per 60 answers
        60.02
        """
        with self._lock:
            climb = self.recovery * (self._base or self.ceiling) / self.rate
            self.rate = min(float(self.ceiling), self.rate + climb)
            self.last_success = self._clock()
            self._accepted.append(self.last_success)

    def throttled(self, sent: float) -> None:
        """Take a 429 for the request sent at ``sent``: cut the rate, once per round.

        >>> now = [0.0]
        >>> limiter = RateLimiter(100, clock=lambda: now[0])
        >>> for _ in range(75):
        ...     limiter.succeeded()  # 75 accepted within the window
        >>> limiter.throttled(sent=limiter.acquire()); limiter.rate
        75.0
        >>> limiter.throttled(sent=-1.0); limiter.rate  # sent before that cut: same round
        75.0
        """
        with self._lock:
            if sent < self._cut_at:
                return
            self._cut(self._clock())
        logger.info(
            "rate limit: the server answered 429; slowing to %.4g requests per %g s",
            self.rate,
            self.window,
        )

    def note(self, budget: Budget) -> None:
        """Take what the rate-limit headers of an answer said (see ``read_budget``).

        A limit with its window lowers the ceiling to the server's. A budget
        spent down to the requests in flight, while this process has not
        spent the ceiling itself, holds every request until the reset.

        >>> now = [0.0]
        >>> limiter = RateLimiter(100, clock=lambda: now[0])
        >>> limiter.note(Budget(remaining=40, reset=30.0, limit=60, window=60.0))
        >>> limiter.ceiling, limiter.rate
        (60, 60.0)
        >>> limiter.note(Budget(remaining=0, reset=30.0))  # spent, but not by us
        >>> limiter.paused_for()
        30.0
        """
        with self._lock:
            if budget.limit is not None and budget.window is not None:
                server = math.floor(budget.limit * self.window / budget.window)
                self.ceiling = max(1, min(self.limit, server))
                self.rate = min(self.rate, float(self.ceiling))
            if budget.remaining is None or budget.reset is None:
                return
            now = self._drop_expired()
            spent_by_us = self._in_flight + len(self._expiries) >= self.ceiling
            if budget.remaining > self._in_flight or spent_by_us:
                return
            self._paused_until = max(self._paused_until, now + budget.reset)
        logger.debug(
            "rate limit: another consumer spent the server's budget; waiting %.2f s", budget.reset
        )

    def pause(self, seconds: float) -> None:
        """Hold every request back for ``seconds`` (the server said 429 with Retry-After).

        Another program on the same IP may share Invent's limit; pausing all
        threads at once costs one 429 instead of one per request in flight.

        >>> now = [0.0]
        >>> def sleep(seconds): now[0] += seconds
        >>> limiter = RateLimiter(500, clock=lambda: now[0], sleep=sleep)
        >>> limiter.pause(3.0)
        >>> with limiter.slot():
        ...     now[0]  # the request went out once the pause was over
        3.0
        """
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
        logger.info("rate limit: the server asked to wait; pausing requests for %.2f s", seconds)

    def paused_for(self) -> float:
        """Return how many seconds every request must still wait (0 when not paused)."""
        with self._lock:
            return max(0.0, self._paused_until - self._clock())

    def in_window(self) -> int:
        """Return how many slots are taken now (in flight or answered within the window)."""
        with self._lock:
            self._drop_expired()
            return self._in_flight + len(self._expiries)

    def _cut(self, now: float) -> None:
        """Cut the rate towards what the server accepted in the last window; next round."""
        while self._accepted and self._accepted[0] <= now - self.window:
            self._accepted.popleft()
        granted = float(len(self._accepted))
        low, high = self.rate * self.sharp_decrease, self.rate * self.decrease
        self.rate = max(1.0, min(high, max(low, granted)))
        self._base = self.rate
        self._cut_at = now
        self._next_send = max(self._next_send, self._last_sent + self._interval())

    def _interval(self) -> float:
        return self.hold / self.rate

    def _drop_expired(self) -> float:
        now = self._clock()
        while self._expiries and self._expiries[0] <= now:
            self._expiries.popleft()
        return now


_SHARED: dict[tuple[str, int], RateLimiter] = {}
_SHARED_LOCK = threading.Lock()


def shared_limiter(base_url: str, limit: int = INVENT_RATE_LIMIT) -> RateLimiter:
    """Return this process's one limiter for ``base_url`` at ``limit`` requests per minute.

    Invent counts requests per IP, not per client object: two loads in a row,
    or two clients in one notebook, must draw on the same window, and what
    one learned about the server the next one knows.

    >>> shared_limiter("https://api.useinvent.com") is shared_limiter("https://api.useinvent.com")
    True
    """
    with _SHARED_LOCK:
        limiter = _SHARED.get((base_url, limit))
        if limiter is None:
            limiter = _SHARED[(base_url, limit)] = RateLimiter(limit)
        return limiter
