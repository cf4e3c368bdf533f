"""Events over time: counts per period (in a time zone) and their stacked chart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from auditlab.analysis import lazy
from auditlab.analysis.figures import Labeller, Labels, label, make_figure
from auditlab.analysis.vocabulary import TimeBound, between, check_column, plain, wall_time
from auditlab.checks import check_tz
from auditlab.errors import InvalidQuery

if TYPE_CHECKING:
    import plotly.graph_objects as go

PERIOD_NAMES: dict[str, str] = {
    "min": "minute", "h": "hour", "D": "day", "W": "week", "M": "month", "Q": "quarter",
    "Y": "year",
}  # fmt: skip


def wall_period_starts(local: pd.Series, freq: str) -> pd.Series:
    """Return, for each naive wall-clock time, the start of its ``freq`` period.

    >>> times = pd.Series(pd.to_datetime(["2026-10-14T23:30Z"]))
    >>> str(wall_period_starts(wall_time(times, "Europe/Berlin"), "D")[0])
    '2026-10-15 00:00:00'
    """
    try:
        return local.dt.to_period(freq).dt.start_time
    except (TypeError, ValueError) as error:
        raise InvalidQuery(
            f"freq={freq!r} is not a pandas period alias; use one of: {', '.join(PERIOD_NAMES)}",
            parameter="freq",
        ) from error


def timeline(
    df: pd.DataFrame,
    freq: str = "D",
    by: str | None = "action_category",
    *,
    tz: str = "UTC",
    since: TimeBound = None,
    until: TimeBound = None,
) -> pd.DataFrame:
    """Return events per period: rows ``(period, <by>, events)``, oldest period first.

    ``period`` is the start of each ``freq`` period in ``tz`` (tz-aware); only
    periods with events appear. ``by=None`` counts all events per period. Rows
    whose ``by`` value is missing are counted under a missing value, so the
    events always add up to the rows of ``df``.

    >>> from auditlab.frame import empty_frame
    >>> timeline(empty_frame()).columns.tolist()
    ['period', 'action_category', 'events']
    """
    if lazy.is_lazy(df):
        rows = lazy.local_time_counts(df, freq, by, check_tz(tz), since, until)
        local = rows["local"]
    else:
        rows = between(df, since, until, columns=[] if by is None else [check_column(df, by, "by")])
        local = wall_time(rows["created_at"], tz)
    keys = [wall_period_starts(local, freq).rename("period")]
    if by is not None:
        keys.append(rows[by])
    grouped = rows.groupby(keys, observed=True, dropna=False)
    # A frame's rows are single events; DuckDB's come counted per wall-clock time.
    events = grouped["events"].sum() if lazy.is_lazy(df) else grouped.size()
    table = events.rename("events").reset_index().astype({key.name: key.dtype for key in keys})
    if by is not None:
        table[by] = plain(table[by])
        table = table.sort_values(["period", by], ignore_index=True)
    # Localise the few distinct period starts, not every row; a start that a
    # clock change skips moves forward, an ambiguous one is the first instant.
    table["period"] = table["period"].dt.tz_localize(
        tz, ambiguous=np.ones(len(table), dtype=bool), nonexistent="shift_forward"
    )
    return table


def timeline_chart(
    df: pd.DataFrame, freq: str = "D", by: str | None = "action_category", *,
    since: TimeBound = None, until: TimeBound = None, tz: str = "UTC", title: str | None = None,
    labels: Labels = None, template: Any = None, width: int | None = None,
    height: int | None = None,
) -> go.Figure:  # fmt: skip
    """Return a stacked bar chart of :func:`timeline`, one series per ``by`` value.

    >>> from auditlab.frame import empty_frame
    >>> timeline_chart(empty_frame()).layout.title.text
    'Events per day by category — no events'
    """
    table = timeline(df, freq, by, tz=tz, since=since, until=until)
    default_title = f"Events per {PERIOD_NAMES.get(freq, freq)}"
    if by is not None:
        default_title += f" by {label(by, labels).lower()}"

    def traces(table: pd.DataFrame, name: Labeller) -> list[dict]:
        if by is None:
            return [{"type": "bar", "x": table["period"], "y": table["events"], "name": "events"}]
        return [
            {"type": "bar", "x": rows["period"], "y": rows["events"], "name": str(value)}
            for value, rows in table.groupby(by, dropna=False, sort=True)
        ]

    return make_figure(
        table,
        traces,
        args=locals(),
        title=default_title,
        x="period",
        y="events",
        legend=by,
        barmode="stack",
        xaxis_rangeslider_visible=True,
    )
