"""Tables people can work in: sort, search and page, offline, in notebooks and reports.

A table of up to ``page_length`` rows is plain escaped HTML. A longer one is
the same full HTML table, which DataTables (the bundle itables ships, read
from the installed package: nothing is fetched) turns into a sortable,
searchable, paged table once :func:`datatables_html` has run in the page.
Without JavaScript the whole table still reads, in a box of bounded height.
Every table sits in a box that scrolls sideways, so a wide table never
overflows the page. Text cells pass through :func:`auditlab.safety.display_text`.

>>> import pandas as pd
>>> "auditlab-datatable" in table_html(pd.DataFrame({"n": range(20)}))
True
"""

from __future__ import annotations

import base64
import functools
import html
import itertools
import json
from pathlib import Path
from typing import Any

import pandas as pd

from auditlab.safety import display_text

PAGE_LENGTH = 15
MISSING = "—"
TABLE_CLASSES = "auditlab-table"
# DataTables' own look: compact rows, cells on one line (the box scrolls sideways).
DATATABLE_CLASSES = "auditlab-datatable display compact nowrap"
# The promise of the DataTables module, and the event when it is first set.
GLOBAL = "auditlabDataTables"
READY = "auditlab-datatables-ready"
BOX_STYLE = "overflow-x:auto;max-width:100%"
# Until DataTables takes over, a long table scrolls in a box this high.
UNENHANCED_HEIGHT = "36em"
_ids = itertools.count(1)
_bundle_shown = False


def table_html(
    df: pd.DataFrame, *, caption: str | None = None, page_length: int = PAGE_LENGTH
) -> str:
    """Return df as escaped HTML in a box that scrolls sideways; a DataTable past ``page_length``
    rows.

    The index is left out; timestamps read ``YYYY-MM-DD HH:MM:SS`` in their own
    time zone, whole numbers get thousands separators, tuples are joined with
    ", " and a missing value is "—".

    >>> import pandas as pd
    >>> print(table_html(pd.DataFrame({"who": ["<b>Ana</b>"]})))  # doctest: +NORMALIZE_WHITESPACE
    <div class="auditlab-table-box" style="overflow-x:auto;max-width:100%"><table
    class="auditlab-table"><thead><tr><th>who</th></tr></thead><tbody><tr><td>&lt;b&gt;Ana&lt;/b&gt;</td></tr></tbody></table></div>
    """
    long = len(df) > page_length
    head = "".join(f"<th>{html.escape(str(name))}</th>" for name in df.columns)
    columns = [_cells(df.iloc[:, n]) for n in range(df.shape[1])]
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in zip(*columns, strict=True))
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    classes = f"{TABLE_CLASSES} {DATATABLE_CLASSES}" if long else TABLE_CLASSES
    # JupyterLab lays out output tables with fixed, equal columns: one-line cells would overlap
    layout = ' style="table-layout:auto"' if long else ""
    table = (
        f'<table class="{classes}"{layout}>{title}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )
    if not long:
        return f'<div class="auditlab-table-box" style="{BOX_STYLE}">{table}</div>'
    box = f"auditlab-table-{next(_ids)}"
    options = {"pageLength": page_length, "order": [], "autoWidth": False,
               "lengthMenu": [*sorted({page_length, 50, 100, 500}), -1]}  # fmt: skip
    return (
        f'<div class="auditlab-table-box" id="{box}" '
        f'style="{BOX_STYLE};max-height:{UNENHANCED_HEIGHT};overflow-y:auto">{table}</div>'
        f"<script type=\"module\">{_enhance(box, options)}</script>"
    )


def show_table(
    df: pd.DataFrame, *, caption: str | None = None, page_length: int = PAGE_LENGTH
) -> None:
    """Display df in the notebook as :func:`table_html` does (nothing to return).

    The first long table a kernel shows also brings the DataTables bundle, once.
    """
    from IPython.display import display

    fragment = table_html(df, caption=caption, page_length=page_length)
    if len(df) > page_length and not _bundle_shown:
        fragment = datatables_html() + fragment
    display({"text/html": fragment}, raw=True)


def datatables_html() -> str:
    """Return the ``<style>`` and ``<script>`` that make DataTables available to the page, once.

    The bundle is itables' (DataTables, jQuery), embedded: the page loads
    nothing from the network. Later calls in the same kernel need not show it again.

    >>> datatables_html().count("<script>")
    1
    """
    global _bundle_shown
    _bundle_shown = True
    script, style = _bundle()
    return (
        f"<style>{style}</style>"
        "<script>"
        f"if (!window.{GLOBAL}) {{"
        f"const code = atob({json.dumps(script)});"
        "const url = URL.createObjectURL(new Blob([code], {type: 'text/javascript'}));"
        f"window.{GLOBAL} = import(url);"
        f"window.{GLOBAL}.then(() => window.dispatchEvent(new Event({json.dumps(READY)})));"
        "}"
        "</script>"
    )


@functools.cache
def _bundle() -> tuple[str, str]:
    """Return itables' DataTables bundle as base64 JavaScript and its CSS text."""
    import itables.options

    path = Path(itables.options.dt_bundle)
    code = base64.b64encode(path.read_bytes()).decode("ascii")
    return code, path.with_suffix(".css").read_text("utf-8")


def _enhance(box: str, options: dict[str, Any]) -> str:
    """Return the module script making the table in ``box`` a DataTable once the bundle is in."""
    return (
        f"const bundle = window.{GLOBAL} || new Promise(ready => window.addEventListener("
        f"{json.dumps(READY)}, () => ready(window.{GLOBAL}), {{once: true}}));"
        "const { ITable } = await bundle;"
        f"const box = document.getElementById({json.dumps(box)});"
        "const table = box.querySelector('table');"
        "if (!table.classList.contains('dataTable')) {"
        f"new ITable(table, {json.dumps(options)});"
        "box.style.maxHeight = ''; box.style.overflowY = '';"
        "}"
    )


def _cells(column: pd.Series) -> list[str]:
    """Return each value of a column as an escaped ``<td>``."""
    if isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(column):
        text = column.dt.strftime("%Y-%m-%d %H:%M:%S")
    elif pd.api.types.is_bool_dtype(column):
        text = column.map({True: "yes", False: "no"})
    elif pd.api.types.is_integer_dtype(column):
        text = column.map("{:,}".format, na_action="ignore")
    else:
        text = column.astype(object).map(_text, na_action="ignore")
    return [
        f"<td>{MISSING if pd.isna(value) else html.escape(str(value))}</td>"
        for value in text.astype(object)
    ]


def _text(value: Any) -> Any:
    if isinstance(value, tuple | list):
        value = ", ".join(str(v) for v in value)
    elif isinstance(value, float):
        value = f"{value:,.2f}".rstrip("0").rstrip(".")
    return display_text(value)
