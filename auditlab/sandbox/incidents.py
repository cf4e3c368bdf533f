"""The incidents planted in every synthetic org, and the answer key that lists them.

All seven fall within the last 58 days before ``now``, so any report over the
last 60 or 90 days contains them. Who and when depend on the seed; the kinds
never change:

``impossible_travel``
    A person acts from their home country, then 8-14 minutes later from a
    country on another continent (new IP, new browser).
``off_hours_privilege_escalation``
    A DEVELOPER/MEMBER changes their *own* role to ADMIN at about 03:00 in
    their local time (``member.role_changed``, ``metadata.new_role == "ADMIN"``).
``first_api_key``
    ``api_key.created`` by a person who never created an API key before (the
    org's keys are otherwise rotated by one admin, the key keeper).
``deletion_burst``
    14 ``*.deleted`` entries by one person within about five minutes.
``activity_after_removal``
    An admin removes a person (``member.removed``); the removed person still
    acts afterwards (same day and the next two days).
``sso_profile_deleted``
    The org's only ``sso.profile.deleted``.
``org_transferred``
    The org's only ``org.transferred``: the owner hands the org to an admin.

The background never produces the same patterns: people act only from their
home country and inside their working hours, only admins change roles (in
working hours), only the key keeper creates API keys, deletions are rare and
spread out, removed members never act again, and the last two actions occur
only here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from auditlab.sandbox.entries import METADATA, membership
from auditlab.sandbox.people import Person
from auditlab.sandbox.roles import RoleLedger
from auditlab.sandbox.rows import HOUR_MS, Clock, Rows
from auditlab.sandbox.world import BROWSERS, COUNTRIES

BURST_ACTIONS: tuple[str, ...] = (
    "assistant.deleted", "workflow.deleted", "assistant.deleted", "connection.deleted",
    "broadcast.deleted", "assistant.deleted", "workflow.deleted", "integration.deleted",
    "action.deleted", "assistant.deleted", "workflow.deleted", "connection.deleted",
    "broadcast.deleted", "integration.deleted",
)  # fmt: skip


@dataclass(frozen=True)
class Incident:
    """One planted incident: its kind, the entries that show it, who, and why it matters."""

    kind: str
    entry_ids: tuple[str, ...]
    actor_id: str | None
    why: str

    def to_dict(self) -> dict[str, Any]:
        """Return the incident as plain JSON-ready data."""
        return {**asdict(self), "entry_ids": list(self.entry_ids)}


# An incident whose entry_ids are still empty, and the row numbers that will
# become its entries.
PlantedRows = tuple[Incident, tuple[int, ...]]


@dataclass(frozen=True)
class Quiet:
    """A stretch in which one person's background acts are dropped, around an incident."""

    who: int
    start_ms: int
    end_ms: int


class Stage:
    """What every incident is planted on: the rows, the clock, the people, the draws, the roles."""

    def __init__(
        self,
        rng: np.random.Generator,
        rows: Rows,
        clock: Clock,
        people: list[Person],
        ledger: RoleLedger,
    ) -> None:
        self.rng, self.rows, self.clock, self.people = rng, rows, clock, people
        self.ledger = ledger
        self.admins = [i for i, p in enumerate(people) if p.role == "ADMIN"]

    def at(self, who: int, days_ago: int, hour: float) -> int:
        """Return a UTC ms in the minute after ``hour`` local time of ``who``, ``days_ago`` back."""
        seconds = int(self.rng.integers(0, 59_000))
        return self.clock.local(self.people[who], days_ago, hour) + seconds


# What planting one incident gives: the incident, its rows, and a stretch to keep quiet.
Planted = tuple[PlantedRows, Quiet | None]
# The owner is always the first person.
OWNER = 0


def _impossible_travel(stage: Stage, who: int, days_ago: int) -> Planted:
    rng, p = stage.rng, stage.people[who]
    first = stage.at(who, days_ago, p.work_start + 1.5)
    far = [c for c in COUNTRIES if c.continent != p.continent]
    abroad = far[int(rng.integers(len(far)))]
    second = first + int(rng.integers(8, 15)) * 60_000
    foreign_ip = f"{abroad.octets[0]}.{int(rng.integers(1, 255))}.7.{int(rng.integers(2, 254))}"
    rows = (
        stage.rows.add(first, who, "assistant.updated", int(rng.integers(1 << 30))),
        stage.rows.add(
            second,
            who,
            "connection.updated",
            int(rng.integers(1 << 30)),
            ip=foreign_ip,
            country=abroad.code,
            agent=BROWSERS[(BROWSERS.index(p.agent) + 1) % len(BROWSERS)],
        ),
    )
    why = (
        f"{p.name} acted from {p.country} and, {(second - first) // 60_000} minutes later, "
        f"from {abroad.code} on another continent: one of the two sessions is not theirs."
    )
    # The traveller does nothing else between the two planted acts.
    return _planted("impossible_travel", rows, p.id, why), Quiet(who, first, second)


def _off_hours_privilege_escalation(stage: Stage, who: int, days_ago: int) -> Planted:
    p = stage.people[who]
    why = (
        f"{p.name} ({p.role}) made themselves ADMIN at about 03:00 their local time, "
        "far outside their working hours; only admins change roles, in working hours."
    )
    at = stage.at(who, days_ago, 3.0)
    planted = _one_act(
        stage, "off_hours_privilege_escalation", who, at, "member.role_changed", why,
        member=membership(p, "ADMIN"), metadata={"previous_role": p.role, "new_role": "ADMIN"},
    )  # fmt: skip
    stage.ledger.change(_row(planted), at, p, role="ADMIN", how="member.role_changed", by=p.id)
    return planted


def _first_api_key(stage: Stage, who: int, days_ago: int) -> Planted:
    p = stage.people[who]
    at = stage.at(who, days_ago, p.work_start + 5)
    key = {"key_id": f"key_{int(stage.rng.integers(1 << 16)):04x}", "name": "export"}
    why = (
        f"{p.name} created an API key for the first time; every other key in the org "
        "is created by one admin on a regular rotation."
    )
    return _one_act(stage, "first_api_key", who, at, "api_key.created", why, metadata=key)


def _deletion_burst(stage: Stage, who: int, days_ago: int) -> Planted:
    p = stage.people[who]
    start = t = stage.at(who, days_ago, p.work_end - 1.5)
    burst = []
    for n, action in enumerate(BURST_ACTIONS):
        t += int(stage.rng.integers(10_000, 25_000))
        burst.append(stage.rows.add(t, who, action, n))
    why = (
        f"{p.name} deleted {len(burst)} assistants, workflows, connections, integrations, "
        f"broadcasts and actions within {(t - start) // 60_000 + 1} "
        "minutes; deletions are otherwise rare and spread out."
    )
    return _planted("deletion_burst", tuple(burst), p.id, why), None


def _activity_after_removal(stage: Stage, who: int, days_ago: int) -> Planted:
    rng, rows, people = stage.rng, stage.rows, stage.people
    p, admin = people[who], stage.admins[0]
    removed_at = stage.at(admin, days_ago, people[admin].work_start + 2)
    removal = rows.add(
        removed_at,
        admin,
        "member.removed",
        member=membership(p, p.role),
        metadata={"reason": "offboarded"},
    )
    stage.ledger.end(removal, removed_at, p, how="member.removed", before=p.role)
    later = [
        rows.add(removed_at + int(rng.integers(2, 4)) * HOUR_MS, who, "assistant.updated", 3),
        rows.add(stage.at(who, days_ago - 1, p.work_start + 1), who, "chat.deleted", 5),
        rows.add(stage.at(who, days_ago - 2, p.work_start + 3), who, "connection.updated", 7),
    ]
    why = (
        f"{people[admin].name} removed {p.name} from the org, yet {p.name}'s account "
        f"made {len(later)} more changes afterwards: its sessions or keys still work."
    )
    # The removed person does nothing else after the removal.
    quiet = Quiet(who, removed_at, 1 << 62)
    return _planted("activity_after_removal", (removal, *later), p.id, why), quiet


def _sso_profile_deleted(stage: Stage, who: int, days_ago: int) -> Planted:
    p = stage.people[who]
    at = stage.at(who, days_ago, p.work_start + 4)
    profile = METADATA["sso.profile.deleted"](int(stage.rng.integers(1 << 20)))
    why = (
        f"{p.name} deleted the org's SSO profile: members can sign in "
        "without single sign-on until it is restored."
    )
    return _one_act(stage, "sso_profile_deleted", who, at, "sso.profile.deleted", why,
                    metadata=profile)  # fmt: skip


def _org_transferred(stage: Stage, who: int, days_ago: int) -> Planted:
    owner, heir = stage.people[who], stage.people[stage.admins[0]]
    at = stage.at(who, days_ago, owner.work_start + 3)
    why = (
        f"{owner.name} transferred ownership of the org to {heir.name}: "
        "the new owner holds every permission, including deleting the org."
    )
    owners = {"previous_owner_id": owner.id, "new_owner_id": heir.id}
    planted = _one_act(stage, "org_transferred", who, at, "org.transferred", why, metadata=owners)
    # The heir becomes the owner; which role the previous owner keeps, the log does not say.
    row, how = _row(planted), "org.transferred"
    stage.ledger.change(row, at, heir, role="OWNER", how=how, by=owner.id, before=heir.role)
    stage.ledger.change(row, at, owner, role=None, how=how, before=owner.role)
    return planted


def _one_act(
    stage: Stage, kind: str, who: int, at: int, action: str, why: str, **fields: Any
) -> Planted:
    """Return the incident of one row: ``who`` does ``action`` at ``at`` (UTC ms)."""
    row = stage.rows.add(at, who, action, **fields)
    return _planted(kind, (row,), stage.people[who].id, why), None


def _row(planted: Planted) -> int:
    """Return the row of a one-row incident."""
    return planted[0][1][0]


# Each kind of incident, in the order they are planted: how, and by whom (a
# developer or member drawn for that incident alone, the last admin, or the owner).
PLANTERS: dict[str, tuple[Callable[[Stage, int, int], Planted], str]] = {
    "impossible_travel": (_impossible_travel, "staff"),
    "off_hours_privilege_escalation": (_off_hours_privilege_escalation, "staff"),
    "first_api_key": (_first_api_key, "staff"),
    "deletion_burst": (_deletion_burst, "staff"),
    "activity_after_removal": (_activity_after_removal, "staff"),
    "sso_profile_deleted": (_sso_profile_deleted, "last admin"),
    "org_transferred": (_org_transferred, "owner"),
}
KINDS: tuple[str, ...] = tuple(PLANTERS)


def plant(
    rng: np.random.Generator, rows: Rows, clock: Clock, people: list[Person], ledger: RoleLedger
) -> tuple[list[PlantedRows], list[Quiet]]:
    """Add each kind's rows (``PLANTERS``); return the incidents and the stretches to keep quiet.

    Each kind falls on its own day in the last 58 days before ``clock``'s now. The
    role changes among them (a self-escalation, a removal, the transfer) go into
    ``ledger``.
    """
    stage = Stage(rng, rows, clock, people, ledger)
    staff = [
        i for i, p in enumerate(people) if p.kind == "person" and p.role in ("DEVELOPER", "MEMBER")
    ]
    by_staff = sum(by == "staff" for _, by in PLANTERS.values())
    drawn = iter(int(i) for i in rng.choice(staff, size=by_staff, replace=False))
    named = {"last admin": stage.admins[-1], "owner": OWNER}
    window = min(58, clock.days - 2)
    when = rng.choice(np.arange(4, window + 1), size=len(KINDS), replace=False)
    planted: list[PlantedRows] = []
    quiet: list[Quiet] = []
    for (planter, by), days_ago in zip(PLANTERS.values(), when, strict=True):
        who = next(drawn) if by == "staff" else named[by]
        incident, still = planter(stage, who, int(days_ago))
        planted.append(incident)
        quiet += [still] if still is not None else []
    return planted, quiet


def _planted(kind: str, rows: tuple[int, ...], actor_id: str, why: str) -> PlantedRows:
    return Incident(kind, (), actor_id, why), rows
