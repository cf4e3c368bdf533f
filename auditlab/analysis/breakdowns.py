"""Who did what: per-actor and per-action counts, the actor x category matrix, their charts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from auditlab.analysis.figures import CHART_NAME_LIMIT, Labeller, Labels, make_figure
from auditlab.analysis.sensitive import sensitive_events
from auditlab.analysis.vocabulary import (
    TOP,
    TimeBound,
    between,
    busiest_first,
    check_top,
    head,
    plain,
)
from auditlab.safety import shorten

if TYPE_CHECKING:
    import plotly.graph_objects as go

ACTOR_COLUMNS = (
    "actor_id", "actor_name", "actor_email", "events", "actions", "first_seen", "last_seen",
    "countries", "ips", "sensitive_events",
)  # fmt: skip


def actor_names(df: pd.DataFrame) -> pd.DataFrame:
    """Return each actor's ``actor_name`` and ``actor_email`` on their latest event, by id.

    >>> from auditlab.frame import empty_frame
    >>> actor_names(empty_frame()).columns.tolist()
    ['actor_name', 'actor_email']
    """
    rows = between(df, columns=["actor_id", "actor_name", "actor_email"]).reset_index(drop=True)
    latest = rows.groupby("actor_id")["created_at"].idxmax()
    names = rows.loc[latest.to_numpy(), ["actor_name", "actor_email"]]
    return names.set_axis(latest.index, axis=0)


def actor_labels(names: pd.DataFrame) -> pd.Series:
    """Return a display label per actor: the name, or the id where names are missing or shared.

    A name longer than ``CHART_NAME_LIMIT`` is cut first, so the id that
    tells two names apart is never what a chart cuts off, and two names cut
    alike count as shared.

    >>> names = pd.DataFrame({"actor_name": ["Ana", "Ana", None, "x" * 80 + "a", "x" * 80 + "b"]},
    ...                      index=pd.Index(["u1", "u2", "u3", "u4", "u5"], name="actor_id"))
    >>> labels = actor_labels(names).tolist()
    >>> labels[:3], labels[4] == "x" * 50 + "… [31 more characters] (u5)"
    (['Ana (u1)', 'Ana (u2)', 'u3'], True)
    """
    ids = names.index.to_series()
    name = names["actor_name"].map(lambda n: shorten(n, CHART_NAME_LIMIT), na_action="ignore")
    shared = name.duplicated(keep=False) & name.notna()
    return name.fillna(ids).where(~shared, name + " (" + ids + ")")


def actor_breakdown(
    df: pd.DataFrame, top: int | None = TOP, *, since: TimeBound = None, until: TimeBound = None
) -> pd.DataFrame:
    """Return one row per actor (``actor_id``), the ``top`` busiest, most events first.

    Columns: ``actor_id, actor_name, actor_email, events, actions`` (distinct),
    ``first_seen, last_seen, countries, ips`` (distinct) and
    ``sensitive_events`` (the actor's rows in :func:`sensitive_events`).
    Events without an actor (system events) are left out; ``top=None`` keeps
    every actor.

    >>> from auditlab.frame import empty_frame
    >>> actor_breakdown(empty_frame()).columns.tolist()[:4]
    ['actor_id', 'actor_name', 'actor_email', 'events']
    """
    top = check_top(top)
    rows = between(df, since, until, columns=[*ACTOR_COLUMNS[:3], "id", "action", "country", "ip"])
    counts = rows.groupby("actor_id").agg(
        events=("id", "size"),
        actions=("action", "nunique"),
        first_seen=("created_at", "min"),
        last_seen=("created_at", "max"),
        countries=("country", "nunique"),
        ips=("ip", "nunique"),
    )
    flagged = sensitive_events(df, since=since, until=until)["actor_id"].value_counts()
    counts["sensitive_events"] = flagged.reindex(counts.index, fill_value=0).astype("int64")
    table = actor_names(rows).join(counts).reset_index()
    return head(busiest_first(table, "actor_id", ACTOR_COLUMNS), top)


def actor_breakdown_chart(
    df: pd.DataFrame, top: int | None = TOP, *, since: TimeBound = None, until: TimeBound = None,
    tz: str = "UTC", title: str | None = None, labels: Labels = None, template: Any = None,
    width: int | None = None, height: int | None = None,
) -> go.Figure:  # fmt: skip
    """Return a bar chart of :func:`actor_breakdown`: events beside sensitive events per actor.

    >>> from auditlab.frame import empty_frame
    >>> actor_breakdown_chart(empty_frame()).layout.title.text
    'Most active actors — no events'
    """
    table = actor_breakdown(df, top, since=since, until=until)

    def traces(table: pd.DataFrame, name: Labeller) -> list[dict]:
        names = actor_labels(table.set_index("actor_id"))
        return [
            {"type": "bar", "orientation": "h", "y": names, "x": table[column],
             "name": name(column)}
            for column in ("events", "sensitive_events")
        ]  # fmt: skip

    return make_figure(
        table, traces, args=locals(), title="Most active actors", x="events", y="actor_name",
        barmode="group", yaxis_autorange="reversed", labelled={"y": len(table)},
    )  # fmt: skip


def action_breakdown(
    df: pd.DataFrame, top: int | None = TOP, *, since: TimeBound = None, until: TimeBound = None
) -> pd.DataFrame:
    """Return ``action_category, action, events, actors`` (distinct), the ``top`` busiest first.

    Unknown actions are rows like any other, under the category the frame
    gave them; ``top=None`` keeps every action.

    >>> from auditlab.frame import empty_frame
    >>> action_breakdown(empty_frame()).columns.tolist()
    ['action_category', 'action', 'events', 'actors']
    """
    top = check_top(top)
    table = (
        between(df, since, until, columns=["id", "action_category", "action", "actor_id"])
        .groupby(["action_category", "action"], observed=True, dropna=False)
        .agg(events=("id", "size"), actors=("actor_id", "nunique"))
        .reset_index()
    )
    table["action_category"] = plain(table["action_category"])
    table["action"] = plain(table["action"])
    return head(busiest_first(table, "action"), top)


def action_breakdown_chart(
    df: pd.DataFrame, *, since: TimeBound = None, until: TimeBound = None, tz: str = "UTC",
    title: str | None = None, labels: Labels = None, template: Any = None, width: int | None = None,
    height: int | None = None,
) -> go.Figure:  # fmt: skip
    """Return a bar chart of :func:`action_breakdown`: every action, busiest first, one
    colour per category.

    Every action is named on the axis, however many there are (the chart grows
    to fit them), with its count beside its bar.

    >>> from auditlab.frame import empty_frame
    >>> action_breakdown_chart(empty_frame()).layout.title.text
    'Events by category and action — no events'
    """
    table = action_breakdown(df, None, since=since, until=until)

    def traces(table: pd.DataFrame, name: Labeller) -> list[dict]:
        return [
            {"type": "bar", "orientation": "h", "y": rows["action"], "x": rows["events"],
             "name": category, "text": rows["events"], "textposition": "outside",
             "cliponaxis": False,
             "hovertemplate": "%{y}<br>%{x} events<extra>" + str(category) + "</extra>"}
            for category, rows in table.groupby("action_category", sort=False, dropna=False)
        ]  # fmt: skip

    return make_figure(
        table, traces, args=locals(), title="Events by category and action", x="events",
        y="action", legend="action_category", labelled={"y": len(table)},
        yaxis={"autorange": "reversed", "categoryorder": "array",
               "categoryarray": table["action"].tolist()},
    )  # fmt: skip


def actor_action_matrix(
    df: pd.DataFrame, top: int | None = TOP, *, since: TimeBound = None, until: TimeBound = None
) -> pd.DataFrame:
    """Return events per actor (rows, the ``top`` busiest) and action category (columns).

    Rows are ordered by total events, columns by total events across the kept
    actors; the index is ``actor_id``, the columns are named ``action_category``.

    >>> from auditlab.frame import empty_frame
    >>> actor_action_matrix(empty_frame()).shape
    (0, 0)
    """
    top = check_top(top)
    counts = (
        between(df, since, until, columns=["actor_id", "action_category"])
        .groupby(["actor_id", "action_category"], observed=True)
        .size()
        .unstack("action_category", fill_value=0)
    )
    counts.columns = pd.Index(counts.columns.astype("str"), name="action_category")
    busiest = np.lexsort((counts.index.to_numpy(), -counts.sum(axis=1).to_numpy()))
    matrix = counts.iloc[busiest[:top]]
    columns = np.lexsort((matrix.columns.to_numpy(), -matrix.sum().to_numpy()))
    return matrix.iloc[:, columns].astype("int64")


def actor_action_matrix_chart(
    df: pd.DataFrame, top: int | None = TOP, *, since: TimeBound = None, until: TimeBound = None,
    tz: str = "UTC", title: str | None = None, labels: Labels = None, template: Any = None,
    width: int | None = None, height: int | None = None,
) -> go.Figure:  # fmt: skip
    """Return a heatmap of :func:`actor_action_matrix`: actors down, categories across.

    >>> from auditlab.frame import empty_frame
    >>> actor_action_matrix_chart(empty_frame()).layout.title.text
    'Events per actor and category — no events'
    """
    matrix = actor_action_matrix(df, top, since=since, until=until)

    def traces(matrix: pd.DataFrame, name: Labeller) -> list[dict]:
        names = actor_labels(actor_names(df).reindex(matrix.index))
        return [{
            "type": "heatmap", "z": matrix.to_numpy(), "x": matrix.columns.tolist(),
            "y": names.tolist(), "colorscale": "Blues",
            "colorbar": {"title": {"text": name("events")}},
            "hovertemplate": "%{y}<br>%{x}: %{z} events<extra></extra>",
        }]  # fmt: skip

    return make_figure(
        matrix, traces, args=locals(), title="Events per actor and category",
        x="action_category", y="actor_name", yaxis_autorange="reversed",
        labelled={"x": matrix.shape[1], "y": len(matrix)},
    )  # fmt: skip
