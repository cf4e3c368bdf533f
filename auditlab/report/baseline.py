"""A report's findings as JSON beside its HTML, and what is new since an earlier report.

``<out>.findings.json`` holds, per finding, its rule, severity, entry ids,
actor and first/last times (UTC), with the report's scope, data digest and
rules digest. A later report given it as a baseline marks every finding whose
rule and entry ids it does not hold as new.

>>> import pandas as pd
>>> found = pd.DataFrame({"rule": ["api_key"], "entry_ids": [("alog_1",)]})
>>> mark_new(found, {("api_key", ("alog_2",))})["is_new"].tolist()
[True]
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from auditlab.analysis.findings import finding_keys
from auditlab.errors import InvalidQuery

FORMAT = "auditlab-findings"
VERSION = 1
Key = tuple[str, tuple[str, ...]]


def findings_path(out: str | os.PathLike[str]) -> Path:
    """Return where the findings of the report written to ``out`` go: ``<out stem>.findings.json``.

    >>> findings_path("q3/report.html").as_posix()
    'q3/report.findings.json'
    """
    return Path(out).with_suffix(".findings.json")


def findings_document(table: pd.DataFrame, about: Mapping[str, Any]) -> dict[str, Any]:
    """Return the findings file's content: ``format``, ``version``, ``report`` (``about``)
    and ``findings``.

    >>> findings_document(pd.DataFrame(columns=["rule", "entry_ids"]), {})["format"]
    'auditlab-findings'
    """
    rows = []
    for row in table.to_dict("records"):
        rows.append({
            "rule": row["rule"], "severity": row.get("severity"),
            "entry_ids": list(row["entry_ids"]), "actor_id": _plain(row.get("actor_id")),
            "actor_name": _plain(row.get("actor_name")), "first": _utc(row.get("first")),
            "last": _utc(row.get("last")), "detail": _plain(row.get("detail")),
            **({"new": bool(row["is_new"])} if "is_new" in row else {}),
        })  # fmt: skip
    return {"format": FORMAT, "version": VERSION, "report": dict(about), "findings": rows}


def write_findings(
    path: str | os.PathLike[str], table: pd.DataFrame, about: Mapping[str, Any]
) -> Path:
    """Return the path the findings file was written to (see :func:`findings_document`)."""
    target = Path(path)
    target.write_bytes(orjson.dumps(findings_document(table, about), option=orjson.OPT_INDENT_2))
    return target


def read_baseline(path: str | os.PathLike[str]) -> frozenset[Key]:
    """Return the finding keys (rule, entry ids) of an earlier report's findings file.

    Raises ``InvalidQuery`` (``parameter="baseline"``) when the file cannot be
    read or is not a findings file.

    >>> read_baseline("/nonexistent.findings.json")
    Traceback (most recent call last):
    ...
    auditlab.errors.InvalidQuery: baseline '/nonexistent.findings.json' cannot be read: ...
    """
    try:
        document = orjson.loads(Path(path).read_bytes())
    except OSError as error:
        raise _bad(path, f"cannot be read: {error.strerror or error}") from None
    except orjson.JSONDecodeError as error:
        raise _bad(path, f"is not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _bad(path, f"is not an auditlab findings file (its \"format\" is not {FORMAT!r})")
    if document.get("version") != VERSION:
        raise _bad(path, f"has version {document.get('version')!r}; this auditlab reads {VERSION}")
    keys = set()
    for n, finding in enumerate(document.get("findings") or []):
        rule, ids = (finding.get("rule"), finding.get("entry_ids")) if isinstance(
            finding, dict) else (None, None)  # fmt: skip
        if not isinstance(rule, str) or not isinstance(ids, list) or not ids:
            raise _bad(path, f"findings[{n}] needs a \"rule\" and a non-empty \"entry_ids\" list")
        keys.add((rule, tuple(str(i) for i in ids)))
    return frozenset(keys)


def mark_new(table: pd.DataFrame, baseline: Collection[Key]) -> pd.DataFrame:
    """Return the findings with ``is_new``: True for each finding the baseline does not hold."""
    return table.assign(is_new=[key not in baseline for key in finding_keys(table)])


def _bad(path: str | os.PathLike[str], problem: str) -> InvalidQuery:
    return InvalidQuery(f"baseline {str(path)!r} {problem}", parameter="baseline")


def _plain(value: Any) -> Any:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _utc(value: Any) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).tz_convert(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
