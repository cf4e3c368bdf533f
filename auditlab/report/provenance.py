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

    The orgs are those the entries name (``org_id``), as the cache keys them.
    Today is never cached (it is always fetched afresh), so it has no record.
    None when the cache holds no record for the scope.

    >>> from auditlab.frame import empty_frame
    >>> fetch_times(empty_frame(), Scope.build(date_to="2026-09-30")) is None
    True
    """
    times = [
        record.fetched_at
        for manifest in _manifests(df, cache_dir).values()
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
    Entries of several orgs get one such line per org that was verified,
    each after its org id.

    >>> from auditlab.frame import empty_frame
    >>> last_verification(empty_frame()) is None
    True
    """
    manifests = _manifests(df, cache_dir)
    lines = {org: describe(m.verified) for org, m in manifests.items() if m.verified}
    if len(manifests) == 1:
        return next(iter(lines.values()), None)
    return "; ".join(f"{org}: {line}" for org, line in lines.items()) or None


def _manifests(df: pd.DataFrame, cache_dir: str | os.PathLike[str] | None) -> dict[str, Manifest]:
    """Return the manifest of each org the entries name, by org id."""
    orgs = sorted(df["org_id"].dropna().unique()) if "org_id" in df else []
    root = cache_root(cache_dir)
    return {str(org): OrgCache(root, org_folder_name(str(org))).manifest() for org in orgs}
