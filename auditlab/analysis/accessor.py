"""``df.audit``: every public analysis function as a method of the DataFrame.

The methods are generated from ``auditlab.analysis.__all__``, so a new
function is a new method without a second definition; ``import auditlab``
registers the accessor.

>>> import auditlab
>>> from auditlab.frame import empty_frame
>>> empty_frame().audit.action_breakdown().columns.tolist()
['action_category', 'action', 'events', 'actors']
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pandas as pd

import auditlab.analysis as analysis


@pd.api.extensions.register_dataframe_accessor("audit")
class AuditAccessor:
    """The analysis functions bound to one audit-log DataFrame: ``df.audit.timeline_chart()``."""

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df

    def __dir__(self) -> list[str]:
        return [*analysis.__all__]


def _method(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def method(self: AuditAccessor, *args: Any, **kwargs: Any) -> Any:
        return function(self._df, *args, **kwargs)

    return method


for _name in analysis.__all__:
    setattr(AuditAccessor, _name, _method(getattr(analysis, _name)))
