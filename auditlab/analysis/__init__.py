"""Pure functions DataFrame -> DataFrame or plotly Figure, over the loader's frame.

Every function takes the frame first and shares one vocabulary of keywords:
``freq`` (a pandas period alias), ``by`` (a column), ``top`` (how many rows a
chart shows), ``since``/``until`` (a time window) and ``tz`` (an IANA time
zone for time of day). Counts are in a column named ``events``. Each table
has a chart beside it, drawn through one theme and one labelling helper, and
every function answers an empty frame with an empty table or a figure that
says "no events". Each is also a method of the ``df.audit`` accessor.

>>> import auditlab.analysis as analysis
>>> from auditlab.frame import empty_frame
>>> analysis.action_breakdown(empty_frame()).empty
True
"""

from auditlab.analysis.breakdowns import (
    action_breakdown,
    action_chart,
    user_action_heatmap,
    user_action_matrix,
    user_breakdown,
    user_chart,
)
from auditlab.analysis.geo import country_map, country_summary
from auditlab.analysis.ips import ip_chart, ip_summary
from auditlab.analysis.sensitive import sensitive_events
from auditlab.analysis.timeline import activity_timeline, timeline_chart
from auditlab.analysis.travel import new_countries, travel_anomalies

__all__ = [
    "action_breakdown",
    "action_chart",
    "activity_timeline",
    "country_map",
    "country_summary",
    "ip_chart",
    "ip_summary",
    "new_countries",
    "sensitive_events",
    "timeline_chart",
    "travel_anomalies",
    "user_action_heatmap",
    "user_action_matrix",
    "user_breakdown",
    "user_chart",
]
