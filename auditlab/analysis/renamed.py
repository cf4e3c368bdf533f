"""The analysis functions' old names, kept for one release as deprecated aliases.

Each old name calls its new function with the same arguments and warns with
a ``DeprecationWarning`` that names the new one, both as ``auditlab.analysis.<old>``
and as ``df.audit.<old>``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# Old name -> new name: a table is ``x``, the chart that draws it ``x_chart``;
# tables of people are named after the column they group by (``actor_id``).
RENAMED: dict[str, str] = {
    "activity_timeline": "timeline",
    "user_breakdown": "actor_breakdown",
    "user_chart": "actor_breakdown_chart",
    "action_chart": "action_breakdown_chart",
    "user_action_matrix": "actor_action_matrix",
    "user_action_heatmap": "actor_action_matrix_chart",
    "country_map": "country_summary_chart",
    "ip_chart": "ip_summary_chart",
}


def deprecated(old: str, function: Callable[P, R], *, prefix: str) -> Callable[P, R]:
    """Return ``function`` under its old name: it warns, then does the same.

    ``prefix`` is how the user reaches the name (``auditlab.analysis.``, ``df.audit.``).

    >>> import warnings
    >>> old = deprecated("plus_one", lambda n: n + 1, prefix="")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     old(1), str(caught[0].message)
    (2, 'plus_one() is deprecated and goes in the next release; use <lambda>() instead')
    """

    @functools.wraps(function)
    def alias(*args: P.args, **kwargs: P.kwargs) -> R:
        warnings.warn(
            f"{prefix}{old}() is deprecated and goes in the next release; "
            f"use {prefix}{function.__name__}() instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return function(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old
    return alias
