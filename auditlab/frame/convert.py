"""Arrow table -> pandas DataFrame with the dtypes the schema module documents."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from auditlab.frame.schema import COLUMN_NAMES, SCHEMA

_DTYPES = {pa.bool_(): pd.BooleanDtype()}
# SCHEMA with its text columns as large_string, the form pandas keeps text in:
# a table read in this form (e.g. from the cache) converts without copying its text.
LARGE_TEXT_SCHEMA = pa.schema(
    [f.with_type(pa.large_string()) if f.type == pa.string() else f for f in SCHEMA]
)


def table_to_frame(table: pa.Table) -> pd.DataFrame:
    """Return the table as a DataFrame: categoricals, UTC timestamps, ``str`` text.

    A table whose schema differs from ``SCHEMA`` only in encoding (for
    example read back from Parquet by another engine, or carrying partition
    columns) is first brought to exactly ``SCHEMA``.

    >>> from auditlab.frame.build import entries_to_table
    >>> df = table_to_frame(entries_to_table([{"id": "alog_1", "action": "chat.deleted",
    ...     "created_at": "2026-10-14T08:31:56Z"}]))
    >>> str(df["created_at"].dtype), str(df["action"].dtype), str(df["date"].iloc[0])
    ('datetime64[us, UTC]', 'category', '2026-10-14 00:00:00')
    """
    if table.schema != SCHEMA and table.schema != LARGE_TEXT_SCHEMA:
        table = table.select(list(COLUMN_NAMES)).cast(SCHEMA)
    return table.to_pandas(date_as_object=False, types_mapper=_DTYPES.get, split_blocks=True)


def empty_frame() -> pd.DataFrame:
    """Return a zero-row DataFrame with every column and dtype of a loaded frame.

    >>> list(empty_frame().columns[:3]), len(empty_frame())
    (['id', 'created_at', 'date'], 0)
    """
    return table_to_frame(SCHEMA.empty_table())
