"""``df.audit``: every public analysis function as a method of an audit-log DataFrame.

Importing ``auditlab.analysis`` (or ``auditlab.load``, which does) registers
the accessor: the package imports this module once its functions are bound.
Each method is defined on the class, bound to its function with the
function's own signature and docstring, so editors, ``help()`` and type
checkers see them. A frame that lacks a column the analysis reads has no
``audit`` attribute: the accessor raises AttributeError, as pandas asks.

>>> import auditlab.analysis
>>> from auditlab.frame import empty_frame
>>> empty_frame().audit.action_breakdown().columns.tolist()
['action_category', 'action', 'events', 'actors']
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import pandas as pd

import auditlab.analysis as analysis
from auditlab.analysis.renamed import RENAMED, deprecated
from auditlab.frame import lookup

if TYPE_CHECKING:
    from auditlab.explorer import Explorer

P = ParamSpec("P")
R = TypeVar("R")

# Every column some analysis function reads; a frame from load_audit_logs has them all.
COLUMNS_READ: tuple[str, ...] = (
    "id", "created_at", "org_id", "action", "action_category", "source", "ip", "country",
    "actor_id", "actor_name", "actor_email", "actor_seen_at", "member_id", "member_role",
    "member_user_id", "member_user_name", "member_user_email", "member_user_seen_at", "metadata",
)  # fmt: skip


def _method(
    function: Callable[Concatenate[pd.DataFrame, P], R],
) -> Callable[Concatenate[AuditAccessor, P], R]:
    """Return ``function`` as a method that passes the accessor's frame first."""

    @functools.wraps(function)
    def method(self: AuditAccessor, *args: P.args, **kwargs: P.kwargs) -> R:
        return function(self._df, *args, **kwargs)

    return method


@pd.api.extensions.register_dataframe_accessor("audit")
class AuditAccessor:
    """The analysis functions bound to one audit-log DataFrame: ``df.audit.timeline_chart()``."""

    def __init__(self, df: pd.DataFrame) -> None:
        missing = [column for column in COLUMNS_READ if column not in df.columns]
        if missing:
            raise AttributeError(
                "df.audit needs an audit-log frame such as auditlab.load_audit_logs returns; "
                f"this one lacks the columns {', '.join(missing)}"
            )
        self._df = df

    timeline = _method(analysis.timeline)
    timeline_chart = _method(analysis.timeline_chart)
    actor_breakdown = _method(analysis.actor_breakdown)
    actor_breakdown_chart = _method(analysis.actor_breakdown_chart)
    action_breakdown = _method(analysis.action_breakdown)
    action_breakdown_chart = _method(analysis.action_breakdown_chart)
    actor_action_matrix = _method(analysis.actor_action_matrix)
    actor_action_matrix_chart = _method(analysis.actor_action_matrix_chart)
    country_summary = _method(analysis.country_summary)
    country_summary_chart = _method(analysis.country_summary_chart)
    ip_summary = _method(analysis.ip_summary)
    ip_summary_chart = _method(analysis.ip_summary_chart)
    sensitive_events = _method(analysis.sensitive_events)
    travel_anomalies = _method(analysis.travel_anomalies)
    new_countries = _method(analysis.new_countries)
    findings = _method(analysis.findings)
    role_entries = _method(analysis.role_entries)
    access_history = _method(analysis.access_history)
    access_history_chart = _method(analysis.access_history_chart)
    privileged_access = _method(analysis.privileged_access)
    privileged_access_chart = _method(analysis.privileged_access_chart)
    leavers = _method(analysis.leavers)
    access_findings = _method(analysis.access_findings)
    # Drilling down: one entry whole, and the rows holding some text.
    entry = _method(lookup.entry)
    search = _method(lookup.search)

    def explore(self) -> Explorer:
        """Return the interactive explorer over this frame (see ``auditlab.explore``).

        It loads on first use: the explorer imports this package, and widgets
        are needed only here.
        """
        from auditlab.explorer import explore

        return explore(self._df)

    def __getattr__(self, name: str) -> Any:
        """Return the method an old name stands for, warning that the name is deprecated."""
        if name in RENAMED:
            return deprecated(name, getattr(self, RENAMED[name]), prefix="df.audit.")
        raise AttributeError(f"'AuditAccessor' object has no attribute {name!r}")
