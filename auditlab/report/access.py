"""The report's access review: who held power during the period, the findings, the leavers.

``access_review`` computes every table of the section "Privileged access
during the period" once, from the history the report loaded for it
(``DataSource.load_history``); ``AccessReview.tables`` names them, one
sheet each for an export of the report; ``AccessReview.findings`` is one
row per finding, each naming its rule and severity, ready to join the
report's other findings.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from auditlab.analysis.access import (
    QUIET_DAYS,
    access_findings,
    access_history,
    leavers,
    privileged_access,
)
from auditlab.analysis.roles import BEFORE_LOG, role_entries
from auditlab.analysis.vocabulary import in_window
from auditlab.report.scope import Scope

TIME = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class AccessReview:
    """The access review of one report period, read from ``entries`` entries of history."""

    scope: Scope
    privileged: pd.DataFrame
    findings: pd.DataFrame
    evidence: pd.DataFrame
    leavers: pd.DataFrame
    history: pd.DataFrame
    entries: int
    read_from: pd.Timestamp | None
    unread: int
    unknown: int
    quiet_days: int

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the review's tables by sheet name, for an export.

        >>> from auditlab.frame import empty_frame
        >>> from auditlab.frame import empty_frame
    >>> review = access_review(empty_frame(), Scope.build(date_to="2026-09-30"))
        >>> list(review.tables())
        ['Privileged access', 'Access findings', 'Access evidence', 'Leavers', 'Role history']
        """
        return {
            "Privileged access": self.privileged,
            "Access findings": self.findings,
            "Access evidence": self.evidence,
            "Leavers": self.leavers,
            "Role history": self.history,
        }

    def privileged_shown(self) -> pd.DataFrame:
        """Return ``privileged`` as the report shows it: times in its zone, unknowns in words.

        >>> from auditlab.frame import empty_frame
        >>> review = access_review(empty_frame(), Scope.build(date_to="2026-09-30"))
        >>> review.privileged_shown().columns.tolist()[:4]
        ['name', 'email', 'roles', 'since']
        """
        t = self.privileged
        return pd.DataFrame({
            "name": t["name"], "email": t["email"], "roles": t["roles"],
            "since": self._times(t["from"], BEFORE_LOG), "began": t["began"],
            "granted_by": t["granted_by_name"], "until": self._times(t["to"], "still held"),
            "ended": t["ended"], "role_at_period_end": t["role_at_end"].fillna("unknown"),
            "last_active": self._times(t["last_activity"], "not in the log"),
            "last_seen": self._times(t["last_seen"], "not in the log"), "evidence": t["from_id"],
        })  # fmt: skip

    def findings_shown(self) -> pd.DataFrame:
        """Return ``findings`` as the report shows it (times in the report's zone).

        >>> from auditlab.frame import empty_frame
        >>> review = access_review(empty_frame(), Scope.build(date_to="2026-09-30"))
        >>> review.findings_shown().columns.tolist()[:3]
        ['severity', 'rule', 'name']
        """
        t = self.findings
        return pd.DataFrame({
            "severity": t["severity"], "rule": t["rule"], "name": t["name"], "role": t["role"],
            "at": self._times(t["at"], "not in the log"), "detail": t["detail"],
            "entries": t["entry_ids"].str.split(", ").map(lambda ids: len([i for i in ids if i])),
        })  # fmt: skip

    def evidence_shown(self) -> pd.DataFrame:
        """Return ``evidence`` as the report shows it: each finding's entries, one a row.

        >>> from auditlab.frame import empty_frame
        >>> review = access_review(empty_frame(), Scope.build(date_to="2026-09-30"))
        >>> review.evidence_shown().columns.tolist()
        ['rule', 'name', 'at', 'action', 'actor', 'entry']
        """
        t = self.evidence
        return pd.DataFrame({
            "rule": t["rule"], "name": t["name"], "at": self._times(t["created_at"], "—"),
            "action": t["action"], "actor": t["actor_name"], "entry": t["id"],
        })  # fmt: skip

    def leavers_shown(self) -> pd.DataFrame:
        """Return ``leavers`` as the report shows it: whether each lost access, in words.

        >>> from auditlab.frame import empty_frame
        >>> review = access_review(empty_frame(), Scope.build(date_to="2026-09-30"))
        >>> review.leavers_shown().columns.tolist()[-2:]
        ['lost_access', 'evidence']
        """
        t = self.leavers
        return pd.DataFrame({
            "at": self._times(t["at"], ""), "action": t["action"], "name": t["name"],
            "by": t["by_name"], "role": t["role"].fillna("unknown"),
            "later_events": t["later_events"], "last_event": self._times(t["last_event"], "—"),
            "lost_access": t["lost_access"].map({True: "yes", False: "no"}), "evidence": t["id"],
        })  # fmt: skip

    def _times(self, times: pd.Series, missing: str) -> pd.Series:
        """Return times as text in the report's time zone, ``missing`` where there is none."""
        return times.dt.tz_convert(self.scope.tz).dt.strftime(TIME).fillna(missing)

    def summary_html(self) -> str:
        """Return what the review read and what it could not know, as HTML paragraphs.

        >>> from auditlab.frame import empty_frame
        >>> from auditlab.frame import empty_frame
    >>> review = access_review(empty_frame(), Scope.build(date_to="2026-09-30"))
        >>> "no entry" in review.summary_html()
        True
        """
        since = self.scope.history_from
        start = f"from {since.isoformat()}" if since else "from the organisation's first day"
        if not self.entries:
            return f"<p>Roles were read {html.escape(start)}: the log holds no entry there.</p>"
        first = f"{self.read_from:%Y-%m-%d %H:%M} UTC"
        held = self.privileged["member_user_id"].nunique()
        parts = [
            f"Roles were read from {self.entries:,} entries {start} to the end of the period "
            f"(the first at {first}). {held} member(s) held ADMIN or OWNER during the period.",
            f"The role of {self.unknown} member(s) active in the period is unknown: the log "
            "shows no entry that names it."
            if self.unknown
            else "The log names the role of every member active in the period.",
        ]
        if self.unread:
            parts.append(
                f"{self.unread} role-bearing entr{'y' if self.unread == 1 else 'ies'} could not "
                "be read completely; what could not be read is kept as unknown."
            )
        parts.append(
            f"Privileged and not seen for {self.quiet_days} days is a finding; so are a "
            "privilege granted by someone who did not hold it, activity after leaving and "
            "every ownership transfer."
        )
        return "".join(f"<p>{html.escape(p)}</p>" for p in parts)


def access_review(
    history: pd.DataFrame, scope: Scope, *, quiet_days: int = QUIET_DAYS
) -> AccessReview:
    """Return the access review of ``scope``'s period over ``history`` (the loaded log).

    >>> from auditlab.frame import empty_frame
    >>> review = access_review(empty_frame(), Scope.build(date_to="2026-09-30"))
    >>> review.privileged.empty, review.entries
    (True, 0)
    """
    window = {"since": scope.date_from.isoformat(), "until": scope.date_to.isoformat()}
    during = access_history(history, **window)
    active = history.loc[in_window(history["created_at"], **window), "actor_id"].dropna()
    unknown = during["role"].isna() & during["member_user_id"].isin(active.unique())
    findings = access_findings(history, quiet_days=quiet_days, **window)
    return AccessReview(
        scope=scope,
        privileged=privileged_access(history, **window),
        findings=findings,
        evidence=_evidence(findings, history),
        leavers=leavers(history, **window),
        history=during,
        entries=len(history),
        read_from=history["created_at"].min() if len(history) else None,
        unread=int(role_entries(history)["unread"].notna().sum()),
        unknown=int(during.loc[unknown, "member_user_id"].nunique()),
        quiet_days=quiet_days,
    )


def _evidence(findings: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """Return one row per finding and entry behind it, with the entry's time, action and actor."""
    ids = findings["entry_ids"].str.split(", ").map(lambda found: [i for i in found if i])
    rows = findings[["rule", "member_user_id", "name"]].loc[ids.index.repeat(ids.str.len())]
    rows = rows.assign(id=pd.array([i for row in ids for i in row], dtype="str"))
    entries = history[["id", "created_at", "action", "actor_name"]]
    entries = entries[entries["id"].isin(rows["id"])].drop_duplicates("id")
    merged = rows.reset_index(drop=True).merge(
        entries.astype({"action": "str"}), on="id", how="left"
    )
    return merged[["rule", "member_user_id", "name", "id", "created_at", "action", "actor_name"]]
