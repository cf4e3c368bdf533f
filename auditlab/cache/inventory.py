"""What a cache folder holds, org by org, and how to empty it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from auditlab.cache.manifest import UNFILTERED
from auditlab.cache.orgs import KEYS_FOLDER, org_folder_name
from auditlab.cache.store import OrgCache
from auditlab.errors import InvalidQuery


@dataclass(frozen=True)
class OrgSummary:
    """One org's cache: complete days of the unfiltered tree, entries, bytes, filtered trees."""

    org_id: str
    days: int
    entries: int
    size: int
    oldest: str | None
    newest: str | None
    filters: tuple[dict[str, str], ...]


def describe(root: Path) -> list[OrgSummary]:
    """Return a summary of every org cached under root, by org id.

    >>> import tempfile
    >>> describe(Path(tempfile.mkdtemp()))
    []
    """
    summaries = []
    for folder in sorted(root.glob("org=*")):
        manifest = OrgCache(root, folder.name.removeprefix("org=")).manifest()
        tree = manifest.trees.get(UNFILTERED)
        # Days before the recorded start of the history hold nothing by definition
        # (a run may span them); they are not the org's history.
        start = (tree.start or "") if tree else ""
        days = sorted(d for d, r in tree.days.items() if r.complete and d >= start) if tree else []
        records = tree.days.values() if tree else ()
        summaries.append(
            OrgSummary(
                org_id=manifest.org_id,
                days=len(days),
                entries=sum(r.rows for r in records),
                size=sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()),
                oldest=days[0] if days else None,
                newest=days[-1] if days else None,
                filters=tuple(
                    t.filter for k, t in sorted(manifest.trees.items()) if k != UNFILTERED
                ),
            )
        )
    return summaries


def clear(root: Path, org_id: str | None = None) -> list[Path]:
    """Remove one org's cache, or every org's and the key fingerprints; return what went.

    Only auditlab's own folders are removed, never the root or anything else in it.
    """
    if org_id is None:
        targets = [*sorted(root.glob("org=*")), root / KEYS_FOLDER]
    else:
        target = root / f"org={org_folder_name(org_id)}"
        if not target.is_dir():
            cached = ", ".join(s.org_id for s in describe(root)) or "none"
            raise InvalidQuery(
                f"org {org_id!r} is not in the cache at {root} (cached orgs: {cached})",
                parameter="org",
            )
        targets = [target]
    removed = [path for path in targets if path.is_dir()]
    for path in removed:
        shutil.rmtree(path)
    return removed
