"""The manifest of one org's cache: per filter and per day, what was fetched and how whole.

One JSON file per org, ``<root>/org=<id>/_manifest.json``, written atomically
after the part files it describes, so it never names a file that is not there.
A "tree" is everything fetched under one server-side filter; the unfiltered
tree (key ``all``) is the hive-partitioned one other engines read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from auditlab.cache.files import read_json, write_json
from auditlab.cache.plan import TreeState
from auditlab.frame.schema import SCHEMA

UNFILTERED = "all"
# One file per day, replaced atomically: a reader of the tree never sees two
# versions of a day side by side, whatever moment a sync was killed at.
PART_NAME = "part-0.parquet"
FORMAT = 1
# Parts written under another schema are not read back: those days are fetched again.
SCHEMA_VERSION = hashlib.sha256(SCHEMA.to_string().encode()).hexdigest()[:16]


def filter_fingerprint(filters: dict[str, str]) -> str:
    """Return the tree key of a server-side filter: ``all``, or a hash of the filter.

    >>> filter_fingerprint({}), filter_fingerprint({"action": "chat.deleted"})
    ('all', 'e43b44f09a4213dd')
    """
    if not filters:
        return UNFILTERED
    return hashlib.sha256(orjson.dumps(filters, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


@dataclass(frozen=True)
class DayRecord:
    """One cached day: its rows and file, and the fetch that produced it.

    ``server_count`` is the server's count for the whole range ``first..last``
    that was fetched in one query; ``sha256`` and ``size`` describe the part
    file (None and 0 for a day without entries, which has no file).
    """

    rows: int
    complete: bool
    first: str
    last: str
    server_count: int
    fetched_at: str
    sha256: str | None = None
    size: int = 0


@dataclass(frozen=True)
class RangeCheck:
    """The last time a cached range (``first..last`` fetched in one query) was verified.

    ``server_count`` is what the server counted then, ``cached`` the rows the
    cache held; ``refetched`` is True when they differed and the range was
    fetched again.
    """

    at: str
    server_count: int
    cached: int
    refetched: bool


@dataclass
class Tree:
    """The days cached under one filter, the first day that can hold an entry, range checks."""

    filter: dict[str, str]
    days: dict[str, DayRecord] = field(default_factory=dict)
    start: str | None = None
    checks: dict[str, RangeCheck] = field(default_factory=dict)

    def state(self, folder: Path) -> TreeState:
        """Return what this tree knows for certain, trusting only parts still on disk."""
        complete = frozenset(
            dt.date.fromisoformat(day)
            for day, record in self.days.items()
            if record.complete and _present(folder / f"day={day}" / PART_NAME, record)
        )
        start = dt.date.fromisoformat(self.start) if self.start else None
        return TreeState(complete, start)


@dataclass
class Manifest:
    """Every tree of one org, keyed by filter fingerprint (``all`` = unfiltered).

    ``verified`` sums up the last verification against the server (``at``,
    ``first``, ``last``, ``checked``, ``refetched``), None when there was none.
    """

    org_id: str
    trees: dict[str, Tree] = field(default_factory=dict)
    verified: dict[str, Any] | None = None

    @classmethod
    def load(cls, path: Path, org_id: str) -> Manifest:
        """Return the manifest in path, or an empty one if absent or from another schema."""
        raw = read_json(path)
        if not isinstance(raw, dict) or raw.get("schema") != SCHEMA_VERSION:
            return cls(org_id)
        trees = {
            key: Tree(
                filter=dict(tree["filter"]),
                days={day: DayRecord(**record) for day, record in tree["days"].items()},
                start=tree.get("start"),
                checks={span: RangeCheck(**c) for span, c in tree.get("checks", {}).items()},
            )
            for key, tree in raw.get("trees", {}).items()
        }
        return cls(raw.get("org_id", org_id), trees, raw.get("verified"))

    def tree(self, filters: dict[str, str]) -> Tree:
        """Return the tree for filters, adding an empty one if there is none yet."""
        return self.trees.setdefault(filter_fingerprint(filters), Tree(dict(filters)))

    def save(self, path: Path) -> None:
        """Write the manifest atomically (0600)."""
        write_json(path, self.to_json())

    def to_json(self) -> dict[str, Any]:
        """Return the manifest as plain JSON values."""
        return {
            "format": FORMAT,
            "schema": SCHEMA_VERSION,
            "org_id": self.org_id,
            "verified": self.verified,
            "trees": {
                key: {
                    "filter": tree.filter,
                    "start": tree.start,
                    "days": {day: asdict(record) for day, record in sorted(tree.days.items())},
                    "checks": {span: asdict(c) for span, c in sorted(tree.checks.items())},
                }
                for key, tree in sorted(self.trees.items())
            },
        }


def _present(part: Path, record: DayRecord) -> bool:
    """Return True if the day needs no file, or its file has the recorded size."""
    if record.rows == 0:
        return True
    try:
        return part.stat().st_size == record.size
    except FileNotFoundError:
        return False
