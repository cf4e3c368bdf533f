"""Findings: what each rule found, one row per finding, ready to rank, compare and export.

A finding is one rule on its evidence: one event for an event rule
(:mod:`auditlab.analysis.sensitive`), a pair of events for
``impossible_travel``, an actor's first event from a country for
``new_country``. Its identity is its rule and its entry ids
(:func:`finding_keys`), which is what a later report compares against.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import pandas as pd

from auditlab.analysis.rules import SEVERITIES, Rules, resolve_rules
from auditlab.analysis.sensitive import FRAME_COLUMNS, event_rule_hits
from auditlab.analysis.travel import new_countries, travel_anomalies
from auditlab.analysis.vocabulary import TimeBound, in_window, plain

FINDING_COLUMNS = (
    "rule", "severity", "title", "first", "last", "actor_id", "actor_name", "action", "country",
    "ip", "detail", "entry_ids",
)  # fmt: skip
SUMMARY_COLUMNS = (
    "rule", "title", "severity", "findings", "events", "actors", "first", "last",
)  # fmt: skip
ACTOR_COLUMNS = ("actor_id", "actor_name", "findings", *SEVERITIES, "rules", "first", "last")
ARROW = " → "


def findings(
    df: pd.DataFrame,
    *,
    rules: Rules | str | os.PathLike[str] | None = None,
    tz: str = "UTC",
    since: TimeBound = None,
    until: TimeBound = None,
) -> pd.DataFrame:
    """Return one row per finding of every rule, the most severe rule first.

    Columns: ``FINDING_COLUMNS``. ``first``/``last`` are the times of the
    finding's first and last event; ``entry_ids`` is a tuple of the entry ids
    it rests on; ``detail`` says what the rule saw. Rules are ordered by
    severity, then by how many findings they have (most first), then as in
    the rules file; a rule's findings newest first. ``rules``, ``tz``, ``since`` and ``until`` mean
    what they mean for :func:`~auditlab.analysis.sensitive.sensitive_events`.

    >>> from auditlab.frame import empty_frame
    >>> findings(empty_frame()).columns.tolist()[:3]
    ['rule', 'severity', 'title']
    """
    chosen = resolve_rules(rules)
    events = df[list(FRAME_COLUMNS)].reset_index(drop=True)
    window = in_window(events["created_at"], since, until).to_numpy()
    parts = []
    for rule_id, mask, reason in event_rule_hits(events, chosen, tz):
        rows = events[mask & window]
        part = pd.DataFrame({
            "rule": rule_id, "first": rows["created_at"], "last": rows["created_at"],
            "actor_id": rows["actor_id"], "actor_name": rows["actor_name"],
            "action": plain(rows["action"]), "country": plain(rows["country"]),
            "ip": rows["ip"], "detail": reason if isinstance(reason, str) else reason(rows),
            "entry_ids": [(i,) for i in rows["id"]],
        })  # fmt: skip
        parts.append(part)
    if "impossible_travel" in chosen:
        parts.append(_travel(events, chosen, since, until))
    if "new_country" in chosen:
        parts.append(_arrivals(events, chosen, since, until))
    return ranked(parts, chosen)


def ranked(parts: Iterable[pd.DataFrame], rules: Rules) -> pd.DataFrame:
    """Return findings tables as one table of ``FINDING_COLUMNS``, ranked as :func:`findings`
    ranks them, each finding (its rule and entry ids) once.

    A part may leave out ``severity`` and ``title`` (the rules give them) and
    columns it has nothing for.

    >>> part = pd.DataFrame({"rule": ["api_key"] * 2, "entry_ids": [("alog_1",)] * 2})
    >>> ranked([part], resolve_rules(None))[["rule", "severity"]].values.tolist()
    [['api_key', 'low']]
    """
    table = pd.concat([p for p in parts if len(p)] or [_empty()], ignore_index=True)
    table = table.reindex(columns=list(FINDING_COLUMNS))
    table = table[~pd.Series(finding_keys(table)).duplicated().to_numpy()]
    table = table.astype({"first": "datetime64[us, UTC]", "last": "datetime64[us, UTC]",
                          "action": "str", "country": "str"})  # fmt: skip
    return _ranked(table.reset_index(drop=True), rules)


def _travel(events: pd.DataFrame, rules: Rules, since: TimeBound, until: TimeBound):
    pairs = travel_anomalies(events, since=since, until=until, rules=rules)
    by_id = events.set_index("id")
    one, two = by_id.loc[pairs["first_id"]], by_id.loc[pairs["second_id"]]
    return pd.DataFrame({
        "rule": "impossible_travel", "first": one["created_at"].array,
        "last": two["created_at"].array, "actor_id": pairs["actor_id"],
        "actor_name": pairs["actor_name"],
        "action": _pair(plain(one["action"]), plain(two["action"])),
        "country": _pair(pairs["first_country"], pairs["second_country"]),
        "ip": _pair(one["ip"], two["ip"]),
        "detail": [
            f"{a}{ARROW}{b}: {km:,.0f} km in {minutes:,.0f} min ({speed:,.0f} km/h)"
            for a, b, km, minutes, speed in pairs[
                ["first_country", "second_country", "distance_km", "minutes_apart", "speed_kmh"]
            ].itertuples(index=False)
        ],
        "entry_ids": list(zip(pairs["first_id"], pairs["second_id"], strict=True)),
    })  # fmt: skip


def _arrivals(events: pd.DataFrame, rules: Rules, since: TimeBound, until: TimeBound):
    firsts = new_countries(events, since=since, until=until, rules=rules)
    actions = events.set_index("id")["action"]
    return pd.DataFrame({
        "rule": "new_country", "first": firsts["first_seen"], "last": firsts["first_seen"],
        "actor_id": firsts["actor_id"], "actor_name": firsts["actor_name"],
        "action": plain(actions.reindex(firsts["first_id"])).array,
        "country": firsts["country"], "ip": firsts["ip"],
        "detail": "first event from " + firsts["country_name"].fillna(firsts["country"]),
        "entry_ids": [(i,) for i in firsts["first_id"]],
    })  # fmt: skip


def _pair(first: pd.Series, second: pd.Series) -> list[str]:
    return [
        f"{'—' if pd.isna(a) else a}{ARROW}{'—' if pd.isna(b) else b}"
        for a, b in zip(first, second, strict=True)
    ]


def _empty() -> pd.DataFrame:
    table = pd.DataFrame({c: pd.Series(dtype="str") for c in FINDING_COLUMNS})
    return table.astype({"first": "datetime64[us, UTC]", "last": "datetime64[us, UTC]",
                         "entry_ids": "object"})  # fmt: skip


def _ranked(table: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Return findings with severity and title, the most severe, then busiest, rule first."""
    table = table.astype({"actor_id": "str", "actor_name": "str", "ip": "str", "detail": "str"})
    table["severity"] = table["rule"].map({r.id: r.severity for r in rules})
    table["title"] = table["rule"].map({r.id: r.title for r in rules})
    rank = table["severity"].map({s: n for n, s in enumerate(SEVERITIES)})
    busy = table.groupby("rule")["rule"].transform("size")
    position = table["rule"].map({rule_id: n for n, rule_id in enumerate(rules.rules)})
    # Severity, then the rule's count (most first), then file order; newest first within.
    order = np.lexsort((
        table.index.to_numpy(), -table["first"].to_numpy(dtype="int64", na_value=0),
        position.to_numpy(), -busy.to_numpy(), rank.to_numpy(),
    ))  # fmt: skip
    return table.iloc[order][list(FINDING_COLUMNS)].reset_index(drop=True)


def finding_keys(table: pd.DataFrame) -> list[tuple[str, tuple[str, ...]]]:
    """Return each finding's identity: its rule and its entry ids, in the table's order.

    >>> finding_keys(pd.DataFrame({"rule": ["api_key"], "entry_ids": [("alog_1",)]}))
    [('api_key', ('alog_1',))]
    """
    return [
        (str(rule), tuple(ids))
        for rule, ids in zip(table["rule"], table["entry_ids"], strict=True)
    ]


def finding_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Return one row per rule that fired, in the findings' order: ``SUMMARY_COLUMNS``
    (and ``new`` when the findings have an ``is_new`` column).

    ``events`` counts distinct entries, ``actors`` distinct actors.

    >>> from auditlab.frame import empty_frame
    >>> finding_summary(findings(empty_frame())).columns.tolist()[:4]
    ['rule', 'title', 'severity', 'findings']
    """
    groups = table.groupby("rule", sort=False)
    summary = groups.agg(
        title=("title", "first"), severity=("severity", "first"), findings=("rule", "size"),
        actors=("actor_id", "nunique"),
        first=("first", "min"), last=("last", "max"),
    ).reset_index()  # fmt: skip
    summary["events"] = [
        len({i for ids in group for i in ids}) for _, group in groups["entry_ids"]
    ]
    columns = list(SUMMARY_COLUMNS)
    if "is_new" in table:
        summary["new"] = groups["is_new"].sum().to_numpy()
        columns.append("new")
    return summary[columns]


def actor_findings(table: pd.DataFrame) -> pd.DataFrame:
    """Return actors ranked by their findings: high, then medium, then low, then all.

    Columns: ``ACTOR_COLUMNS`` (and ``new`` when the findings have ``is_new``);
    ``rules`` lists the rules that fired for the actor. Findings without an
    actor are left out.

    >>> from auditlab.frame import empty_frame
    >>> actor_findings(findings(empty_frame())).columns.tolist()[:3]
    ['actor_id', 'actor_name', 'findings']
    """
    named = table[table["actor_id"].notna()]
    groups = named.groupby("actor_id", sort=False)
    actors = groups.agg(
        actor_name=("actor_name", "last"), findings=("rule", "size"),
        rules=("rule", lambda rules: ", ".join(dict.fromkeys(rules))),
        first=("first", "min"), last=("last", "max"),
    )  # fmt: skip
    counts = pd.crosstab(named["actor_id"], named["severity"])
    for severity in SEVERITIES:
        actors[severity] = counts.get(severity, pd.Series(dtype="int64")).reindex(
            actors.index, fill_value=0
        ).astype("int64")
    columns = list(ACTOR_COLUMNS)
    if "is_new" in named:
        actors["new"] = groups["is_new"].sum()
        columns.append("new")
    actors = actors.reset_index()
    ranked = actors.sort_values([*SEVERITIES, "findings", "actor_id"],
                                ascending=[False] * 4 + [True], kind="stable")  # fmt: skip
    return ranked[columns].reset_index(drop=True)
