"""Tables people can work in, in notebooks and in reports: sort, search and page, offline.

A table of up to ``page_length`` rows is plain escaped HTML. A longer one is
an itables DataTable (sorting, a search box, pages) drawn by the DataTables
bundle that itables ships: the first long table a kernel shows brings the
bundle along, once, so the page loads nothing from the network. Every table
sits in a box that scrolls sideways. Text cells pass through
:func:`auditlab.safety.display_text`; timestamps read ``YYYY-MM-DD HH:MM:SS``.

>>> import pandas as pd
>>> "<td>Ana</td>" in table_html(pd.DataFrame({"who": ["Ana"]}))
True
"""

from __future__ import annotations

import html

import pandas as pd

from auditlab.safety import display_text

PAGE_LENGTH = 15
MISSING = "—"
BOX_STYLE = "overflow-x:auto;max-width:100%"
_bundle_shown = False


def table_html(
    df: pd.DataFrame, *, caption: str | None = None, page_length: int = PAGE_LENGTH
) -> str:
    """Return df, every row, as an escaped HTML table in a box that scrolls sideways.

    ``page_length`` is :func:`show_table`'s; a static table shows every row.

    >>> page = table_html(pd.DataFrame({"who": ["<b>Ana</b>", None]}), caption="People")
    >>> [line.strip() for line in page.splitlines() if "<td>" in line or "caption" in line]
    ['<caption>People</caption>', '<td>&lt;b&gt;Ana&lt;/b&gt;</td>', '<td>—</td>']
    """
    table = _shown(df).to_html(
        index=False, border=0, classes="auditlab-table", na_rep=MISSING, escape=True
    )
    if caption:
        table = table.replace("<thead>", f"<caption>{html.escape(caption)}</caption>\n<thead>", 1)
    return f'<div style="{BOX_STYLE}">{table}</div>'


def show_table(
    df: pd.DataFrame, *, caption: str | None = None, page_length: int = PAGE_LENGTH
) -> None:
    """Display df in the notebook: plain HTML up to ``page_length`` rows, else a DataTable.

    The DataTable has every row, ``page_length`` to a page, a search box
    and sortable columns; nothing to return.
    """
    from IPython.display import HTML, display

    if len(df) <= page_length:
        display(HTML(table_html(df, caption=caption, page_length=page_length)))
        return
    import itables

    global _bundle_shown
    if not _bundle_shown:
        itables.init_notebook_mode(all_interactive=False, connected=False)
        _bundle_shown = True
    table = itables.to_html_datatable(
        _shown(df), caption=caption, pageLength=page_length, connected=False,
        maxBytes=0, scrollX=True, showIndex=False, classes="display nowrap compact",
        lengthMenu=sorted({page_length, 50, 100, 500}),
    )  # fmt: skip
    display(HTML(table))


def _shown(df: pd.DataFrame) -> pd.DataFrame:
    """Return df as text a reader sees: controls revealed, long text cut, plain timestamps."""
    shown = df.copy()
    for name in shown.columns:
        column = shown[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
            column
        ):
            shown[name] = column.dt.strftime("%Y-%m-%d %H:%M:%S")
        elif not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
            shown[name] = column.astype(object).map(display_text, na_action="ignore")
    return shown
