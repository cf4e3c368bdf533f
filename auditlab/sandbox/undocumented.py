"""What Invent's documentation leaves open, each plausible answer offered as a switch.

A stand-in that shares the client's guesses can only confirm them, so the
sandbox lets a test pick:

- ``user_filter``: which person the ``user_id`` filter matches. Both ``actor``
  and ``user`` are documented as "the user who performed the action":
  ``"actor"``, ``"user"`` (the default) or ``"either"``.
- ``add_person_gaps``: a share of people's entries name the person in
  ``actor`` only or in ``user`` only, the other absent or null.
- ``add_late_entries``: entries written shortly before a UTC midnight that
  the server shows only some seconds or minutes after it (queues, clock skew).

Every choice is deterministic for the seed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from typing import Any

import numpy as np

from auditlab.sandbox.entries import Entry
from auditlab.sandbox.generate import SyntheticOrg, everyday_entries
from auditlab.sandbox.incidents import Incident
from auditlab.sandbox.rows import DAY_MS

USER_FILTERS: tuple[str, ...] = ("actor", "user", "either")
# A late entry is written this close before a midnight...
LATE_WINDOW_MS = 5 * 60_000
# ...and shown at most this long after it, unless told otherwise.
DEFAULT_LATE_DELAY = dt.timedelta(minutes=10)


def check_user_filter(user_filter: str) -> str:
    """Return user_filter if it is one of USER_FILTERS, else raise ValueError.

    >>> check_user_filter("either")
    'either'
    """
    if user_filter not in USER_FILTERS:
        allowed = ", ".join(USER_FILTERS)
        raise ValueError(f"user_filter must be one of {allowed}, not {user_filter!r}")
    return user_filter


def person_ids(entry: Entry, user_filter: str) -> tuple[Any, ...]:
    """Return the ids the ``user_id`` filter matches in entry under the rule user_filter.

    >>> entry = {"actor": {"id": "usr_a"}, "user": None}
    >>> person_ids(entry, "actor"), person_ids(entry, "user"), person_ids(entry, "either")
    (('usr_a',), (), ('usr_a',))
    """
    sides = ("actor", "user") if user_filter == "either" else (user_filter,)
    ids = []
    for side in sides:
        person = entry.get(side)
        found = person.get("id") if isinstance(person, dict) else None
        if found is not None and found not in ids:
            ids.append(found)
    return tuple(ids)


def add_person_gaps(
    entries: list[Entry], share: float, seed: int, keep: Iterable[Incident] = ()
) -> int:
    """Return how many entries now name their person on one side only.

    A share of the entries that carry both ``actor`` and ``user`` lose one of
    them (chosen per entry from the seed and the entry's id, so applying it
    twice changes nothing more): half lose ``user``, half ``actor``; half of
    those drop the key, half set it to null. The planted incidents are kept.

    >>> entries = [{"id": f"a{n}", "actor": {"id": "u"}, "user": {"id": "u"}} for n in range(40)]
    >>> add_person_gaps(entries, 0.5, seed=1) > 0
    True
    >>> all(bool(e.get("actor")) != bool(e.get("user")) or e["actor"] for e in entries)
    True
    """
    protected = {entry_id for incident in keep for entry_id in incident.entry_ids}
    changed = 0
    for entry in entries:
        both = isinstance(entry.get("actor"), dict) and isinstance(entry.get("user"), dict)
        if not both or entry["id"] in protected:
            continue
        dice = random.Random(f"{seed}-person-gap-{entry['id']}")
        if dice.random() >= share:
            continue
        side = "user" if dice.random() < 0.5 else "actor"
        if dice.random() < 0.5:
            del entry[side]
        else:
            entry[side] = None
        changed += 1
    return changed


def add_late_entries(
    org: SyntheticOrg, per_midnight: int, seed: int, max_delay: dt.timedelta = DEFAULT_LATE_DELAY
) -> dict[str, dt.datetime]:
    """Add late entries to org.entries and return when each becomes visible, by id.

    Before every UTC midnight of the org's history up to ``org.now``,
    ``per_midnight`` everyday entries are written in the last five minutes of
    the day; each is shown only from that midnight plus a delay of one second
    to ``max_delay``. ``org.entries`` stays newest first and is the whole
    truth, visible or not (``visible`` picks what a server shows at a moment).

    >>> from auditlab.sandbox.generate import generate_org
    >>> org = generate_org(seed=1, days=14, now=dt.datetime(2026, 11, 1, 0, 3, tzinfo=dt.UTC))
    >>> late = add_late_entries(org, 2, seed=1)
    >>> len(late), min(late.values()) >= dt.datetime(2026, 10, 19, tzinfo=dt.UTC)
    (28, True)
    """
    if per_midnight <= 0:
        return {}
    rng = np.random.default_rng([seed, 2])
    now_ms = int(org.now.timestamp() * 1000)
    first_ms = now_ms - org.days * DAY_MS + LATE_WINDOW_MS
    midnights = np.arange(first_ms // DAY_MS * DAY_MS + DAY_MS, now_ms + 1, DAY_MS)
    midnights = np.repeat(midnights, per_midnight)
    written = midnights - rng.integers(1_000, LATE_WINDOW_MS, len(midnights))
    order = np.argsort(written, kind="stable")
    written, midnights = written[order], midnights[order]
    delays = rng.integers(1_000, max(1_001, int(max_delay.total_seconds() * 1000)), len(written))
    late = everyday_entries(org, rng, written)
    shown = {
        entry["id"]: dt.datetime.fromtimestamp(int(at) / 1000, dt.UTC)
        for entry, at in zip(late, midnights + delays, strict=True)
    }
    org.entries.extend(late)
    org.entries.sort(key=lambda entry: entry["id"], reverse=True)
    return shown


def visible(
    entries: list[Entry], shown_from: dict[str, dt.datetime], at: dt.datetime
) -> list[Entry]:
    """Return the entries a server shows at a moment: all but the late ones not yet shown.

    >>> at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    >>> [e["id"] for e in visible([{"id": "b"}, {"id": "a"}], {"b": at}, at - dt.timedelta(1))]
    ['a']
    """
    if not shown_from:
        return list(entries)
    return [entry for entry in entries if shown_from.get(entry["id"], at) <= at]
