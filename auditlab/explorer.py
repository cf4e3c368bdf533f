"""One panel to explore an audit log: pick a period, actor, address or action; it all redraws.

``explore(df)`` (also ``df.audit.explore()``) shows pickers for the period,
the actor, the IP address, the action category and the action, a search box
(any text an entry holds, as ``df.audit.search`` finds it), and under them
the timeline, the busiest actors, the actions, the map and the matching
events. Changing a picker redraws them in place. Each picker lists what the
other pickers and the search leave, busiest first with its count, so picking
a person narrows the addresses to theirs.

Built on ipywidgets: the pickers are its standard controls, its ``Output``
areas take plotly figures that the frontend draws with its own plotly.js,
and JupyterLab, Jupyter Notebook and VS Code all render it with no extension
to install. (anywidget is for writing a widget's JavaScript oneself; nothing
here needs new JavaScript.) Where no widget frontend exists, e.g. a notebook
exported by nbconvert or shown on a code host, the panel is a note saying
so.

>>> import auditlab.analysis
>>> from auditlab.frame import empty_frame
>>> Explorer(empty_frame()).matching.empty
True
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from auditlab.analysis.breakdowns import action_breakdown_chart, actor_breakdown_chart, actor_names
from auditlab.analysis.figures import chart_text
from auditlab.analysis.geo import country_summary_chart
from auditlab.analysis.periods import timeline_chart
from auditlab.analysis.vocabulary import in_window
from auditlab.clock import utc_today
from auditlab.frame.lookup import holding
from auditlab.safety import display_text
from auditlab.tables import show_table

if TYPE_CHECKING:
    import plotly.graph_objects as go

# How many of the matching events the table shows (the newest).
EVENTS_SHOWN = 500
EVENT_COLUMNS = (
    "created_at", "action", "actor_name", "actor_email", "ip", "country", "source",
    "member_user_name", "member_user_email", "id",
)  # fmt: skip
# How much of a name or address a picker's label shows.
LABEL_LIMIT = 100
# A dropdown's value for "no filter" (None would mean "nothing selected" to ipywidgets).
EVERY = ""
# Picker name -> the column it filters and what "no filter" reads as.
PICKED: dict[str, tuple[str, str]] = {
    "actor": ("actor_id", "Every actor"),
    "ip": ("ip", "Every IP address"),
    "category": ("action_category", "Every category"),
    "action": ("action", "Every action"),
}
WIDGETS_MISSING = (
    "The explorer is a Jupyter widget and needs ipywidgets in the kernel's environment: "
    "pip install 'auditlab[report]'"
)


@dataclass(frozen=True)
class Selection:
    """What the pickers hold: a period of UTC days, a value per picker and a search (None: any)."""

    since: dt.date | None = None
    until: dt.date | None = None
    actor: str | None = None
    ip: str | None = None
    category: str | None = None
    action: str | None = None
    text: str | None = None

    def mask(self, df: pd.DataFrame, *, leave_out: str | None = None) -> pd.Series:
        """Return which rows of df match, every picker but ``leave_out`` counted.

        >>> from auditlab.frame import empty_frame
        >>> Selection(actor="u1").mask(empty_frame()).tolist()
        []
        """
        keep = in_window(df["created_at"], self.since, self.until)
        for picker, (column, _) in PICKED.items():
            value = getattr(self, picker)
            if value is not None and picker != leave_out:
                keep &= (df[column] == value).fillna(False).astype(bool)
        if self.text:
            keep &= holding(df, self.text)
        return keep

    def words(self, names: Callable[[str], str] = str) -> str:
        """Return the pickers that filter, in words (``names`` turns an actor id into a name).

        >>> Selection(actor="u1", action="member.removed", text="lena").words()
        'u1 · member.removed · "lena"'
        """
        picked = [self.actor and names(self.actor), self.ip, self.category, self.action,
                  self.text and f'"{self.text}"']  # fmt: skip
        return " · ".join(p for p in picked if p)


class Explorer:
    """The explorer panel over one audit-log frame; displaying it shows the widgets.

    ``pickers`` holds the controls by name (``period``, ``actor``, ``ip``,
    ``category``, ``action``, and ``text``, the search box); ``matching`` is
    the frame of matching events
    and ``figures`` the charts drawn for them, both kept current as the
    pickers change. ``select`` sets pickers from code.
    """

    def __init__(self, df: pd.DataFrame) -> None:
        try:
            import ipywidgets as widgets
        except ImportError as error:
            raise ImportError(WIDGETS_MISSING) from error
        self._df = df
        self._names = actor_names(df)
        self._quiet = False
        self.selection = Selection()
        self.matching = df.iloc[:0]
        self.figures: dict[str, go.Figure] = {}
        wide = widgets.Layout(width="calc(50% - 8px)")
        self.pickers: dict[str, Any] = {
            name: widgets.Dropdown(description=name.capitalize(), layout=wide)
            for name in PICKED
        }
        self.pickers["ip"].description = "IP address"
        days = _days(df)
        # The slider's own readout cuts dates short; the label beside it says the period.
        self.pickers["period"] = widgets.SelectionRangeSlider(
            options=[(day.isoformat(), day) for day in days],
            index=(0, len(days) - 1),
            description="Period",
            continuous_update=False,
            readout=False,
            layout=widgets.Layout(flex="1 1 0%"),
        )
        self.pickers["text"] = widgets.Text(
            description="Search",
            placeholder="any text an entry holds: a name, an email, an id, a metadata value",
            continuous_update=False,  # searched on Enter or leaving the box
            layout=widgets.Layout(width="100%"),
        )
        self._searched: tuple[str | None, pd.DataFrame] = (None, df)
        self._period = widgets.HTML()
        self._status = widgets.HTML()
        self._outputs = {
            name: widgets.Output() for name in ("timeline", "actors", "actions", "map", "events")
        }
        reset = widgets.Button(description="Show everything", icon="undo")
        reset.on_click(lambda _: self.select(**dict.fromkeys([*PICKED, "text"])))
        row = widgets.Layout(flex_flow="row wrap", width="100%")
        self.panel = widgets.VBox(
            [
                widgets.HBox([self.pickers["period"], self._period], layout=row),
                widgets.HBox([self.pickers["actor"], self.pickers["ip"]], layout=row),
                widgets.HBox([self.pickers["category"], self.pickers["action"]], layout=row),
                self.pickers["text"],
                widgets.HBox([reset, self._status], layout=row),
                *self._outputs.values(),
            ]
        )
        self.panel.add_class("auditlab-explorer")
        self._status.add_class("auditlab-explorer-status")
        for picker in self.pickers.values():
            picker.observe(self._picked, names="value")
        self._update()

    def select(self, **picked: Any) -> Explorer:
        """Return the explorer after setting the named pickers (None: any), redrawn once.

        Names are those of ``pickers``; ``period`` takes a pair of dates,
        ``text`` the text to search for.
        """
        unknown = set(picked) - set(self.pickers)
        if unknown:
            raise TypeError(f"no picker named {', '.join(sorted(unknown))}; "
                            f"the pickers are {', '.join(self.pickers)}")  # fmt: skip
        self._quiet = True
        try:
            for name, value in picked.items():
                if name in PICKED or name == "text":
                    value = EVERY if value is None else value
                if name in PICKED:
                    _offer(self.pickers[name], list(self.pickers[name].options), value)
                self.pickers[name].value = value
        finally:
            self._quiet = False
        self._update()
        return self

    def _picked(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self._update()

    def _update(self) -> None:
        """Read the pickers, offer each the values the others leave, and redraw."""
        values = {name: self.pickers[name].value or None for name in PICKED}
        since, until = self.pickers["period"].value
        text = self.pickers["text"].value.strip() or None
        self.selection = Selection(since, until, **values, text=text)
        # The search is the slowest filter: read once per text, then the pickers work on its rows.
        if self._searched[0] != text:
            self._searched = (text, self._df if text is None else self._df[holding(self._df, text)])
        found, pickers = self._searched[1], replace(self.selection, text=None)
        self._quiet = True
        try:
            for name, (column, everything) in PICKED.items():
                rows = found.loc[pickers.mask(found, leave_out=name), column]
                _offer(self.pickers[name], self._choices(name, rows, everything),
                       values[name] or EVERY)  # fmt: skip
        finally:
            self._quiet = False
        self.matching = found[pickers.mask(found)]
        self._redraw()

    def _choices(self, name: str, rows: pd.Series, everything: str) -> list[tuple[str, Hashable]]:
        """Return a picker's options: "every ..." then each value, busiest first, with its count.

        Values as busy as each other are in the order of their labels. A label
        shows what the log holds with its hidden characters revealed, cut.
        """
        label = self._actor_label if name == "actor" else str
        counted = [(-count, display_text(label(value), LABEL_LIMIT), value) for value, count in
                   rows.astype(object).value_counts().items()]  # fmt: skip
        return [(f"{everything} ({len(rows):,} events)", EVERY)] + [
            (f"{text} · {-negative:,}", value) for negative, text, value in sorted(counted)
        ]

    def _actor_name(self, actor_id: str) -> str:
        """Return an actor's latest name, or the id where it has none."""
        name = self._names["actor_name"].get(actor_id)
        return actor_id if pd.isna(name) else str(name)

    def _actor_label(self, actor_id: str) -> str:
        """Return an actor's latest name and email, as a picker lists them."""
        email = self._names["actor_email"].get(actor_id)
        name = self._actor_name(actor_id)
        return name if pd.isna(email) else f"{name} <{email}>"

    def _redraw(self) -> None:
        from IPython.display import display

        shown = self.selection.words(self._actor_name) or "everything"
        picked = chart_text(shown)  # a chart title: controls revealed, tags escaped
        window = {"since": self.selection.since, "until": self.selection.until}
        df = self.matching
        self.figures = {
            "timeline": timeline_chart(df, title=f"Events per day: {picked}", height=340,
                                       **window),
            # ranked bars: as tall as their rows need
            "actors": actor_breakdown_chart(df, top=10, title=f"Most active actors: {picked}",
                                            **window),
            "actions": action_breakdown_chart(df, title=f"Actions: {picked}", **window),
            "map": country_summary_chart(df, title=f"Events by country: {picked}", height=440,
                                         **window),
        }  # fmt: skip
        since, until = self.selection.since, self.selection.until
        self._period.value = f"{since} to {until} ({(until - since).days + 1:,} days, UTC)"
        self._status.value = (
            f"<b>{len(df):,}</b> of {len(self._df):,} events match "
            f"<i>{html.escape(display_text(shown))}</i>"
        )
        if not _in_kernel():
            return  # no frontend to draw for: the figures and matching events are kept above
        for name, figure in self.figures.items():
            _fill(self._outputs[name], lambda figure=figure: display(figure))
        newest = df.sort_values("created_at", ascending=False).head(EVENTS_SHOWN)
        _fill(self._outputs["events"], lambda: show_table(
            newest[[c for c in EVENT_COLUMNS if c in df.columns]],
            caption=f"The newest {len(newest):,} of {len(df):,} matching events",
        ))  # fmt: skip

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """Return the widget, with a note in its place where no widget frontend exists."""
        bundle = self.panel._repr_mimebundle_(**kwargs)
        times = self._df["created_at"]
        span = f" from {times.min():%Y-%m-%d} to {times.max():%Y-%m-%d}" if len(times) else ""
        note = (
            f"Audit-log explorer ({len(self._df):,} events{span}). It is an interactive "
            "widget: its pickers and charts need a running Jupyter kernel and a widget "
            "frontend (JupyterLab, Jupyter Notebook or VS Code). This view of the notebook "
            "has neither, so open the notebook there and run it to explore."
        )
        bundle["text/plain"] = note
        bundle["text/html"] = f'<p class="auditlab-explorer-note"><em>{html.escape(note)}</em></p>'
        return bundle


def explore(df: pd.DataFrame) -> Explorer:
    """Return the explorer panel over an audit-log frame; a notebook cell ending in it shows it.

    Pick a period, an actor, an IP address, an action category or an
    action, or search for any text: the timeline, the breakdowns, the map and
    the table of matching events redraw in place. ``.select(actor=..., ip=...)`` sets pickers from
    code; ``.matching`` is the frame they leave.

    >>> import auditlab.analysis
    >>> from auditlab.frame import empty_frame
    >>> sorted(explore(empty_frame()).pickers)
    ['action', 'actor', 'category', 'ip', 'period', 'text']
    """
    return Explorer(df)


def _days(df: pd.DataFrame) -> list[dt.date]:
    """Return every UTC day from the first event's to the last's (today alone for no events)."""
    if df.empty:
        return [utc_today()]
    first, last = df["created_at"].min(), df["created_at"].max()
    return [d.date() for d in pd.date_range(first.normalize(), last.normalize(), freq="D")]


def _in_kernel() -> bool:
    """Return whether this runs in a Jupyter kernel, where widgets have a frontend."""
    from IPython import get_ipython

    return getattr(get_ipython(), "kernel", None) is not None


def _fill(output: Any, show: Callable[[], None]) -> None:
    """Replace an Output widget's contents with what ``show()`` displays, in one update.

    The outputs are captured and set as the widget's state rather than sent
    inside ``with output:``: a notebook runner (nbclient, under papermill or
    nbconvert) answers such captured output over the kernel's shell channel,
    and may then miss the cell's reply and wait forever.
    """
    from IPython.utils.capture import capture_output

    with capture_output(stdout=False, stderr=False) as captured:
        show()
    output.outputs = tuple(
        {"output_type": "display_data", "data": shown.data, "metadata": shown.metadata}
        for shown in captured.outputs
    )


def _offer(picker: Any, options: list[tuple[str, Hashable]], value: Hashable) -> None:
    """Give a dropdown new options and keep its value (listed with no events if none left)."""
    if value not in [v for _, v in options]:
        options = [*options, (f"{value} · 0", value)]
    picker.options = options
    picker.value = value
