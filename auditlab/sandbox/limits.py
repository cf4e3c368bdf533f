"""The sandbox's rate limit, counted each way Invent's documentation leaves open.

Invent documents "500 requests per minute per IP" and nothing about how they
are counted, so the sandbox offers the usual answers as a switch, and the
client must do well under every one of them:

- ``sliding``: at most ``limit`` requests in any ``window_s`` seconds (a log
  of accepted requests);
- ``fixed``: at most ``limit`` requests per fixed window of ``window_s``
  seconds (counters reset at multiples of ``window_s`` on the clock);
- ``token-bucket``: ``limit / window_s`` tokens per second refill a bucket
  holding at most ``burst``; each request takes one.

A refused request is not counted. ``competing`` models another program behind
the same IP spending the same budget: ``competing`` requests per window,
evenly spaced, each admitted or refused like any other. They are taken
lazily, on the clock, each time a request from that IP is judged, so nothing
runs in the background and nothing outlives the server.

>>> now = [0.0]
>>> limit = ServerLimit(2, algorithm="fixed", window_s=10, clock=lambda: now[0])
>>> [limit.admit("127.0.0.1").admitted for _ in range(3)]
[True, True, False]
>>> limit.admit("127.0.0.1").retry_after
10.0
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

Algorithm = Literal["sliding", "fixed", "token-bucket"]
ALGORITHMS: tuple[str, ...] = ("sliding", "fixed", "token-bucket")
DEFAULT_WINDOW_S = 60.0
DEFAULT_BURST = 10


@dataclass(frozen=True)
class Verdict:
    """What the limit says about one request: passed or not, and the budget left.

    ``remaining`` is how many more requests would pass right now; ``reset`` is
    how many seconds until that number next grows (0 when the budget is
    full); ``retry_after`` is ``reset`` for a refused request, None otherwise.

    >>> Verdict(admitted=False, limit=5, remaining=0, reset=2.5).retry_after
    2.5
    """

    admitted: bool
    limit: int
    remaining: int
    reset: float

    @property
    def retry_after(self) -> float | None:
        return None if self.admitted else self.reset


class _Budget(Protocol):
    """One IP's budget under one algorithm; every ``now`` is no earlier than the last."""

    def take(self, now: float) -> bool: ...
    def remaining(self, now: float) -> int: ...
    def reset(self, now: float) -> float: ...


class _Sliding:
    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self.accepted: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self.accepted and self.accepted[0] <= now - self.window_s:
            self.accepted.popleft()

    def take(self, now: float) -> bool:
        self._expire(now)
        if len(self.accepted) >= self.limit:
            return False
        self.accepted.append(now)
        return True

    def remaining(self, now: float) -> int:
        self._expire(now)
        return self.limit - len(self.accepted)

    def reset(self, now: float) -> float:
        self._expire(now)
        return self.accepted[0] + self.window_s - now if self.accepted else 0.0


class _Fixed:
    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self.start = -math.inf
        self.used = 0

    def _roll(self, now: float) -> None:
        start = math.floor(now / self.window_s) * self.window_s
        if start != self.start:
            self.start, self.used = start, 0

    def take(self, now: float) -> bool:
        self._roll(now)
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    def remaining(self, now: float) -> int:
        self._roll(now)
        return self.limit - self.used

    def reset(self, now: float) -> float:
        self._roll(now)
        return self.start + self.window_s - now if self.used else 0.0


class _TokenBucket:
    def __init__(self, limit: int, window_s: float, burst: int) -> None:
        self.per_second = limit / window_s
        self.burst = burst
        self.tokens = float(burst)
        self.at = -math.inf

    def _refill(self, now: float) -> None:
        if now > self.at:
            elapsed = now - self.at if math.isfinite(self.at) else math.inf
            self.tokens = min(self.burst, self.tokens + elapsed * self.per_second)
            self.at = now

    def take(self, now: float) -> bool:
        self._refill(now)
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def remaining(self, now: float) -> int:
        self._refill(now)
        return math.floor(self.tokens)

    def reset(self, now: float) -> float:
        self._refill(now)
        if self.tokens >= self.burst:
            return 0.0
        return (1 - self.tokens % 1) / self.per_second


class _Competitor:
    """Another program behind one IP: a request every ``every`` seconds since ``start``."""

    def __init__(self, every: float, start: float) -> None:
        self.every = every
        self.next = start

    def spend(self, budget: _Budget, now: float, horizon: float) -> None:
        """Put the competitor's requests due by ``now`` through ``budget``, oldest first.

        Requests older than ``horizon`` seconds can no longer change the
        budget, so they are skipped rather than replayed.
        """
        if self.next < now - horizon:
            self.next += math.floor((now - horizon - self.next) / self.every) * self.every
        while self.next <= now:
            budget.take(self.next)
            self.next += self.every


class ServerLimit:
    """A per-IP request limit counted as ``algorithm``: the server side of a 429.

    ``limit`` requests per ``window_s`` seconds (a minute by default);
    ``burst`` is the token bucket's capacity; ``competing`` requests per
    window are spent by another program behind each IP. ``clock`` is
    injectable so tests never wait. Distinct from the client's
    ``auditlab.api.ratelimit.RateLimiter``, which must cope with any of these.

    >>> now = [0.0]
    >>> bucket = ServerLimit(60, algorithm="token-bucket", burst=2, clock=lambda: now[0])
    >>> [bucket.admit("ip").admitted for _ in range(3)]
    [True, True, False]
    >>> now[0] = 1.0  # one token a second
    >>> bucket.admit("ip")
    Verdict(admitted=True, limit=60, remaining=0, reset=1.0)
    """

    def __init__(
        self,
        limit: int,
        *,
        algorithm: Algorithm = "sliding",
        window_s: float = DEFAULT_WINDOW_S,
        burst: int = DEFAULT_BURST,
        competing: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a whole number of requests >= 1, not {limit!r}")
        if not window_s > 0:
            raise ValueError(f"window_s must be > 0 seconds, not {window_s!r}")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ValueError(f"burst must be a whole number of requests >= 1, not {burst!r}")
        if not 0 <= competing < limit:
            raise ValueError(f"competing must be >= 0 and below limit ({limit}), not {competing!r}")
        self.limit = limit
        self.algorithm = algorithm
        self.window_s = float(window_s)
        self.burst = burst
        self.competing = competing
        self.clock = clock
        # how far back a request can still change a budget
        self._memory = self.window_s * max(1.0, burst / limit)
        self._budgets: dict[str, tuple[_Budget, _Competitor | None]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        burst = f", burst={self.burst}" if self.algorithm == "token-bucket" else ""
        return (
            f"ServerLimit({self.limit}, algorithm={self.algorithm!r}, "
            f"window_s={self.window_s:g}{burst}, competing={self.competing:g})"
        )

    def _new_budget(self) -> _Budget:
        if self.algorithm == "sliding":
            return _Sliding(self.limit, self.window_s)
        if self.algorithm == "fixed":
            return _Fixed(self.limit, self.window_s)
        return _TokenBucket(self.limit, self.window_s, self.burst)

    def admit(self, client: str) -> Verdict:
        """Return the verdict on one request from ``client`` (an IP), counting it if it passes."""
        with self._lock:
            now = self.clock()
            if client not in self._budgets:
                competitor = None
                if self.competing:
                    competitor = _Competitor(self.window_s / self.competing, now)
                self._budgets[client] = (self._new_budget(), competitor)
            budget, competitor = self._budgets[client]
            if competitor is not None:
                competitor.spend(budget, now, self._memory)
            admitted = budget.take(now)
            return Verdict(admitted, self.limit, budget.remaining(now), budget.reset(now))


def in_steps(seconds: float, window_s: float) -> str:
    """Return ``seconds`` rounded up for a header: whole seconds, scaled with a short window.

    Headers such as ``Retry-After`` count whole seconds. A sandbox whose
    window is shorter than a minute runs time faster by ``60 / window_s``, so
    its "second" shrinks by as much: a 1-second window answers in sixtieths.
    Never below one step, so a client always waits.

    >>> in_steps(0.2, 60), in_steps(59.01, 60), in_steps(0.2, 1.0)
    ('1', '60', '0.2')
    """
    step = min(1.0, window_s / 60)
    steps = max(1, math.ceil(round(seconds / step, 6)))
    return f"{steps * step:.3f}".rstrip("0").rstrip(".")


def rate_headers(verdict: Verdict, window_s: float) -> dict[str, str]:
    """Return the ``RateLimit-*`` headers describing a verdict (IETF draft names).

    >>> headers = rate_headers(Verdict(True, 500, 499, 59.5), 60)
    >>> headers["RateLimit-Remaining"], headers["RateLimit-Reset"], headers["RateLimit-Policy"]
    ('499', '60', '500;w=60')
    """
    return {
        "RateLimit-Limit": str(verdict.limit),
        "RateLimit-Remaining": str(verdict.remaining),
        "RateLimit-Reset": in_steps(verdict.reset, window_s) if verdict.reset else "0",
        "RateLimit-Policy": f"{verdict.limit};w={window_s:g}",
    }
