"""What a user may ask of the audit-log endpoint, checked before any request.

``PARAMETER_NAMES`` is the one mapping from our names to Invent's query
parameter names: if Invent renames one, this is the only line to change.
``FILTER_RULES`` says, for each filter, whether the cache may apply it
locally or must ask the server. The sandbox reads neither: it has its own
reading of Invent's documented contract, so a mistake here shows up in tests
instead of being shared by both sides.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import quote, urlencode

from auditlab.actions import ACTION_SET, ACTIONS, ALL
from auditlab.errors import InvalidQuery

PARAMETER_NAMES: dict[str, str] = {
    "action": "action",
    "date_from": "from",
    "date_to": "to",
    "user_id": "user_id",
    "assistant_id": "assistant_id",
    "workflow_id": "workflow_id",
    "connection_id": "connection_id",
    "page": "page",
    "take": "take",
}

ID_FILTERS: tuple[str, ...] = ("user_id", "assistant_id", "workflow_id", "connection_id")


@dataclass(frozen=True)
class FilterRule:
    """How one filter selects entries, as far as Invent's documentation proves it.

    ``local`` is True when the documented rule is exact enough to apply to
    cached entries ourselves; False when the server must be asked (and its
    answer is cached as that filter's own tree). ``rule`` says why.
    """

    local: bool
    rule: str


# The one table of filter rules (README "Filters mean what the server says" repeats it).
# A filter is applied locally, to entries fetched without it, only where the
# documentation pins its rule down; everywhere else the server decides.
FILTER_RULES: dict[str, FilterRule] = {
    "date_from": FilterRule(True, "documented: entries whose created_at (ISO-8601, UTC) falls "
                            "on this UTC day or later; the cache is split by that same UTC day"),
    "date_to": FilterRule(True, "documented: entries whose created_at falls on this UTC day "
                          "or earlier"),
    "action": FilterRule(True, "documented: entries whose action is exactly this one of the "
                         "documented action types (ALL: every entry)"),
    "user_id": FilterRule(False, "'the user who performed the action': both actor and user are "
                          "described that way and either may be absent or null, so the server "
                          "may match actor.id, user.id or either; asked, never derived"),
    "assistant_id": FilterRule(False, "'the affected assistant': the docs do not say whether "
                               "only assistant.id counts (or, say, an id in metadata); asked"),
    "workflow_id": FilterRule(False, "'the affected workflow': the docs do not say which fields "
                              "the server matches; asked"),
    "connection_id": FilterRule(False, "'the affected connection': the docs do not say which "
                                "fields the server matches (integration.* entries too?); asked"),
}  # fmt: skip
LOCAL_FILTERS: frozenset[str] = frozenset(n for n, r in FILTER_RULES.items() if r.local)


def derivable(wanted: dict[str, str], fetched: dict[str, str]) -> bool:
    """Return True when the server's answer to ``wanted`` follows from its answer to ``fetched``.

    Both are filters by our names (``Query.filter_key()``) over the same days.
    True when every filter of ``fetched`` is also in ``wanted`` with the same
    value, and the filters ``wanted`` adds are all applied locally (see
    ``FILTER_RULES``): rows fetched under ``fetched`` then only need those.

    >>> derivable({"action": "chat.deleted"}, {})
    True
    >>> derivable({"user_id": "usr_1"}, {}), derivable({"user_id": "usr_1"}, {"user_id": "usr_1"})
    (False, True)
    >>> derivable({"user_id": "usr_1", "action": "chat.deleted"}, {"user_id": "usr_1"})
    True
    """
    if any(wanted.get(name) != value for name, value in fetched.items()):
        return False
    return all(name in LOCAL_FILTERS for name in wanted.keys() - fetched.keys())
MAX_ID_LENGTH = 128
MAX_TAKE = 100
DEFAULT_TAKE = 100


@dataclass(frozen=True)
class Query:
    """A validated audit-log query: filters only, no paging.

    ``action`` is None for every action (sent as nothing, same as ``ALL``).

    >>> Query.build(action="member.role_changed", date_from="2026-10-01").date_from
    datetime.date(2026, 10, 1)
    """

    org_id: str = "c"
    action: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    user_id: str | None = None
    assistant_id: str | None = None
    workflow_id: str | None = None
    connection_id: str | None = None

    @classmethod
    def build(
        cls,
        org_id: str = "c",
        *,
        action: str | None = None,
        date_from: Any = None,
        date_to: Any = None,
        user_id: str | None = None,
        assistant_id: str | None = None,
        workflow_id: str | None = None,
        connection_id: str | None = None,
    ) -> Query:
        """Return a Query from user input, or raise InvalidQuery naming the parameter.

        >>> Query.build(date_from="2026-10-02", date_to="2026-10-01")
        Traceback (most recent call last):
        ...
        auditlab.errors.InvalidQuery: date_to (2026-10-01) is before date_from (2026-10-02)
        """
        if not isinstance(org_id, str) or not org_id.strip():
            raise InvalidQuery(
                "org_id must be a non-empty string: an org id, or 'c' for the key's own org",
                parameter="org_id",
            )
        if any(ch in org_id for ch in "/?#%\\") or org_id.strip() != org_id:
            raise InvalidQuery(
                f"org_id {org_id!r} has characters not allowed in an org id "
                "(no '/', '?', '#', '%', '\\' or surrounding spaces)",
                parameter="org_id",
            )
        start = parse_date(date_from, "date_from")
        end = parse_date(date_to, "date_to")
        if start and end and end < start:
            raise InvalidQuery(
                f"date_to ({end.isoformat()}) is before date_from ({start.isoformat()})",
                parameter="date_to",
            )
        ids = {
            "user_id": user_id,
            "assistant_id": assistant_id,
            "workflow_id": workflow_id,
            "connection_id": connection_id,
        }
        for name, value in ids.items():
            _check_id(name, value)
        return cls(
            org_id=org_id,
            action=_check_action(action),
            date_from=start,
            date_to=end,
            **ids,
        )

    @property
    def id_filters(self) -> dict[str, str]:
        """Return the id filters that are set, by our parameter name."""
        return {name: getattr(self, name) for name in ID_FILTERS if getattr(self, name)}

    @property
    def is_unfiltered(self) -> bool:
        """Return True when the query selects every action and no id filter."""
        return self.action is None and not self.id_filters

    def with_dates(self, date_from: dt.date | None, date_to: dt.date | None) -> Query:
        """Return the same filters over another date range."""
        return replace(self, date_from=date_from, date_to=date_to)

    def filter_key(self) -> dict[str, str]:
        """Return the server-side filters (not the dates) as our names -> values."""
        key = dict(self.id_filters)
        if self.action is not None:
            key["action"] = self.action
        return key

    def local_filters(self) -> dict[str, str]:
        """Return the filters (not the dates) that may be applied to cached rows locally.

        >>> Query.build(action="chat.deleted", user_id="usr_1").local_filters()
        {'action': 'chat.deleted'}
        """
        return {name: value for name, value in self.filter_key().items() if name in LOCAL_FILTERS}

    @property
    def path(self) -> str:
        """Return the endpoint's path for this query's org, the org id quoted.

        >>> Query.build("org_1").path
        '/orgs/org_1/audit-logs'
        """
        return f"/orgs/{quote(self.org_id, safe='')}/audit-logs"

    def to_url(self, base_url: str) -> str:
        """Return the full URL of this query's first request, parameters as Invent names them.

        >>> Query.build(action="org.updated", date_from="2026-10-01").to_url("https://x")
        'https://x/orgs/c/audit-logs?action=org.updated&from=2026-10-01'
        """
        params = self.to_params()
        return f"{base_url.rstrip('/')}{self.path}" + (f"?{urlencode(params)}" if params else "")

    def to_params(self, *, page: int | None = None, take: int | None = None) -> dict[str, str]:
        """Return the HTTP query parameters, named as Invent names them.

        >>> Query.build(date_from="2026-10-01", date_to="2026-10-01").to_params(page=2)
        {'from': '2026-10-01', 'to': '2026-10-01', 'page': '2'}
        """
        params: dict[str, str] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "org_id" or value is None:
                continue
            params[PARAMETER_NAMES[field.name]] = (
                value.isoformat() if isinstance(value, dt.date) else str(value)
            )
        if page is not None:
            params[PARAMETER_NAMES["page"]] = str(page)
        if take is not None:
            params[PARAMETER_NAMES["take"]] = str(take)
        return params


def parse_date(value: Any, parameter: str) -> dt.date | None:
    """Return a UTC calendar date from 'YYYY-MM-DD', a date, a datetime or a Timestamp.

    A timezone-aware datetime is converted to UTC first; a naive one is taken
    as UTC.

    >>> parse_date("2026-02-28", "date_from")
    datetime.date(2026, 2, 28)
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):  # pandas.Timestamp is a datetime subclass
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            if len(value) != 10:
                raise ValueError
            return dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidQuery(
                f"{parameter} {value!r} is not a real date in the form YYYY-MM-DD",
                parameter=parameter,
            ) from None
    raise InvalidQuery(
        f"{parameter} must be 'YYYY-MM-DD', a date, a datetime or a pandas Timestamp, "
        f"not {type(value).__name__}",
        parameter=parameter,
    )


def _check_action(action: str | None) -> str | None:
    if action is None or action == ALL:
        return None
    if not isinstance(action, str) or action not in ACTION_SET:
        raise InvalidQuery(
            f"action {action!r} is not an Invent audit-log action: use 'ALL' or one of "
            f"the {len(ACTIONS)} actions in auditlab.actions.ACTIONS (e.g. 'member.role_changed')",
            parameter="action",
        )
    return action


def _check_id(name: str, value: str | None) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value:
        raise InvalidQuery(f"{name} must be a non-empty string", parameter=name)
    if len(value) > MAX_ID_LENGTH:
        raise InvalidQuery(
            f"{name} is {len(value)} characters long; at most {MAX_ID_LENGTH} are allowed",
            parameter=name,
        )
