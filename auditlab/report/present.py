"""Small HTML pieces a report notebook displays: notes, figures, tables, the evidence.

Everything that comes from the data is HTML-escaped, its invisible and
direction-changing characters shown and long text cut
(``auditlab.safety.display_text``); timestamps are shown in the report's time zone.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from auditlab._version import __version__
from auditlab.analysis.figures import label
from auditlab.analysis.rules import Rules
from auditlab.report.digest import digest_columns
from auditlab.report.scope import Scope
from auditlab.safety import display_frame, display_text
from auditlab.tables import MISSING, TABLE_CLASSES, table_html

# A cell's text is cut here: table cells do not wrap, and one long name must
# not push the rest of its row out of sight.
TABLE_TEXT_LIMIT = 120


def show(fragment: str) -> None:
    """Display an HTML fragment in the notebook (nothing to return)."""
    from IPython.display import display

    display({"text/html": fragment}, raw=True)


def note(text: str) -> str:
    """Return text, escaped, as one HTML paragraph.

    >>> note("1 < 2")
    '<p>1 &lt; 2</p>'
    """
    return f"<p>{html.escape(text)}</p>"


def report_table(
    df: pd.DataFrame,
    *,
    empty: str,
    tz: str = "UTC",
    columns: Sequence[str] | None = None,
    caption: str | None = None,
) -> str:
    """Return df as a report table (times in tz, columns labelled), or the ``empty`` note.

    Longer than a page, it sorts, searches and pages (:func:`auditlab.tables.table_html`).
    Text is shown through ``auditlab.safety.display_text``, cut at
    ``TABLE_TEXT_LIMIT`` characters.

    >>> "<th>Events</th>" in report_table(pd.DataFrame({"events": [1]}), empty="none")
    True
    >>> report_table(pd.DataFrame({"a": []}), empty="Nothing found.")
    '<p>Nothing found.</p>'
    """
    if df.empty:
        return note(empty)
    shown = (df[list(columns)] if columns is not None else df).copy()
    for name in shown.columns:
        if isinstance(shown[name].dtype, pd.DatetimeTZDtype):
            shown[name] = shown[name].dt.tz_convert(tz)
        elif pd.api.types.is_float_dtype(shown[name]):
            shown[name] = shown[name].map("{:,.0f}".format, na_action="ignore")
    shown.columns = _headings(shown.columns)
    return table_html(display_frame(shown, TABLE_TEXT_LIMIT), caption=caption)


def headline_html(figures: Mapping[str, Any]) -> str:
    """Return the headline figures as one row of labelled numbers.

    >>> "Events" in headline_html({"Events": 1200})
    True
    """
    cells = "".join(
        f'<div style="padding:8px 18px;border-left:3px solid #2563eb">'
        f'<div style="font-size:26px;font-weight:600">{html.escape(_number(value))}</div>'
        f'<div style="color:#475569">{html.escape(name)}</div></div>'
        for name, value in figures.items()
    )
    return f'<div style="display:flex;flex-wrap:wrap;gap:12px;margin:8px 0">{cells}</div>'


def scope_html(
    scope: Scope, *, org_name: str | None, org_id: str | None, pseudonymized: bool
) -> str:
    """Return the scope of a report as a definition table."""
    rows = {
        "Organisation": f"{display_text(org_name or 'unknown')} "
        f"({display_text(org_id or scope.org_id)})",
        "Period (UTC days, inclusive)": (
            f"{scope.date_from.isoformat()} to {scope.date_to.isoformat()} ({scope.days} days)"
        ),
        "Actions": ", ".join(scope.actions) if scope.actions else "all actions",
        "Times shown in": scope.tz,
        "People and addresses": (
            "pseudonymized (keyed hashes of emails, names and IP addresses)"
            if pseudonymized
            else "shown as recorded"
        ),
    }
    return _definitions(rows)


def provenance(
    scope: Scope,
    *,
    df: pd.DataFrame,
    digest: str,
    base_url: str,
    loaded_at: dt.datetime,
    fetched: tuple[str, str] | None,
    rules: Rules | None = None,
    baseline: str | None = None,
    verified: str | None = None,
    more: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Return where a report's data and rules come from, as labelled lines (the evidence).

    ``df`` is the frame the digest was taken over (as loaded, before any
    pseudonymization); ``fetched`` is the earliest and latest time the
    cached days were fetched from the server, when known; ``verified`` the
    line saying when the cache was last verified against the server
    (``auditlab.report.last_verification``), None if it never was;
    ``baseline`` describes the earlier findings compared with; ``more`` adds
    lines before it (the access review's history, ``AccessReview.provenance``).
    """
    newest = df["created_at"].max() if len(df) else None
    oldest = df["created_at"].min() if len(df) else None
    query, kept = scope.query, scope.local_actions
    rows = {
        "Query": f"GET {query.to_url(base_url)}",
        "Local filter": f"action in ({', '.join(kept)})" if kept else "none",
        "Loaded at (UTC)": loaded_at.strftime("%Y-%m-%d %H:%M:%S"),
        "Fetched from the server (UTC)": (
            f"{fetched[0]} to {fetched[1]}" if fetched else "not recorded"
        ),
        "Cache verified": verified or "never verified against the server's counts",
        "Entries": f"{len(df):,}",
        "Oldest / newest entry (UTC)": (
            f"{oldest:%Y-%m-%d %H:%M:%S} / {newest:%Y-%m-%d %H:%M:%S}" if len(df) else MISSING
        ),
        "SHA-256 of the data": digest,
        "Columns covered": ", ".join(digest_columns(df)),
    }
    if rules is not None:
        rows["Rules"] = f"{rules.source} ({len(rules)} rules)"
        rows["SHA-256 of the rules"] = rules.sha256
    rows.update(more or {})
    rows["Baseline"] = baseline or "none"
    rows["Made with"] = f"auditlab {__version__}, pandas {pd.__version__}"
    return rows


def evidence_html(
    scope: Scope, rows: Mapping[str, str], *, loaded_at: dt.datetime, pseudonymized: bool
) -> str:
    """Return the evidence appendix: :func:`provenance` lines, how to recompute the digest."""
    query, kept = scope.query, scope.local_actions
    recompute = (
        "import auditlab, auditlab.report\n"
        f"df = auditlab.load_audit_logs({query.org_id!r}, "
        f"date_from={scope.date_from.isoformat()!r}, date_to={scope.date_to.isoformat()!r}"
        + (f", action={query.action!r}" if query.action else "")
        + ")\n"
        + (f"df = df[df['action'].isin({list(kept)!r})]\n" if kept else "")
        + "auditlab.report.data_digest(df)"
    )
    how = (
        "<p>The digest is a SHA-256 over the entries exactly as loaded"
        + (", before pseudonymization" if pseudonymized else "")
        + ": one canonical JSON line per entry, sorted by time and id (see "
        "<code>auditlab.report.digest</code>). A reviewer with access to the same "
        "organisation recomputes it with:</p>"
        f"<pre>{html.escape(recompute)}</pre>"
    )
    if scope.date_to >= loaded_at.date():
        how += note(
            "The period includes the day the data was loaded, which was still receiving "
            "entries: a later load of that day holds more entries and gives another digest."
        )
    return _definitions(rows) + how


def _headings(columns: Sequence[str]) -> list[str]:
    """Return each column's label; a label two columns share falls back to the column's words."""
    labels = [label(c) for c in columns]
    return [
        lab if labels.count(lab) == 1 else c.replace("_", " ").capitalize()
        for c, lab in zip(columns, labels, strict=True)
    ]


def _definitions(rows: Mapping[str, str]) -> str:
    body = "".join(
        f'<tr><th style="text-align:left;padding-right:16px">{html.escape(k)}</th>'
        f'<td style="white-space:normal;word-break:break-all">{html.escape(v)}</td></tr>'
        for k, v in rows.items()
    )
    return f'<table class="{TABLE_CLASSES}">{body}</table>'


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)
