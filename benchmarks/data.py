"""Benchmark inputs from the sandbox's synthetic org: entries, raw pages and frames."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from auditlab.api.query import MAX_TAKE

# A fixed clock keeps every input identical from run to run.
NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
DAYS = 180
ENTRIES_AT_SCALE_1 = 24_000  # about what 180 days of the default org hold


def org_entries(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """Return the newest ``count`` entries of a sandbox org scaled to hold at least that many."""
    from auditlab.sandbox import generate_org

    scale = max(count / ENTRIES_AT_SCALE_1, 0.05)
    while True:
        entries = generate_org(seed=seed, days=DAYS, now=NOW, scale=scale).entries
        if len(entries) >= count:
            return entries[:count]
        scale *= 1.2 * count / max(len(entries), 1)


def pages(entries: list[dict[str, Any]], take: int = MAX_TAKE) -> list[bytes]:
    """Return the entries as raw response bodies of ``take`` entries, as the server sends them."""
    return [orjson.dumps(entries[i : i + take]) for i in range(0, len(entries), take)]


def write_pages(bodies: list[bytes], path: Path) -> Path:
    """Write one body per line (compact JSON has no newline) and return the path."""
    with path.open("wb") as out:
        for body in bodies:
            out.write(body + b"\n")
    return path


def read_pages(path: Path) -> list[bytes]:
    """Return the bodies written by ``write_pages``."""
    with path.open("rb") as lines:
        return [line.rstrip(b"\n") for line in lines]


def chunks(count: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, count, size):
        yield start, min(start + size, count)
