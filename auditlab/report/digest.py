"""A SHA-256 over the exact audit-log rows a report was built from.

The digest is defined over canonical text, not over Parquet or Arrow bytes,
so it does not depend on library versions and anyone can recompute it, in
any language, from the same entries:

1. keep the columns of ``auditlab.frame.schema.COLUMN_NAMES`` that the frame
   has, in that order;
2. sort the rows by ``created_at``, then ``id`` (both ascending);
3. write one line per row: a compact JSON array of its values, where a
   missing value is ``null``, a timestamp is UTC ISO-8601 with microseconds
   (``2026-10-14T08:31:56.000000Z``), a date is ``YYYY-MM-DD``, a boolean is
   ``true``/``false`` and text is a JSON string (UTF-8, not ASCII-escaped);
4. precede the rows with one line, the JSON array of the column names, and
   end every line with ``\\n``;
5. hash the UTF-8 bytes with SHA-256.
"""

from __future__ import annotations

import hashlib

import orjson
import pandas as pd
import pyarrow as pa

from auditlab.frame.schema import COLUMN_NAMES, SCHEMA

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
DATE_FORMAT = "%Y-%m-%d"


def digest_columns(df: pd.DataFrame) -> list[str]:
    """Return the columns the digest covers, in schema order.

    >>> digest_columns(pd.DataFrame({"action": [], "id": [], "mine": []}))
    ['id', 'action']
    """
    return [name for name in COLUMN_NAMES if name in df.columns]


def data_digest(df: pd.DataFrame) -> str:
    """Return the SHA-256 (hex) of df's rows in the canonical form of this module's docstring.

    Row order does not matter; a changed, added or removed value does.

    >>> df = pd.DataFrame({"id": ["b", "a"],
    ...     "created_at": pd.to_datetime(["2026-10-02", "2026-10-01"], utc=True)})
    >>> data_digest(df) == data_digest(df.iloc[::-1])
    True
    >>> len(data_digest(df))
    64
    """
    columns = digest_columns(df)
    ordered = df.sort_values(
        [c for c in ("created_at", "id") if c in columns], kind="stable", ignore_index=True
    )
    values = [_canonical(ordered[name], SCHEMA.field(name).type) for name in columns]
    digest = hashlib.sha256(orjson.dumps(columns) + b"\n")
    for row in zip(*values, strict=True):
        digest.update(orjson.dumps(row) + b"\n")
    return digest.hexdigest()


def _canonical(column: pd.Series, kind: pa.DataType) -> list:
    """Return the column as plain Python values in the digest's canonical form."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype("str")
    if pa.types.is_date(kind):
        column = pd.to_datetime(column).dt.strftime(DATE_FORMAT)
    elif pa.types.is_timestamp(kind):
        column = pd.to_datetime(column, utc=True).dt.strftime(TIMESTAMP_FORMAT)
    present = column.notna().to_numpy()
    return [
        (value.item() if hasattr(value, "item") else value) if keep else None
        for value, keep in zip(column.astype(object), present, strict=True)
    ]
