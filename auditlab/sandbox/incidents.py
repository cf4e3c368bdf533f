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

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from auditlab.sandbox.entries import METADATA, Pools, membership
from auditlab.sandbox.people import Person
from auditlab.sandbox.rows import HOUR_MS, Clock, Rows
from auditlab.sandbox.world import BROWSERS, COUNTRIES

KINDS: tuple[str, ...] = (
    "impossible_travel",
    "off_hours_privilege_escalation",
    "first_api_key",
    "deletion_burst",
    "activity_after_removal",
    "sso_profile_deleted",
    "org_transferred",
)

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


def plant(
    rng: np.random.Generator, rows: Rows, clock: Clock, people: list[Person], pools: Pools
) -> tuple[list[PlantedRows], list[Quiet]]:
    """Add the seven incidents' rows; return them and the stretches to keep quiet.

    The traveller does nothing else between the two planted acts, and the
    removed person does nothing else after the removal.
    """
    admins = [i for i, p in enumerate(people) if p.role == "ADMIN"]
    staff = [
        i for i, p in enumerate(people) if p.kind == "person" and p.role in ("DEVELOPER", "MEMBER")
    ]
    traveller, escalator, key_maker, deleter, leaver = (
        int(i) for i in rng.choice(staff, size=5, replace=False)
    )
    window = min(58, clock.days - 2)
    when = [int(d) for d in rng.choice(np.arange(4, window + 1), size=7, replace=False)]
    planted: list[PlantedRows] = []

    def at(who: int, days_ago: int, hour: float) -> int:
        return clock.local(people[who], days_ago, hour) + int(rng.integers(0, 59_000))

    # Impossible travel.
    p = people[traveller]
    first = at(traveller, when[0], p.work_start + 1.5)
    far = [c for c in COUNTRIES if c.continent != p.continent]
    abroad = far[int(rng.integers(len(far)))]
    second = first + int(rng.integers(8, 15)) * 60_000
    foreign_ip = f"{abroad.octets[0]}.{int(rng.integers(1, 255))}.7.{int(rng.integers(2, 254))}"
    planted.append(
        _planted(
            "impossible_travel",
            (
                rows.add(first, traveller, "assistant.updated", int(rng.integers(1 << 30))),
                rows.add(
                    second,
                    traveller,
                    "connection.updated",
                    int(rng.integers(1 << 30)),
                    ip=foreign_ip,
                    country=abroad.code,
                    agent=BROWSERS[(BROWSERS.index(p.agent) + 1) % len(BROWSERS)],
                ),
            ),
            p.id,
            f"{p.name} acted from {p.country} and, {(second - first) // 60_000} minutes later, "
            f"from {abroad.code} on another continent: one of the two sessions is not theirs.",
        )
    )

    # Off-hours self-escalation to ADMIN.
    p = people[escalator]
    planted.append(
        _planted(
            "off_hours_privilege_escalation",
            (
                rows.add(
                    at(escalator, when[1], 3.0),
                    escalator,
                    "member.role_changed",
                    member=membership(p, "ADMIN"),
                    metadata={"previous_role": p.role, "new_role": "ADMIN"},
                ),
            ),
            p.id,
            f"{p.name} ({p.role}) made themselves ADMIN at about 03:00 their local time, "
            "far outside their working hours; only admins change roles, in working hours.",
        )
    )

    # First API key by someone who never made one.
    p = people[key_maker]
    planted.append(
        _planted(
            "first_api_key",
            (
                rows.add(
                    at(key_maker, when[2], p.work_start + 5),
                    key_maker,
                    "api_key.created",
                    metadata={"key_id": f"key_{int(rng.integers(1 << 16)):04x}", "name": "export"},
                ),
            ),
            p.id,
            f"{p.name} created an API key for the first time; every other key in the org "
            "is created by one admin on a regular rotation.",
        )
    )

    # A burst of deletions.
    p = people[deleter]
    start = t = at(deleter, when[3], p.work_end - 1.5)
    burst = []
    for n, action in enumerate(BURST_ACTIONS):
        t += int(rng.integers(10_000, 25_000))
        burst.append(rows.add(t, deleter, action, n))
    planted.append(
        _planted(
            "deletion_burst",
            tuple(burst),
            p.id,
            f"{p.name} deleted {len(burst)} assistants, workflows, connections, integrations, "
            f"broadcasts and actions within {(t - start) // 60_000 + 1} "
            "minutes; deletions are otherwise rare and spread out.",
        )
    )

    # Activity after the person was removed.
    p, admin = people[leaver], admins[0]
    removed_at = at(admin, when[4], people[admin].work_start + 2)
    removal = rows.add(
        removed_at,
        admin,
        "member.removed",
        member=membership(p, p.role),
        metadata={"reason": "offboarded"},
    )
    later = [
        rows.add(removed_at + int(rng.integers(2, 4)) * HOUR_MS, leaver, "assistant.updated", 3),
        rows.add(at(leaver, when[4] - 1, p.work_start + 1), leaver, "chat.deleted", 5),
        rows.add(at(leaver, when[4] - 2, p.work_start + 3), leaver, "connection.updated", 7),
    ]
    planted.append(
        _planted(
            "activity_after_removal",
            (removal, *later),
            p.id,
            f"{people[admin].name} removed {p.name} from the org, yet {p.name}'s account "
            f"made {len(later)} more changes afterwards: its sessions or keys still work.",
        )
    )

    # The only SSO profile deletion.
    admin = admins[-1]
    planted.append(
        _planted(
            "sso_profile_deleted",
            (
                rows.add(
                    at(admin, when[5], people[admin].work_start + 4),
                    admin,
                    "sso.profile.deleted",
                    metadata=METADATA["sso.profile.deleted"](int(rng.integers(1 << 20))),
                ),
            ),
            people[admin].id,
            f"{people[admin].name} deleted the org's SSO profile: members can sign in "
            "without single sign-on until it is restored.",
        )
    )

    # The only org transfer.
    owner, heir = 0, admins[0]
    planted.append(
        _planted(
            "org_transferred",
            (
                rows.add(
                    at(owner, when[6], people[owner].work_start + 3),
                    owner,
                    "org.transferred",
                    metadata={
                        "previous_owner_id": people[owner].id,
                        "new_owner_id": people[heir].id,
                    },
                ),
            ),
            people[owner].id,
            f"{people[owner].name} transferred ownership of the org to {people[heir].name}: "
            "the new owner holds every permission, including deleting the org.",
        )
    )
    quiet = [Quiet(traveller, first, second), Quiet(leaver, removed_at, 1 << 62)]
    return planted, quiet


def _planted(kind: str, rows: tuple[int, ...], actor_id: str, why: str) -> PlantedRows:
    return Incident(kind, (), actor_id, why), rows
