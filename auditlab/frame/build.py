"""Raw audit-log entries and response bodies -> one Arrow table with exactly ``SCHEMA``.

Two builders share the column converters of ``columns``. Pages of exactly the
documented shape take the fast path of ``typed`` (msgspec structs, objects
kept whole as raw JSON slices). Everything else, and every list of dicts,
goes the general way here: one orjson parse per page, then one C-level
``map`` per nested object and per column, with unknown fields collected for
``extra_fields``. Both give the same table for the same entries.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat
from typing import Any

import orjson
import pyarrow as pa

from auditlab.collector import collector_paused
from auditlab.errors import MalformedPage
from auditlab.frame import typed
from auditlab.frame.columns import KNOWN_KEYS, Extras, KeyPath, assemble, json_array, value_array
from auditlab.frame.schema import COLUMNS, SCHEMA

logger = logging.getLogger("auditlab")

# Entries are built in record batches of this many rows: the objects of a
# batch stay in the CPU cache while each column is read from them (several
# times faster than one pass over 100k dicts per column), and the parsed
# entries of a long sync never all live at once.
BATCH_ROWS = 2_000

_EMPTY: dict[str, Any] = {}


def _values(objects: list[dict[str, Any]], key: str) -> list[Any]:
    return list(map(dict.get, objects, repeat(key)))


def _children(parents: list[dict[str, Any]], path: KeyPath, extras: Extras) -> list[dict[str, Any]]:
    """Return the object at ``path`` for every row, ``{}`` where absent or null.

    A non-object where an object belongs is kept in ``extras`` under its path.
    """
    raw = _values(parents, path[-1])
    if set(map(type, raw)) - {dict, type(None)}:
        for row, value in enumerate(raw):
            if value is not None and not isinstance(value, dict):
                extras.add(row, path, value)
                raw[row] = None
    return [value or _EMPTY for value in raw]


def _collect_unknown_keys(objects: list[dict[str, Any]], path: KeyPath, extras: Extras) -> None:
    """Put every key of the objects at ``path`` that the schema does not name into extras."""
    unknown = set().union(*objects) - KNOWN_KEYS[path]
    for key in sorted(unknown):
        for row, obj in enumerate(objects):
            if key in obj:
                extras.add(row, (*path, key), obj[key])


def _dict_batch(rows: list[dict[str, Any]]) -> pa.RecordBatch:
    """Return one record batch of ``SCHEMA`` from a non-empty list of entry dicts."""
    extras = Extras()
    objects: dict[KeyPath, list[dict[str, Any]]] = {(): rows}
    for path in KNOWN_KEYS:
        if path:
            objects[path] = _children(objects[path[:-1]], path, extras)
        _collect_unknown_keys(objects[path], path, extras)
    arrays = {}
    for column in COLUMNS:
        if column.kind not in ("value", "json"):
            continue
        values = _values(objects[column.path[:-1]], column.path[-1])
        if column.kind == "json":
            arrays[column.name] = json_array(column, values)
        else:
            arrays[column.name] = value_array(column, values, extras)
    return assemble(arrays, len(rows), extras)


def _only_objects(entries: list[Any]) -> list[dict[str, Any]]:
    objects = [e for e in entries if isinstance(e, dict)]
    if len(objects) < len(entries):
        logger.warning(
            "skipped %d audit-log entries that are not JSON objects", len(entries) - len(objects)
        )
    return objects


def _table(batches: Iterable[pa.RecordBatch]) -> pa.Table:
    """Return the batches as one table whose chunks share one dictionary per column.

    Unifying only remaps dictionary indices; the text buffers stay as built.
    """
    with collector_paused():
        table = pa.Table.from_batches(list(batches), schema=SCHEMA)
    return table.unify_dictionaries()


def entries_to_table(entries: list[dict[str, Any]]) -> pa.Table:
    """Return the entries as one flat Arrow table with exactly ``SCHEMA``.

    Nested objects become prefixed columns (absent or null objects give
    nulls), timestamps are UTC, whole objects such as ``metadata`` are compact
    JSON text, and every field the schema does not name is kept in
    ``extra_fields`` as a JSON object keyed by its dotted path. A value of a
    surprising type never fails the build: where text is expected it is kept
    as its JSON text (``5`` -> ``"5"``); where a timestamp, a boolean or an
    object is expected it becomes null and is kept in ``extra_fields``.
    Items that are not JSON objects at all are skipped with a warning.

    >>> table = entries_to_table([{"id": "alog_1", "action": "member.joined",
    ...     "created_at": "2026-10-14T08:31:56Z", "actor": {"id": "usr_1"}, "risk": 3}])
    >>> table.column("actor_id")[0].as_py(), table.column("extra_fields")[0].as_py()
    ('usr_1', '{"risk":3}')
    """
    rows = _only_objects(list(entries))
    return _table(_dict_batch(rows[i : i + BATCH_ROWS]) for i in range(0, len(rows), BATCH_ROWS))


def _parse_page(body: bytes) -> list[dict[str, Any]]:
    """Return the entry dicts of a body the fast path refused, or raise MalformedPage."""
    try:
        page = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise MalformedPage(f"an audit-log response body is not valid JSON: {error}") from None
    if not isinstance(page, list):
        raise MalformedPage(
            f"an audit-log response body is a JSON {type(page).__name__}, expected an array"
        )
    return _only_objects(page)


def _page_batches(bodies: Iterable[bytes]) -> Iterator[pa.RecordBatch]:
    """Yield record batches in page order, each built by the fast or the general path."""
    pending: list[Any] = []
    pending_is_typed = True
    for body in bodies:
        entries = typed.decode(body)
        is_typed = entries is not None
        if entries is None:
            entries = _parse_page(body)
        if pending and (is_typed != pending_is_typed or len(pending) >= BATCH_ROWS):
            yield (typed.struct_batch if pending_is_typed else _dict_batch)(pending)
            pending = []
        pending.extend(entries)
        pending_is_typed = is_typed
    if pending:
        yield (typed.struct_batch if pending_is_typed else _dict_batch)(pending)


def pages_to_table(bodies: Iterable[bytes], rows: Sequence[int] | None = None) -> pa.Table:
    """Return the table of raw JSON-array response bodies, in page order.

    A body of exactly the documented shape is decoded once, by the fast path
    of ``typed``; any other is then parsed by orjson and built the general
    way. Entries are built in batches of ``BATCH_ROWS``, so peak memory stays
    near the table itself. Raises ``MalformedPage`` if a body is not a JSON array.
    Equal to ``entries_to_table`` of the pages' entries.

    ``rows``, when given, numbers the JSON objects of all bodies one after
    another (0, 1, ...) and picks the ones to keep, in the order wanted, as a
    ``FetchResult`` of the API layer does after deduplicating its pages.

    >>> bodies = [b'[{"id": "alog_2"}, {"id": "alog_1"}]', b'[{"id": "alog_1"}]']
    >>> pages_to_table(bodies).num_rows, pages_to_table(bodies, rows=[1, 0])["id"].to_pylist()
    (3, ['alog_1', 'alog_2'])
    """
    table = _table(_page_batches(bodies))
    if rows is not None and not _is_every_row(rows, table.num_rows):
        table = table.take(pa.array(rows, pa.int64()))
    return table


def _is_every_row(rows: Sequence[int], count: int) -> bool:
    return len(rows) == count and all(map(int.__eq__, rows, range(count)))
