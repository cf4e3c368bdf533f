"""auditlab: Invent audit logs as pandas DataFrames, Parquet files and plotly charts.

>>> import auditlab
>>> auditlab.AuditlabError.__name__
'AuditlabError'
"""

from __future__ import annotations

import importlib
from typing import Any

from auditlab.analysis import accessor as _accessor  # noqa: F401  (registers df.audit)
from auditlab.errors import (
    APIError,
    AuditlabError,
    AuthError,
    FetchIncomplete,
    InvalidQuery,
    MissingAPIKey,
    NotFound,
    RetriesExhausted,
)

__version__ = "0.1.0"

# Heavier entry points load on first use, so `import auditlab` stays quick.
_LAZY: dict[str, str] = {
    "load_audit_logs": "auditlab.load",
    "expand_metadata": "auditlab.frame",
    "SCHEMA": "auditlab.frame.schema",
    "ACTIONS": "auditlab.actions",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'auditlab' has no attribute {name!r}")


__all__ = [
    "ACTIONS",
    "SCHEMA",
    "APIError",
    "AuditlabError",
    "AuthError",
    "FetchIncomplete",
    "InvalidQuery",
    "MissingAPIKey",
    "NotFound",
    "RetriesExhausted",
    "expand_metadata",
    "load_audit_logs",
]
