"""The fast path: pages of exactly the documented shape, decoded into typed structs.

msgspec decodes a page straight into structs generated from ``COLUMNS``
(no dicts), and hands the objects kept whole (``metadata``, configs) over as
raw JSON slices, so they are never parsed nor re-serialised. Any surprise (an
unknown field, a number where text belongs, a malformed body) makes
``decode`` return None and the page goes the general way of ``build``.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pyarrow as pa
from msgspec.structs import astuple

from auditlab.frame.columns import (
    COLUMN_AT,
    KNOWN_KEYS,
    Extras,
    KeyPath,
    assemble,
    raw_json_array,
    value_array,
)
from auditlab.frame.schema import BOOL, COLUMNS


def _struct_types() -> dict[KeyPath, type[msgspec.Struct]]:
    """Return a struct type per object path, each naming exactly the schema's fields."""
    types: dict[KeyPath, type[msgspec.Struct]] = {}
    for path in reversed(KNOWN_KEYS):
        fields: list[tuple[str, Any, Any]] = []
        for key in sorted(KNOWN_KEYS[path]):
            child = (*path, key)
            if child in KNOWN_KEYS:
                fields.append((key, types[child] | None, None))
            elif COLUMN_AT[child].kind == "json":
                fields.append((key, msgspec.Raw, msgspec.Raw()))
            else:
                fields.append((key, (bool if COLUMN_AT[child].type == BOOL else str) | None, None))
        name = "".join(part.title() for part in path) + "Entry"
        types[path] = msgspec.defstruct(name, fields, forbid_unknown_fields=True, gc=False)
    return dict(sorted(types.items(), key=lambda item: len(item[0])))


STRUCT_TYPES = _struct_types()
_EMPTY = {path: struct_type() for path, struct_type in STRUCT_TYPES.items()}
_DECODER = msgspec.json.Decoder(list[STRUCT_TYPES[()]])


def decode(body: bytes) -> list[msgspec.Struct] | None:
    """Return the page's entries as structs, or None if it is not exactly the known shape."""
    try:
        return _DECODER.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None


def _fields(objects: list[msgspec.Struct], path: KeyPath) -> dict[str, tuple[Any, ...]]:
    """Return each field of the structs at ``path`` as one tuple of values, row by row.

    One ``astuple`` per object and a ``zip`` to transpose run in C, several
    times faster than reading each field across all objects.
    """
    names = STRUCT_TYPES[path].__struct_fields__
    return dict(zip(names, zip(*map(astuple, objects), strict=True), strict=True))


def struct_batch(rows: list[msgspec.Struct]) -> pa.RecordBatch:
    """Return one record batch of ``SCHEMA`` from a non-empty list of decoded entries."""
    fields = {(): _fields(rows, ())}
    for path in STRUCT_TYPES:
        if path:
            empty = _EMPTY[path]
            children = [child or empty for child in fields[path[:-1]][path[-1]]]
            fields[path] = _fields(children, path)
    extras = Extras()
    arrays = {}
    for column in COLUMNS:
        if column.kind not in ("value", "json"):
            continue
        values = fields[column.path[:-1]][column.path[-1]]
        if column.kind == "json":
            arrays[column.name] = raw_json_array(column, list(map(bytes, values)))
        else:
            arrays[column.name] = value_array(column, values, extras)
    return assemble(arrays, len(rows), extras)
