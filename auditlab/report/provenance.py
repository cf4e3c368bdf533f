"""When the data in a report was fetched, read from the cache's manifest."""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd

from auditlab.cache.files import cache_root
from auditlab.cache.orgs import org_folder_name
from auditlab.cache.store import OrgCache
from auditlab.report.scope import Scope


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
    orgs = df["org_id"].dropna().unique() if "org_id" in df else []
    if len(orgs) != 1:
        return None
    manifest = OrgCache(cache_root(cache_dir), org_folder_name(str(orgs[0]))).manifest()
    times = [
        record.fetched_at
        for tree in manifest.trees.values()
        for day, record in tree.days.items()
        if scope.date_from <= dt.date.fromisoformat(day) <= scope.date_to
    ]
    return (min(times), max(times)) if times else None
