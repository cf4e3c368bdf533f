"""auditlab: Invent audit logs as pandas DataFrames, Parquet files and plotly charts.

The package re-exports; nothing inside imports it. ``import auditlab`` loads
neither pandas nor pyarrow: the loader, the schema and the frame helpers load
on first use, and importing ``auditlab.load`` or ``auditlab.analysis`` (which
the loader does) registers the ``df.audit`` accessor.

>>> import auditlab
>>> auditlab.AuditlabError.__name__
'AuditlabError'
"""

from __future__ import annotations

import importlib
from typing import Any

from auditlab._version import __version__
from auditlab.errors import (
    APIError,
    AuditlabError,
    AuthError,
    EntryNotFound,
    FetchIncomplete,
    InvalidQuery,
    MalformedPage,
    MissingAPIKey,
    NotFound,
    RetriesExhausted,
)

# Heavier entry points load on first use, so `import auditlab` stays quick.
_LAZY: dict[str, str] = {
    "load_audit_logs": "auditlab.load",
    "list_sub_orgs": "auditlab.suborgs",
    "sync": "auditlab.fill",
    "dataset": "auditlab.scan",
    "duckdb": "auditlab.scan",
    "expand_metadata": "auditlab.frame",
    "entry": "auditlab.frame",
    "search": "auditlab.frame",
    "SCHEMA": "auditlab.frame.schema",
    "ACTIONS": "auditlab.actions",
    "explore": "auditlab.explorer",
    "to_csv": "auditlab.safety",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'auditlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "ACTIONS",
    "SCHEMA",
    "APIError",
    "AuditlabError",
    "AuthError",
    "EntryNotFound",
    "FetchIncomplete",
    "InvalidQuery",
    "MalformedPage",
    "MissingAPIKey",
    "NotFound",
    "RetriesExhausted",
    "__version__",
    "dataset",
    "duckdb",
    "entry",
    "expand_metadata",
    "explore",
    "list_sub_orgs",
    "load_audit_logs",
    "search",
    "sync",
    "to_csv",
]
