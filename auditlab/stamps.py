"""The UTC calendar day of an entry's ``created_at``, computed here and nowhere else.

A leaf: it imports nothing of auditlab, so every layer may use it.
"""

from __future__ import annotations

import datetime as dt


def utc_day(stamp: str) -> dt.date:
    """Return the UTC calendar day of an ISO-8601 timestamp such as an entry's ``created_at``.

    Any offset is honoured (``Z``, ``+00:00``, ``-05:00``, ...); a timestamp
    without one is taken as UTC. Raises ValueError when stamp is not an
    ISO-8601 date and time.

    >>> utc_day("2026-10-14T23:30:00Z"), utc_day("2026-10-15T01:30:00+02:00")
    (datetime.date(2026, 10, 14), datetime.date(2026, 10, 14))
    >>> utc_day("2026-10-14T22:30:00-02:00")
    datetime.date(2026, 10, 15)
    """
    if not isinstance(stamp, str):
        raise ValueError(f"a timestamp must be ISO-8601 text, not {type(stamp).__name__}")
    moment = dt.datetime.fromisoformat(stamp)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.date()
