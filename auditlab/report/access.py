"""The report's access review: who held power during the period, its findings, the leavers.

``access_review`` computes the section "Privileged access during the period"
once, from the history the report loaded for it (``DataSource.load_history``).
``AccessReview.findings`` has the shape of the report's other findings and
joins them (:func:`auditlab.analysis.findings.ranked`): the cards, the
findings file and the workbook's sheets per rule. ``AccessReview.tables``
names the review's own tables, a workbook sheet each.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

from auditlab.analysis.access import access_findings, access_history, leavers, privileged_access
from auditlab.analysis.roles import BEFORE_LOG, role_entries
from auditlab.analysis.rules import Rules, resolve_rules
from auditlab.analysis.vocabulary import in_window
from auditlab.report.scope import Scope

TIME = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class AccessReview:
    """The access review of one report period, read from ``entries`` entries of history."""

    scope: Scope
    privileged: pd.DataFrame
    findings: pd.DataFrame
    leavers: pd.DataFrame
    history: pd.DataFrame
    entries: int
    read_from: pd.Timestamp | None
    unread: int
    unknown: int
    orgs: dict[str, str] = field(default_factory=dict)  # entry id -> org id, for the evidence

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the review's own tables by sheet name (its findings join the report's).

        >>> from auditlab.frame import empty_frame
        >>> review = access_review(empty_frame(), Scope.build(date_to="2026-09-30"))
        >>> list(review.tables())
        ['Privileged access', 'Leavers', 'Role history']
        """
        return {
            "Privileged access": self.privileged,
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
            "last_seen": self._times(t["last_seen"], "not in the log"),
            "org_id": self._org(t["from_id"]), "evidence": t["from_id"],
        })  # fmt: skip

    def leavers_shown(self) -> pd.DataFrame:
        """Return ``leavers`` as the report shows it: whether each lost access, in words.

        >>> from auditlab.frame import empty_frame
        >>> review = access_review(empty_frame(), Scope.build(date_to="2026-09-30"))
        >>> review.leavers_shown().columns.tolist()[-3:]
        ['lost_access', 'org_id', 'evidence']
        """
        t = self.leavers
        return pd.DataFrame({
            "at": self._times(t["at"], ""), "action": t["action"], "name": t["name"],
            "by": t["by_name"], "role": t["role"].fillna("unknown"),
            "later_events": t["later_events"], "last_event": self._times(t["last_event"], "—"),
            "lost_access": t["lost_access"].map({True: "yes", False: "no"}),
            "org_id": self._org(t["id"]), "evidence": t["id"],
        })  # fmt: skip

    def _org(self, entry_ids: pd.Series) -> pd.Series:
        """Return the org of each evidence entry (a report may cover several orgs)."""
        return entry_ids.map(lambda entry_id: self.orgs.get(entry_id, ""))

    def _times(self, times: pd.Series, missing: str) -> pd.Series:
        """Return times as text in the report's time zone, ``missing`` where there is none."""
        return times.dt.tz_convert(self.scope.tz).dt.strftime(TIME).fillna(missing)

    def provenance(self, loaded: pd.DataFrame, *, base_url: str, digest: str) -> dict[str, str]:
        """Return the evidence lines of the history the review read (``loaded``, before any
        pseudonymization, and its ``digest``).

        >>> from auditlab.frame import empty_frame
        >>> review = access_review(empty_frame(), Scope.build(date_to="2026-09-30"))
        >>> lines = review.provenance(empty_frame(), base_url="https://x", digest="00")
        >>> lines["Access review query"]
        'GET https://x/orgs/c/audit-logs?to=2026-09-30'
        """
        span = (
            f"{loaded['created_at'].min():%Y-%m-%d %H:%M:%S} / "
            f"{loaded['created_at'].max():%Y-%m-%d %H:%M:%S}"
            if len(loaded)
            else "—"
        )
        return {
            "Access review query": f"GET {self.scope.history_query.to_url(base_url)}",
            "Access review entries": f"{len(loaded):,} (oldest / newest, UTC: {span})",
            "SHA-256 of the access review's data": digest,
        }

    def summary_html(self) -> str:
        """Return what the review read and what it could not know, as HTML paragraphs.

        >>> from auditlab.frame import empty_frame
        >>> review = access_review(empty_frame(), Scope.build(date_to="2026-09-30"))
        >>> "no entry" in review.summary_html()
        True
        """
        since = self.scope.history_from
        start = f"from {since.isoformat()}" if since else "from the organisation's first day"
        if not self.entries:
            return f"<p>Roles were read {html.escape(start)}: the log holds no entry there.</p>"
        held = self.privileged["member_user_id"].nunique()
        parts = [
            f"Roles were read from {self.entries:,} entries {start} to the end of the period "
            f"(the first at {self.read_from:%Y-%m-%d %H:%M} UTC). {held} member(s) held "
            "ADMIN or OWNER during the period.",
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
        return "".join(f"<p>{html.escape(p)}</p>" for p in parts)


def access_review(
    history: pd.DataFrame, scope: Scope, *, rules: Rules | str | None = None
) -> AccessReview:
    """Return the access review of ``scope``'s period over ``history`` (the loaded log).

    ``rules`` is a ``Rules``, a rules file or None for the shipped rules; the
    findings are those of :func:`~auditlab.analysis.access.access_findings`.

    >>> from auditlab.frame import empty_frame
    >>> review = access_review(empty_frame(), Scope.build(date_to="2026-09-30"))
    >>> review.privileged.empty, review.findings.empty, review.entries
    (True, True, 0)
    """
    window = {"since": scope.date_from.isoformat(), "until": scope.date_to.isoformat()}
    during = access_history(history, **window)
    active = history.loc[in_window(history["created_at"], **window), "actor_id"].dropna()
    unknown = during["role"].isna() & during["member_user_id"].isin(active.unique())
    return AccessReview(
        scope=scope,
        privileged=privileged_access(history, **window),
        findings=access_findings(history, rules=resolve_rules(rules), tz=scope.tz, **window),
        leavers=leavers(history, **window),
        history=during,
        entries=len(history),
        read_from=history["created_at"].min() if len(history) else None,
        unread=int(role_entries(history)["unread"].notna().sum()),
        unknown=int(during.loc[unknown, "member_user_id"].nunique()),
        orgs=dict(zip(history["id"], history["org_id"].astype(object), strict=True)),
    )
