"""The sandbox's own reading of Invent's documented query contract (DESIGN section 1).

Written from the documentation, not imported from the client: the client's
names and checks live in ``auditlab.api.query``, and a server that shared
them would accept every mistake the client makes. Here the wire names are
spelt out as Invent documents them, dates must be ``YYYY-MM-DD``, ids at most
128 characters, ``page`` a whole number from 1 and ``take`` one from 1 to 100.
Parameters the endpoint does not know are ignored, as a web API does; one
given twice is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from auditlab.actions import ACTION_SET, ALL

ID_PARAMETERS: tuple[str, ...] = ("user_id", "assistant_id", "workflow_id", "connection_id")
FILTER_PARAMETERS: tuple[str, ...] = ("action", *ID_PARAMETERS)
ID_LIMIT = 128
TAKE_LIMIT = 100
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WHOLE = re.compile(r"[0-9]{1,9}")


class BadParameter(Exception):
    """A query parameter the endpoint rejects; ``parameter`` is its name on the wire."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


@dataclass(frozen=True)
class Request:
    """One audit-log request as the server reads it.

    ``filters`` maps wire names (``action``, ``user_id``, ...) to values;
    ``action=ALL`` and empty values are no filter. Dates are 'YYYY-MM-DD'.
    """

    filters: dict[str, str]
    date_from: str | None
    date_to: str | None
    page: int
    take: int


def parse_request(query: str) -> Request:
    """Return the request a query string asks for, or raise BadParameter naming the parameter.

    >>> asked = parse_request("action=chat.deleted&from=2026-11-01&take=5")
    >>> asked.filters, asked.date_from, asked.date_to, asked.page, asked.take
    ({'action': 'chat.deleted'}, '2026-11-01', None, 1, 5)
    >>> parse_request("from=2026-11-1")
    Traceback (most recent call last):
    ...
    auditlab.sandbox.contract.BadParameter: from must be a date as YYYY-MM-DD, got '2026-11-1'
    """
    raw: dict[str, str] = {}
    for name, values in parse_qs(query, keep_blank_values=True).items():
        if len(values) > 1:
            raise BadParameter(name, f"{name} is given {len(values)} times; give it once")
        raw[name] = values[0]
    filters = {name: raw[name] for name in FILTER_PARAMETERS if raw.get(name)}
    if filters.get("action") == ALL:
        del filters["action"]
    if "action" in filters and filters["action"] not in ACTION_SET:
        raise BadParameter(
            "action",
            f"action {filters['action']!r} is not a known action: use ALL or one of the "
            f"{len(ACTION_SET)} documented actions",
        )
    for name in ID_PARAMETERS:
        if len(filters.get(name, "")) > ID_LIMIT:
            raise BadParameter(name, f"{name} must be at most {ID_LIMIT} characters")
    date_from, date_to = _day(raw, "from"), _day(raw, "to")
    if date_from and date_to and date_to < date_from:
        raise BadParameter("to", f"to ({date_to}) must not be before from ({date_from})")
    return Request(
        filters=filters,
        date_from=date_from,
        date_to=date_to,
        page=_whole(raw, "page", default=1, high=None),
        take=_whole(raw, "take", default=TAKE_LIMIT, high=TAKE_LIMIT),
    )


def entry_day(created_at: str) -> str:
    """Return the UTC day ('YYYY-MM-DD') an entry's created_at falls on, as ``from``/``to`` mean.

    >>> entry_day("2026-11-02T23:59:59Z"), entry_day("2026-11-03T01:00:00+02:00")
    ('2026-11-02', '2026-11-02')
    """
    if created_at.endswith("Z"):  # how the sandbox writes every stamp: the fast path
        return created_at[:10]
    moment = dt.datetime.fromisoformat(created_at)
    return (moment.astimezone(dt.UTC) if moment.tzinfo else moment).strftime("%Y-%m-%d")


def _day(raw: dict[str, str], name: str) -> str | None:
    text = raw.get(name)
    if not text:
        return None
    try:
        if not _DAY.fullmatch(text):
            raise ValueError
        dt.date.fromisoformat(text)
    except ValueError:
        raise BadParameter(name, f"{name} must be a date as YYYY-MM-DD, got {text!r}") from None
    return text


def _whole(raw: dict[str, str], name: str, *, default: int, high: int | None) -> int:
    text = raw.get(name)
    if text is None or text == "":
        return default
    allowed = f"a whole number from 1 to {high}" if high else "a whole number from 1"
    if not _WHOLE.fullmatch(text) or not 1 <= int(text) <= (high or int(text)):
        raise BadParameter(name, f"{name} must be {allowed}, got {text!r}")
    return int(text)
