"""Two processes syncing into one cache folder at once: no manifest update lost, no stray part."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
from helpers import PLANTED_KEY

from auditlab import load_audit_logs
from auditlab.cache.manifest import UNFILTERED, filter_fingerprint
from auditlab.cache.plan import day_range
from auditlab.frame import entries_to_table, table_to_frame
from auditlab.sandbox import serve

NOW = dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC)
LOADER = """
import datetime as dt
import json
import sys
from auditlab import load_audit_logs
base_url, first, last, filters, now = sys.argv[1:6]
df = load_audit_logs(base_url=base_url, date_from=first, date_to=last, **json.loads(filters),
                     progress=False, rate_limit=1_000_000, max_concurrency=4,
                     clock=lambda: dt.datetime.fromisoformat(now))
print(",".join(df["id"]))
"""


def part_digests(org_folder: Path) -> dict[str, str]:
    """Return the SHA-256 of every part file under an org folder, by its path from there."""
    return {
        str(path.relative_to(org_folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in org_folder.rglob("*.parquet")
    }


def described_parts(org_folder: Path) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Return what the manifest says: SHA-256 of each part it names, complete days per tree."""
    manifest = orjson.loads((org_folder / "_manifest.json").read_bytes())
    parts, complete = {}, {}
    for key, tree in manifest["trees"].items():
        folder = "" if key == UNFILTERED else f"_filtered/{key}/"
        complete[key] = {day for day, record in tree["days"].items() if record["complete"]}
        for day, record in tree["days"].items():
            if record["rows"]:
                parts[f"{folder}day={day}/part-0.parquet"] = record["sha256"]
    return parts, complete


def test_two_processes_syncing_one_folder_lose_no_update_and_leave_no_stray_part(
    private_cache_dir: Path,
) -> None:
    first, middle, last = dt.date(2025, 9, 1), dt.date(2025, 12, 20), dt.date(2026, 3, 14)
    with serve(api_key=PLANTED_KEY, seed=13, days=200, now=NOW, rate_limit=None) as server:
        who = server.org.people[1].id  # a user_id filter gets its own tree, every day of it
        jobs = [(first, last, {}), (middle, last, {}), (first, last, {"user_id": who})]
        children = [
            subprocess.Popen(
                [sys.executable, "-c", LOADER, server.base_url, str(a), str(b),
                 json.dumps(filters), NOW.isoformat()],
                env=os.environ.copy(),
                stdout=subprocess.PIPE,
                text=True,
            )
            for a, b, filters in jobs
        ]
        outputs = [child.communicate(timeout=120)[0] for child in children]
        assert [child.returncode for child in children] == [0, 0, 0]
        entries = server.org.entries
        server.stats.reset()
        again = load_audit_logs(
            base_url=server.base_url, date_from=first, date_to=last,
            progress=False, rate_limit=1_000_000, clock=server.clock,
        )  # fmt: skip
        assert server.stats.requests == 0, "every day the children fetched is cached complete"

    for (a, b, filters), output in zip(jobs, outputs, strict=True):
        expected = [
            e["id"] for e in entries
            if a.isoformat() <= e["created_at"][:10] <= b.isoformat()
            and (not filters or (e.get("user") or {}).get("id") == who)
        ]  # fmt: skip
        assert output.strip().split(",") == expected
    truth = table_to_frame(entries_to_table(
        [e for e in entries if first.isoformat() <= e["created_at"][:10] <= last.isoformat()]
    ))  # fmt: skip
    assert again.equals(truth)

    org_folder = private_cache_dir / f"org={server.org.org_id}"
    described, complete = described_parts(org_folder)
    assert part_digests(org_folder) == described  # every part described, every description true
    days = {day.isoformat() for day in day_range(first, last)}
    assert complete[UNFILTERED] == days
    assert complete[filter_fingerprint({"user_id": who})] == days
