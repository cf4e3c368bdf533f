"""What a report covers, checked before anything runs."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from auditlab.actions import ALL
from auditlab.api.query import Query
from auditlab.clock import utc_today
from auditlab.errors import InvalidQuery

DEFAULT_DAYS = 90


@dataclass(frozen=True)
class Scope:
    """A validated report scope: org, UTC date range (inclusive), actions, time zone.

    ``actions`` empty means every action.

    >>> s = Scope.build(date_from="2026-07-01", date_to="2026-09-30", actions=["org.updated"])
    >>> s.date_from, s.days, s.actions
    (datetime.date(2026, 7, 1), 92, ('org.updated',))
    """

    org_id: str
    date_from: dt.date
    date_to: dt.date
    actions: tuple[str, ...] = ()
    tz: str = "UTC"

    @classmethod
    def build(
        cls,
        org_id: str = "c",
        *,
        date_from: Any = None,
        date_to: Any = None,
        actions: Iterable[str] | str | None = None,
        tz: str = "UTC",
        today: dt.date | None = None,
    ) -> Scope:
        """Return a Scope, or raise InvalidQuery naming the parameter at fault.

        ``date_to`` defaults to today (UTC), ``date_from`` to the
        ``DEFAULT_DAYS`` days that end on ``date_to``.

        >>> Scope.build(date_to="2026-09-30").date_from
        datetime.date(2026, 7, 3)
        >>> Scope.build(tz="Mars/Olympus")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        auditlab.errors.InvalidQuery: tz 'Mars/Olympus' is not an IANA time zone ...
        """
        query = Query.build(org_id, date_from=date_from, date_to=date_to)
        end = query.date_to or today or utc_today()
        start = query.date_from or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if end < start:
            raise InvalidQuery(
                f"date_from ({start.isoformat()}) is after date_to ({end.isoformat()}, "
                "today when not given)",
                parameter="date_from",
            )
        return cls(
            org_id=query.org_id,
            date_from=start,
            date_to=end,
            actions=_check_actions(actions),
            tz=_check_tz(tz),
        )

    @property
    def days(self) -> int:
        """Return how many calendar days the scope spans."""
        return (self.date_to - self.date_from).days + 1


def _check_actions(actions: Iterable[str] | str | None) -> tuple[str, ...]:
    if actions is None:
        return ()
    chosen = [actions] if isinstance(actions, str) else list(actions)
    if ALL in chosen:
        return ()
    for action in chosen:
        try:
            Query.build(action=action)
        except InvalidQuery as error:
            raise InvalidQuery(str(error), parameter="actions") from None
    return tuple(dict.fromkeys(chosen))


def _check_tz(tz: str) -> str:
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidQuery(
            f"tz {tz!r} is not an IANA time zone such as 'Europe/Berlin' or 'UTC'",
            parameter="tz",
        ) from None
    return tz
