"""One org's Parquet store: write a fetched range day by day, read days back fast.

Layout under the cache root::

    org=<org id>/_manifest.json
    org=<org id>/day=<YYYY-MM-DD>/part-0.parquet                    no server-side filter
    org=<org id>/_filtered/<filter hash>/day=<YYYY-MM-DD>/part-0.parquet

The unfiltered tree holds each entry once, so DuckDB, polars or Spark read
``<root>/org=*/day=*/*.parquet`` with hive partitioning and get the log as it
is. Days fetched under a filter live under ``_filtered``, which hive readers
and pyarrow datasets skip.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from auditlab.api.query import LOCAL_FILTERS, derivable
from auditlab.cache.files import locked, write_many
from auditlab.cache.manifest import (
    PART_NAME,
    UNFILTERED,
    DayRecord,
    Manifest,
    RangeCheck,
    filter_fingerprint,
)
from auditlab.cache.plan import TreeState, day_range
from auditlab.frame.convert import LARGE_TEXT_SCHEMA
from auditlab.frame.schema import SCHEMA

logger = logging.getLogger("auditlab")

MANIFEST_NAME = "_manifest.json"
# A whole warm load allocates its table afresh each time; the C library's
# allocator serves that about 20% faster than pyarrow's default (mimalloc),
# which hands big freed blocks back to the system and faults them in again.
_READ_POOL = pa.system_memory_pool()
FILTERED_FOLDER = "_filtered"


@dataclass(frozen=True)
class CachedRange:
    """A range of days fetched in one query and cached whole, with the rows the cache holds."""

    key: str
    filter: dict[str, str]
    first: dt.date
    last: dt.date
    rows: int


class OrgCache:
    """Return the store of one org under a cache root (``org_folder`` as from ``org_folder_name``).

    >>> import tempfile
    >>> store = OrgCache(Path(tempfile.mkdtemp()), "org_doc")
    >>> store.read({}, {}).num_rows
    0
    """

    def __init__(self, root: Path, org_folder: str) -> None:
        self.root = root
        self.folder = root / f"org={org_folder}"
        self.manifest_path = self.folder / MANIFEST_NAME

    def manifest(self) -> Manifest:
        """Return the manifest as it is on disk now."""
        return Manifest.load(self.manifest_path, self.folder.name.removeprefix("org="))

    def tree_folder(self, key: str) -> Path:
        """Return the folder of the tree with this filter fingerprint."""
        return self.folder if key == UNFILTERED else self.folder / FILTERED_FOLDER / key

    def part_path(self, key: str, day: dt.date) -> Path:
        """Return the part file of one day in one tree."""
        return self.tree_folder(key) / f"day={day.isoformat()}" / PART_NAME

    def states(self, filters: dict[str, str]) -> dict[str, TreeState]:
        """Return the state of every tree that can answer filters, broadest first.

        A tree answers when the server's answer to filters follows from its
        own (``auditlab.api.query.derivable``): the unfiltered tree for an
        ``action`` filter, but only the filter's own tree (or one that adds
        just ``action`` to it) for an id filter, whose rule only the server
        knows. The filter's own tree is always listed, empty if not cached.
        """
        manifest = self.manifest()
        own = filter_fingerprint(filters)
        broader = {UNFILTERED: {}} if derivable(filters, {}) else {}
        broader.update(
            (key, tree.filter)
            for key, tree in manifest.trees.items()
            if derivable(filters, tree.filter)
        )
        broader.pop(own, None)
        states = {}
        for key in [*sorted(broader, key=lambda k: (len(broader[k]), k)), own]:
            tree = manifest.trees.get(key)
            states[key] = tree.state(self.tree_folder(key)) if tree else TreeState()
        return states

    def store_range(
        self,
        filters: dict[str, str],
        table: pa.Table,
        first: dt.date,
        last: dt.date,
        *,
        server_count: int,
        complete: bool,
    ) -> pa.Table:
        """Write the rows fetched for first..last (one query) as one part per day.

        Returns the rows written, newest first, exactly as ``read`` will give
        them back. Every day of the range is recorded, days without rows too;
        the parts are on disk before the manifest names them. Safe to call
        from several threads at once.
        """
        key = filter_fingerprint(filters)
        fetched_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        by_day = split_by_day(table, first, last)
        parts = {day: parquet_bytes(rows) for day, rows in by_day.items()}
        records = {
            day.isoformat(): DayRecord(
                rows=by_day[day].num_rows if day in by_day else 0,
                complete=complete,
                first=first.isoformat(),
                last=last.isoformat(),
                server_count=server_count,
                fetched_at=fetched_at,
                sha256=hashlib.sha256(parts[day]).hexdigest() if day in parts else None,
                size=len(parts.get(day, b"")),
            )
            for day in day_range(first, last)
        }
        # Parts and manifest change together, under the lock every process
        # takes: another sync writing the same days waits, so the manifest
        # always ends describing the parts on disk, and no update is lost.
        with locked(self.manifest_path):
            write_many({self.part_path(key, day): data for day, data in parts.items()})
            manifest = self.manifest()
            manifest.tree(filters).days.update(records)
            manifest.save(self.manifest_path)
            for day in day_range(first, last):
                if day not in by_day:
                    self.part_path(key, day).unlink(missing_ok=True)
        if not by_day:
            return LARGE_TEXT_SCHEMA.empty_table()
        written = pa.concat_tables(by_day[day] for day in sorted(by_day, reverse=True))
        return written.cast(LARGE_TEXT_SCHEMA).unify_dictionaries()

    def ranges(
        self, first: dt.date | None, last: dt.date | None, keys: Iterable[str] | None = None
    ) -> list[CachedRange]:
        """Return every range fetched in one query that holds a complete day in first..last.

        Only trees in ``keys`` (default: all) are looked at, and only ranges
        whose every day is still complete, so the rows the cache holds for the
        range compare with the server's count for it. None as a bound means
        no bound.
        """
        manifest = self.manifest()
        found = []
        for key in sorted(manifest.trees if keys is None else set(keys) & set(manifest.trees)):
            tree = manifest.trees[key]
            complete = tree.state(self.tree_folder(key)).complete
            spans = {
                (dt.date.fromisoformat(r.first), dt.date.fromisoformat(r.last))
                for day, r in tree.days.items()
                if dt.date.fromisoformat(day) in complete
                and (first is None or first.isoformat() <= day)
                and (last is None or day <= last.isoformat())
            }
            for low, high in sorted(spans, reverse=True):
                days = list(day_range(low, high))
                if all(day in complete for day in days):
                    rows = sum(tree.days[day.isoformat()].rows for day in days)
                    found.append(CachedRange(key, dict(tree.filter), low, high, rows))
        return found

    def unsettle(self, filters: dict[str, str], first: dt.date, last: dt.date) -> None:
        """Record that the days first..last of the filter's tree are no longer known complete."""
        with locked(self.manifest_path):
            manifest = self.manifest()
            days = manifest.tree(filters).days
            for day in day_range(first, last):
                if day.isoformat() in days:
                    days[day.isoformat()] = replace(days[day.isoformat()], complete=False)
            manifest.save(self.manifest_path)

    def record_checks(
        self, checks: Mapping[tuple[str, dt.date, dt.date], RangeCheck], summary: dict[str, Any]
    ) -> None:
        """Record each range's check (by tree key, first, last) and the verification's summary."""
        with locked(self.manifest_path):
            manifest = self.manifest()
            for (key, first, last), check in checks.items():
                if key in manifest.trees:
                    manifest.trees[key].checks[f"{first}..{last}"] = check
            manifest.verified = summary
            manifest.save(self.manifest_path)

    def set_start(self, filters: dict[str, str], start: dt.date) -> None:
        """Record that the filter's tree holds no entry before start."""
        with locked(self.manifest_path):
            manifest = self.manifest()
            manifest.tree(filters).start = start.isoformat()
            manifest.save(self.manifest_path)

    def read(self, sources: Mapping[dt.date, str], local: dict[str, str]) -> pa.Table:
        """Return the cached rows of the given days, newest first, filtered by ``local``.

        The table has ``LARGE_TEXT_SCHEMA`` (``SCHEMA`` with large_string text),
        ready for ``table_to_frame``.

        ``sources`` maps each day to the tree holding it (as ``plan_sync``
        gives, from the trees ``states`` lists); ``local`` are the query's
        filters that are applied locally (``Query.local_filters()``), which
        the rows of a broader tree may still need, as the server would have
        applied them. Each day's part is already newest first and a dataset
        keeps its files' order, so reading days newest first needs no sort.
        """
        manifest = self.manifest()
        paths = []
        for day in sorted(sources, reverse=True):
            tree = manifest.trees.get(sources[day])
            record = tree.days.get(day.isoformat()) if tree else None
            if record is not None and record.rows:
                paths.append(str(self.part_path(sources[day], day)))
        if not paths:
            return LARGE_TEXT_SCHEMA.empty_table()
        # Rows fetched under a local filter already match it, so one filter fits all parts.
        # Text is read as large_string, as pandas keeps it: no copy on the way to pandas.
        dataset = ds.dataset(paths, schema=LARGE_TEXT_SCHEMA, format="parquet")
        if not local:
            return dataset.to_table(memory_pool=_READ_POOL)
        expression = filter_expression(local)
        return compact_dictionaries(dataset.to_table(filter=expression, memory_pool=_READ_POOL))


def split_by_day(table: pa.Table, first: dt.date, last: dt.date) -> dict[dt.date, pa.Table]:
    """Return the rows of each UTC day in first..last that has any, order kept.

    Rows without a date belong to ``last``; rows dated outside the range
    (the server filtered on another idea of a day) are dropped with a
    warning rather than cached twice.
    """
    if table.num_rows == 0:
        return {}
    days = table.column("date").to_numpy(zero_copy_only=False).astype("datetime64[D]")
    days = np.where(np.isnat(days), np.datetime64(last), days)
    # Newest first already groups each day's rows; a stable sort keeps order within a day.
    order = np.argsort(-days.astype(np.int64), kind="stable")
    if not (order == np.arange(len(order))).all():
        table, days = table.take(order), days[order]
    starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
    ends = np.r_[starts[1:], len(days)]
    result = {}
    for start, end in zip(starts, ends, strict=True):
        day = days[start].astype(dt.date)
        if first <= day <= last:
            result[day] = compact_dictionaries(table.slice(start, end - start))
        else:
            logger.warning(
                "%d entries dated %s, outside %s..%s, were not cached",
                end - start,
                day,
                first,
                last,
            )
    return result


def compact_dictionaries(table: pa.Table) -> pa.Table:
    """Return table with each dictionary column listing only the values its rows use.

    So a day, or a filtered read, gives the same categories as a table built
    from just those entries.

    >>> table = pa.table({"a": pa.array(["x", "y"]).dictionary_encode()}).slice(1)
    >>> compact_dictionaries(table).column("a").chunk(0).dictionary.to_pylist()
    ['y']
    """
    for index, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            plain = table.column(index).cast(field.type.value_type)
            table = table.set_column(index, field, pc.dictionary_encode(plain).cast(field.type))
    return table


def filter_expression(local: dict[str, str]) -> pc.Expression | None:
    """Return the expression keeping rows that match every local filter (None: no filter).

    Only filters whose rule is documented are applied locally (``LOCAL_FILTERS``):
    ``action``, a column of the same name. An id filter such as ``user_id`` is
    refused with ValueError: the column ``user_id`` is ``user.id``, which need
    not be what the server's ``user_id`` filter matches.

    >>> str(filter_expression({"action": "chat.deleted"}))
    '(action == "chat.deleted")'
    """
    if not local.keys() <= LOCAL_FILTERS:
        raise ValueError(f"only {sorted(LOCAL_FILTERS)} are applied locally, not {sorted(local)}")
    expression = None
    for name, value in sorted(local.items()):
        term = pc.field(name) == value
        expression = term if expression is None else expression & term
    return expression


def parquet_bytes(table: pa.Table) -> bytes:
    """Return table as Parquet file bytes, cast to SCHEMA."""
    sink = pa.BufferOutputStream()
    # snappy: a warm load of 1M entries reads ~20% faster than with zstd, for ~30% more disk
    pq.write_table(table.cast(SCHEMA), sink, compression="snappy")
    return sink.getvalue().to_pybytes()
