"""The workbook an auditor asks for: findings, each rule's evidence, actors, more tables,
provenance.

Written with xlsxwriter, with every text cell kept as text: no cell becomes a
formula or a link (``strings_to_formulas`` and ``strings_to_urls`` off), and
text a spreadsheet would still run when edited starts with ``'``
(:func:`auditlab.safety.csv_safe`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from auditlab.analysis.findings import actor_findings
from auditlab.safety import csv_safe

FINDINGS_SHEET = "Findings"
ACTORS_SHEET = "Actors"
PROVENANCE_SHEET = "Provenance"
WRITER_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False,
                  "strings_to_numbers": False}  # fmt: skip
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\']")


def write_workbook(
    path: str | os.PathLike[str],
    found: pd.DataFrame,
    *,
    provenance: Mapping[str, str],
    tz: str = "UTC",
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Return the path of the .xlsx written: sheets Findings, one per rule that fired
    (named by its id), Actors, one per table of ``tables`` (named by its key; the
    access review's, ``AccessReview.tables()``) and Provenance.

    Times are wall-clock times in ``tz`` (said in each time column's heading);
    entry ids are joined with ", ".

    >>> import tempfile
    >>> from auditlab.analysis import findings
    >>> from auditlab.frame import empty_frame
    >>> out = write_workbook(f"{tempfile.mkdtemp()}/r.xlsx", findings(empty_frame()),
    ...                      provenance={"Entries": "0"})
    >>> out.suffix
    '.xlsx'
    """
    target = Path(path)
    sheets = {FINDINGS_SHEET: _plain(found, tz)}
    for rule, rows in found.groupby("rule", sort=False):
        evidence = rows.drop(columns=["rule", "severity", "title"])
        sheets[_sheet_name(str(rule), sheets)] = _plain(evidence, tz)
    sheets[ACTORS_SHEET] = _plain(actor_findings(found), tz)
    for name, table in (tables or {}).items():
        sheets[_sheet_name(name, sheets)] = _plain(table, tz)
    sheets[PROVENANCE_SHEET] = pd.DataFrame(
        {"item": list(provenance), "value": list(provenance.values())}
    )
    with pd.ExcelWriter(
        target, engine="xlsxwriter", engine_kwargs={"options": WRITER_OPTIONS}
    ) as writer:
        for name, table in sheets.items():
            safe = csv_safe(table)
            safe.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            sheet.freeze_panes(1, 0)
            if len(safe.columns):
                sheet.autofilter(0, 0, max(len(safe), 1), len(safe.columns) - 1)
            for n, column in enumerate(safe.columns):
                width = max([len(str(column)), *safe[column].astype(str).str.len().head(500)])
                sheet.set_column(n, n, min(max(width, 8), 60))
    return target


def _plain(table: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Return the table as Excel holds it: naive times in tz, id tuples joined."""
    plain = table.copy()
    renamed = {}
    for name in plain.columns:
        column = plain[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            plain[name] = column.dt.tz_convert(tz).dt.tz_localize(None)
            renamed[name] = f"{name} ({tz})"
        elif column.dtype == object and column.map(lambda v: isinstance(v, tuple)).any():
            plain[name] = column.map(lambda v: ", ".join(v) if isinstance(v, tuple) else v)
    return plain.rename(columns=renamed)


def _sheet_name(rule: str, taken: Mapping[str, object]) -> str:
    """Return a sheet name for a rule: Excel's characters and 31-character limit, unique."""
    base = _NOT_IN_SHEET_NAMES.sub("_", rule)[:31] or "rule"
    name, n = base, 2
    while name.lower() in {t.lower() for t in taken}:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    return name
