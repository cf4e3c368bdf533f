"""What a report covers, checked before anything runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditlab.actions import ALL
from auditlab.api.query import Query, parse_date
from auditlab.checks import check_tz
from auditlab.clock import utc_today
from auditlab.errors import InvalidQuery

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_DAYS = 90


@dataclass(frozen=True)
class Scope:
    """A validated report scope: org, UTC date range (inclusive), actions, time zone.

    ``actions`` empty means every action. ``history_from`` is the first day the
    access review reads roles from (None: the org's first day).

    >>> s = Scope.build(date_from="2026-07-01", date_to="2026-09-30", actions=["org.updated"])
    >>> s.date_from, s.days, s.actions
    (datetime.date(2026, 7, 1), 92, ('org.updated',))
    """

    org_id: str
    date_from: dt.date
    date_to: dt.date
    actions: tuple[str, ...] = ()
    tz: str = "UTC"
    history_from: dt.date | None = None

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
        history_from: Any = None,
    ) -> Scope:
        """Return a Scope, or raise InvalidQuery naming the parameter at fault.

        ``date_to`` defaults to today (UTC), ``date_from`` to the
        ``DEFAULT_DAYS`` days that end on ``date_to``; ``history_from``, when
        given, is a day no later than ``date_from``.

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
        history = parse_date(history_from, "history_from")
        if history is not None and history > start:
            raise InvalidQuery(
                f"history_from ({history.isoformat()}) is after date_from ({start.isoformat()}): "
                "the access review reads roles from a day on or before the period's first",
                parameter="history_from",
            )
        return cls(
            org_id=query.org_id,
            date_from=start,
            date_to=end,
            actions=_check_actions(actions),
            tz=check_tz(tz),
            history_from=history,
        )

    @property
    def days(self) -> int:
        """Return how many calendar days the scope spans."""
        return (self.date_to - self.date_from).days + 1

    # One action is filtered by the server; several are filtered locally from
    # every action, which the cache then answers for any later mix. `query`
    # and `local_actions` are the one place that rule is written.

    @property
    def query(self) -> Query:
        """Return what the server is asked: the dates, and the action if there is exactly one.

        >>> Scope.build(date_to="2026-07-31", actions=["org.updated"]).query.to_params()
        {'action': 'org.updated', 'from': '2026-05-03', 'to': '2026-07-31'}
        """
        return Query.build(
            self.org_id,
            action=self.actions[0] if len(self.actions) == 1 else None,
            date_from=self.date_from,
            date_to=self.date_to,
        )

    @property
    def local_actions(self) -> tuple[str, ...]:
        """Return the actions kept locally after loading: all of them if several, else none.

        >>> Scope.build(date_to="2026-07-31", actions=["org.updated", "org.deleted"]).local_actions
        ('org.updated', 'org.deleted')
        """
        return self.actions if len(self.actions) > 1 else ()

    @property
    def history_query(self) -> Query:
        """Return what the access review asks: every action from ``history_from`` to ``date_to``.

        Without ``history_from`` the loader reads from the org's first day.

        >>> Scope.build(date_to="2026-07-31", history_from="2026-01-01").history_query.to_params()
        {'from': '2026-01-01', 'to': '2026-07-31'}
        """
        return Query.build(self.org_id, date_from=self.history_from, date_to=self.date_to)

    def keep(self, df: pd.DataFrame) -> pd.DataFrame:
        """Return the rows of a loaded ``query`` that the scope covers (``local_actions``)."""
        if not self.local_actions:
            return df
        return df[df["action"].isin(self.local_actions)].reset_index(drop=True)


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

