"""Who held which role when, read from the log: the user-access review.

The log holds the answer to "who had administrative access during the
period, since when, granted by whom, and did leavers lose it". These
functions reconstruct it:

- ``role_entries``: every entry that bears a role, as read: the member it
  affects, the role before and after, and what could not be read;
- ``access_history``: one row per member and interval holding one role;
- ``privileged_access``: everyone who held ADMIN or OWNER at any moment of
  a period, since when, granted by whom, still privileged at its end, and
  when last active or seen;
- ``leavers``: each removal or departure, and whether the member lost access;
- ``access_findings``: the review's findings, one row per finding, in the
  shape of :func:`~auditlab.analysis.findings.findings`, by the rules of the
  rules file (:mod:`auditlab.analysis.rules`): ``grant_by_non_holder``,
  ``grant_by_unknown_role`` and ``privileged_quiet``, which read roles, and
  the ``after_removal`` and ``org_change`` (ownership transfers) findings,
  reused as they are.

How the log is read is in ``auditlab.analysis.roles``.
"""

from __future__ import annotations

import functools
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from auditlab.analysis.breakdowns import actor_labels
from auditlab.analysis.figures import COLORWAY, Labeller, Labels, make_figure
from auditlab.analysis.findings import FINDING_COLUMNS, findings, ranked
from auditlab.analysis.roles import (
    BEFORE_LOG,
    PRIVILEGED_ROLES,
    READ,
    ROLE_ACTIONS,
    Interval,
    intervals,
    read_roles,
)
from auditlab.analysis.rules import Rules, resolve_rules
from auditlab.analysis.sensitive import DEPARTURES, FRAME_COLUMNS, after_leaving
from auditlab.analysis.vocabulary import TimeBound, bound, codes, in_window, plain, utc_array

if TYPE_CHECKING:
    import plotly.graph_objects as go

NOT_A_MEMBER = "not a member"
# What the review reads besides the roles' own columns (``roles.READ``): the findings'
# columns (``sensitive.FRAME_COLUMNS``) and seen_at.
_ALSO_READ = (*FRAME_COLUMNS, "actor_seen_at", "member_user_name", "member_user_email",
              "member_user_seen_at")  # fmt: skip
# The findings of other rules an access review shows: activity after leaving, and the
# ownership transfers among the organisation's changes.
REUSED_RULES = ("after_removal", "org_change")
TRANSFER = "org.transferred"
# The findings' columns the rules file gives (``findings.ranked`` adds them).
SHAPED = ("severity", "title", "country", "ip")

ACCESS_COLUMNS = (
    "member_user_id", "member_id", "name", "email", "sub_org_id", "role", "from", "to", "began",
    "ended", "granted_by_id", "granted_by_name", "granted_by_role", "granted_id", "from_id",
    "to_id", "doubt",
)  # fmt: skip
PRIVILEGED_COLUMNS = (
    "member_user_id", "name", "email", "sub_org_id", "roles", "from", "to", "began", "ended",
    "granted_by_id", "granted_by_name", "granted_by_role", "granted_id", "from_id", "to_id",
    "role_at_end", "privileged_at_end", "last_activity", "last_seen",
)  # fmt: skip
LEAVER_COLUMNS = (
    "id", "at", "action", "member_user_id", "name", "email", "by_id", "by_name", "role",
    "privileged", "later_events", "last_event", "lost_access",
)  # fmt: skip


def access_history(
    df: pd.DataFrame, *, since: TimeBound = None, until: TimeBound = None,
    history_from: TimeBound = None,
) -> pd.DataFrame:  # fmt: skip
    """Return one row per member and interval holding one role, by member then oldest first.

    ``from``/``to`` bound the interval: ``from`` missing means held since
    before the loaded log (``began`` is "before the log"), ``to`` missing
    means still held at its end. ``role`` missing means the log does not say
    which role (``doubt`` says why). ``began``/``ended`` name the actions at
    either end, ``from_id``/``to_id`` the entries that prove them.
    ``granted_by_*`` is who granted the role (the inviter, for a join that
    follows an invitation; missing for the system or a role nobody granted)
    and ``granted_by_role`` the role they held then; ``granted_id`` shows the
    grant. ``sub_org_id`` is set for a role within a sub-org. Columns:
    ``ACCESS_COLUMNS``; ``since``/``until`` keep the intervals that overlap
    them; ``history_from`` ignores entries before it.

    >>> from auditlab.frame import empty_frame
    >>> access_history(empty_frame()).columns.tolist()[:6]
    ['member_user_id', 'member_id', 'name', 'email', 'sub_org_id', 'role']
    """
    return _overlapping(_Review(df, history_from).history, since, until)


def privileged_access(
    df: pd.DataFrame, *, since: TimeBound = None, until: TimeBound = None,
    history_from: TimeBound = None,
) -> pd.DataFrame:  # fmt: skip
    """Return everyone who held ADMIN or OWNER at any moment in ``[since, until]``.

    One row per member and unbroken privileged stretch (ADMIN then OWNER is
    one stretch, ``roles`` "ADMIN, OWNER"), oldest first: ``from``/``to``,
    how it began and ended and who granted it, as in ``access_history``;
    ``role_at_end`` the role at ``until`` (the end of the log when not
    given; "not a member" after leaving, missing when unknown) and
    ``privileged_at_end`` whether that is ADMIN or OWNER (missing: unknown);
    ``last_activity`` their latest entry as actor and ``last_seen`` the
    latest ``seen_at`` the log shows for them, both up to that end.
    Columns: ``PRIVILEGED_COLUMNS``.

    >>> from auditlab.frame import empty_frame
    >>> privileged_access(empty_frame()).columns.tolist()[:5]
    ['member_user_id', 'name', 'email', 'sub_org_id', 'roles']
    """
    return _Review(df, history_from).privileged(since, until)


def leavers(
    df: pd.DataFrame, *, since: TimeBound = None, until: TimeBound = None,
    history_from: TimeBound = None,
) -> pd.DataFrame:  # fmt: skip
    """Return each removal or departure in ``[since, until]`` and whether the member lost access.

    ``role`` is the role held until then (missing: unknown) and
    ``privileged`` whether it was ADMIN or OWNER; ``later_events`` counts what
    the member did afterwards (until they joined again, up to the end of the
    log), ``last_event`` is the latest of those; ``lost_access`` is True when
    there is none. Columns: ``LEAVER_COLUMNS``, oldest first.

    >>> from auditlab.frame import empty_frame
    >>> leavers(empty_frame()).columns.tolist()[-3:]
    ['later_events', 'last_event', 'lost_access']
    """
    return _within(_Review(df, history_from).leavers, "at", since, until)


def access_findings(
    df: pd.DataFrame, *, since: TimeBound = None, until: TimeBound = None,
    history_from: TimeBound = None, rules: Rules | str | os.PathLike[str] | None = None,
    tz: str = "UTC", quiet_days: int | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Return the access review's findings in ``[since, until]``, ranked as ``findings`` ranks.

    Columns: :data:`~auditlab.analysis.findings.FINDING_COLUMNS`. The rules
    (from ``rules``: a ``Rules``, a rules file, or None for the shipped ones):
    ``grant_by_non_holder``, ADMIN or OWNER granted in the period by someone
    who did not hold it then (the actor is who granted it, the detail names
    whom); ``grant_by_unknown_role``, the same by someone whose role then the
    log does not show; ``privileged_quiet``, a member privileged at the
    period's end whose latest activity or ``seen_at`` is ``quiet_days`` (the
    rule's setting, replaced when given) or more before it, or who is not
    seen in at least that much loaded history. Then the findings of
    ``after_removal`` and the ownership transfers of ``org_change``, as
    :func:`~auditlab.analysis.findings.findings` makes them. Roles are read
    from all of ``df`` (from ``history_from``), so give it the history.

    >>> from auditlab.frame import empty_frame
    >>> access_findings(empty_frame()).columns.tolist()[:3]
    ['rule', 'severity', 'title']
    """
    chosen = resolve_rules(rules).with_settings("privileged_quiet", quiet_days=quiet_days)
    return _Review(df, history_from).findings(chosen, since, until, tz)


def access_history_chart(
    df: pd.DataFrame, *, since: TimeBound = None, until: TimeBound = None,
    history_from: TimeBound = None, tz: str = "UTC", title: str | None = None,
    labels: Labels = None, template: Any = None, width: int | None = None,
    height: int | None = None,
) -> go.Figure:  # fmt: skip
    """Return each member's roles over time as bars, one colour per role.

    Draws ``access_history``: an interval with no ``from`` starts at the
    start of the loaded log (or ``since``), an open one runs to its end (or
    ``until``); a role the log does not show is "unknown".

    >>> from auditlab.frame import empty_frame
    >>> access_history_chart(empty_frame()).layout.title.text
    'Roles over time — no events'
    """
    review = _Review(df, history_from)
    return _bars(_overlapping(review.history, since, until), review, locals(),
                 title="Roles over time")  # fmt: skip


def privileged_access_chart(
    df: pd.DataFrame, *, since: TimeBound = None, until: TimeBound = None,
    history_from: TimeBound = None, tz: str = "UTC", title: str | None = None,
    labels: Labels = None, template: Any = None, width: int | None = None,
    height: int | None = None,
) -> go.Figure:  # fmt: skip
    """Return who held ADMIN or OWNER in ``[since, until]`` as bars over time.

    Draws the intervals behind ``privileged_access``: a row per member, a bar
    per role held, clipped to the window.

    >>> from auditlab.frame import empty_frame
    >>> privileged_access_chart(empty_frame()).layout.title.text
    'Privileged access — no events'
    """
    review = _Review(df, history_from)
    held = review.history[review.history["role"].isin(PRIVILEGED_ROLES)]
    return _bars(_overlapping(held, since, until), review, locals(), title="Privileged access")


def _activity(df: pd.DataFrame, end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Return, per ``actor_id``, their latest entry up to ``end`` and latest ``seen_at``.

    Columns: ``name`` and ``email`` on that entry, its time (``last_activity``)
    and id (``last_activity_id``), and ``last_seen``.
    """
    at = utc_array(df["created_at"])
    who, names = codes(df["actor_id"])
    keep = (who >= 0) & ~np.isnat(at)
    if end is not None:
        keep &= at <= end.tz_convert(None).to_datetime64()
    rows = np.flatnonzero(keep)
    latest = rows[pd.Series(at[rows]).groupby(who[rows]).idxmax().to_numpy(dtype=np.int64)]
    seen = pd.Series(utc_array(df["actor_seen_at"])[rows]).groupby(who[rows]).max()
    picked = df.iloc[latest]
    return pd.DataFrame(
        {
            "name": picked["actor_name"].array,
            "email": picked["actor_email"].array,
            "last_activity": picked["created_at"].array,
            "last_activity_id": picked["id"].array,
            "last_seen": seen.dt.tz_localize("UTC").array,
        },
        index=pd.Index(names[who[latest]].astype("str"), name="actor_id"),
    )


class _Review:
    """The reconstruction of one frame, computed once and shared by the review's tables.

    Only the columns the review reads are kept, and the role-bearing rows
    (``members``) are picked once: every member object is on one of them.
    """

    def __init__(self, df: pd.DataFrame, history_from: TimeBound) -> None:
        df = df[list(dict.fromkeys((*READ, *_ALSO_READ)))]
        if history_from is not None:
            df = df[df["created_at"] >= bound(history_from, "history_from")]
        self.df = df.reset_index(drop=True)
        self.members = self.df.iloc[np.flatnonzero(self.df["action"].isin(ROLE_ACTIONS.keys()))]
        self.readings = read_roles(self.members, None)
        self.log_start = self.df["created_at"].min() if len(self.df) else None
        self.log_end = self.df["created_at"].max() if len(self.df) else None
        self.actors = _activity(self.df)
        self.intervals = intervals(self.readings)
        self.held: dict[tuple[str, str | None], list[Interval]] = defaultdict(list)
        for interval in self.intervals:
            self.held[(interval.member, interval.sub_org)].append(interval)
        self.history = self._history_table()

    @functools.cached_property
    def departed(self) -> np.ndarray:
        """Return ``after_leaving`` of the frame: per row, the departure it follows (-1: none)."""
        return after_leaving(self.df)

    # access_history -------------------------------------------------------

    def _history_table(self) -> pd.DataFrame:
        known = {i.member for i in self.intervals}
        silent = [
            Interval(actor, None, None, None, BEFORE_LOG, None,
                     doubt=["no role-bearing entry in the loaded log"])
            for actor in self.actors.index if actor not in known
        ]  # fmt: skip
        intervals = self.intervals + silent
        names = self._people()
        membership = self._latest("member_id")
        table = pd.DataFrame(
            {
                "member_user_id": [i.member for i in intervals],
                "member_id": [membership.get(i.member) for i in intervals],
                "name": [names.get(i.member, (None, None))[0] for i in intervals],
                "email": [names.get(i.member, (None, None))[1] for i in intervals],
                "sub_org_id": [i.sub_org for i in intervals],
                "role": [i.role for i in intervals],
                "from": _stamps(i.start for i in intervals),
                "to": _stamps(i.end for i in intervals),
                "began": [i.began for i in intervals],
                "ended": [i.ended for i in intervals],
                "granted_by_id": [i.granted_by for i in intervals],
                "granted_by_name": [i.granted_name for i in intervals],
                "granted_by_role": [self._role_of(i.granted_by, i.sub_org, i.granted_at)
                                    for i in intervals],
                "granted_id": [i.granted_id for i in intervals],
                "from_id": [i.start_id for i in intervals],
                "to_id": [i.end_id for i in intervals],
                "doubt": ["; ".join(i.doubt) or None for i in intervals],
            }
        ).astype({c: "str" for c in ACCESS_COLUMNS if c not in ("from", "to")})  # fmt: skip
        return table.sort_values(
            ["member_user_id", "sub_org_id", "from", "from_id"], na_position="first",
            ignore_index=True, kind="stable",
        )  # fmt: skip

    def _people(self) -> dict[str, tuple[Any, Any]]:
        """Return user id -> (name, email): as actor on their latest entry, else as member."""
        names, emails = self._latest("member_user_name"), self._latest("member_user_email")
        people = {user: (names[user], emails.get(user)) for user in names}
        as_actor = zip(self.actors["name"].tolist(), self.actors["email"].tolist(), strict=True)
        people.update(zip(self.actors.index.tolist(), as_actor, strict=True))
        return people

    def _latest(self, column: str) -> dict[str, Any]:
        """Return user id -> ``column`` on the latest entry naming them as the member."""
        rows = self.members.loc[
            self.members["member_user_id"].notna() & self.members[column].notna(),
            ["created_at", "member_user_id", column],
        ].sort_values("created_at", kind="stable")
        return dict(zip(rows["member_user_id"].tolist(), rows[column].tolist(), strict=True))

    def _role_of(
        self, user: str | None, sub_org: str | None, at: pd.Timestamp | None
    ) -> str | None:
        """Return the role ``user`` held just before ``at`` (privileged in either scope first)."""
        if user is None or at is None:
            return None
        found = [self._held(user, scope, at) for scope in dict.fromkeys((None, sub_org))]
        privileged = [role for role in found if role in PRIVILEGED_ROLES]
        return (privileged or [role for role in found if role is not None] or [None])[0]

    def _held(self, user: str, scope: str | None, at: pd.Timestamp) -> str | None:
        before = [i for i in self.held.get((user, scope), ()) if i.start is None or i.start < at]
        if not before:
            return None
        latest = before[-1]
        if latest.end is None or latest.end >= at:
            return latest.role
        return NOT_A_MEMBER if latest.ended in DEPARTURES else None

    # privileged_access ----------------------------------------------------

    def end_of(self, until: TimeBound) -> pd.Timestamp | None:
        return bound(until, "until") if until is not None else self.log_end

    def privileged(self, since: TimeBound, until: TimeBound) -> pd.DataFrame:
        history = self.history
        end = self.end_of(until)
        stretches = _stretches(history[history["role"].isin(PRIVILEGED_ROLES)])
        stretches = _overlapping(stretches, since, until)
        at_end = [self._role_at(user, scope, end)
                  for user, scope in zip(stretches["member_user_id"], stretches["sub_org_id"],
                                         strict=True)]  # fmt: skip
        activity = _activity(self.df, end)
        last_seen = self._last_seen(activity, end)
        stretches = stretches.reset_index(drop=True)
        users = stretches["member_user_id"]
        table = stretches.assign(
            role_at_end=pd.Series(at_end, index=stretches.index, dtype="str"),
            privileged_at_end=pd.Series(
                [None if r is None else r in PRIVILEGED_ROLES for r in at_end],
                index=stretches.index, dtype="boolean",
            ),
            last_activity=_stamps(activity["last_activity"].reindex(users).array),
            last_seen=_stamps(last_seen.reindex(users).array),
        )  # fmt: skip
        table = table.sort_values(["from", "name", "member_user_id"], na_position="first")
        return table[list(PRIVILEGED_COLUMNS)].reset_index(drop=True)

    def _role_at(self, user: str, scope: Any, at: pd.Timestamp | None) -> str | None:
        if at is None:
            return None
        scope = None if pd.isna(scope) else scope
        return self._held(user, scope, at + pd.Timedelta(microseconds=1))

    def _last_seen(self, activity: pd.DataFrame, end: pd.Timestamp | None) -> pd.Series:
        """Return each user's latest ``seen_at`` as actor or as the member of an entry."""
        rows = self.members[["created_at", "member_user_id", "member_user_seen_at"]]
        rows = rows[rows["member_user_seen_at"].notna()]
        if end is not None:
            rows = rows[rows["created_at"] <= end]
        as_member = rows.groupby("member_user_id")["member_user_seen_at"].max()
        both = pd.concat([activity["last_seen"].dropna(), as_member])
        return both.astype("datetime64[us, UTC]").groupby(level=0).max()

    # leavers and findings --------------------------------------------------

    @property
    def leavers(self) -> pd.DataFrame:
        flagged = self.departed >= 0
        at = pd.Series(utc_array(self.df["created_at"])[flagged])
        later = at.groupby(self.departed[flagged]).agg(["size", "max"])
        leaving = self.members[self.members["action"].isin(DEPARTURES.keys())
                               & self.members["member_user_id"].notna()]  # fmt: skip
        held = {i.end_id: i.role for i in self.intervals if i.ended in DEPARTURES}
        roles = [held.get(entry_id) for entry_id in leaving["id"]]
        table = pd.DataFrame({
            "id": leaving["id"].array, "at": leaving["created_at"].array,
            "action": plain(leaving["action"]).array,
            "member_user_id": leaving["member_user_id"].array,
            "name": leaving["member_user_name"].array,
            "email": leaving["member_user_email"].array,
            "by_id": leaving["actor_id"].array, "by_name": leaving["actor_name"].array,
            "role": roles,
            "privileged": pd.array([None if r is None else r in PRIVILEGED_ROLES for r in roles],
                                   dtype="boolean"),
            "later_events": later["size"].reindex(leaving.index, fill_value=0).to_numpy(),
            "last_event": later["max"].reindex(leaving.index).dt.tz_localize("UTC").array,
        })  # fmt: skip
        table = table.assign(lost_access=table["later_events"] == 0).astype(
            {c: "str" for c in LEAVER_COLUMNS[:9] if c != "at"}
        )
        return table.sort_values(["at", "id"], ignore_index=True)

    def findings(
        self, rules: Rules, since: TimeBound, until: TimeBound, tz: str
    ) -> pd.DataFrame:
        parts = [*self._grants(rules, since, until), *self._quiet(rules, since, until)]
        reused = [rule_id for rule_id in REUSED_RULES if rule_id in rules]
        shared = findings(
            self.df, rules=replace(rules, rules={r: rules[r] for r in reused}), tz=tz,
            since=since, until=until,
        )  # fmt: skip
        shared = shared[(shared["rule"] != "org_change") | (shared["action"] == TRANSFER)]
        built = [c for c in FINDING_COLUMNS if c not in SHAPED and c != "org_id"]
        own = pd.DataFrame(parts, columns=built)
        # A finding belongs to the org of the entry that proves it (several orgs may be loaded).
        orgs = dict(zip(self.df["id"], self.df["org_id"].astype(object), strict=True))
        own["org_id"] = [orgs.get(ids[0]) if ids else None for ids in own["entry_ids"]]
        return ranked([own, shared.drop(columns=["severity", "title"])], rules)

    def _grants(self, rules: Rules, since: TimeBound, until: TimeBound) -> list[tuple]:
        wanted = {"grant_by_non_holder", "grant_by_unknown_role"} & set(rules.rules)
        history = self.history
        grants = history[history["role"].isin(PRIVILEGED_ROLES) & history["granted_by_id"].notna()]
        actions = dict(zip(self.members["id"], plain(self.members["action"]), strict=True))
        out = []
        for member, name, role, by, by_name, by_role, grant_id, from_id in zip(
            *(grants[c].astype(object).where(grants[c].notna(), None) for c in (
                "member_user_id", "name", "role", "granted_by_id", "granted_by_name",
                "granted_by_role", "granted_id", "from_id")),
            strict=True,
        ):  # fmt: skip
            if by_role in (("OWNER",) if role == "OWNER" else PRIVILEGED_ROLES):
                continue
            rule = "grant_by_non_holder" if by_role else "grant_by_unknown_role"
            at = self.at[grant_id]
            if rule not in wanted or not _inside(at, since, until):
                continue
            whom = "themselves" if by == member else name
            detail = f"{by_name} ({by_role or 'role unknown'}) granted {role} to {whom}"
            ids = tuple(dict.fromkeys((grant_id, from_id)))
            out.append((rule, at, at, by, by_name, actions.get(grant_id), detail, ids))
        return out

    def _quiet(self, rules: Rules, since: TimeBound, until: TimeBound) -> list[tuple]:
        end = self.end_of(until)
        if "privileged_quiet" not in rules or end is None:
            return []
        limit = pd.Timedelta(days=rules["privileged_quiet"].settings["quiet_days"])
        table = self.privileged(since, until)
        table = table[table["privileged_at_end"].fillna(False).astype(bool)]
        activity = _activity(self.df, end)
        out = []
        for _, row in table.drop_duplicates("member_user_id", keep="last").iterrows():
            last = max((t for t in (row["last_activity"], row["last_seen"]) if not pd.isna(t)),
                       default=None)  # fmt: skip
            held = row["role_at_end"]
            if last is None:
                unseen = end - self.log_start
                if unseen < limit:
                    continue
                detail = f"holds {held}; not seen in {unseen.days} days of history"
            elif end - last >= limit:
                detail = (f"holds {held}; last seen {last:%Y-%m-%d}, "
                          f"{(end - last).days} days before {end:%Y-%m-%d}")  # fmt: skip
            else:
                continue
            # The evidence, oldest first: the entry that made them privileged, their latest act.
            shown = [(row["from_id"], row["from"])] if not pd.isna(row["from_id"]) else []
            if row["member_user_id"] in activity.index:
                latest = activity.loc[row["member_user_id"]]
                shown.append((latest["last_activity_id"], latest["last_activity"]))
            shown.sort(key=lambda pair: pair[1])
            times = [at for _, at in shown] or [self.log_start]
            ids = tuple(dict.fromkeys(entry_id for entry_id, _ in shown))
            out.append(("privileged_quiet", min(times), max(times), row["member_user_id"],
                        row["name"], None, detail, ids))  # fmt: skip
        return out

    @functools.cached_property
    def at(self) -> dict[str, pd.Timestamp]:
        """Return entry id -> time, for the role-bearing entries."""
        return dict(zip(self.members["id"], self.members["created_at"], strict=True))


def _stretches(privileged: pd.DataFrame) -> pd.DataFrame:
    """Return unbroken privileged stretches: consecutive intervals of one member and scope."""
    if privileged.empty:
        return privileged.assign(roles=pd.Series(dtype="str"))[
            [c for c in PRIVILEGED_COLUMNS if c in privileged.columns or c == "roles"]
        ]
    rows = privileged.sort_values(["member_user_id", "sub_org_id", "from"], na_position="first")
    key = rows["member_user_id"].astype(object).tolist()
    scope = rows["sub_org_id"].astype(object).where(rows["sub_org_id"].notna(), None).tolist()
    starts = rows["from"].tolist()
    ends = rows["to"].tolist()
    new = [
        n == 0 or key[n] != key[n - 1] or scope[n] != scope[n - 1] or pd.isna(ends[n - 1])
        or pd.isna(starts[n]) or ends[n - 1] != starts[n]
        for n in range(len(rows))
    ]  # fmt: skip
    group = np.cumsum(new) - 1
    first = rows.groupby(group).head(1).set_index(pd.Index(range(group[-1] + 1)))
    last = rows.groupby(group).tail(1).set_index(pd.Index(range(group[-1] + 1)))
    roles = rows["role"].groupby(group).agg(lambda r: ", ".join(dict.fromkeys(r)))
    return first.assign(
        roles=roles.to_numpy(), to=last["to"], ended=last["ended"], to_id=last["to_id"]
    ).astype({"roles": "str"})


def _stamps(values: Iterable[Any]) -> pd.Series:
    """Return times (None or NaT: missing) as a UTC datetime Series indexed from 0."""
    return pd.Series(list(values), dtype="datetime64[us, UTC]")


def _inside(at: pd.Timestamp, since: TimeBound, until: TimeBound) -> bool:
    """Return whether ``at`` falls in ``[since, until]``."""
    return bool(in_window(pd.Series([at], dtype="datetime64[us, UTC]"), since, until).iloc[0])


def _within(table: pd.DataFrame, column: str, since: TimeBound, until: TimeBound) -> pd.DataFrame:
    """Return the rows of ``table`` whose ``column`` (not missing) is in ``[since, until]``."""
    return table[in_window(table[column], since, until)].reset_index(drop=True)


def _overlapping(table: pd.DataFrame, since: TimeBound, until: TimeBound) -> pd.DataFrame:
    """Return the intervals (``from``, ``to``; missing: open) that overlap ``[since, until]``."""
    if since is None and until is None:
        return table
    mask = pd.Series(True, index=table.index)
    if since is not None:
        mask &= table["to"].isna() | (table["to"] > bound(since, "since"))
    if until is not None:
        mask &= table["from"].isna() | (table["from"] <= bound(until, "until"))
    return table[mask].reset_index(drop=True)


ROLE_COLOURS: dict[str, str] = {
    "OWNER": COLORWAY[3], "ADMIN": COLORWAY[1], "DEVELOPER": COLORWAY[0], "MEMBER": COLORWAY[2],
    "unknown": COLORWAY[14],
}  # fmt: skip


def _bars(table: pd.DataFrame, review: _Review, args: dict[str, Any], *, title: str) -> go.Figure:
    """Return intervals (``from``, ``to``, ``role``) as horizontal bars: a row per member, a
    trace per role, clipped to the window (``since``/``until``, else the loaded log)."""
    since, until = args.get("since"), args.get("until")
    start = bound(since, "since") if since is not None else review.log_start
    end = review.end_of(until)
    table = table.sort_values(["from", "name", "member_user_id"], na_position="first")
    if start is not None and end is not None:
        table = table.assign(
            start=table["from"].fillna(start).clip(lower=start),
            stop=table["to"].fillna(end).clip(upper=end),
            roles=table["role"].fillna("unknown"),
        )
    names = table.drop_duplicates("member_user_id").set_index("member_user_id")["name"]
    who = table["member_user_id"].map(actor_labels(names.to_frame("actor_name")).astype("str"))

    def traces(t: pd.DataFrame, name: Labeller) -> list[dict[str, Any]]:
        out = []
        for role, rows in t.groupby("roles", sort=True):
            span = (rows["stop"] - rows["start"]).dt.total_seconds() * 1000
            out.append({
                "type": "bar", "orientation": "h", "name": role, "y": who[rows.index],
                "base": rows["start"].dt.tz_convert(args.get("tz") or "UTC").dt.tz_localize(None),
                "x": span, "marker": {"color": ROLE_COLOURS.get(role, ROLE_COLOURS["unknown"])},
                "customdata": np.stack([rows["from"].astype("str").fillna(BEFORE_LOG),
                                        rows["to"].astype("str").fillna("still held")], axis=1),
                "hovertemplate": "%{y}: %{fullData.name}<br>from %{customdata[0]}"
                                 "<br>to %{customdata[1]} UTC<extra></extra>",
            })  # fmt: skip
        return out

    return make_figure(
        table, traces, args=args, title=title, legend="role", barmode="overlay",
        xaxis_type="date", yaxis={"categoryorder": "array", "autorange": "reversed",
                                  "categoryarray": list(dict.fromkeys(who))},
    )  # fmt: skip
