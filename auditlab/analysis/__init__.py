"""Pure functions DataFrame -> DataFrame or plotly Figure, over the loader's frame.

Every function takes the frame first. A table is ``x()``; where a chart draws
it, the chart is ``x_chart()`` and takes the table's arguments too:

==========================  ================================
table                       chart
==========================  ================================
``timeline``                ``timeline_chart``
``actor_breakdown``         ``actor_breakdown_chart``
``action_breakdown``        ``action_breakdown_chart``
``actor_action_matrix``     ``actor_action_matrix_chart``
``country_summary``         ``country_summary_chart``
``ip_summary``              ``ip_summary_chart``
``sensitive_events``        (a table for review)
``travel_anomalies``        (a table for review)
``new_countries``           (a table for review)
``findings``                (a table for review)
``access_history``          ``access_history_chart``
``privileged_access``       ``privileged_access_chart``
``role_entries``            (a table for review)
``leavers``                 (a table for review)
``access_findings``         (a table for review)
==========================  ================================

Names follow the columns they use: ``actor_*`` groups by ``actor_id``.
Keywords mean the same everywhere: ``since``/``until`` (a time window, on
every function), ``tz`` (an IANA time zone: of the periods, of times of day,
and of the window a chart states), ``top`` (how many rows a ranking table or
chart keeps; one default, ``TOP`` = 20, and None for all), ``freq`` and
``by`` (the timeline's period and the column that splits it), and
``history_from`` (the access review's: entries before it are not read, so
roles held before it are unknown). Every chart
also takes plotly express's ``title``, ``labels``, ``template``, ``width``
and ``height``, and draws through one theme (``figures.make_figure``).
Counts are in a column named ``events``; an empty frame gives an empty table
or a figure that says "no events". What the review tables flag, their
thresholds and severities are rules read from a TOML file
(:mod:`auditlab.analysis.rules`; ``rules=`` takes another file). Each
function is also a method of the ``df.audit`` accessor, which importing
this package registers. The old names (``user_breakdown``, ``user_chart``,
...) still work for one release, with a DeprecationWarning.

>>> import auditlab.analysis as analysis
>>> from auditlab.frame import empty_frame
>>> analysis.action_breakdown(empty_frame()).empty
True
"""

from typing import Any

from auditlab.analysis.access import (
    access_findings,
    access_history,
    access_history_chart,
    leavers,
    privileged_access,
    privileged_access_chart,
)
from auditlab.analysis.breakdowns import (
    action_breakdown,
    action_breakdown_chart,
    actor_action_matrix,
    actor_action_matrix_chart,
    actor_breakdown,
    actor_breakdown_chart,
)
from auditlab.analysis.findings import findings
from auditlab.analysis.geo import country_summary, country_summary_chart
from auditlab.analysis.ips import ip_summary, ip_summary_chart
from auditlab.analysis.periods import timeline, timeline_chart
from auditlab.analysis.renamed import RENAMED, deprecated
from auditlab.analysis.roles import role_entries
from auditlab.analysis.sensitive import sensitive_events
from auditlab.analysis.travel import new_countries, travel_anomalies
from auditlab.analysis.vocabulary import TOP as TOP


def __getattr__(name: str) -> Any:
    if name in RENAMED:
        return deprecated(name, globals()[RENAMED[name]], prefix="auditlab.analysis.")
    raise AttributeError(f"module 'auditlab.analysis' has no attribute {name!r}")


# The public functions; each is also a method of df.audit.

__all__ = [
    "access_findings",
    "access_history",
    "access_history_chart",
    "action_breakdown",
    "action_breakdown_chart",
    "actor_action_matrix",
    "actor_action_matrix_chart",
    "actor_breakdown",
    "actor_breakdown_chart",
    "country_summary",
    "country_summary_chart",
    "findings",
    "ip_summary",
    "ip_summary_chart",
    "leavers",
    "new_countries",
    "privileged_access",
    "privileged_access_chart",
    "role_entries",
    "sensitive_events",
    "timeline",
    "timeline_chart",
    "travel_anomalies",
]

# Last: the accessor binds the functions above as methods of df.audit.
from auditlab.analysis import accessor as _accessor  # noqa: E402, F401
