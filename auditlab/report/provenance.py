"""When the data in a report was fetched, and last verified, read from the cache's manifest."""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd

from auditlab.cache.files import cache_root
from auditlab.cache.manifest import Manifest
from auditlab.cache.orgs import org_folder_name
from auditlab.cache.store import OrgCache
from auditlab.report.scope import Scope
from auditlab.verify import describe


def fetch_times(
    df: pd.DataFrame, scope: Scope, *, cache_dir: str | os.PathLike[str] | None = None
) -> tuple[str, str] | None:
    """Return the earliest and latest time the scope's cached days were fetched (UTC ISO).

    The org is the one the entries name (``org_id``), as the cache keys it.
    Today is never cached (it is always fetched afresh), so it has no record.
    None when the cache holds no record for the scope.

    >>> from auditlab.frame import empty_frame
    >>> fetch_times(empty_frame(), Scope.build(date_to="2026-09-30")) is None
    True
    """
    manifest = _manifest(df, cache_dir)
    if manifest is None:
        return None
    times = [
        record.fetched_at
        for tree in manifest.trees.values()
        for day, record in tree.days.items()
        if scope.date_from <= dt.date.fromisoformat(day) <= scope.date_to
    ]
    return (min(times), max(times)) if times else None


def last_verification(
    df: pd.DataFrame, *, cache_dir: str | os.PathLike[str] | None = None
) -> str | None:
    """Return when the org's cache was last verified against the server and what was found.

    As ``cache last verified at 2026-03-15 02:00:00 UTC: 12 ranges checked,
    1 refetched``; None when the cache of the org the entries name was never
    verified (``auditlab cache verify``, or ``load_audit_logs(verify=True)``).

    >>> from auditlab.frame import empty_frame
    >>> last_verification(empty_frame()) is None
    True
    """
    manifest = _manifest(df, cache_dir)
    if manifest is None or not manifest.verified:
        return None
    return describe(manifest.verified)


def _manifest(df: pd.DataFrame, cache_dir: str | os.PathLike[str] | None) -> Manifest | None:
    """Return the manifest of the one org the entries name, or None."""
    orgs = df["org_id"].dropna().unique() if "org_id" in df else []
    if len(orgs) != 1:
        return None
    return OrgCache(cache_root(cache_dir), org_folder_name(str(orgs[0]))).manifest()
