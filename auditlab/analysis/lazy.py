"""The analysis tables over logs too big for a DataFrame: aggregated in DuckDB, finished in pandas.

Every table function (and so every chart) accepts, besides a DataFrame, a
DuckDB relation (``auditlab.duckdb``), a pyarrow dataset
(``auditlab.dataset``) or a pyarrow table. For those it sends its group-by
here: DuckDB reads from the Parquet files only the columns and rows it needs
and hands back a small table of counts, which the function finishes with the
very pandas code its DataFrame path uses (ranking, ``top``, names, dtypes).
Only the group-bys are written twice, once in pandas and once in SQL below;
a test holds both paths to identical tables on the same data.

``sensitive_events`` is the one table whose rules read single events: here
DuckDB picks the events any rule can flag (a small share of a log) and each
administrator's daily rhythm (counts per 15 minutes of the day), and the
rules themselves run in pandas on just those.

DuckDB is an optional dependency (``pip install 'auditlab[duckdb]'``);
nothing here is imported for a DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from auditlab.analysis.vocabulary import TimeBound, bound, check_column
from auditlab.errors import InvalidQuery

LOGS = "logs"
# The period aliases DuckDB truncates to directly; any other is counted per second first.
UNITS: dict[str, str] = {
    "min": "minute", "h": "hour", "D": "day", "W": "week", "M": "month", "Q": "quarter",
    "Y": "year",
}  # fmt: skip


def is_lazy(data: Any) -> bool:
    """Return True when data is not a DataFrame but a relation, dataset or table to aggregate.

    >>> is_lazy(pa.table({"id": ["a"]})), is_lazy(pd.DataFrame({"id": ["a"]}))
    (True, False)
    """
    if isinstance(data, pd.DataFrame):
        return False
    return isinstance(data, pa.Table | ds.Dataset) or type(data).__module__.startswith("duckdb")


def relation(data: Any) -> Any:
    """Return data as a DuckDB relation (a dataset or table is scanned lazily, not copied)."""
    from auditlab.scan import require_duckdb

    engine = require_duckdb()
    if isinstance(data, pa.Table | ds.Dataset):
        return engine.connect().from_arrow(data)
    if isinstance(data, engine.DuckDBPyRelation):
        return data
    raise InvalidQuery(
        "df must be a DataFrame, a DuckDB relation, a pyarrow dataset or a pyarrow table, "
        f"not {type(data).__name__}",
        parameter="df",
    )


def columns(data: Any) -> pd.Index:
    """Return the column names of a relation, dataset or table, as a DataFrame's columns are."""
    if isinstance(data, pa.Table | ds.Dataset):
        return pd.Index(data.schema.names)
    return pd.Index(relation(data).columns)


def run(data: Any, sql: str) -> pd.DataFrame:
    """Return the answer of ``sql`` over data (named ``logs`` in it) as a DataFrame.

    Instants come back in UTC, whatever the DuckDB session's time zone.
    """
    answer = relation(data).query(LOGS, sql)
    table = answer.to_arrow_table() if hasattr(answer, "to_arrow_table") else answer.arrow()
    frame = table.to_pandas()
    for name, dtype in frame.dtypes.items():
        if isinstance(dtype, pd.DatetimeTZDtype):
            frame[name] = frame[name].dt.tz_convert("UTC")
    return frame


def window(since: TimeBound, until: TimeBound, *more: str) -> str:
    """Return the WHERE clause of rows created in [since, until] that meet every condition in more.

    >>> window("2026-10-01", None, "ip IS NOT NULL")
    "WHERE created_at >= TIMESTAMPTZ '2026-10-01T00:00:00+00:00' AND ip IS NOT NULL"
    """
    terms = [f"created_at >= TIMESTAMPTZ '{bound(since, 'since').isoformat()}'"] if since else []
    if until is not None:
        terms.append(f"created_at <= TIMESTAMPTZ '{bound(until, 'until').isoformat()}'")
    terms.extend(more)
    return f"WHERE {' AND '.join(terms)}" if terms else ""


def name(column: str) -> str:
    """Return a column name quoted as a SQL identifier.

    >>> name("day")
    '"day"'
    """
    return '"' + column.replace('"', '""') + '"'


def text(value: str) -> str:
    """Return a value quoted as a SQL string literal.

    >>> text("it's")
    "'it''s'"
    """
    return "'" + value.replace("'", "''") + "'"


def action_counts(data: Any, since: TimeBound, until: TimeBound) -> pd.DataFrame:
    """Return ``action_category, action, events, actors``: ``action_breakdown``'s counts."""
    return run(data, f"""
        SELECT action_category, action, count(*) AS events,
               count(DISTINCT actor_id) AS actors
        FROM {LOGS} {window(since, until)} GROUP BY ALL""")  # fmt: skip


def actor_counts(data: Any, since: TimeBound, until: TimeBound) -> pd.DataFrame:
    """Return per ``actor_id`` (the index) the latest name and email, and the actor's counts.

    The name and email are those of the actor's latest event (the greatest id
    among events of the same instant).
    """
    table = run(data, f"""
        SELECT actor_id,
               arg_max({{'n': actor_name, 'e': actor_email}}, (created_at, id)) AS latest,
               count(*) AS events, count(DISTINCT action) AS actions,
               min(created_at) AS first_seen, max(created_at) AS last_seen,
               count(DISTINCT country) AS countries, count(DISTINCT ip) AS ips
        FROM {LOGS} {window(since, until, "actor_id IS NOT NULL")}
        GROUP BY actor_id""")  # fmt: skip
    return _with_names(table).drop(columns="latest").set_index("actor_id")


def latest_names(data: Any) -> pd.DataFrame:
    """Return each actor's ``actor_name`` and ``actor_email`` on their latest event, by id."""
    table = run(data, f"""
        SELECT actor_id,
               arg_max({{'n': actor_name, 'e': actor_email}}, (created_at, id)) AS latest
        FROM {LOGS} WHERE actor_id IS NOT NULL GROUP BY actor_id""")  # fmt: skip
    return _with_names(table).set_index("actor_id")[["actor_name", "actor_email"]]


def _with_names(table: pd.DataFrame) -> pd.DataFrame:
    """Return table with its ``latest`` struct as ``actor_name``, ``actor_email`` after the id."""
    latest = table["latest"]
    names = pd.DataFrame({
        "actor_name": latest.map(lambda pair: pair["n"]).astype("str"),
        "actor_email": latest.map(lambda pair: pair["e"]).astype("str"),
    }, index=table.index)  # fmt: skip
    return pd.concat([table[["actor_id"]], names, table.drop(columns="actor_id")], axis=1)


def actor_category_counts(data: Any, since: TimeBound, until: TimeBound) -> pd.DataFrame:
    """Return ``actor_id, action_category, events`` for every pair with events."""
    condition = "actor_id IS NOT NULL AND action_category IS NOT NULL"
    return run(data, f"""
        SELECT actor_id, action_category, count(*) AS events
        FROM {LOGS} {window(since, until, condition)} GROUP BY ALL""")  # fmt: skip


def country_counts(data: Any, since: TimeBound, until: TimeBound) -> pd.DataFrame:
    """Return ``country, events, actors, ips`` per country, as ``country_summary`` counts."""
    return run(data, f"""
        SELECT country, count(*) AS events, count(DISTINCT actor_id) AS actors,
               count(DISTINCT ip) AS ips
        FROM {LOGS} {window(since, until, "country IS NOT NULL")} GROUP BY country""")  # fmt: skip


def ip_counts(data: Any, since: TimeBound, until: TimeBound) -> pd.DataFrame:
    """Return ``ip, events, actors, countries, first_seen, last_seen`` per address."""
    return run(data, f"""
        SELECT ip, count(*) AS events, count(DISTINCT actor_id) AS actors,
               count(DISTINCT country) AS countries, min(created_at) AS first_seen,
               max(created_at) AS last_seen
        FROM {LOGS} {window(since, until, "ip IS NOT NULL")} GROUP BY ip""")  # fmt: skip


def local_time_counts(
    data: Any, freq: str, by: str | None, tz: str, since: TimeBound, until: TimeBound
) -> pd.DataFrame:
    """Return ``local, <by>, events``: events per wall-clock time in tz, cut to freq's unit.

    ``local`` is naive; it is the start of each event's ``freq`` period when
    freq is one of ``UNITS``, else the event's second (finer than any period
    the timeline draws), so the caller's periods group it exactly.
    """
    if by is not None:
        check_column(pd.DataFrame(columns=columns(data)), by, "by")
    unit = UNITS.get(freq, "second")
    split = "" if by is None else f", {name(by)}"
    return run(data, f"""
        SELECT date_trunc('{unit}', timezone({text(tz)}, created_at)) AS local{split},
               count(*) AS events
        FROM {LOGS} {window(since, until)} GROUP BY ALL""")  # fmt: skip


def sensitive_rows(
    data: Any,
    wanted: Sequence[str],
    watched: Iterable[str],
    rhythm_actions: Iterable[str],
    tz: str,
    departures: Iterable[str] = ("member.removed", "member.left"),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the events any sensitive rule can flag, and each administrator's rhythm.

    The events are those whose action is ``watched`` or ends in ``.deleted``,
    and every event of an actor some of the ``departures`` names as its
    member, newest first, with the ``wanted`` columns. The rhythm counts, for each (``org_id``,
    ``actor_id``) who did one of ``rhythm_actions``, all their events per
    15 minutes of the day in tz (bin 0..95 as columns; an event without a
    time counts at 0).
    """
    actions = ", ".join(text(action) for action in sorted(watched))
    left = ", ".join(text(action) for action in sorted(departures))
    rows = run(data, f"""
        SELECT {', '.join(name(column) for column in wanted)} FROM {LOGS}
        WHERE action IN ({actions}) OR action LIKE '%.deleted'
           OR actor_id IN (SELECT member_user_id FROM {LOGS} WHERE action IN ({left}))
        ORDER BY created_at DESC, id DESC""")  # fmt: skip
    if not rhythm_actions:
        return rows, pd.DataFrame()
    administrative = ", ".join(text(action) for action in sorted(rhythm_actions))
    counts = run(data, f"""
        WITH administrators AS (
            SELECT DISTINCT coalesce(org_id, '') AS org, actor_id FROM {LOGS}
            WHERE action IN ({administrative}) AND actor_id IS NOT NULL)
        SELECT e.org AS org_id, e.actor_id,
               coalesce((hour(e.t) * 60 + minute(e.t)) // 15, 0) AS slot, count(*) AS events
        FROM (SELECT coalesce(org_id, '') AS org, actor_id,
                     timezone({text(tz)}, created_at) AS t FROM {LOGS}) AS e
        JOIN administrators AS a ON e.org = a.org AND e.actor_id = a.actor_id
        GROUP BY ALL""")  # fmt: skip
    rhythm = counts.pivot_table(index=["org_id", "actor_id"], columns="slot", values="events",
                                aggfunc="sum", fill_value=0)  # fmt: skip
    return rows, rhythm
