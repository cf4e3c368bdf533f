"""The one figure core every chart goes through: theme, labels, "no events".

Chart functions elsewhere in this package are thin: they compute their table,
describe their traces as plain dicts and hand both to :func:`make_figure`.
plotly is imported here, on first use, so ``import auditlab`` stays quick.
Text from the data that a chart draws (categories, tile labels, hover and
legend names) goes through :func:`chart_text` there, once for every chart.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from auditlab.analysis.vocabulary import TimeBound, bound
from auditlab.checks import check_tz, check_whole_number
from auditlab.safety import display_text

if TYPE_CHECKING:
    import plotly.graph_objects as go

TEMPLATE = "auditlab"
NO_EVENTS = "no events"
# Sixteen distinct colours: every action category gets its own.
COLORWAY = (
    "#2563eb", "#f97316", "#10b981", "#ef4444", "#8b5cf6", "#eab308", "#06b6d4", "#ec4899",
    "#84cc16", "#64748b", "#a16207", "#0f766e", "#1e3a8a", "#be123c", "#a3a3a3", "#4d7c0f",
)  # fmt: skip

# Text from the data is cut shorter on a chart than in a table: it labels an axis.
CHART_TEXT_LIMIT = 100
# A person's name on a chart, cut before an id is added to tell two names apart.
CHART_NAME_LIMIT = 50
# The keys of a trace and of an axis that hold text from the data, which plotly draws.
TEXT_KEYS = ("x", "y", "labels", "text", "hovertext", "name")
AXIS_TEXT_KEYS = ("categoryarray", "tickvals", "ticktext")

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

# A chart whose categories run down the y axis gives each this many pixels (when the
# caller sets no height), so every label has room; never less than DEFAULT_HEIGHT.
ROW_PIXELS = 24
DEFAULT_HEIGHT = 450
CHROME_PIXELS = 170  # title, x axis and margins around the rows

# The keywords every chart takes, with their defaults; make_figure reads them.
SHARED: dict[str, Any] = {
    "since": None, "until": None, "tz": "UTC", "title": None, "labels": None, "template": None,
    "width": None, "height": None,
}  # fmt: skip
# Column names -> labels of the caller's own, as plotly express's ``labels``.
Labels = Mapping[str, str] | None
Labeller = Callable[[str | None], str]
Traces = Callable[[pd.DataFrame, Labeller], Iterable[dict[str, Any]]]


def label(column: str | None, labels: Mapping[str, str] | None = None) -> str:
    """Return the human label of a column name, the same on every chart.

    ``labels`` maps column names to labels of the caller's own, as plotly
    express's ``labels`` does.

    >>> label("action_category"), label("first_seen"), label("events", {"events": "Entries"})
    ('Category', 'First seen', 'Entries')
    """
    if column is None:
        return ""
    if labels and column in labels:
        return labels[column]
    return LABELS.get(column, column.replace("_", " ").capitalize())


def chart_text(value: object, limit: int = CHART_TEXT_LIMIT) -> object:
    """Return a value from the data as a chart draws it: cut, controls shown, tags escaped.

    plotly reads a few HTML tags in any text it draws (``<a href>``,
    ``<span style>``, ``<b>``, ``<br>``) and decodes ``&lt;``, so a name
    escaped once shows exactly as typed and adds no link or style. Values
    other than text come back unchanged.

    >>> chart_text('<a href="https://x.example">Pay</a>\u202e')
    '&lt;a href="https://x.example"&gt;Pay&lt;/a&gt;⟨U+202E⟩'
    >>> chart_text(3)
    3
    """
    shown = display_text(value, limit)
    return html.escape(shown, quote=False) if isinstance(shown, str) else shown


def chart_texts(values: Any) -> Any:
    """Return text values (one, a list, a Series or Index) through :func:`chart_text`.

    Numbers, times and anything else that is not text are returned as they are.

    >>> chart_texts(pd.Series(["<b>", "Ana"])), chart_texts(pd.Series([1, 2])).tolist()
    (['&lt;b&gt;', 'Ana'], [1, 2])
    """
    if isinstance(values, str):
        return chart_text(values)
    if isinstance(values, pd.Series | pd.Index):
        dtype = values.dtype
        text = pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)
        return [chart_text(v) for v in values] if text else values
    if isinstance(values, list | tuple):
        return [chart_text(v) for v in values]
    return values


def _shown_text(part: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """Return a trace or axis dict with the values under ``keys`` through chart_texts."""
    return {key: chart_texts(value) if key in keys else value for key, value in part.items()}


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


def window_text(since: TimeBound = None, until: TimeBound = None, tz: str = "UTC") -> str:
    """Return the time window ``[since, until]`` in words, times in ``tz`` ("" for no window).

    >>> window_text("2026-10-01", "2026-10-31", "Europe/Berlin")
    '2026-10-01 02:00 to 2026-11-01 00:59 Europe/Berlin'
    >>> window_text(since="2026-10-01")
    'from 2026-10-01 00:00 UTC'
    """
    zone = check_tz(tz)
    start, end = (
        None if value is None else f"{bound(value, name).tz_convert(zone):%Y-%m-%d %H:%M}"
        for value, name in ((since, "since"), (until, "until"))
    )
    if start and end:
        return f"{start} to {end} {zone}"
    if start or end:
        return f"from {start} {zone}" if start else f"until {end} {zone}"
    return ""


def make_figure(
    table: pd.DataFrame,
    traces: Traces,
    *,
    args: Mapping[str, Any],
    title: str,
    x: str | None = None,
    y: str | None = None,
    legend: str | None = None,
    labelled: Mapping[str, int] | None = None,
    **layout: Any,
) -> go.Figure:
    """Return the themed, labelled figure of ``traces(table, name)``, or "no events".

    ``args`` are the chart's arguments (its ``locals()``, as in plotly
    express), read for the keywords every chart shares (``SHARED``):
    ``since``/``until`` (the window, said under the title in ``tz``),
    ``title`` (else the chart's own ``title``), ``labels`` (column -> label),
    ``template`` (a plotly template; default auditlab's theme), ``width`` and
    ``height`` (pixels). ``traces`` turns the table into plotly trace dicts,
    naming columns with ``name`` (:func:`label` with ``labels``); ``x``, ``y``
    and ``legend`` name the columns on the axes and in the legend.
    ``labelled`` maps a category axis (``"x"`` or ``"y"``) to how many
    categories it shows: every one gets its label (plotly otherwise skips
    labels that would crowd), and a ``"y"`` axis gets ``ROW_PIXELS`` per
    category unless ``height`` is given. The rest is plotly layout. Text from
    the data in the traces (``TEXT_KEYS``) and in the axes' category lists
    goes through :func:`chart_text`.

    >>> table = pd.DataFrame({"action": ["a", "b"], "events": [3, 1]})
    >>> bars = lambda t, name: [{"type": "bar", "x": t["action"], "y": t["events"]}]
    >>> figure = make_figure(table, bars, args={"width": 400}, title="Events", x="action")
    >>> figure.data[0].type, figure.layout.width, figure.layout.xaxis.title.text
    ('bar', 400, 'Action')
    """
    import plotly.graph_objects as go

    chosen = {key: args.get(key, default) for key, default in SHARED.items()}
    for parameter in ("width", "height"):
        if chosen[parameter] is not None:
            check_whole_number(parameter, chosen[parameter], "pixels")
    title = chosen["title"] or title
    figure = go.Figure()
    figure.update_layout(
        template=theme() if chosen["template"] is None else chosen["template"],
        title_text=title,
        title_subtitle_text=window_text(chosen["since"], chosen["until"], chosen["tz"]),
        width=chosen["width"],
        height=chosen["height"],
    )
    if table.empty:
        figure.update_layout(
            title_text=f"{title} — {NO_EVENTS}",
            xaxis_visible=False,
            yaxis_visible=False,
            annotations=[
                {"text": NO_EVENTS, "showarrow": False, "xref": "paper", "yref": "paper",
                 "x": 0.5, "y": 0.5, "font": {"size": 20}},
            ],
        )  # fmt: skip
        return figure
    name = functools.partial(label, labels=chosen["labels"])
    figure.add_traces([_shown_text(trace, TEXT_KEYS) for trace in traces(table, name)])
    for key, value in layout.items():
        if key.endswith("axis") and isinstance(value, dict):
            layout[key] = _shown_text(value, AXIS_TEXT_KEYS)
    figure.update_layout(
        xaxis_title_text=name(x),
        yaxis_title_text=name(y),
        legend_title_text=name(legend),
        **layout,
    )
    for axis, count in (labelled or {}).items():
        figure.update_layout({f"{axis}axis": {"tickmode": "linear", "tick0": 0, "dtick": 1,
                                              "automargin": True}})  # fmt: skip
        if axis == "y" and chosen["height"] is None:
            figure.update_layout(height=max(DEFAULT_HEIGHT, ROW_PIXELS * count + CHROME_PIXELS))
    return figure
