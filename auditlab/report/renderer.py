"""Plotly figures that survive HTML export and render with no network.

plotly's default renderer stores a figure only as the plotly mimetype, which
nbconvert's HTML exporter drops, and its maps fetch country outlines from a
CDN. ``setup_notebook()`` fixes both for a report: it displays plotly.js
once, preceded by the bundled world outlines, and makes every later figure an
HTML fragment that uses that one copy (plus the plotly mimetype, so JupyterLab
still draws figures natively). It also makes the notebook show DataFrames and
Series with their invisible and direction-changing characters revealed
(``auditlab.safety``), as the report's own tables do.

A notebook for exploring is opened in JupyterLab or VS Code, which draw the
plotly mimetype with their own plotly.js: ``setup_notebook(standalone=False)``
stores each figure once, as that mimetype, embeds no plotly.js, and only
hands the page the world outlines so maps draw with no network.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import plotly.io as pio
from plotly.io._base_renderers import MimetypeRenderer
from plotly.offline import get_plotlyjs

from auditlab.tables import datatables_html

RENDERER_NAME = "auditlab"
# The outline names plotly.js asks for; world_110m serves every world map.
TOPOJSON_NAMES: tuple[str, ...] = ("world_110m",)
FIGURE_CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": True}


class ReportRenderer(MimetypeRenderer):
    """Renders a figure as an HTML fragment that relies on plotly.js loaded once."""

    def to_mimebundle(self, fig_dict: dict[str, Any]) -> dict[str, str]:
        """Return ``{"text/html": fragment}`` for one figure."""
        return {"text/html": figure_html(fig_dict)}


def figure_html(fig: Any) -> str:
    """Return a figure as a ``<div>`` plus script, with no plotly.js, MathJax or CDN link.

    >>> import plotly.graph_objects as go
    >>> "plotly-graph-div" in figure_html(go.Figure())
    True
    """
    return pio.to_html(
        fig,
        include_plotlyjs=False,
        include_mathjax=False,
        full_html=False,
        config=FIGURE_CONFIG,
        default_width="100%",
        default_height=525,
        validate=False,
    )


@cache
def topojson(name: str) -> str:
    """Return the bundled TopoJSON outlines ``name`` (e.g. ``world_110m``) as JSON text.

    >>> topojson("world_110m")[:19]
    '{"type":"Topology",'
    """
    return resources.files("auditlab.report").joinpath(f"assets/{name}.json").read_text("utf-8")


def map_outlines_html() -> str:
    """Return the ``<script>`` that hands plotly.js the bundled map outlines.

    plotly.js looks up ``window.PlotlyGeoAssets.topojson[name]`` before it
    fetches outlines from its CDN, so the assets must exist before any map is
    drawn.

    >>> map_outlines_html().startswith("<script>window.PlotlyGeoAssets = {topojson: ")
    True
    """
    assets = ",".join(f"{json.dumps(name)}:{topojson(name)}" for name in TOPOJSON_NAMES)
    return f"<script>window.PlotlyGeoAssets = {{topojson: {{{assets}}}}};</script>"


def plotly_bootstrap_html() -> str:
    """Return the ``<script>`` tags that load map outlines, then plotly.js, inline.

    The outlines are set before plotly.js itself, so they exist before any
    map is drawn.

    >>> html = plotly_bootstrap_html()
    >>> html.index("PlotlyGeoAssets") < html.index("plotly.js v")
    True
    """
    return f"{map_outlines_html()}\n<script>{get_plotlyjs()}</script>"


def setup_notebook(*, standalone: bool = True) -> str:
    """Return the plotly renderer name after setting up this notebook's figures.

    Call it in a notebook's first cell. It displays the DataTables bundle that
    long tables use (:mod:`auditlab.tables`) and, in IPython, shows every
    DataFrame and Series through ``auditlab.safety`` (:func:`show_text_safely`).
    ``standalone`` (a report): it also displays plotly.js (once for the whole
    document) with the bundled map outlines and sets the default plotly
    renderer to ``plotly_mimetype+auditlab``, so the HTML export draws every
    figure with no network. ``standalone=False`` (a notebook to explore in
    JupyterLab or VS Code): it displays only the map outlines and sets
    ``plotly_mimetype``, so each figure is stored once and the saved notebook
    carries no plotly.js.

    >>> import contextlib, io
    >>> before = pio.renderers.default
    >>> with contextlib.redirect_stdout(io.StringIO()):  # outside Jupyter, display() prints
    ...     names = setup_notebook(), setup_notebook(standalone=False)
    >>> names, pio.renderers.default
    (('plotly_mimetype+auditlab', 'plotly_mimetype'), 'plotly_mimetype')
    >>> pio.renderers.default = before
    """
    from IPython.display import display

    show_text_safely()
    if standalone:
        pio.renderers[RENDERER_NAME] = ReportRenderer()
        pio.renderers.default = f"plotly_mimetype+{RENDERER_NAME}"
        display({"text/html": plotly_bootstrap_html() + datatables_html()}, raw=True)
    else:
        pio.renderers.default = "plotly_mimetype"
        display({"text/html": map_outlines_html() + datatables_html()}, raw=True)
    return pio.renderers.default


def show_text_safely(shell: Any = None) -> bool:
    """Return True after making IPython show frames' text cells through ``display_text``.

    A DataFrame's HTML (what JupyterLab and the exported report show) is
    pandas' own, formatted by ``auditlab.safety.frame_html``; a Series, which
    displays as plain text, by ``display_frame``. ``shell`` defaults to the
    running IPython; outside IPython nothing changes and the answer is False.

    >>> show_text_safely()
    False
    """
    import pandas as pd
    from IPython import get_ipython

    from auditlab.safety import display_frame, frame_html

    shell = shell or get_ipython()
    if shell is None:
        return False
    formatters = shell.display_formatter.formatters
    formatters["text/html"].for_type(pd.DataFrame, frame_html)
    formatters["text/plain"].for_type(
        pd.Series, lambda series, printer, cycle: printer.text(repr(display_frame(series)))
    )
    return True
