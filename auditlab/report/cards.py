"""Findings first: one card per rule that fired, then the actors ranked by their findings.

A card says the rule's severity, title and id, how many findings, events and
distinct actors it has, its first and last time (in the report's time zone)
and, behind a ``<details>``, the evidence rows. Cards come in the findings'
order: severity, then count.
"""

from __future__ import annotations

import html

import pandas as pd

from auditlab.analysis.findings import actor_findings, finding_summary
from auditlab.analysis.rules import Rules
from auditlab.report.present import note, report_table

SEVERITY_COLOURS = {"high": "#b91c1c", "medium": "#c2410c", "low": "#475569"}
EVIDENCE_COLUMNS = ("first", "last", "actor_name", "actor_id", "action", "country", "ip",
                    "detail", "entry_ids")  # fmt: skip
TIME = "%Y-%m-%d %H:%M:%S"


def findings_html(found: pd.DataFrame, rules: Rules, *, tz: str = "UTC") -> str:
    """Return one card per rule with findings, most severe first, or a note that none fired.

    ``found`` is :func:`auditlab.analysis.findings` (with ``is_new`` when a
    baseline was given).

    >>> from auditlab.analysis import findings
    >>> from auditlab.analysis.rules import load_rules
    >>> from auditlab.frame import empty_frame
    >>> findings_html(findings(empty_frame()), load_rules())
    '<p>No rule found anything in this period.</p>'
    """
    if found.empty:
        return note("No rule found anything in this period.")
    cards = []
    for row in finding_summary(found).to_dict("records"):
        evidence = found[found["rule"] == row["rule"]]
        cards.append(_card(row, rules[row["rule"]].description, evidence, tz))
    return "".join(cards)


def actors_html(found: pd.DataFrame, *, tz: str = "UTC") -> str:
    """Return the actors ranked by their findings (high, medium, low, then all) as a table."""
    actors = actor_findings(found)
    return report_table(actors, empty="No finding names an actor.", tz=tz)


def _card(row: dict, description: str, evidence: pd.DataFrame, tz: str) -> str:
    colour = SEVERITY_COLOURS[row["severity"]]
    first, last = (pd.Timestamp(row[k]).tz_convert(tz).strftime(TIME) for k in ("first", "last"))
    new = row.get("new")
    badge = (
        f' <span class="auditlab-new" style="background:#fde68a;border-radius:4px;'
        f'padding:1px 6px">{new:,} new</span>' if new else ""
    )
    counts = (
        f"<b>{row['findings']:,}</b> finding{'s' * (row['findings'] != 1)} · "
        f"<b>{row['events']:,}</b> event{'s' * (row['events'] != 1)} · "
        f"<b>{row['actors']:,}</b> actor{'s' * (row['actors'] != 1)} · "
        f"first {first} · last {last} ({html.escape(tz)})"
    )
    columns = list(EVIDENCE_COLUMNS)
    if (evidence["first"] == evidence["last"]).all():
        evidence = evidence.rename(columns={"first": "time"})
        columns[:2] = ["time"]
    if "is_new" in evidence:
        evidence = evidence.assign(new=evidence["is_new"])
        columns.append("new")
    table = report_table(evidence, empty="", tz=tz, columns=columns)
    return (
        f'<div class="auditlab-card" data-rule="{html.escape(row["rule"])}" '
        f'data-severity="{row["severity"]}" data-findings="{row["findings"]}" '
        f'data-events="{row["events"]}" data-actors="{row["actors"]}" '
        f'style="border-left:6px solid {colour};background:#f8fafc;padding:8px 14px;'
        f'margin:10px 0">'
        f'<div><span class="auditlab-severity" style="background:{colour};color:#fff;'
        f'border-radius:4px;padding:1px 8px;font-size:12px;text-transform:uppercase">'
        f'{row["severity"]}</span> <strong style="font-size:16px">{html.escape(row["title"])}'
        f'</strong> <code>{html.escape(row["rule"])}</code>{badge}</div>'
        + (f'<div style="color:#334155">{html.escape(description)}</div>' if description else "")
        + f"<div>{counts}</div>"
        f"<details><summary>Evidence: {len(evidence):,} row{'s' * (len(evidence) != 1)}"
        f"</summary>{table}</details></div>"
    )
