"""Raw audit-log entries -> one Arrow table with exactly ``SCHEMA``.

The builder works column by column, never row by row: each nested object is
looked up once per entry (one C-level ``map``), each column is one more
``map`` over those objects, and Arrow does the typing, timestamp parsing and
dictionary encoding in C. Rows only get Python-level attention when a value
has a surprising type, and those values are never lost: they land in
``extra_fields`` under their dotted path.
"""

from __future__ import annotations

import gc
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import repeat
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from auditlab.actions import action_category
from auditlab.errors import APIError
from auditlab.frame.schema import BOOL, CATEGORY, COLUMNS, SCHEMA, STRING, TIMESTAMP, Column

logger = logging.getLogger("auditlab")

Path = tuple[str, ...]

# Entries are built in record batches of this many rows: the dicts of a batch
# stay in the CPU cache while each column is read from them (several times
# faster than one pass over 100k dicts per column), and the parsed dicts of a
# long sync never all live at once.
BATCH_ROWS = 2_000

_EMPTY: dict[str, Any] = {}
_NULL_TEXT = pa.scalar(None, STRING)


def _known_keys() -> dict[Path, frozenset[str]]:
    """Return, for every object path the schema reaches into, the keys it names."""
    known: dict[Path, set[str]] = defaultdict(set)
    for column in COLUMNS:
        for depth, key in enumerate(column.path):
            known[column.path[:depth]].add(key)
    return {path: frozenset(keys) for path, keys in sorted(known.items(), key=lambda i: len(i[0]))}


KNOWN_KEYS: dict[Path, frozenset[str]] = _known_keys()


class _Extras:
    """Collects, per row, the fields no column names: ``{dotted path: value}``."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, Any]] = defaultdict(dict)

    def add(self, row: int, path: Path, value: Any) -> None:
        self.rows[row][".".join(path)] = value

    def to_array(self, length: int) -> pa.Array:
        texts: list[bytes | None] = [None] * length
        for row, fields in self.rows.items():
            texts[row] = _dumps(fields, sort_keys=True)
        return pa.array(texts, STRING)


def _dumps(value: Any, *, sort_keys: bool = False) -> bytes:
    """Return compact JSON text; Python integers beyond 64 bits fall back to the stdlib."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0)
    except TypeError:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)
        return text.encode()


def _values(objects: list[dict[str, Any]], key: str) -> list[Any]:
    return list(map(dict.get, objects, repeat(key)))


def _children(parents: list[dict[str, Any]], path: Path, extras: _Extras) -> list[dict[str, Any]]:
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


def _collect_unknown_keys(objects: list[dict[str, Any]], path: Path, extras: _Extras) -> None:
    """Put every key of the objects at ``path`` that the schema does not name into extras."""
    unknown = set().union(*objects) - KNOWN_KEYS[path]
    for key in sorted(unknown):
        for row, obj in enumerate(objects):
            if key in obj:
                extras.add(row, (*path, key), obj[key])


def _text_array(values: list[Any]) -> pa.Array:
    """Return a string array; a non-string value is kept as its JSON text (5 -> "5")."""
    try:
        return pa.array(values, STRING)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(
            [v if v is None or isinstance(v, str) else _dumps(v) for v in values], STRING
        )


def _reject(values: list[Any], accept: type, path: Path, extras: _Extras) -> list[Any]:
    """Return values with every non-null value not of type ``accept`` nulled and kept in extras."""
    kept = list(values)
    for row, value in enumerate(values):
        if value is not None and not isinstance(value, accept):
            extras.add(row, path, value)
            kept[row] = None
    return kept


def _bool_array(values: list[Any], path: Path, extras: _Extras) -> pa.Array:
    try:
        return pa.array(values, BOOL)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(_reject(values, bool, path, extras), BOOL)


def _timestamp_array(values: list[Any], path: Path, extras: _Extras) -> pa.Array:
    """Return UTC timestamps parsed by Arrow; text it cannot read is nulled and kept in extras.

    An ISO-8601 text without a zone offset is read as UTC, as Invent documents.
    """
    try:
        texts = pa.array(values, STRING)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        texts = pa.array(_reject(values, str, path, extras), STRING)
    try:
        return texts.cast(TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    parsed = {text: _parse_one(text) for text in pc.unique(texts).to_pylist() if text is not None}
    for row, text in enumerate(texts.to_pylist()):
        if text is not None and parsed[text] is None:
            extras.add(row, path, text)
    lookup = pa.array(list(parsed.values()), TIMESTAMP)
    return pc.take(lookup, pc.index_in(texts, value_set=pa.array(list(parsed), STRING)))


def _parse_one(text: str) -> datetime | None:
    scalar = pa.scalar(text, STRING)
    for target in (TIMESTAMP, pa.timestamp("us")):
        try:
            return scalar.cast(target).cast(TIMESTAMP).as_py()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    return None


def _json_array(values: list[Any]) -> pa.Array:
    """Return compact JSON texts; null values and absent fields give null, not "null"."""
    try:
        texts = pa.array(list(map(orjson.dumps, values)), STRING)
    except TypeError:
        texts = pa.array(list(map(_dumps, values)), STRING)
    return pc.if_else(pc.equal(texts, "null"), _NULL_TEXT, texts)


def _category_of(actions: pa.DictionaryArray) -> pa.DictionaryArray:
    """Return each row's action category, computed once per distinct action."""
    categories = [action_category(a) for a in actions.dictionary.to_pylist()]
    distinct = list(dict.fromkeys(categories))
    position = {category: i for i, category in enumerate(distinct)}
    remap = pa.array([position[c] for c in categories], pa.int32())
    indices = pc.take(remap, actions.indices)
    return pa.DictionaryArray.from_arrays(indices, pa.array(distinct, STRING))


def _column(column: Column, objects: dict[Path, list[dict[str, Any]]], extras: _Extras) -> pa.Array:
    values = _values(objects[column.path[:-1]], column.path[-1])
    if column.kind == "json":
        return _json_array(values)
    if column.type == TIMESTAMP:
        return _timestamp_array(values, column.path, extras)
    if column.type == BOOL:
        return _bool_array(values, column.path, extras)
    if column.type == CATEGORY:
        return _text_array(values).dictionary_encode()
    return _text_array(values)


def _only_objects(entries: Iterable[Any]) -> list[dict[str, Any]]:
    entries = list(entries)
    objects = [e for e in entries if isinstance(e, dict)]
    if len(objects) < len(entries):
        logger.warning("skipped %d audit-log entries that are not JSON objects",
                       len(entries) - len(objects))
    return objects


def _batch(rows: list[dict[str, Any]]) -> pa.RecordBatch:
    """Return one record batch of ``SCHEMA`` from a non-empty list of entry dicts."""
    extras = _Extras()
    objects: dict[Path, list[dict[str, Any]]] = {(): rows}
    for path in KNOWN_KEYS:
        if path:
            objects[path] = _children(objects[path[:-1]], path, extras)
        _collect_unknown_keys(objects[path], path, extras)
    arrays: dict[str, pa.Array] = {
        c.name: _column(c, objects, extras) for c in COLUMNS if c.kind in ("value", "json")
    }
    arrays["date"] = arrays["created_at"].cast(pa.date32())
    arrays["action_category"] = _category_of(arrays["action"])
    arrays["extra_fields"] = extras.to_array(len(rows))
    return pa.RecordBatch.from_arrays([arrays[c.name] for c in COLUMNS], schema=SCHEMA)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while parsed JSON piles up.

    Parsed JSON holds no reference cycles, so refcounting frees all of it;
    left running, the collector rescans every live dict again and again and
    costs more than the parsing itself.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _table(batches: Iterable[pa.RecordBatch]) -> pa.Table:
    """Return the batches as one table, dictionaries unified across batches."""
    with _collector_paused():
        table = pa.Table.from_batches(list(batches), schema=SCHEMA)
    return table.combine_chunks() if table.column(0).num_chunks > 1 else table


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
    rows = _only_objects(entries)
    return _table(_batch(rows[i : i + BATCH_ROWS]) for i in range(0, len(rows), BATCH_ROWS))


def _parse_page(body: bytes) -> list[Any]:
    try:
        page = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise APIError(f"an audit-log response body is not valid JSON: {error}") from None
    if not isinstance(page, list):
        raise APIError(
            f"an audit-log response body is a JSON {type(page).__name__}, expected an array"
        )
    return page


def _page_batches(bodies: Iterable[bytes]) -> Iterator[pa.RecordBatch]:
    pending: list[Any] = []
    for body in bodies:
        pending.extend(_parse_page(body))
        if len(pending) >= BATCH_ROWS:
            rows, pending = _only_objects(pending), []
            if rows:
                yield _batch(rows)
    rows = _only_objects(pending)
    if rows:
        yield _batch(rows)


def pages_to_table(bodies: Iterable[bytes]) -> pa.Table:
    """Return the table of raw JSON-array response bodies, in page order.

    Each body is parsed once with orjson; entries are built in batches of
    ``BATCH_ROWS``, so peak memory stays near the table itself. Raises
    ``APIError`` if a body is not a JSON array. Equal to ``entries_to_table``
    of the pages' entries concatenated.

    >>> pages_to_table([b'[{"id": "alog_1", "action": "chat.deleted"}]']).num_rows
    1
    """
    return _table(_page_batches(bodies))
