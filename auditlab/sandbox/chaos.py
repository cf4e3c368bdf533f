"""Chaos: entries the client has never seen — unknown actions and unknown fields.

Invent may add actions and fields at any time; a client must keep them as
data. ``add_chaos`` rewrites a share of entries in place (copies, so shared
nested objects stay untouched), never the planted incidents.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from auditlab.sandbox.entries import Entry
from auditlab.sandbox.incidents import Incident

UNKNOWN_ACTIONS: tuple[str, ...] = (
    "agent.summoned",
    "knowledge.synced",
    "billing.invoice.paid",
    "assistant.archived",
)


def add_chaos(
    entries: list[Entry], rate: float, rng: random.Random, keep: Iterable[Incident] = ()
) -> int:
    """Return how many entries got chaos; a share ``rate`` of ``entries`` is rewritten.

    Each chosen entry gains an unknown top-level field (``risk_score``) and
    unknown nested fields (``actor.mfa``, ``org.region``); every second one
    also gets an action outside the catalogue (``auditlab.actions``).

    >>> entries = [{"id": "a", "action": "chat.deleted", "org": {"id": "o"}, "actor": None}]
    >>> add_chaos(entries, 1.0, random.Random(0)), entries[0]["org"]["region"]
    (1, 'eu-west-1')
    """
    protected = {entry_id for incident in keep for entry_id in incident.entry_ids}
    changed = 0
    for n, entry in enumerate(entries):
        if rng.random() >= rate or entry["id"] in protected:
            continue
        new = {**entry, "risk_score": round(rng.random(), 3)}
        if changed % 2 == 0:
            new["action"] = UNKNOWN_ACTIONS[rng.randrange(len(UNKNOWN_ACTIONS))]
        if isinstance(entry.get("actor"), dict):
            new["actor"] = {**entry["actor"], "mfa": rng.random() < 0.5}
            new["user"] = new["actor"]
        if isinstance(entry.get("org"), dict):
            new["org"] = {**entry["org"], "region": "eu-west-1"}
        entries[n] = new
        changed += 1
    return changed
