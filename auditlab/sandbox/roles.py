"""Who holds which role when in the synthetic org, and the answer key that says so.

The log opens when the org is set up: in its first minute the system adds
everyone (the owner, the admins, the staff and the API bot) with their
starting role, as ``member.joined`` entries without an actor. From then on a
role changes only through an entry of the log:

- short-term members are invited by an admin, join as MEMBER, may be
  promoted, and may be removed or leave (see ``generate``);
- a DEVELOPER or MEMBER is made ADMIN by an admin and, a few weeks later,
  put back (a temporary elevation: a promotion and a demotion);
- the planted incidents: a DEVELOPER/MEMBER makes themselves ADMIN, a
  member is removed, and the owner transfers the org to the first admin.
  The log does not say which role the previous owner keeps, so from the
  transfer on their role is unknown, and the key says so;
- an outside consultant joins with the roster as ADMIN, acts in the org's
  first weeks only and is never removed: an admin who goes quiet;
- where a short history lacks a member action, Invent's staff perform it on
  a guest of its own (see ``guest_fields``).

``RoleLedger`` records each of these as it is drafted; ``RoleLedger.tenures``
resolves them against the entries that made it into the log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from auditlab.sandbox.entries import SYSTEM, Entry, membership
from auditlab.sandbox.people import Person, make_person
from auditlab.sandbox.rows import Clock, Rows, working_time
from auditlab.sandbox.world import BROWSERS, COUNTRIES, FIRST_NAMES, LAST_NAMES

# How a tenure held since before the first entry of the log began.
BEFORE_LOG = "before the log"
PRIVILEGED = ("ADMIN", "OWNER")
# The consultant's acts, all in the org's first weeks.
CONSULTANT_ACTIONS = (
    "org.updated", "integration.updated", "connection.updated", "assistant.updated",
)  # fmt: skip
# The member actions Invent's staff may perform on a guest (see guest_fields).
GUEST_ACTIONS = ("member.invited", "member.joined", "member.role_changed", "member.removed",
                 "member.left")  # fmt: skip


@dataclass(frozen=True)
class Tenure:
    """One person holding one role over one stretch of the log: the access answer key.

    ``role`` None: the log does not say which role. ``from_id`` None: held since
    before the log (``began`` is ``BEFORE_LOG``). ``to_id`` None: still held at
    the end of the log. ``granted_by`` is the user id of whoever granted it
    (None: the system, Invent's staff, or not in the log); ``granted_id`` the
    entry that shows the grant (an invitation for a join, else ``from_id``).
    """

    user_id: str
    name: str
    role: str | None
    began: str
    granted_by: str | None
    granted_id: str | None
    from_id: str | None
    from_at: str | None
    to_id: str | None = None
    to_at: str | None = None
    ended: str | None = None

    @property
    def privileged(self) -> bool:
        """Return whether the role is ADMIN or OWNER."""
        return self.role in PRIVILEGED

    def to_dict(self) -> dict[str, Any]:
        """Return the tenure as plain JSON-ready data."""
        return asdict(self)


@dataclass(frozen=True)
class _Event:
    ts: int
    row: int
    user_id: str
    name: str
    ends: bool
    role: str | None
    how: str
    by: str | None
    by_row: int | None
    before: str | None


class RoleLedger:
    """The roles the generator gives people, recorded on drafted rows, resolved to entries later.

    >>> ledger = RoleLedger()
    >>> ana = make_person(user_id="usr_1", name="Ana", email="a@example.com", role="MEMBER",
    ...                   home=COUNTRIES[0], work_start=9.0, work_end=17.0, ips=["192.0.2.1"],
    ...                   agent=BROWSERS[0], member_id="mem_1")
    >>> ledger.change(0, 1_000, ana, role="MEMBER", how="member.joined")
    >>> ledger.end(1, 2_000, ana, how="member.left")
    >>> entries = [{"id": "alog_1", "created_at": "t1"}, {"id": "alog_2", "created_at": "t2"}]
    >>> [(t.role, t.from_id, t.to_id, t.ended) for t in ledger.tenures(np.arange(2), entries)]
    [('MEMBER', 'alog_1', 'alog_2', 'member.left')]
    """

    def __init__(self) -> None:
        self._events: list[_Event] = []

    def change(
        self,
        row: int,
        ts: int,
        person: Person,
        *,
        role: str | None,
        how: str,
        by: str | None = None,
        by_row: int | None = None,
        before: str | None = None,
    ) -> None:
        """Record that row ``row`` (at ``ts`` ms) gives ``person`` ``role`` (None: unknown).

        ``by`` granted it, as row ``by_row`` shows (default: ``row``);
        ``before`` is the role held until then, for a person the log has not
        shown before.
        """
        self._events.append(
            _Event(ts, row, person.id, person.name, False, role, how, by, by_row, before)
        )

    def end(
        self, row: int, ts: int, person: Person, *, how: str, before: str | None = None
    ) -> None:
        """Record that row ``row`` (at ``ts`` ms) ends ``person``'s membership."""
        self._events.append(
            _Event(ts, row, person.id, person.name, True, None, how, None, None, before)
        )

    def tenures(self, position: np.ndarray, entries: Sequence[Entry]) -> list[Tenure]:
        """Return every tenure the log shows, by user id, then oldest first.

        ``position`` maps a drafted row to its entry's index in ``entries``
        (-1: the row is not in the log, so its event never happened).
        """

        def entry(row: int | None) -> Entry | None:
            found = -1 if row is None else int(position[row])
            return entries[found] if found >= 0 else None

        by_user: dict[str, list[tuple[_Event, Entry]]] = defaultdict(list)
        for event in sorted(self._events, key=lambda e: (e.ts, e.row)):
            here = entry(event.row)
            if here is not None:
                by_user[event.user_id].append((event, here))
        tenures: list[Tenure] = []
        for user_id, events in by_user.items():
            held: Tenure | None = None
            for event, here in events:
                if held is not None:
                    tenures.append(
                        replace(held, to_id=here["id"], to_at=here["created_at"], ended=event.how)
                    )
                elif event.before is not None:
                    tenures.append(
                        Tenure(user_id, event.name, event.before, BEFORE_LOG, None, None, None,
                               None, here["id"], here["created_at"], event.how)
                    )  # fmt: skip
                held = None if event.ends else _opened(event, here, entry(event.by_row))
            if held is not None:
                tenures.append(held)
        return sorted(tenures, key=lambda t: (t.user_id, t.from_at or "", t.from_id or ""))


def _opened(event: _Event, here: Entry, grant: Entry | None) -> Tenure:
    """Return the tenure an event opens; a grant whose entry is not in the log names nobody."""
    shown = grant if event.by_row is not None else here
    return Tenure(
        event.user_id, event.name, event.role, event.how,
        event.by if shown is not None else None, (shown or here)["id"],
        here["id"], here["created_at"],
    )  # fmt: skip


def role_history(
    rng: np.random.Generator,
    rows: Rows,
    clock: Clock,
    people: list[Person],
    ledger: RoleLedger,
    *,
    planted_actors: frozenset[str],
) -> dict[int, int]:
    """Add the roster, the consultant's acts and a temporary elevation; return who joined when.

    The result maps the index of each person in ``people`` to the UTC ms of
    their roster entry: before it they do nothing.
    """
    consultant = _consultant(rng)
    joined = _roster(rows, clock, [*people, consultant], ledger)
    _consultant_acts(rng, rows, clock, consultant)
    _temporary_admin(rng, rows, clock, people, ledger, planted_actors)
    return {i: at for i, at in enumerate(joined[: len(people)])}


def _roster(rows: Rows, clock: Clock, everyone: list[Person], ledger: RoleLedger) -> list[int]:
    """Add one ``member.joined`` by the system per person, a second apart from the log's start."""
    joined = []
    for n, person in enumerate(everyone, start=1):
        at = clock.start_ms + n * 1_000
        row = rows.add(at, SYSTEM, "member.joined", member=membership(person, person.role),
                       metadata={"via": "org setup"})  # fmt: skip
        ledger.change(row, at, person, role=person.role, how="member.joined")
        joined.append(at)
    return joined


def _consultant(rng: np.random.Generator) -> Person:
    """Return the outside consultant who set the org up: an ADMIN who later goes quiet."""
    first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
    last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
    tag = f"{int(rng.integers(1 << 16)):04x}"
    home = COUNTRIES[int(rng.integers(len(COUNTRIES)))]
    email = f"{first}.{last}@consult.example.net".lower().translate(
        str.maketrans("éñíóáçã", "eniooca")
    )
    return make_person(
        user_id=f"usr_k{tag}", name=f"{first} {last}", email=email, role="ADMIN", home=home,
        work_start=9.0, work_end=17.0, ips=(f"203.0.113.{int(rng.integers(1, 255))}",),
        agent=BROWSERS[int(rng.integers(len(BROWSERS)))], member_id=f"mem_k{tag}",
    )  # fmt: skip


def _consultant_acts(rng: np.random.Generator, rows: Rows, clock: Clock, person: Person) -> None:
    """Add the consultant's 6-10 acts, on days within the org's first weeks."""
    last_day = max(2, min(35, len(clock.midnights) // 3))
    count = min(last_day, int(rng.integers(6, 11)))
    days = np.sort(rng.choice(np.arange(1, last_day + 1), size=count, replace=False))
    for day in days.tolist():
        at = working_time(rng, person, int(clock.midnights[day]))
        seen = at - int(rng.integers(60_000, 900_000))
        actor = {**person.actor, "seen_at": _iso(seen)}
        action = CONSULTANT_ACTIONS[int(rng.integers(len(CONSULTANT_ACTIONS)))]
        rows.add(at, 0, action, int(rng.integers(1 << 30)), actor=actor, user=actor,
                 ip=person.ips[0], country=person.country, agent=person.agent)  # fmt: skip


def _temporary_admin(
    rng: np.random.Generator, rows: Rows, clock: Clock, people: list[Person],
    ledger: RoleLedger, planted_actors: frozenset[str],
) -> None:  # fmt: skip
    """Add a promotion of a DEVELOPER/MEMBER to ADMIN by an admin, and the demotion after it.

    The promotion falls in the second half of the history (its last 30 days
    left free when there is room); the demotion 7-21 days later, if that is
    before today.
    """
    admins = [i for i, p in enumerate(people) if p.role == "ADMIN"]
    staff = [
        i for i, p in enumerate(people)
        if p.kind == "person" and p.role in ("DEVELOPER", "MEMBER") and p.id not in planted_actors
    ]  # fmt: skip
    person = people[staff[int(rng.integers(len(staff)))]]
    span = len(clock.midnights)
    first = max(2, span // 2)
    up = int(rng.integers(first, max(first + 1, span - 30)))
    down = up + int(rng.integers(7, 22))
    steps = [(up, "ADMIN", person.role)] + (
        [(down, person.role, "ADMIN")] if down <= span - 2 else []
    )
    for day, role, before in steps:
        who = admins[int(rng.integers(len(admins)))]
        granter = people[who]
        at = working_time(rng, granter, int(clock.midnights[day]))
        row = rows.add(at, who, "member.role_changed",
                       member=membership(person, role),
                       metadata={"previous_role": before, "new_role": role})  # fmt: skip
        ledger.change(row, at, person, role=role, how="member.role_changed", by=granter.id)


def guest_fields(action: str, r: int) -> tuple[Person, dict[str, Any]]:
    """Return the guest a staff-made member action affects, and the entry's fields for it.

    A short history may lack a member action; Invent's staff then perform it
    on a guest of its own who never acts: invited or joined as MEMBER, moved
    from MEMBER to DEVELOPER, or removed or gone while a MEMBER.

    >>> guest, fields = guest_fields("member.role_changed", 12345)
    >>> fields["member"]["role"], fields["metadata"]
    ('DEVELOPER', {'previous_role': 'MEMBER', 'new_role': 'DEVELOPER'})
    """
    tag = f"{r % 0xFFFFF:05x}"
    first, last = FIRST_NAMES[r % len(FIRST_NAMES)], LAST_NAMES[(r >> 6) % len(LAST_NAMES)]
    guest = make_person(
        user_id=f"usr_g{tag}", name=f"{first} {last}", email=f"guest.{tag}@partner.example.net",
        role="MEMBER", home=COUNTRIES[0], work_start=9.0, work_end=17.0, ips=("198.51.100.1",),
        agent=BROWSERS[0], member_id=f"mem_g{tag}",
    )  # fmt: skip
    role = "DEVELOPER" if action == "member.role_changed" else "MEMBER"
    metadata: dict[str, Any] | None = {
        "member.invited": {"email": guest.email, "role": "MEMBER"},
        "member.joined": {"via": "invite"},
        "member.role_changed": {"previous_role": "MEMBER", "new_role": "DEVELOPER"},
        "member.removed": {"reason": "requested by the org"},
    }.get(action)
    return guest, {"member": membership(guest, role), "metadata": metadata}


def record_guest(ledger: RoleLedger, row: int, ts: int, action: str, guest: Person) -> None:
    """Record in ``ledger`` what a staff-made member action (``guest_fields``) did to the guest."""
    if action == "member.joined":
        ledger.change(row, ts, guest, role="MEMBER", how=action)
    elif action == "member.role_changed":
        ledger.change(row, ts, guest, role="DEVELOPER", how=action, before="MEMBER")
    elif action in ("member.removed", "member.left"):
        ledger.end(row, ts, guest, how=action, before="MEMBER")


def _iso(ms: int) -> str:
    return str(np.datetime64(ms, "ms").astype("datetime64[s]")) + "Z"
