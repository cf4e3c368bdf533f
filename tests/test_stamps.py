"""The UTC day of an entry's created_at, whatever offset the server writes it with."""

from __future__ import annotations

import datetime as dt

import pytest

from auditlab.stamps import utc_day


@pytest.mark.parametrize(
    ("stamp", "day"),
    [
        ("2026-10-14T23:59:59Z", "2026-10-14"),
        ("2026-10-14T23:59:59.999+00:00", "2026-10-14"),
        ("2026-10-15T01:30:00+02:00", "2026-10-14"),
        ("2026-10-14T22:30:00-02:00", "2026-10-15"),
        ("2026-10-14T12:00:00", "2026-10-14"),
        ("2026-01-01T00:30:00+05:30", "2025-12-31"),
    ],
)
def test_utc_day_honours_the_offset(stamp: str, day: str) -> None:
    assert utc_day(stamp) == dt.date.fromisoformat(day)


@pytest.mark.parametrize("stamp", [None, "", "yesterday", "2026-02-30T00:00:00Z"])
def test_utc_day_refuses_what_is_not_a_timestamp(stamp: object) -> None:
    with pytest.raises(ValueError):
        utc_day(stamp)  # type: ignore[arg-type]
