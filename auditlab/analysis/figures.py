"""The one figure core every chart goes through: theme, labels, "no events".

Chart functions elsewhere in this package are thin: they compute their table,
describe their traces as plain dicts and hand both to :func:`make_figure`.
plotly is imported here, on first use, so ``import auditlab`` stays quick.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import plotly.graph_objects as go

TEMPLATE = "auditlab"
NO_EVENTS = "no events"
# Sixteen distinct colours: every action category gets its own.
COLORWAY = (
    "#2563eb", "#f97316", "#10b981", "#ef4444", "#8b5cf6", "#eab308", "#06b6d4", "#ec4899",
    "#84cc16", "#64748b", "#a16207", "#0f766e", "#1e3a8a", "#be123c", "#a3a3a3", "#4d7c0f",
)  # fmt: skip

# Column names whose label is not simply the name in words.
LABELS: dict[str, str] = {
    "events": "Events",
    "period": "Period",
    "action_category": "Category",
    "actor_id": "Actor",
    "actor_name": "Actor",
    "actor_email": "Email",
    "ip": "IP address",
    "ips": "IP addresses",
    "iso3": "ISO-3",
    "sensitive_events": "Sensitive events",
    "is_private": "Private network",
    "speed_kmh": "Speed (km/h)",
    "distance_km": "Distance (km)",
}

Traces = Callable[[pd.DataFrame], Iterable[dict[str, Any]]]


def label(column: str | None) -> str:
    """Return the human label of a column name, the same on every chart.

    >>> label("action_category"), label("first_seen")
    ('Category', 'First seen')
    """
    if column is None:
        return ""
    return LABELS.get(column, column.replace("_", " ").capitalize())


@functools.cache
def theme() -> str:
    """Return the name of the plotly template all auditlab charts use.

    >>> theme()
    'plotly_white+auditlab'
    """
    import plotly.graph_objects as go
    import plotly.io as pio

    pio.templates[TEMPLATE] = go.layout.Template(
        layout={
            "colorway": COLORWAY,
            "font": {"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 13},
            "title": {"x": 0.01, "xanchor": "left", "font": {"size": 17}},
            "margin": {"l": 60, "r": 30, "t": 60, "b": 50},
            "legend": {"title": {"font": {"size": 12}}},
            "hoverlabel": {"namelength": -1},
        }
    )
    return f"plotly_white+{TEMPLATE}"


def empty_figure(title: str) -> go.Figure:
    """Return a themed figure without data whose title and note say "no events".

    >>> empty_figure("Events per day").layout.annotations[0].text
    'no events'
    """
    import plotly.graph_objects as go

    figure = go.Figure()
    figure.update_layout(
        template=theme(),
        title_text=f"{title} — {NO_EVENTS}",
        xaxis_visible=False,
        yaxis_visible=False,
        annotations=[
            {"text": NO_EVENTS, "showarrow": False, "xref": "paper", "yref": "paper",
             "x": 0.5, "y": 0.5, "font": {"size": 20}},
        ],
    )  # fmt: skip
    return figure


def make_figure(
    table: pd.DataFrame,
    traces: Traces,
    *,
    title: str,
    x: str | None = None,
    y: str | None = None,
    **layout: Any,
) -> go.Figure:
    """Return the themed, labelled figure of ``traces(table)``, or "no events".

    ``traces`` turns the table into plotly trace dicts (``{"type": "bar", ...}``);
    ``x`` and ``y`` name the columns on the axes, labelled by :func:`label`.

    >>> table = pd.DataFrame({"action": ["a", "b"], "events": [3, 1]})
    >>> bars = lambda t: [{"type": "bar", "x": t["action"], "y": t["events"]}]
    >>> make_figure(table, bars, title="Events", x="action", y="events").data[0].type
    'bar'
    """
    import plotly.graph_objects as go

    if table.empty:
        return empty_figure(title)
    figure = go.Figure(data=list(traces(table)))
    figure.update_layout(
        template=theme(),
        title_text=title,
        xaxis_title_text=label(x),
        yaxis_title_text=label(y),
        **layout,
    )
    return figure
