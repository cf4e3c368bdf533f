"""The synthetic org's people: home country, working hours, stable IPs and browser."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from auditlab.sandbox.world import (
    BOT_AGENT,
    BOT_HOME,
    BOT_IP,
    BROWSERS,
    COUNTRIES,
    COUNTRY_WEIGHTS,
    FIRST_NAMES,
    LAST_NAMES,
    Country,
)


@dataclass(frozen=True)
class Person:
    """One member of the org who acts in the log (a person or the API bot).

    ``work_start``/``work_end`` are local hours; ``utc_offset`` turns them into
    UTC. A person is only ever active inside those hours, from ``country``,
    through one of ``ips`` (the bot: around the clock, from one IPv6 address).
    """

    id: str
    name: str
    email: str
    role: str
    country: str
    continent: str
    utc_offset: float
    work_start: float
    work_end: float
    ips: tuple[str, ...]
    agent: str
    member_id: str
    avatar: str | None = None
    kind: str = "person"
    activity: float = 1.0
    actor: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def local_hour(self, utc_hour: float) -> float:
        """Return the local hour of day (0-24) for an hour of day in UTC.

        >>> make_bot().local_hour(3.0)
        3.0
        """
        return (utc_hour + self.utc_offset) % 24


def _hex(rng: np.random.Generator, digits: int) -> str:
    return format(int(rng.integers(0, 16**digits)), "x")


def _ipv4(rng: np.random.Generator, country: Country) -> str:
    """Return a stable-looking IPv4: documentation, private or public-looking."""
    a, b, c = (int(x) for x in rng.integers(1, 255, 3))
    style = rng.choice(("documentation", "private", "public", "public"))
    if style == "documentation":
        prefix = ("192.0.2", "198.51.100", "203.0.113")[a % 3]
        return f"{prefix}.{c}"
    if style == "private":
        return (f"10.{a}.{b}.{c}", f"172.{16 + a % 16}.{b}.{c}", f"192.168.{b}.{c}")[a % 3]
    return f"{country.octets[a % len(country.octets)]}.{b}.{a}.{c}"


def _ipv6(rng: np.random.Generator) -> str:
    return f"2001:db8:{_hex(rng, 4)}:{_hex(rng, 4)}::{_hex(rng, 3)}"


def make_person(
    *,
    user_id: str,
    name: str,
    email: str,
    role: str,
    home: Country,
    work_start: float,
    work_end: float,
    ips: Sequence[str],
    agent: str,
    member_id: str,
    avatar: str | None = None,
    kind: str = "person",
    activity: float = 1.0,
) -> Person:
    """Return a Person living in ``home``, with the ``actor`` object entries show for them.

    The bot's actor object is the same in every entry (it is never seen in the
    app), so it carries ``seen_at`` already; a person's gets it per entry.

    >>> ana = make_person(user_id="usr_1", name="Ana Silva", email="ana@example.com",
    ...                   role="MEMBER", home=COUNTRIES[0], work_start=9.0, work_end=17.0,
    ...                   ips=["192.0.2.1"], agent=BROWSERS[0], member_id="mem_1")
    >>> ana.country, ana.actor["name"]
    ('DE', 'Ana Silva')
    """
    actor: dict[str, Any] = {"id": user_id, "name": name, "email": email, "avatar": avatar}
    if kind == "bot":
        actor["seen_at"] = None
    return Person(
        id=user_id, name=name, email=email, role=role, country=home.code,
        continent=home.continent, utc_offset=home.utc_offset, work_start=work_start,
        work_end=work_end, ips=tuple(ips), agent=agent, member_id=member_id, avatar=avatar,
        kind=kind, activity=activity, actor=actor,
    )  # fmt: skip


def make_people(rng: np.random.Generator, org_domain: str) -> list[Person]:
    """Return 15-40 people: the owner first, then 2-3 admins, then everyone else.

    >>> people = make_people(np.random.default_rng(0), "example.com")
    >>> people[0].role, 15 <= len(people) <= 40
    ('OWNER', True)
    """
    count = int(rng.integers(15, 41))
    weights = np.asarray(COUNTRY_WEIGHTS) / sum(COUNTRY_WEIGHTS)
    homes = rng.choice(len(COUNTRIES), size=count, p=weights)
    admins = int(rng.integers(2, 4))
    firsts = rng.permutation(len(FIRST_NAMES))
    people: list[Person] = []
    for i in range(count):
        country = COUNTRIES[homes[i]]
        first = FIRST_NAMES[firsts[i % len(FIRST_NAMES)]]
        last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
        user_id = f"usr_{_hex(rng, 4).zfill(4)}{i:02d}"
        role = (
            "OWNER" if i == 0 else "ADMIN" if i <= admins else rng.choice(("DEVELOPER", "MEMBER"))
        )
        ips = [_ipv4(rng, country)]
        if rng.random() < 0.5:
            ips.append(_ipv6(rng) if rng.random() < 0.5 else _ipv4(rng, country))
        start = float(rng.choice((7.0, 8.0, 8.5, 9.0, 9.0, 10.0)))
        email = f"{_ascii(first)}.{_ascii(last)}@{org_domain}".lower()
        avatar = f"https://cdn.example.com/a/{user_id}.png" if rng.random() < 0.7 else None
        people.append(
            make_person(
                user_id=user_id,
                name=f"{first} {last}",
                email=email,
                role=str(role),
                home=country,
                work_start=start,
                work_end=start + float(rng.choice((8.0, 8.5, 9.0))),
                ips=ips,
                agent=BROWSERS[int(rng.integers(len(BROWSERS)))],
                member_id=f"mem_{_hex(rng, 4).zfill(4)}{i:02d}",
                avatar=avatar,
                activity=float(rng.lognormal(0.0, 0.5)),
            )
        )
    return people


def make_bot(org_domain: str = "example.com") -> Person:
    """Return the org's automation user, which calls the API around the clock.

    >>> make_bot().kind
    'bot'
    """
    return make_person(
        user_id="usr_b0t1",
        name="Build Bot",
        email=f"bot@{org_domain}",
        role="DEVELOPER",
        home=BOT_HOME,
        work_start=0.0,
        work_end=24.0,
        ips=(BOT_IP,),
        agent=BOT_AGENT,
        member_id="mem_b0t1",
        kind="bot",
    )


def _ascii(text: str) -> str:
    return text.translate(str.maketrans("éñíóáçã", "eniooca"))
