"""Figures 7-9: beyond one org and one machine's memory.

7. Each analysis table through DuckDB over a large cache, and the peak
   memory of the process doing it (target: 10M entries, each table <= 5 s,
   peak <= 2 GB).
8. ``auditlab sync`` of a large org from an unlimited local sandbox: the
   peak memory of the syncing process (target: 1M entries <= 1 GB), beside a
   ``load_audit_logs`` of the same org.
9. Five sub-orgs loaded together against one by one: requests and pace at a
   shared rate limit (target: no more requests, at the limit).

Each measurement of memory runs in its own process (``python -m
benchmarks.scale ...``), reading Linux's high-water mark of resident memory
(``VmHWM``) for the whole process, Python, pyarrow and DuckDB included.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import data
from benchmarks.harness import ROOT, Figure, Runs
from benchmarks.peak import status_mb
from benchmarks.sync import NO_LIMIT

TABLE_SIZES = (10_000_000,)
SYNC_SIZES = (1_000_000,)
ORG_SIZE = 1_000_000  # a large cache is several orgs of at most this many entries
TARGET_TABLE_SECONDS, TARGET_TABLE_MB = 5.0, 2048
TARGET_SYNC_MB = 1024
TABLES = ("timeline", "actor_breakdown", "action_breakdown", "actor_action_matrix",
          "country_summary", "ip_summary", "sensitive_events")  # fmt: skip


# --- 7: analysis tables through DuckDB ------------------------------------------------------


def fill_cache(cache: Path, entries: int) -> list[str]:
    """Write a cache of about ``entries`` entries, as orgs of ORG_SIZE, and return their ids.

    Each org is a sandbox org of its own seed, built straight into the cache
    (no HTTP: figure 1 measures that) a month at a time.
    """
    import pyarrow.compute as pc

    from auditlab.cache.store import OrgCache
    from auditlab.frame import pages_to_table

    orgs = []
    for number in range((entries + ORG_SIZE - 1) // ORG_SIZE):
        size = min(ORG_SIZE, entries - number * ORG_SIZE)
        org = f"org_bench_{number}"
        table = pages_to_table(data.pages(_org_entries(size, number, org)))
        store, days = OrgCache(cache, org), table.column("date").to_pylist()
        first, last = min(days), max(days)
        while first <= last:
            end = min(last, first + dt.timedelta(days=30))
            month = table.filter((pc.field("date") >= first) & (pc.field("date") <= end))
            store.store_range({}, month, first, end, server_count=month.num_rows, complete=True)
            first = end + dt.timedelta(days=1)
        orgs.append(org)
    return orgs


def _org_entries(size: int, seed: int, org_id: str) -> list[dict[str, Any]]:
    from auditlab.sandbox import generate_org

    scale = max(size / data.ENTRIES_AT_SCALE_1, 0.05)
    while True:
        entries = generate_org(seed=seed, days=data.DAYS, now=data.NOW, org_id=org_id,
                               scale=scale).entries  # fmt: skip
        if len(entries) >= size:
            return entries[:size]
        scale *= 1.2 * size / max(len(entries), 1)


def measure_tables(cache: str, orgs: str, runs: str) -> dict[str, Any]:
    """Return each table's run times through ``auditlab.duckdb`` and the process's peak MB."""
    import auditlab
    import auditlab.analysis as analysis

    relation = auditlab.duckdb(orgs.split(","), cache_dir=cache)
    rows = relation.aggregate("count(*)").fetchall()[0][0]
    times = {}
    for name in TABLES:
        function = getattr(analysis, name)
        seconds = []
        for _ in range(int(runs)):
            start = time.perf_counter()
            function(relation)
            seconds.append(time.perf_counter() - start)
        times[name] = seconds
    return {"rows": rows, "times": times, "peak_mb": status_mb("VmHWM")}


def duckdb_tables(sizes: tuple[int, ...] = TABLE_SIZES, runs: int = 3) -> Figure:
    """Return figure 7: one row per (size, table), and the peak memory of each size."""
    figure = Figure(7, "Analysis tables through DuckDB over the cache")
    verdicts = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="auditlab-bench-cache-") as cache:
            orgs = fill_cache(Path(cache), size)
            found = _in_fresh_process("tables", cache, ",".join(orgs), str(runs))
        slowest = max(Runs(tuple(t)).median for t in found["times"].values())
        for name, seconds in found["times"].items():
            figure.rows.append({
                "cached entries": f"{found['rows']:,}",
                "function": f"`{name}`",
                "time": Runs(tuple(seconds)).spread(),
                "process peak MB": f"{found['peak_mb']:,.0f}",
            })  # fmt: skip
        met = slowest <= TARGET_TABLE_SECONDS and found["peak_mb"] <= TARGET_TABLE_MB
        figure.headline = (f"{found['rows']:,} entries in {len(orgs)} org(s): slowest table "
                           f"{slowest:.3g} s, process peak {found['peak_mb']:,.0f} MB")  # fmt: skip
        verdicts.append(f"{found['rows']:,} entries: {'met' if met else 'MISSED'} "
                        f"(slowest {slowest:.3g} s, peak {found['peak_mb']:,.0f} MB)")  # fmt: skip
    figure.notes += [
        f"Input: sandbox orgs (180 days, seeds 0, 1, ...) of at most {ORG_SIZE:,} entries "
        "each, written straight into one cache; each table function is given "
        "`auditlab.duckdb([...orgs])` and aggregates in DuckDB, in a fresh process whose "
        "peak resident memory (VmHWM, everything included) is reported.",
        f"Target (issue 16): 10M entries, each table within {TARGET_TABLE_SECONDS:.0f} s, "
        f"the process's peak within {TARGET_TABLE_MB:,} MB. " + "; ".join(verdicts) + ".",
    ]
    return figure


# --- 8: auditlab sync's peak memory ------------------------------------------------------------


def measure_sync(how: str, base_url: str, api_key: str, cache: str) -> dict[str, Any]:
    """Return the seconds, entries and the process's peak MB of one sync or load."""
    import auditlab

    start = time.perf_counter()
    arguments = {"api_key": api_key, "base_url": base_url, "cache_dir": cache,
                 "progress": False, "rate_limit": NO_LIMIT}  # fmt: skip
    if how == "sync":
        entries = sum(org.entries for org in auditlab.sync(**arguments))
    else:
        entries = len(auditlab.load_audit_logs(**arguments))
    seconds = time.perf_counter() - start
    return {"entries": entries, "seconds": seconds, "peak_mb": status_mb("VmHWM")}


def sync_memory(sizes: tuple[int, ...] = SYNC_SIZES) -> Figure:
    """Return figure 8: the peak memory of ``auditlab.sync`` and of a load, per org size."""
    figure = Figure(8, "`auditlab sync` of a large org: peak memory")
    verdicts = []
    for size in sizes:
        with _sandbox_process(size) as (base_url, api_key):
            for how in ("sync", "load_audit_logs"):
                with tempfile.TemporaryDirectory(prefix="auditlab-bench-cache-") as cache:
                    found = _in_fresh_process("sync", how, base_url, api_key, cache)
                figure.rows.append({
                    "entries": f"{found['entries']:,}",
                    "call": f"`auditlab.{how}`",
                    "time": f"{found['seconds']:.1f} s",
                    "process peak MB": f"{found['peak_mb']:,.0f}",
                })  # fmt: skip
                if how == "sync":
                    met = found["peak_mb"] <= TARGET_SYNC_MB
                    verdicts.append(f"{found['entries']:,} entries: {'met' if met else 'MISSED'} "
                                    f"({found['peak_mb']:,.0f} MB)")  # fmt: skip
                    figure.headline = (f"{found['entries']:,} entries: sync peak "
                                       f"{found['peak_mb']:,.0f} MB")  # fmt: skip
    figure.notes += [
        "A sandbox (`auditlab sandbox`, 180 days, scaled, no rate limit, no latency) runs in "
        "its own process; a fresh process syncs its whole history into an empty cache, "
        "and another loads it as a DataFrame, for comparison.",
        f"Target (issue 16): 1M entries synced with a process peak within {TARGET_SYNC_MB:,} "
        "MB. " + "; ".join(verdicts) + ".",
    ]
    return figure


class _sandbox_process:
    """Run ``auditlab sandbox`` in a process of its own; yield its base URL and key."""

    def __init__(self, entries: int) -> None:
        scale = max(entries / data.ENTRIES_AT_SCALE_1, 0.05)
        self.command = [
            sys.executable, "-m", "auditlab.cli", "sandbox", "--port", "0", "--api-key",
            "sk_bench", "--rate-limit", "0", "--scale", f"{scale:.4f}",
        ]  # fmt: skip

    def __enter__(self) -> tuple[str, str]:
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        found: dict[str, str] = {}
        for line in self.process.stdout:
            name, _, value = line.strip().partition("=")
            found[name] = value
            if "INVENT_API_KEY" in found:
                return found["INVENT_BASE_URL"], found["INVENT_API_KEY"]
        raise RuntimeError("the sandbox process ended before printing its address")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


# --- 9: five sub-orgs together --------------------------------------------------------------


def sub_orgs_together(per_minute: int = 120, days: int = 30, wait: float = 61.0) -> Figure:
    """Return figure 9: five sub-orgs loaded together against one by one, at a shared limit.

    ``wait`` seconds pass before each side, so it starts with the server's window empty.
    """
    from auditlab import load_audit_logs
    from auditlab.sandbox import serve

    figure = Figure(9, "Five sub-orgs loaded together")
    limited = serve(rate_limit=per_minute, latency_ms=20, days=days, now=data.NOW, sub_orgs=5)
    with limited as server:
        base = {"api_key": server.api_key, "base_url": server.base_url, "progress": False,
                "rate_limit": per_minute, "clock": server.clock}  # fmt: skip

        def run(loads: list[Any]) -> tuple[float, int, int, int]:
            time.sleep(wait)
            server.stats.reset()
            start = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="auditlab-bench-cache-") as cache:
                rows = sum(len(load_audit_logs(orgs, cache_dir=cache, **base)) for orgs in loads)
            seconds = time.perf_counter() - start
            return seconds, server.stats.requests, rows, server.stats.rate_limited

        ids = [child.org_id for child in server.sub_orgs]
        alone = run(ids)
        together = run([ids])
    for name, (seconds, requests, rows, refused) in (("one by one", alone),
                                                     ("together", together)):  # fmt: skip
        figure.rows.append({
            "orgs": name, "entries": f"{rows:,}", "requests": f"{requests:,}",
            "time": f"{seconds:.1f} s", "requests/min": f"{requests / seconds * 60:,.0f}",
            "429s": refused,
        })  # fmt: skip
    fewer = together[1] <= alone[1]
    figure.headline = (f"5 sub-orgs, {together[2]:,} entries: {together[1]:,} requests "
                       f"together vs {alone[1]:,} one by one, {together[0]:.1f} s vs "
                       f"{alone[0]:.1f} s at {per_minute}/min")  # fmt: skip
    figure.notes += [
        f"Sandbox of a parent and 5 sub-orgs ({days} days each), limit {per_minute} "
        "requests/min (sandbox and client), 20 ms latency; each side starts with an empty "
        "server window and an empty cache.",
        f"Target (issue 16): together cost no more requests than one by one "
        f"({'met' if fewer else 'MISSED'}) and run at the shared limit (0 429s: "
        f"{'met' if together[3] == 0 else 'MISSED'}).",
    ]
    return figure


def _in_fresh_process(*arguments: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", *arguments],
        cwd=ROOT.parent, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    what, *arguments = argv
    measure = {"tables": measure_tables, "sync": measure_sync}[what]
    print(json.dumps(measure(*arguments)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
