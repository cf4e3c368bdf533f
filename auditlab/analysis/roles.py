"""Reading roles from the log: which entries bear one, and the intervals they make.

How the log is read (Invent documents the actions, not what they carry, so
every field is read defensively; what cannot be read stays unknown and is
said so in the ``unread`` column of ``role_entries``):

==================================  ===========================================
action                              role read from
==================================  ===========================================
``member.invited``                  an offer, not access: the inviter becomes
                                    who granted the role of the join that
                                    follows (``member.role``, else
                                    ``metadata.role``)
``member.joined``                   starts a role: ``member.role``, else
                                    ``metadata.role``
``member.role_changed``             ends one role and starts the next:
                                    ``member.role``, else
                                    ``metadata.new_role``; the role before is
                                    ``metadata.previous_role``
``member.removed``, ``member.left`` ends the membership; ``member.role`` is
                                    the role held until then
``org.transferred``                 ``metadata.new_owner_id`` becomes OWNER;
                                    the previous owner
                                    (``metadata.previous_owner_id``, else the
                                    actor) stops being OWNER, and which role
                                    they keep is unknown until the log says
``org.sub_org_member_joined``,      as ``member.joined`` and
``org.sub_org_member_role_changed`` ``member.role_changed``, within the
                                    sub-org ``metadata.sub_org_id``
==================================  ===========================================

A role is held from the entry that starts it until the entry that changes
or ends it. The role a member held before the first such entry the loaded
log shows is unknown: the interval is shown with ``from`` missing
(``began`` says "before the log"), with the role the entry names as the one
before (``metadata.previous_role``, a removal's ``member.role``) or with no
role. Someone who acts in the log but is never the member of such an entry
has one interval with no role. Nothing is guessed: to see further back,
load more history (the cache keeps it), and ``history_from`` bounds what is
read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
import pandas as pd

from auditlab.analysis.vocabulary import TimeBound, bound, in_window, plain

# What each action does to a member's role (see the module docstring).
ROLE_ACTIONS: dict[str, str] = {
    "member.invited": "offer",
    "member.joined": "start",
    "member.role_changed": "change",
    "member.removed": "end",
    "member.left": "end",
    "org.transferred": "transfer",
    "org.sub_org_member_joined": "start",
    "org.sub_org_member_role_changed": "change",
}
# How an interval held since before the first entry of the loaded log began.
BEFORE_LOG = "before the log"
# The roles that hold power over the org.
PRIVILEGED_ROLES = ("ADMIN", "OWNER")
ROLE_ENTRY_COLUMNS = (
    "id", "created_at", "action", "member_user_id", "sub_org_id", "effect", "role_before",
    "role_after", "actor_id", "actor_name", "unread",
)  # fmt: skip
# The columns read.
READ = (
    "id", "created_at", "action", "actor_id", "actor_name", "member_id", "member_role",
    "member_user_id", "metadata",
)  # fmt: skip


class Reading(NamedTuple):
    """One role-bearing entry as read, for one member (a transfer gives two).

    ``member`` is a user id (None: unreadable); ``grants`` False for the
    previous owner's side of a transfer, whose next role nobody granted.
    """

    id: str
    at: pd.Timestamp
    action: str
    member: str | None
    sub_org: str | None
    effect: str
    before: str | None
    after: str | None
    actor_id: str | None
    actor_name: str | None
    grants: bool
    unread: str | None


def role_entries(
    df: pd.DataFrame, *, since: TimeBound = None, until: TimeBound = None,
    history_from: TimeBound = None,
) -> pd.DataFrame:  # fmt: skip
    """Return every role-bearing entry as read, oldest first, with what could not be read.

    One row per entry and member affected (an ownership transfer gives two:
    the previous owner, then the new one). ``effect`` is ``offer`` (an
    invitation), ``start``, ``change`` or ``end``; ``role_before`` and
    ``role_after`` are the roles it names (missing: not named, or unread);
    ``unread`` says what could not be read (missing: everything could). Rows
    whose member could not be read have no ``member_user_id``. Columns:
    ``ROLE_ENTRY_COLUMNS``; ``since``/``until`` keep entries created within
    them; ``history_from`` ignores entries before it.

    >>> from auditlab.frame import empty_frame
    >>> role_entries(empty_frame()).columns.tolist()[:4]
    ['id', 'created_at', 'action', 'member_user_id']
    """
    readings = read_roles(df, history_from)
    table = pd.DataFrame(
        {
            "id": [r.id for r in readings],
            "created_at": pd.Series([r.at for r in readings], dtype="datetime64[us, UTC]"),
            "action": [r.action for r in readings],
            "member_user_id": [r.member for r in readings],
            "sub_org_id": [r.sub_org for r in readings],
            "effect": [r.effect for r in readings],
            "role_before": [r.before for r in readings],
            "role_after": [r.after for r in readings],
            "actor_id": [r.actor_id for r in readings],
            "actor_name": [r.actor_name for r in readings],
            "unread": [r.unread for r in readings],
        }
    ).astype({c: "str" for c in ROLE_ENTRY_COLUMNS if c != "created_at"})
    return table[in_window(table["created_at"], since, until)].reset_index(drop=True)


def read_roles(df: pd.DataFrame, history_from: TimeBound) -> list[Reading]:
    """Return the role-bearing entries of ``df`` as readings, oldest first."""
    rows = df.loc[df["action"].isin(ROLE_ACTIONS.keys()), list(READ)]
    if history_from is not None:
        rows = rows[rows["created_at"] >= bound(history_from, "history_from")]
    rows = rows.sort_values(["created_at", "id"], kind="stable")
    memberships = dict(
        rows.loc[rows["member_id"].notna() & rows["member_user_id"].notna(),
                 ["member_id", "member_user_id"]].itertuples(index=False)
    )  # fmt: skip
    columns = [plain(rows[c]).astype(object).where(rows[c].notna(), None).tolist()
               for c in ("id", "action", "member_id", "member_role", "member_user_id", "actor_id",
                         "actor_name", "metadata")]  # fmt: skip
    readings: list[Reading] = []
    for at, (entry_id, action, member_id, member_role, user_id, actor_id, actor_name, text) in zip(
        rows["created_at"], zip(*columns, strict=True), strict=True
    ):
        metadata, problems = _metadata(text)
        common = {"id": entry_id, "at": at, "action": action, "actor_id": actor_id,
                  "actor_name": actor_name}  # fmt: skip
        effect = ROLE_ACTIONS[action]
        if effect == "transfer":
            readings += _transfer(common, metadata, problems)
            continue
        member = user_id or memberships.get(member_id)
        if member is None:
            problems.append("no member")
        sub_org = None
        if action.startswith("org.sub_org_"):
            sub_org, problem = _text(metadata, "sub_org_id")
            problems += [problem or "no metadata.sub_org_id"] if sub_org is None else []
            member = member if sub_org is not None else None
        before, after = None, None
        if effect == "end":
            before = _role(member_role, "member.role", problems)
        else:
            after = _role(member_role, "member.role", problems)
            named = "new_role" if effect == "change" else "role"
            said = _role(metadata.get(named), f"metadata.{named}", problems)
            if after is None:
                after = said
            elif said is not None and said != after:
                problems.append(f"metadata.{named} {said} differs from member.role {after}")
            if effect == "change":
                before = _role(metadata.get("previous_role"), "metadata.previous_role", problems)
            if after is None and not any("role" in p for p in problems):
                problems.append("no role named")
        readings.append(
            Reading(**common, member=member, sub_org=sub_org, effect=effect, before=before,
                     after=after, grants=True, unread="; ".join(problems) or None)
        )  # fmt: skip
    return readings


def _transfer(
    common: dict[str, Any], metadata: dict[str, Any], problems: list[str]
) -> list[Reading]:
    """Return an ownership transfer as readings: the previous owner's, then the new owner's."""
    heir, problem = _text(metadata, "new_owner_id")
    problems += [problem] if problem else []
    previous, problem = _text(metadata, "previous_owner_id")
    problems += [problem] if problem else []
    previous = previous or common["actor_id"]
    if heir is None:
        problems.append("no new owner")
    unread = "; ".join(problems) or None
    out = []
    if previous is not None and previous != heir:
        out.append(Reading(**common, member=previous, sub_org=None, effect="change",
                            before="OWNER", after=None, grants=False, unread=unread))  # fmt: skip
    if heir is not None:
        out.append(Reading(**common, member=heir, sub_org=None, effect="change", before=None,
                            after="OWNER", grants=True, unread=unread))  # fmt: skip
    return out


def _metadata(text: Any) -> tuple[dict[str, Any], list[str]]:
    """Return an entry's metadata as a dict, and what was wrong with it."""
    if text is None:
        return {}, []
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}, ["metadata is not JSON"]
    if value is None:
        return {}, []
    return (value, []) if isinstance(value, dict) else ({}, ["metadata is not an object"])


def _role(value: Any, where: str, problems: list[str]) -> str | None:
    """Return a role named by ``value`` (upper case), None when absent; note what is unreadable."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip():
        return value.strip().upper()
    problems.append(f"{where} {_shown(value)} is not a role")
    return None


def _text(metadata: dict[str, Any], key: str) -> tuple[str | None, str | None]:
    """Return ``metadata[key]`` when it is a non-empty string, and the problem when it is not."""
    value = metadata.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip(), None
    return None, None if value is None else f"metadata.{key} {_shown(value)} is unreadable"


def _shown(value: Any) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass
class Interval:
    """One member holding one role (None: unknown) from ``start`` (None: before the log) on."""

    member: str
    sub_org: str | None
    role: str | None
    start: pd.Timestamp | None
    began: str
    start_id: str | None
    granted_by: str | None = None
    granted_name: str | None = None
    granted_id: str | None = None
    granted_at: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    ended: str | None = None
    end_id: str | None = None
    doubt: list[str] = field(default_factory=list)


def intervals(readings: Iterable[Reading]) -> list[Interval]:
    """Return the intervals the readings make, member by member, oldest first."""
    by_key: dict[tuple[str, str | None], list[Reading]] = defaultdict(list)
    for reading in readings:
        if reading.member is not None:
            by_key[(reading.member, reading.sub_org)].append(reading)
    intervals: list[Interval] = []
    for (member, sub_org), own in by_key.items():
        held: Interval | None = None
        offer: Reading | None = None
        for r in own:
            if r.effect == "offer":
                offer = r if held is None else offer
                continue
            if held is None and r.effect != "start":
                held = Interval(member, sub_org, None, None, BEFORE_LOG, None)
                if r.before is None:
                    held.doubt.append(f"the log does not show the role before {r.action}")
            if held is not None:
                _close(held, r)
                intervals.append(held)
                held = None
            if r.effect in ("start", "change"):
                held = _open(member, sub_org, r, offer)
                offer = None
        if held is not None:
            intervals.append(held)
    return intervals


def _close(held: Interval, r: Reading) -> None:
    """End ``held`` at reading ``r``, learning its role from ``r`` when it was unknown."""
    held.end, held.ended, held.end_id = r.at, r.action, r.id
    if r.before is None:
        return
    if held.role is None:
        held.role, held.doubt = r.before, []
    elif held.role != r.before:
        held.doubt.append(f"{r.id} says the role was {r.before}")


def _open(member: str, sub_org: str | None, r: Reading, offer: Reading | None) -> Interval:
    """Return the interval reading ``r`` starts (after an invitation ``offer``, for a join)."""
    held = Interval(member, sub_org, r.after, r.at, r.action, r.id)
    grant = offer if r.effect == "start" and offer is not None else r
    if r.grants and grant.actor_id is not None and (grant is offer or r.effect != "start"
                                                    or r.actor_id != member):  # fmt: skip
        held.granted_by, held.granted_name = grant.actor_id, grant.actor_name
        held.granted_at = grant.at
    held.granted_id = grant.id
    if r.after is None:
        held.doubt.append(r.unread or f"the log does not say which role followed {r.action}")
    return held


