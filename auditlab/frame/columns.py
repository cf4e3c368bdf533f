"""Python values of one column -> one typed Arrow array, shared by both builders.

Arrow does the typing, timestamp parsing and dictionary encoding in C; rows
only get Python-level attention when a value has a surprising type, and such
values are never lost: they land in ``extra_fields`` under their dotted path.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from auditlab.actions import action_category
from auditlab.frame.schema import BOOL, CATEGORY, COLUMNS, SCHEMA, STRING, TIMESTAMP, Column

# The keys that lead from an entry to a value, e.g. ("member", "user", "id").
KeyPath = tuple[str, ...]

_NULL_TEXT = pa.scalar(None, STRING)

# Raw JSON text that orjson might spell differently: whitespace, escapes, and
# numbers with a fraction, an exponent or a minus zero.
_RESPELL = re.compile(rb"[\s\\]|(?:^|[:,\[])-?\d+[.eE]|(?:^|[:,\[])-0(?:$|[,\]}])")


def _known_keys() -> dict[KeyPath, frozenset[str]]:
    """Return, for every object path the schema reaches into, the keys it names."""
    known: dict[KeyPath, set[str]] = defaultdict(set)
    for column in COLUMNS:
        for depth, key in enumerate(column.path):
            known[column.path[:depth]].add(key)
    return {path: frozenset(keys) for path, keys in sorted(known.items(), key=lambda i: len(i[0]))}


# Object paths, parents first (``()`` is the entry), with the keys the schema names.
KNOWN_KEYS: dict[KeyPath, frozenset[str]] = _known_keys()
COLUMN_AT: dict[KeyPath, Column] = {column.path: column for column in COLUMNS if column.path}


class Extras:
    """Collects, per row, the fields no column names: ``{dotted path: value}``."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, Any]] = defaultdict(dict)

    def add(self, row: int, path: KeyPath, value: Any) -> None:
        self.rows[row][".".join(map(str, path))] = value

    def to_array(self, length: int) -> pa.Array:
        texts: list[bytes | None] = [None] * length
        for row, fields in self.rows.items():
            texts[row] = dumps(fields, sort_keys=True)
        return pa.array(texts, STRING)


def dumps(value: Any, *, sort_keys: bool = False) -> bytes:
    """Return compact JSON text of any value; what JSON cannot hold is kept as its ``str``.

    Python integers beyond 64 bits, which orjson refuses, go through the stdlib.
    """
    options = orjson.OPT_NON_STR_KEYS | (orjson.OPT_SORT_KEYS if sort_keys else 0)
    try:
        return orjson.dumps(value, default=str, option=options)
    except TypeError:
        text = json.dumps(
            value, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys, default=str
        )
        return text.encode()


def _text_array(values: list[Any]) -> pa.Array:
    """Return a string array; a non-string value is kept as its JSON text (5 -> "5")."""
    try:
        return pa.array(values, STRING)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(
            [v if v is None or isinstance(v, str) else dumps(v) for v in values], STRING
        )


def _reject(values: list[Any], accept: type, path: KeyPath, extras: Extras) -> list[Any]:
    """Return values with every non-null value not of type ``accept`` nulled and kept in extras."""
    kept = list(values)
    for row, value in enumerate(values):
        if value is not None and not isinstance(value, accept):
            extras.add(row, path, value)
            kept[row] = None
    return kept


def _bool_array(values: list[Any], path: KeyPath, extras: Extras) -> pa.Array:
    try:
        return pa.array(values, BOOL)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(_reject(values, bool, path, extras), BOOL)


def _timestamp_array(values: list[Any], path: KeyPath, extras: Extras) -> pa.Array:
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


def value_array(column: Column, values: list[Any], extras: Extras) -> pa.Array:
    """Return the array of one ``kind="value"`` column from its Python values."""
    if column.type == TIMESTAMP:
        return _timestamp_array(values, column.path, extras)
    if column.type == BOOL:
        return _bool_array(values, column.path, extras)
    if column.type == CATEGORY:
        return _text_array(values).dictionary_encode()
    return _text_array(values)


def json_array(column: Column, values: list[Any]) -> pa.Array:
    """Return compact JSON texts of parsed values; null and absent give null, not "null"."""
    try:
        texts = pa.array(list(map(orjson.dumps, values)), STRING)
    except TypeError:
        texts = pa.array(list(map(dumps, values)), STRING)
    return _as_typed(column, pc.if_else(pc.equal(texts, "null"), _NULL_TEXT, texts))


def raw_json_array(column: Column, raws: list[bytes]) -> pa.Array:
    """Return compact JSON texts from raw JSON slices (``b""`` where absent).

    Each distinct slice is looked at once: kept as sent when orjson would
    spell it the same, re-spelled by orjson otherwise, so the text equals
    what ``json_array`` gives for the parsed value.
    """
    encoded = pa.array(raws, pa.binary()).dictionary_encode()
    texts = [
        None if raw in (b"", b"null")
        else orjson.dumps(orjson.loads(raw)) if _RESPELL.search(raw)
        else raw
        for raw in encoded.dictionary.to_pylist()
    ]
    return _as_typed(column, pc.take(pa.array(texts, STRING), encoded.indices))


def _as_typed(column: Column, texts: pa.Array) -> pa.Array:
    """Return JSON texts as the column's type: dictionary-encoded where it is categorical."""
    return texts.dictionary_encode() if column.type == CATEGORY else texts


def _category_of(actions: pa.DictionaryArray) -> pa.DictionaryArray:
    """Return each row's action category, computed once per distinct action."""
    categories = [action_category(a) for a in actions.dictionary.to_pylist()]
    distinct = list(dict.fromkeys(categories))
    position = {category: i for i, category in enumerate(distinct)}
    remap = pa.array([position[c] for c in categories], pa.int32())
    indices = pc.take(remap, actions.indices)
    return pa.DictionaryArray.from_arrays(indices, pa.array(distinct, STRING))


def assemble(arrays: dict[str, pa.Array], length: int, extras: Extras) -> pa.RecordBatch:
    """Return a record batch of ``SCHEMA`` from the source columns' arrays, adding the derived."""
    arrays["date"] = arrays["created_at"].cast(pa.date32())
    arrays["action_category"] = _category_of(arrays["action"])
    arrays["extra_fields"] = extras.to_array(length)
    return pa.RecordBatch.from_arrays([arrays[c.name] for c in COLUMNS], schema=SCHEMA)
