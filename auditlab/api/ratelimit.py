"""One client-side rate limiter, shared by every request in flight.

Invent allows 500 requests per minute per IP. The limiter keeps a sliding-window
log: it never lets more than ``limit`` requests fall in any window of
``window`` seconds, so, unlike a token bucket, it cannot burst to twice the
limit across a window edge.

Why a sync at the limit never trips the server's limit: a request occupies a
slot from the moment it is sent until ``window * (1 + slack)`` seconds after
its answer arrived. The server counts a request at some instant between the
two, so any ``limit + 1`` requests the server sees in one window of ``window``
seconds would all have held a slot at the moment the last of them was sent;
the limiter would have made it wait. The slack (1% by default) absorbs clock
rate differences and the server's rounding of its window edges.

Why it still runs near the limit: each slot is busy for ``latency + window *
1.01`` seconds, so a long sync reaches ``limit / (1.01 + latency/window)`` requests
per window, above 98% of the limit at Invent's latencies.

Invent counts per IP, so ``shared_limiter`` gives every client of a process
that talks to one base URL the same limiter; a 429 that still gets through
(another program on the same IP) pauses all of its requests at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from auditlab.checks import check_whole_number
from auditlab.errors import InvalidQuery

logger = logging.getLogger("auditlab")

INVENT_RATE_LIMIT = 500
WINDOW_SECONDS = 60.0
SLACK = 0.01
# Waits shorter than this are routine pacing and logged at DEBUG; longer ones at INFO.
NOTABLE_WAIT = 1.0


class RateLimiter:
    """Return a sliding-window limiter: at most ``limit`` requests per ``window`` seconds.

    Thread-safe; ``clock`` and ``sleep`` are injectable so tests never wait.

    >>> limiter = RateLimiter(500)
    >>> with limiter.slot():
    ...     pass  # send one request here
    >>> limiter.in_window()
    1
    """

    def __init__(
        self,
        limit: int = INVENT_RATE_LIMIT,
        *,
        window: float = WINDOW_SECONDS,
        slack: float = SLACK,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        check_whole_number("rate_limit", limit, "requests per window, Invent allows 500/min")
        if not window > 0:
            raise InvalidQuery(f"window must be > 0 seconds, not {window!r}", parameter="window")
        if not 0 <= slack < 1:
            raise InvalidQuery(f"slack must be in [0, 1), not {slack!r}", parameter="slack")
        self.limit = limit
        self.window = window
        self.hold = window * (1 + slack)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Condition()
        self._in_flight = 0
        self._expiries: deque[float] = deque()
        self._paused_until = float("-inf")

    def __repr__(self) -> str:
        return f"RateLimiter(limit={self.limit}, window={self.window:g})"

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Wait for a free slot, hold it while the request runs, then start its expiry."""
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def acquire(self) -> None:
        """Block until one more request may be sent now, and count it as sent."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._drop_expired()
                if now < self._paused_until:
                    wait = self._paused_until - now
                elif self._in_flight + len(self._expiries) < self.limit:
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
                "rate limit: %d requests per %g s reached; waited %.2f s",
                self.limit,
                self.window,
                waited,
            )

    def release(self) -> None:
        """Mark one request as answered; its slot frees ``window * (1 + slack)`` s later."""
        with self._lock:
            self._in_flight -= 1
            self._expiries.append(self._clock() + self.hold)
            self._lock.notify()

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

    def in_window(self) -> int:
        """Return how many slots are taken now (in flight or answered within the window)."""
        with self._lock:
            self._drop_expired()
            return self._in_flight + len(self._expiries)

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
    or two clients in one notebook, must draw on the same window.

    >>> shared_limiter("https://api.useinvent.com") is shared_limiter("https://api.useinvent.com")
    True
    """
    with _SHARED_LOCK:
        limiter = _SHARED.get((base_url, limit))
        if limiter is None:
            limiter = _SHARED[(base_url, limit)] = RateLimiter(limit)
        return limiter
