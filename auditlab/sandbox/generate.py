"""A synthetic Invent organisation, deterministic for (seed, days, now, org_id, scale).

``generate_org`` draws the background in bulk with numpy (people in their
working hours, more on weekdays, the API bot around the clock with a nightly
batch, system events without an actor), adds the members who come and go and
the API-key rotation, plants the incidents listed in
``auditlab.sandbox.incidents``, makes sure every action of the catalogue
occurs, and adds the role history of ``auditlab.sandbox.roles``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from auditlab.actions import ACTIONS
from auditlab.clock import as_utc, system_clock
from auditlab.collector import collector_paused
from auditlab.sandbox.entries import (
    STAFF,
    SYSTEM,
    Entry,
    EntryFactory,
    Pools,
    membership,
)
from auditlab.sandbox.incidents import Incident, plant
from auditlab.sandbox.people import Person, make_bot, make_people, make_person
from auditlab.sandbox.roles import (
    GUEST_ACTIONS,
    RoleLedger,
    Tenure,
    guest_fields,
    record_guest,
    role_history,
)
from auditlab.sandbox.rows import (
    ACTION_INDEX,
    DAY_MS,
    HOUR_MS,
    Clock,
    Rows,
    in_hours,
    working_time,
)
from auditlab.sandbox.world import BROWSERS, COUNTRIES, FIRST_NAMES, LAST_NAMES

WEEKDAY_ENTRIES = 170
WEEKEND_FACTOR = 0.16
CROCKFORD = np.frombuffer(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", dtype=np.uint8)

# Relative frequencies of what people do in the app. Admin-only and planted
# actions are listed separately below; anything missing here never happens
# in the background and is added once by _ensure_every_action.
PERSON_ACTIONS: dict[str, float] = {
    "assistant.updated": 38, "chat.deleted": 6, "connection.updated": 5, "action.created": 4,
    "integration.updated": 4, "action.enabled": 3, "assistant.created": 2.5,
    "workflow.created": 2.5, "action.disabled": 2, "broadcast.created": 1.5,
    "broadcast.activated": 1.5, "assistant.duplicated": 1, "assistant.duplicated_from": 1,
    "broadcast.paused": 1, "integration.enabled": 1, "connection.created": 0.8,
    "integration.created": 0.8, "integration.disabled": 0.6, "action.deleted": 0.5,
    "assistant.deleted": 0.4, "workflow.deleted": 0.3, "broadcast.deleted": 0.2,
    "connection.deleted": 0.15, "integration.deleted": 0.15, "assistant.restored": 0.15,
    "workflow.restored": 0.08, "email.identity.created": 0.1, "email.identity.deleted": 0.03,
}  # fmt: skip
ADMIN_ONLY_ACTIONS: dict[str, float] = {
    "org.updated": 0.4, "org.sub_org_updated": 0.08, "org.sub_org_created": 0.03,
    "org.sub_org_member_joined": 0.05, "org.sub_org_member_role_changed": 0.03,
    "domain.created": 0.03, "domain.deleted": 0.01, "email.domain.created": 0.03,
    "email.domain.deleted": 0.01, "sso.profile.created": 0.02, "sso.profile.updated": 0.04,
    "sso.profile.sessions.revoked": 0.04, "sso.domain.create_code_requested": 0.03,
    "sso.domain.delete_code_requested": 0.01, "sso.domain.created": 0.02,
    "sso.domain.updated": 0.02, "sso.domain.deleted": 0.01,
}  # fmt: skip
BOT_ACTIONS: dict[str, float] = {
    "assistant.updated": 60, "connection.updated": 15, "integration.updated": 10,
    "workflow.created": 5, "action.enabled": 5, "action.disabled": 5,
}  # fmt: skip
SYSTEM_ACTIONS: dict[str, float] = {
    "assistant.updated": 4, "chat.deleted": 3, "org.updated": 2, "integration.disabled": 2,
    "sso.profile.sessions.revoked": 1, "org.sub_org_updated": 0.3,
}  # fmt: skip
# Share of rows by who acts: people, the API bot, the system.
WHO_SHARES = (0.84, 0.13, 0.03)
# The random stream of the role history, beside the seed's main one.
ROLES_STREAM = 1


@dataclass
class SyntheticOrg:
    """A generated org: its entries (newest first), people and the planted answer keys.

    ``answer_key`` lists the planted incidents; ``access_key`` who held which
    role when (``auditlab.sandbox.roles``). ``people`` ends with the API bot;
    ``org`` is the nested org object every entry carries; ``removed`` holds the
    user ids that must never act again.
    A server started with ``live`` appends to ``entries`` as it runs.

    >>> org = generate_org(seed=1, days=30, now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    >>> org.entries[0]["created_at"] <= "2026-11-01T00:00:00Z"
    True
    """

    org_id: str
    entries: list[Entry] = field(repr=False)
    answer_key: list[Incident] = field(repr=False)
    access_key: list[Tenure] = field(repr=False)
    people: list[Person] = field(repr=False)
    now: dt.datetime
    seed: int
    days: int
    scale: float
    org: dict[str, Any] = field(repr=False)
    factory: EntryFactory = field(repr=False)
    removed: frozenset[str] = frozenset()
    last_ms: int = field(default=0, repr=False)


def generate_org(
    seed: int = 0,
    days: int = 180,
    now: dt.datetime | None = None,
    org_id: str = "org_sandbox",
    scale: float = 1.0,
) -> SyntheticOrg:
    """Return a synthetic org whose history runs ``days`` days up to ``now`` (UTC).

    ``now=None`` is the current time, so today has entries up to now. About
    170 entries a weekday and a sixth of that a weekend day, times ``scale``.

    >>> org = generate_org(seed=3, days=30, now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    >>> {e["action"] for e in org.entries} == set(ACTIONS)
    True
    """
    if days < 14:
        raise ValueError(f"days must be at least 14 (the incidents need room), got {days}")
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    now = as_utc(system_clock() if now is None else now)
    clock = Clock(int(now.timestamp() * 1000), days)
    rng = np.random.default_rng(seed)
    domain = "example.com"
    people = [*make_people(rng, domain), make_bot(domain)]
    pools = Pools(rng, org_id, people)
    org = _org_object(org_id)

    rows = Rows()
    ledger = RoleLedger()
    _background(rng, rows, clock, people, scale)
    _members_coming_and_going(rng, rows, clock, people, scale, ledger)
    _key_rotation(rng, rows, clock, people)
    planted, quiet = plant(rng, rows, clock, people, ledger)
    _ensure_every_action(rng, rows, clock, people, ledger)
    # The API bot's latest sync ran minutes ago, so today always has entries.
    rows.add(clock.now_ms - int(rng.integers(60_000, 600_000)), len(people) - 1,
             "assistant.updated", int(rng.integers(1 << 30)))  # fmt: skip
    # The role history draws from a stream of its own, so everything above
    # (and every planted incident) is the same as without it.
    drafted = len(rows)
    roles_rng = np.random.default_rng((seed, ROLES_STREAM))
    actors = frozenset(incident.actor_id for incident, _ in planted if incident.actor_id)
    joined = role_history(roles_rng, rows, clock, people, ledger, planted_actors=actors)

    cols = rows.columns()
    keep = (cols["ts"] >= clock.start_ms) & (cols["ts"] <= clock.now_ms)
    everyday = cols["special"] < 0
    for q in quiet:
        during = (cols["ts"] >= q.start_ms) & (cols["ts"] <= q.end_ms)
        keep &= ~((cols["who"] == q.who) & during & everyday)
    for who, at in joined.items():
        keep &= ~((cols["who"] == who) & (cols["ts"] < at) & everyday)
    row_ids = np.concatenate(
        [_entry_ids(rng, cols["ts"][:drafted]), _entry_ids(roles_rng, cols["ts"][drafted:])]
    )
    factory = EntryFactory(org, people, pools)
    entries, position = _assemble(factory, rows, cols, row_ids, keep)
    answer_key = [
        replace(incident, entry_ids=tuple(entries[position[row]]["id"] for row in rows))
        for incident, rows in planted
    ]
    return SyntheticOrg(
        org_id=org_id,
        entries=entries,
        answer_key=answer_key,
        access_key=ledger.tenures(position, entries),
        people=people,
        now=now,
        seed=seed,
        days=days,
        scale=scale,
        org=org,
        factory=factory,
        removed=frozenset({people[quiet[-1].who].id}),
        last_ms=clock.now_ms,
    )


def _org_object(org_id: str) -> dict[str, Any]:
    return {
        "id": org_id,
        "name": "Harbor & Pine Support",
        "verified": True,
        "logo_url": "https://cdn.example.com/org/harbor-pine.png",
        "plan": "business",
        "config": {
            "email": "it@example.com",
            "address": "1 Example Street, Berlin",
            "terms_url": "https://example.com/terms",
            "privacy_url": "https://example.com/privacy",
        },
        "features": {
            "enterprise": False,
            "workflows": True,
            "broadcasts": True,
            "slack_access": True,
        },
    }


def _choose(rng: np.random.Generator, weights: dict[str, float], size: int) -> np.ndarray:
    """Return ``size`` action indices drawn with the given relative weights."""
    actions = np.array([ACTION_INDEX[a] for a in weights], dtype=np.int32)
    p = np.array(list(weights.values()), dtype=float)
    return actions[rng.choice(len(actions), size=size, p=p / p.sum())]


def _background(
    rng: np.random.Generator, rows: Rows, clock: Clock, people: list[Person], scale: float
) -> None:
    """Add the everyday rows of people, the API bot and the system."""
    days = clock.midnights
    trend = np.linspace(0.85, 1.15, len(days))
    weekend = clock.weekday(days) >= 5
    mean = WEEKDAY_ENTRIES * scale * trend * np.where(weekend, WEEKEND_FACTOR, 1.0)
    counts = rng.poisson(mean * rng.lognormal(0.0, 0.2, len(days)))
    day_ms = np.repeat(days, counts)
    n = len(day_ms)
    kind = rng.choice(3, size=n, p=WHO_SHARES)
    r = rng.integers(0, 1 << 62, size=n, dtype=np.int64)

    humans = np.array([i for i, p in enumerate(people) if p.kind == "person"])
    admins = np.array([i for i, p in enumerate(people) if p.role in ("OWNER", "ADMIN")])
    activity = np.array([people[i].activity for i in humans])
    admin_share = sum(ADMIN_ONLY_ACTIONS.values()) / sum(PERSON_ACTIONS.values())

    by_person = np.flatnonzero(kind == 0)
    from_admin = rng.random(len(by_person)) < admin_share
    who = np.empty(n, dtype=np.int32)
    action = np.empty(n, dtype=np.int32)
    ts = np.empty(n, dtype=np.int64)
    plain, admin_rows = by_person[~from_admin], by_person[from_admin]
    who[plain] = rng.choice(humans, size=len(plain), p=activity / activity.sum())
    action[plain] = _choose(rng, PERSON_ACTIONS, len(plain))
    who[admin_rows] = rng.choice(admins, size=len(admin_rows))
    action[admin_rows] = _choose(rng, ADMIN_ONLY_ACTIONS, len(admin_rows))
    ts[by_person] = in_hours(rng, day_ms[by_person], people, who[by_person])

    by_bot = np.flatnonzero(kind == 1)
    who[by_bot] = len(people) - 1
    action[by_bot] = _choose(rng, BOT_ACTIONS, len(by_bot))
    nightly = rng.random(len(by_bot)) < 0.6
    hour = np.where(nightly, 1.0 + 2.0 * rng.random(len(by_bot)), 24.0 * rng.random(len(by_bot)))
    ts[by_bot] = day_ms[by_bot] + (hour * HOUR_MS).astype(np.int64)

    by_system = np.flatnonzero(kind == 2)
    who[by_system] = SYSTEM
    action[by_system] = _choose(rng, SYSTEM_ACTIONS, len(by_system))
    ts[by_system] = day_ms[by_system] + rng.integers(0, DAY_MS, len(by_system))
    rows.extend(ts, who, action, r)


def _members_coming_and_going(
    rng: np.random.Generator,
    rows: Rows,
    clock: Clock,
    people: list[Person],
    scale: float,
    ledger: RoleLedger,
) -> None:
    """Add invitations, joins, role changes, removals and departures of short-term members.

    These members act only when they join or leave, so a removed member never
    acts again. The first three always run the whole cycle, so every member
    action occurs even in a short history.
    """
    admins = [i for i, p in enumerate(people) if p.role in ("OWNER", "ADMIN")]
    count = max(3, int(rng.poisson(0.35 * scale * clock.days)))
    span = len(clock.midnights)
    for n in range(count):
        admin = int(rng.choice(admins))
        home = COUNTRIES[int(rng.integers(len(COUNTRIES)))]
        first, last = FIRST_NAMES[int(rng.integers(40))], LAST_NAMES[int(rng.integers(36))]
        newcomer = make_person(
            user_id=f"usr_t{n:03d}{int(rng.integers(4096)):03x}",
            name=f"{first} {last}",
            email=f"guest{n}@partner.example.net",
            role="MEMBER",
            home=home,
            work_start=9.0,
            work_end=17.0,
            ips=(f"198.51.100.{int(rng.integers(1, 255))}",),
            agent=BROWSERS[int(rng.integers(len(BROWSERS)))],
            member_id=f"mem_t{n:03d}{int(rng.integers(4096)):03x}",
        )
        day = int(rng.integers(0, span - 14)) if n >= 3 else n
        invited = working_time(rng, people[admin], int(clock.midnights[day]))
        invitation = rows.add(
            invited,
            admin,
            "member.invited",
            int(rng.integers(1 << 30)),
            member=membership(newcomer, "MEMBER"),
            metadata={"email": newcomer.email, "role": "MEMBER"},
        )
        if n >= 3 and rng.random() < 0.15:
            continue
        # Two to four days later, inside the newcomer's own working hours.
        joined = working_time(rng, newcomer, (invited // DAY_MS + int(rng.integers(2, 5))) * DAY_MS)
        as_newcomer = {
            "actor": {**newcomer.actor, "seen_at": None},
            "ip": newcomer.ips[0],
            "country": newcomer.country,
            "agent": newcomer.agent,
        }
        as_newcomer["user"] = as_newcomer["actor"]
        row = rows.add(joined, admin, "member.joined", member=membership(newcomer, "MEMBER"),
                       metadata={"via": "invite"}, **as_newcomer)  # fmt: skip
        ledger.change(row, joined, newcomer, role="MEMBER", how="member.joined",
                      by=people[admin].id, by_row=invitation)  # fmt: skip
        role = "MEMBER"
        if n == 0 or rng.random() < 0.3:
            new_role = str(rng.choice(("DEVELOPER", "ADMIN", "DEVELOPER")))
            at = working_time(rng, people[admin], (joined // DAY_MS + 2) * DAY_MS)
            row = rows.add(at, admin, "member.role_changed", member=membership(newcomer, new_role),
                           metadata={"previous_role": role, "new_role": new_role})  # fmt: skip
            ledger.change(row, at, newcomer, role=new_role, how="member.role_changed",
                          by=people[admin].id)  # fmt: skip
            role = new_role
        leaves = rng.random()
        end_day = (joined // DAY_MS + int(rng.integers(4, 90))) * DAY_MS
        if n == 1 or (n > 2 and leaves < 0.12):
            at = working_time(rng, people[admin], end_day)
            row = rows.add(at, admin, "member.removed", member=membership(newcomer, role),
                           metadata={"reason": "contract ended"})  # fmt: skip
            ledger.end(row, at, newcomer, how="member.removed", before=role)
        elif n == 2 or (n > 2 and leaves < 0.22):
            at = working_time(rng, newcomer, end_day)
            row = rows.add(at, admin, "member.left", member=membership(newcomer, role),
                           metadata=None, **as_newcomer)  # fmt: skip
            ledger.end(row, at, newcomer, how="member.left", before=role)


def _key_rotation(rng: np.random.Generator, rows: Rows, clock: Clock, people: list[Person]) -> None:
    """Add the key keeper's API-key rotation: a new key every 2-4 weeks, the old one deleted.

    Both happen inside the keeper's working hours on the same day.
    """
    keeper = next(i for i, p in enumerate(people) if p.role == "ADMIN")
    day = int(rng.integers(0, 5))
    previous: str | None = None
    while day < len(clock.midnights) - 1:
        midnight = int(clock.midnights[day])
        created, retired = sorted(working_time(rng, people[keeper], midnight) for _ in "ab")
        key_id = f"key_{int(rng.integers(1 << 16)):04x}"
        rows.add(created, keeper, "api_key.created", metadata={"key_id": key_id, "name": "ci"})
        if previous is not None:
            rows.add(retired, keeper, "api_key.deleted", metadata={"key_id": previous})
        previous = key_id
        day += int(rng.integers(14, 29))


def _ensure_every_action(
    rng: np.random.Generator, rows: Rows, clock: Clock, people: list[Person], ledger: RoleLedger
) -> None:
    """Add one row for each action the history lacks (rare org and staff actions).

    A member action is Invent's staff acting on a guest of its own (``guest_fields``).
    """
    cols = rows.columns()
    inside = (cols["ts"] >= clock.start_ms) & (cols["ts"] <= clock.now_ms - DAY_MS)
    present = set(np.unique(cols["action"][inside]).tolist())
    admins = [i for i, p in enumerate(people) if p.role in ("OWNER", "ADMIN")]
    humans = [i for i, p in enumerate(people) if p.kind == "person"]
    for action in ACTIONS:
        if ACTION_INDEX[action] in present:
            continue
        day = int(clock.midnights[int(rng.integers(1, len(clock.midnights) - 1))])
        if action in ADMIN_ONLY_ACTIONS or action in PERSON_ACTIONS:
            who = int(rng.choice(admins if action in ADMIN_ONLY_ACTIONS else humans))
            at = working_time(rng, people[who], day)
        else:
            who, at = STAFF, day + int(rng.integers(8, 18)) * HOUR_MS
        r = int(rng.integers(1 << 30))
        if action not in GUEST_ACTIONS:
            rows.add(at, who, action, r)
            continue
        guest, fields = guest_fields(action, r)
        record_guest(ledger, rows.add(at, who, action, r, **fields), at, action, guest)


def _entry_ids(rng: np.random.Generator, ts: np.ndarray) -> np.ndarray:
    """Return ULID-like ids ('alog_' + 10 time chars + 16 random chars), sortable by time."""
    n = len(ts)
    chars = np.empty((n, 31), dtype=np.uint8)
    chars[:, :5] = np.frombuffer(b"alog_", dtype=np.uint8)
    ms = ts.astype(np.int64)
    for k in range(10):
        chars[:, 5 + k] = CROCKFORD[(ms >> (5 * (9 - k))) & 31]
    chars[:, 15:] = CROCKFORD[rng.integers(0, 32, size=(n, 16))]
    return chars.view("S31").ravel()


def _assemble(
    factory: EntryFactory,
    rows: Rows,
    cols: dict[str, np.ndarray],
    row_ids: np.ndarray,
    keep: np.ndarray,
) -> tuple[list[Entry], np.ndarray]:
    """Return the kept rows as entries, newest first, and row number -> list position."""
    kept = np.flatnonzero(keep)
    order = kept[np.argsort(row_ids[kept], kind="stable")[::-1]]
    ts = cols["ts"][order]
    r = cols["r"][order]
    created = np.datetime_as_string(ts.astype("datetime64[ms]"), unit="s").tolist()
    seen = np.datetime_as_string((ts - r % 900_000).astype("datetime64[ms]"), unit="s").tolist()
    ids = row_ids[order].astype("U31").tolist()
    actions = [ACTIONS[a] for a in cols["action"][order].tolist()]
    specials = cols["special"][order]
    build = factory.build
    with collector_paused():
        entries = [
            build(i, a, c + "Z", s + "Z", w, rr)
            for i, a, c, s, w, rr in zip(
                ids, actions, created, seen, cols["who"][order].tolist(), r.tolist(), strict=True
            )
        ]
    for n in np.flatnonzero(specials >= 0).tolist():
        entries[n].update(rows.overrides[specials[n]])
    position = np.full(len(keep), -1, dtype=np.int64)
    position[order] = np.arange(len(order))
    return entries, position


def live_entries(
    org: SyntheticOrg, rng: np.random.Generator, count: int, now: dt.datetime
) -> list[Entry]:
    """Return ``count`` new entries created at ``now`` (oldest first), with ids after every other.

    People still in the org (and the bot) do everyday things; the org's ``last_ms`` moves on,
    so ids and times keep increasing even within one millisecond.
    """
    start = max(int(now.timestamp() * 1000), org.last_ms + 1)
    ts = np.arange(start, start + count, dtype=np.int64)
    org.last_ms = int(ts[-1]) if count else org.last_ms
    return everyday_entries(org, rng, ts)


def everyday_entries(org: SyntheticOrg, rng: np.random.Generator, ts: np.ndarray) -> list[Entry]:
    """Return one everyday entry per UTC millisecond in ``ts`` (in that order).

    People still in the org and the API bot do everyday things; ids sort by time.
    """
    count = len(ts)
    people = org.people
    humans = np.array(
        [i for i, p in enumerate(people) if p.kind == "person" and p.id not in org.removed]
    )
    by_bot = rng.random(count) < WHO_SHARES[1]
    who = np.where(by_bot, len(people) - 1, rng.choice(humans, size=count))
    action = np.where(by_bot, _choose(rng, BOT_ACTIONS, count), _choose(rng, PERSON_ACTIONS, count))
    r = rng.integers(0, 1 << 62, size=count, dtype=np.int64)
    ids = _entry_ids(rng, ts).astype("U31").tolist()
    stamps = np.datetime_as_string(ts.astype("datetime64[ms]"), unit="s").tolist()
    return [
        org.factory.build(i, ACTIONS[a], s + "Z", s + "Z", w, rr)
        for i, a, s, w, rr in zip(
            ids, action.tolist(), stamps, who.tolist(), r.tolist(), strict=True
        )
    ]
