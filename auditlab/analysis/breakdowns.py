"""Who did what: per-actor and per-action counts, the actor x category matrix, charts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from auditlab.analysis.figures import label, make_figure
from auditlab.analysis.sensitive import sensitive_events
from auditlab.analysis.vocabulary import TimeBound, between, busiest_first, check_top, plain

if TYPE_CHECKING:
    import plotly.graph_objects as go

USER_COLUMNS = (
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

    >>> names = pd.DataFrame({"actor_name": ["Ana", "Ana", None]},
    ...                      index=pd.Index(["u1", "u2", "u3"], name="actor_id"))
    >>> actor_labels(names).tolist()
    ['Ana (u1)', 'Ana (u2)', 'u3']
    """
    ids = names.index.to_series()
    name = names["actor_name"]
    shared = name.duplicated(keep=False) & name.notna()
    return name.fillna(ids).where(~shared, name + " (" + ids + ")")


def user_breakdown(
    df: pd.DataFrame, *, since: TimeBound = None, until: TimeBound = None
) -> pd.DataFrame:
    """Return one row per actor, most events first.

    Columns: ``actor_id, actor_name, actor_email, events, actions`` (distinct),
    ``first_seen, last_seen, countries, ips`` (distinct) and
    ``sensitive_events`` (the actor's rows in :func:`sensitive_events`).
    Events without an actor (system events) are left out.

    >>> from auditlab.frame import empty_frame
    >>> user_breakdown(empty_frame()).columns.tolist()[:4]
    ['actor_id', 'actor_name', 'actor_email', 'events']
    """
    rows = between(df, since, until, columns=[*USER_COLUMNS[:3], "id", "action", "country", "ip"])
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
    return busiest_first(table, "actor_id", USER_COLUMNS)


def user_chart(
    df: pd.DataFrame, top: int = 15, *, since: TimeBound = None, until: TimeBound = None
) -> go.Figure:
    """Return a bar chart of the ``top`` actors' events beside their sensitive events.

    >>> from auditlab.frame import empty_frame
    >>> user_chart(empty_frame()).layout.title.text
    'Most active actors — no events'
    """
    table = user_breakdown(df, since=since, until=until).head(check_top(top))

    def traces(table: pd.DataFrame) -> list[dict]:
        names = actor_labels(table.set_index("actor_id"))
        return [
            {"type": "bar", "orientation": "h", "y": names, "x": table[column],
             "name": label(column)}
            for column in ("events", "sensitive_events")
        ]  # fmt: skip

    return make_figure(
        table, traces, title="Most active actors", x="events", y="actor_name",
        barmode="group", yaxis_autorange="reversed",
    )  # fmt: skip


def action_breakdown(
    df: pd.DataFrame, *, since: TimeBound = None, until: TimeBound = None
) -> pd.DataFrame:
    """Return ``action_category, action, events, actors`` (distinct), most events first.

    Unknown actions are rows like any other, under the category the frame gave them.

    >>> from auditlab.frame import empty_frame
    >>> action_breakdown(empty_frame()).columns.tolist()
    ['action_category', 'action', 'events', 'actors']
    """
    table = (
        between(df, since, until, columns=["id", "action_category", "action", "actor_id"])
        .groupby(["action_category", "action"], observed=True, dropna=False)
        .agg(events=("id", "size"), actors=("actor_id", "nunique"))
        .reset_index()
    )
    table["action_category"] = plain(table["action_category"])
    table["action"] = plain(table["action"])
    return busiest_first(table, "action")


def action_chart(
    df: pd.DataFrame, *, since: TimeBound = None, until: TimeBound = None
) -> go.Figure:
    """Return a treemap of events: categories, each split into its actions.

    >>> from auditlab.frame import empty_frame
    >>> action_chart(empty_frame()).layout.title.text
    'Events by category and action — no events'
    """
    table = action_breakdown(df, since=since, until=until)

    def traces(table: pd.DataFrame) -> list[dict]:
        categories = table.groupby("action_category", dropna=False)["events"].sum()
        return [{
            "type": "treemap",
            "branchvalues": "total",
            "ids": [*categories.index, *(table["action_category"] + "/" + table["action"])],
            "labels": [*categories.index, *table["action"]],
            "parents": ["" for _ in categories.index] + table["action_category"].tolist(),
            "values": [*categories, *table["events"]],
            "hovertemplate": "%{label}<br>%{value} events<extra></extra>",
        }]  # fmt: skip

    return make_figure(table, traces, title="Events by category and action")


def user_action_matrix(
    df: pd.DataFrame, top: int = 20, *, since: TimeBound = None, until: TimeBound = None
) -> pd.DataFrame:
    """Return events per actor (rows, ``top`` busiest) and action category (columns).

    Rows are ordered by total events, columns by total events across the kept
    actors; the index is ``actor_id``, the columns are named ``action_category``.

    >>> from auditlab.frame import empty_frame
    >>> user_action_matrix(empty_frame()).shape
    (0, 0)
    """
    counts = (
        between(df, since, until, columns=["actor_id", "action_category"])
        .groupby(["actor_id", "action_category"], observed=True)
        .size()
        .unstack("action_category", fill_value=0)
    )
    counts.columns = pd.Index(counts.columns.astype("str"), name="action_category")
    busiest = np.lexsort((counts.index.to_numpy(), -counts.sum(axis=1).to_numpy()))
    matrix = counts.iloc[busiest[: check_top(top)]]
    columns = np.lexsort((matrix.columns.to_numpy(), -matrix.sum().to_numpy()))
    return matrix.iloc[:, columns].astype("int64")


def user_action_heatmap(
    df: pd.DataFrame, top: int = 20, *, since: TimeBound = None, until: TimeBound = None
) -> go.Figure:
    """Return a heatmap of :func:`user_action_matrix`: actors down, categories across.

    >>> from auditlab.frame import empty_frame
    >>> user_action_heatmap(empty_frame()).layout.title.text
    'Events per actor and category — no events'
    """
    matrix = user_action_matrix(df, top, since=since, until=until)

    def traces(matrix: pd.DataFrame) -> list[dict]:
        names = actor_labels(actor_names(df).reindex(matrix.index))
        return [{
            "type": "heatmap", "z": matrix.to_numpy(), "x": matrix.columns.tolist(),
            "y": names.tolist(), "colorscale": "Blues", "colorbar": {"title": {"text": "Events"}},
            "hovertemplate": "%{y}<br>%{x}: %{z} events<extra></extra>",
        }]  # fmt: skip

    return make_figure(
        matrix, traces, title="Events per actor and category", x="action_category",
        y="actor_name", yaxis_autorange="reversed",
    )  # fmt: skip
