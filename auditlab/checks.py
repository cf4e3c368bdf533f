"""Checks of plain values a caller passes, each raising InvalidQuery naming its parameter.

A whole number and a time zone are checked here and only here, wherever they
are taken: the API client, the analysis functions, the report and the command
line. A leaf: it imports only the exception tree.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from auditlab.errors import InvalidQuery


def check_whole_number(
    parameter: str,
    value: Any,
    meaning: str | None = None,
    *,
    minimum: int = 1,
    maximum: int | None = None,
) -> int:
    """Return value if it is a whole number from minimum to maximum, else raise InvalidQuery.

    ``meaning`` says in a few words what the number counts, for the message.

    >>> check_whole_number("take", 100, "per page", maximum=100)
    100
    >>> check_whole_number("take", 101, "per page", maximum=100)
    Traceback (most recent call last):
    ...
    auditlab.errors.InvalidQuery: take must be a whole number from 1 to 100 (per page), not 101
    """
    allowed = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        what = f" ({meaning})" if meaning else ""
        raise InvalidQuery(
            f"{parameter} must be a whole number {allowed}{what}, not {value!r}",
            parameter=parameter,
        )
    return value


def check_tz(tz: Any, parameter: str = "tz") -> str:
    """Return tz if it names an IANA time zone, else raise InvalidQuery naming ``parameter``.

    >>> check_tz("Europe/Berlin")
    'Europe/Berlin'
    >>> check_tz("Mars/Olympus")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    auditlab.errors.InvalidQuery: tz 'Mars/Olympus' is not an IANA time zone such as 'UTC' ...
    """
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, TypeError, ValueError):
        raise InvalidQuery(
            f"{parameter} {tz!r} is not an IANA time zone such as 'UTC' or 'Europe/Berlin'",
            parameter=parameter,
        ) from None
    return tz
