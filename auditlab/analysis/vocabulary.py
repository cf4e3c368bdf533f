"""The shared keyword vocabulary: ``since``/``until``, ``tz``, ``top`` and ``by``.

``since`` and ``until`` accept anything ``pandas.Timestamp`` reads; a value
without a time zone is UTC. A bare date for ``until`` includes that whole day,
like the ``to`` filter of the audit-log endpoint. ``tz`` is an IANA time zone.
``top`` keeps the busiest rows of a ranking table or chart (``TOP`` unless
given, None for all). ``by`` names a column; only the timeline splits by one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from auditlab.checks import check_tz, check_whole_number
from auditlab.errors import InvalidQuery

TimeBound = str | dt.date | dt.datetime | pd.Timestamp | None
# The one default of ``top``: how many rows a ranking table or chart keeps.
TOP = 20


def bound(value: Any, parameter: str) -> pd.Timestamp:
    """Return a ``since`` or ``until`` value as a UTC Timestamp (a bare ``until`` date: its end).

    >>> str(bound("2026-10-01", "until"))
    '2026-10-01 23:59:59.999999+00:00'
    """
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as error:
        raise InvalidQuery(
            f"{parameter}={value!r} is not a date or time; use e.g. '2026-10-01' "
            "or '2026-10-01T08:00:00Z'",
            parameter=parameter,
        ) from error
    stamp = stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")
    is_bare_date = (isinstance(value, dt.date) and not isinstance(value, dt.datetime)) or (
        isinstance(value, str) and len(value.strip()) == 10
    )
    if parameter == "until" and is_bare_date:
        stamp += pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return stamp


def in_window(times: pd.Series, since: TimeBound = None, until: TimeBound = None) -> pd.Series:
    """Return a boolean mask: which ``times`` fall within ``[since, until]``.

    >>> times = pd.Series(pd.to_datetime(["2026-10-01T12:00Z", "2026-10-03T00:00Z"]))
    >>> in_window(times, until="2026-10-01").tolist()
    [True, False]
    """
    mask = pd.Series(True, index=times.index)
    if since is not None:
        mask &= times >= bound(since, "since")
    if until is not None:
        mask &= times <= bound(until, "until")
    return mask


def between(
    df: pd.DataFrame,
    since: TimeBound = None,
    until: TimeBound = None,
    *,
    columns: Sequence[str],
) -> pd.DataFrame:
    """Return ``created_at`` and ``columns`` of the rows of ``df`` created in ``[since, until]``.

    Narrowing to the columns a function reads comes first: selecting rows of
    every column of a large frame costs far more than the analysis itself.

    >>> from auditlab.frame import empty_frame
    >>> between(empty_frame(), since="2026-10-01", columns=["id"]).columns.tolist()
    ['created_at', 'id']
    """
    narrow = df[list(dict.fromkeys(["created_at", *columns]))]
    if since is None and until is None:
        return narrow
    return narrow[in_window(narrow["created_at"], since, until)]


def utc_array(times: pd.Series) -> np.ndarray:
    """Return tz-aware UTC ``times`` as a numpy ``datetime64[us]`` array (NaT for missing).

    >>> utc_array(pd.Series(pd.to_datetime(["2026-10-01T08:00Z"]))).dtype
    dtype('<M8[us]')
    """
    return times.to_numpy(dtype="datetime64[us]")


def codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Return integer codes of a column's values (-1 for missing) and the values they stand for.

    A categorical column lends its own codes; any other column is factorised.

    >>> codes(pd.Series(["u2", None, "u1", "u2"]))[0].tolist()
    [0, -1, 1, 0]
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(dtype=np.int64), column.cat.categories
    found, uniques = pd.factorize(column)
    return found.astype(np.int64), pd.Index(uniques)


def wall_time(times: pd.Series, tz: str = "UTC") -> pd.Series:
    """Return tz-aware ``times`` as naive wall-clock times in ``tz``.

    >>> times = pd.Series(pd.to_datetime(["2026-07-01T22:30Z"]))
    >>> str(wall_time(times, "Europe/Berlin")[0])
    '2026-07-02 00:30:00'
    """
    return times.dt.tz_convert(check_tz(tz)).dt.tz_localize(None)


def check_column(df: pd.DataFrame, column: str, parameter: str) -> str:
    """Return ``column`` if ``df`` has it, else raise InvalidQuery naming ``parameter``.

    >>> check_column(pd.DataFrame({"action": []}), "action", "by")
    'action'
    """
    if column not in df.columns:
        raise InvalidQuery(
            f"{parameter}={column!r} is not a column; use one of: {', '.join(df.columns)}",
            parameter=parameter,
        )
    return column


def plain(column: pd.Series) -> pd.Series:
    """Return a categorical (dictionary) column as plain text, other columns as they are.

    Every dictionary column of the schema holds text; missing values stay missing.

    >>> plain(pd.Series(["DE", None], dtype="category")).tolist()
    ['DE', nan]
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.astype("str")
    return column


def busiest_first(
    table: pd.DataFrame, key: str, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Return ``table`` ordered by ``events`` (most first), ties by ``key``, with ``columns``.

    >>> table = pd.DataFrame({"ip": ["b", "a", "c"], "events": [1, 1, 5]})
    >>> busiest_first(table, "ip")["ip"].tolist()
    ['c', 'a', 'b']
    """
    ordered = table.sort_values(["events", key], ascending=[False, True], ignore_index=True)
    return ordered if columns is None else ordered[list(columns)]


def check_top(top: int | None) -> int | None:
    """Return ``top`` if it is a whole number >= 1 or None (every row), else raise InvalidQuery.

    >>> check_top(TOP), check_top(None)
    (20, None)
    """
    if top is None:
        return None
    return check_whole_number("top", top, "rows to keep, or None for every row")


def head(table: pd.DataFrame, top: int | None) -> pd.DataFrame:
    """Return the first ``top`` rows of a ranked table (every row for None), top checked.

    >>> head(pd.DataFrame({"events": [3, 2, 1]}), 2)["events"].tolist()
    [3, 2]
    """
    top = check_top(top)
    return table if top is None else table.head(top)
