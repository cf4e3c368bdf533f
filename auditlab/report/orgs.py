"""A report over several orgs: one row per org, for the headline."""

from __future__ import annotations

import pandas as pd

ORG_COLUMNS: tuple[str, ...] = (
    "org_id", "org_name", "events", "actors", "findings", "high_severity", "sensitive_events",
    "impossible_travel", "new_countries",
)  # fmt: skip


def org_breakdown(
    df: pd.DataFrame,
    *,
    found: pd.DataFrame,
    sensitive: pd.DataFrame,
    travel: pd.DataFrame,
    arrivals: pd.DataFrame,
) -> pd.DataFrame:
    """Return one row per org of df, most events first: its events, actors and findings.

    Columns: ``ORG_COLUMNS``. ``found``, ``sensitive``, ``travel`` and
    ``arrivals`` are the report's findings (``findings``,
    ``sensitive_events``, ``travel_anomalies``, ``new_countries`` of df);
    each row of them names its org, which is what is counted. ``org_name``
    is the name on the org's newest entry.

    >>> from auditlab.frame import empty_frame
    >>> import auditlab.analysis as audit
    >>> df = empty_frame()
    >>> org_breakdown(df, found=audit.findings(df), sensitive=audit.sensitive_events(df),
    ...               travel=audit.travel_anomalies(df),
    ...               arrivals=audit.new_countries(df)).columns.tolist()[:3]
    ['org_id', 'org_name', 'events']
    """
    rows = df[["org_id", "org_name", "actor_id", "created_at"]].dropna(subset=["org_id"])
    newest = rows.sort_values("created_at", ascending=False, kind="stable")
    table = rows.groupby("org_id").agg(events=("org_id", "size"), actors=("actor_id", "nunique"))
    table.insert(0, "org_name", newest.groupby("org_id")["org_name"].first().astype("str"))
    counted = {
        "findings": found, "high_severity": found[found["severity"] == "high"],
        "sensitive_events": sensitive, "impossible_travel": travel, "new_countries": arrivals,
    }  # fmt: skip
    for column, rows_found in counted.items():
        counts = rows_found["org_id"].value_counts()
        table[column] = counts.reindex(table.index, fill_value=0).astype("int64")
    table = table.reset_index().sort_values(["events", "org_id"], ascending=[False, True])
    return table.reset_index(drop=True)[list(ORG_COLUMNS)]
