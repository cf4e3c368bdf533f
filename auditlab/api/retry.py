"""Retries with exponential backoff and full jitter, as a few keyword arguments.

An attempt signals a failure worth retrying by raising ``Transient``; anything
else (400, 401, 403, 404: errors no retry can heal) passes straight through.
Two kinds of failure are told apart:

- a fault (5xx, a timeout, a body cut short) uses one of ``max_attempts``;
- a 429 means "slower", not "failed": it uses none, since the rate limiter
  has slowed every request down; a request keeps its place in the queue.

Either way a request stops retrying once ``give_up_after`` seconds pass
without progress: no answer accepted, by it or any other request the
caller counts (``progress``). ``Retry-After`` (seconds or an HTTP date)
wins over the computed backoff, up to ``retry_after_max``: a server asking for
a longer wait gets an immediate ``RetriesExhausted`` saying so, not a process
asleep for hours.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from auditlab.checks import check_whole_number
from auditlab.errors import InvalidQuery, RetriesExhausted

logger = logging.getLogger("auditlab")

T = TypeVar("T")


class Transient(Exception):
    """One attempt failed in a way that may pass on a later attempt."""

    def __init__(
        self, reason: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after

    @property
    def throttled(self) -> bool:
        """Return True for a 429: the server asks for fewer requests, not for a retry budget."""
        return self.status == 429


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Return a retry policy: how often to try and how long to wait in between.

    ``max_attempts`` tries per request for faults, the first included; 429s
    are not counted. The wait before retry ``n`` (of the same kind) is drawn
    uniformly from ``[0, min(backoff_max, backoff_initial * 2**(n-1))]``
    ("full jitter"), or is exactly that ceiling with ``jitter=False``. A
    ``Retry-After`` answer is waited for exactly, when it asks for at most
    ``retry_after_max`` seconds; a longer one ends the retries at once.
    ``give_up_after`` seconds without progress end them too. Pass ``sleep``
    and ``clock`` to record the waits instead of sleeping (tests).

    >>> waits = []
    >>> policy = RetryPolicy(jitter=False, sleep=waits.append)
    >>> [policy.backoff(n) for n in range(1, 6)]
    [0.5, 1.0, 2.0, 4.0, 8.0]
    """

    max_attempts: int = 6
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 300.0
    give_up_after: float = 600.0
    jitter: bool = True
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        check_whole_number("max_attempts", self.max_attempts, "tries per request, first included")
        if not self.backoff_initial >= 0:
            raise InvalidQuery(
                f"backoff_initial must be >= 0 seconds, not {self.backoff_initial!r}",
                parameter="backoff_initial",
            )
        if not self.backoff_max >= self.backoff_initial:
            raise InvalidQuery(
                f"backoff_max must be >= backoff_initial ({self.backoff_initial!r}), "
                f"not {self.backoff_max!r}",
                parameter="backoff_max",
            )
        if not self.retry_after_max >= 0:
            raise InvalidQuery(
                f"retry_after_max must be >= 0 seconds, not {self.retry_after_max!r}",
                parameter="retry_after_max",
            )
        if not self.give_up_after > 0:
            raise InvalidQuery(
                f"give_up_after must be > 0 seconds, not {self.give_up_after!r}",
                parameter="give_up_after",
            )

    def honours(self, retry_after: float | None) -> bool:
        """Return True when a ``Retry-After`` of this many seconds is waited for, not refused.

        >>> RetryPolicy().honours(60), RetryPolicy().honours(3600), RetryPolicy().honours(None)
        (True, False, False)
        """
        return retry_after is not None and retry_after <= self.retry_after_max

    def backoff(self, retry: int) -> float:
        """Return the wait in seconds before retry number ``retry`` (1-based).

        >>> RetryPolicy(jitter=False, backoff_max=3.0).backoff(4)
        3.0
        """
        ceiling = min(self.backoff_max, self.backoff_initial * 2 ** (retry - 1))
        return random.uniform(0, ceiling) if self.jitter else ceiling

    def call(
        self,
        attempt: Callable[[], T],
        *,
        what: str,
        progress: Callable[[], float] | None = None,
    ) -> T:
        """Return attempt()'s result, retrying on Transient; RetriesExhausted when it must stop.

        ``what`` names the request in log lines and the final error; it must
        not contain secrets. ``progress()`` returns the ``clock`` time of the
        caller's latest success (any request's); the deadline counts from
        the later of that and this call's start. Time passes on ``clock`` or
        by the waits asked of ``sleep`` since the last progress, whichever is
        more, so a ``sleep`` that does not wait cannot retry forever.

        >>> RetryPolicy().call(lambda: 42, what="the answer")
        42
        """
        start = self.clock()
        faults = throttles = 0
        seen = progress() if progress is not None else None
        waited = 0.0  # waits asked for since the last progress seen
        while True:
            try:
                return attempt()
            except Transient as failure:
                if failure.throttled:
                    throttles += 1
                    number = throttles
                else:
                    faults += 1
                    number = faults
                    if faults >= self.max_attempts:
                        raise RetriesExhausted(
                            f"{what} failed {self.max_attempts} times, last with {failure.reason}",
                            status_code=failure.status,
                        ) from None
                wait = failure.retry_after
                if wait is None:
                    wait = self.backoff(number)
                elif not self.honours(wait):
                    raise RetriesExhausted(
                        f"{what} failed with {failure.reason} and the server asked to wait "
                        f"{wait:.0f} s, longer than retry_after_max ({self.retry_after_max:.0f} s)",
                        status_code=failure.status,
                    ) from None
                if progress is not None and progress() != seen:
                    seen, waited = progress(), 0.0
                since = max(start, seen if seen is not None else start)
                if max(self.clock() - since, waited) + wait > self.give_up_after:
                    raise RetriesExhausted(
                        f"{what} made no progress for give_up_after ({self.give_up_after:.0f} s), "
                        f"last with {failure.reason}",
                        status_code=failure.status,
                    ) from None
                if failure.throttled:
                    logger.info(
                        "%s: %s; retry in %.2f s "
                        "(rate limited: not counted against the %d retries)",
                        what,
                        failure.reason,
                        wait,
                        self.max_attempts - 1,
                    )
                else:
                    logger.info(
                        "%s: %s; retry %d of %d in %.2f s",
                        what,
                        failure.reason,
                        number,
                        self.max_attempts - 1,
                        wait,
                    )
                waited += wait
                self.sleep(wait)


def parse_retry_after(value: str | None, *, date: str | None = None) -> float | None:
    """Return the seconds a Retry-After header asks to wait, or None if absent or unreadable.

    An HTTP date is measured from the response's own ``Date`` header when there
    is one (immune to clock skew), else from this machine's clock.

    >>> parse_retry_after("3")
    3.0
    >>> parse_retry_after("Wed, 21 Oct 2026 07:28:05 GMT", date="Wed, 21 Oct 2026 07:28:00 GMT")
    5.0
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    until = _http_date(value)
    if until is None:
        return None
    sent = _http_date(date) if date else None
    reference = sent or datetime.now(UTC)
    return max(0.0, (until - reference).total_seconds())


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
