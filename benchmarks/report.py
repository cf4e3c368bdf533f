"""Figure 5: ``auditlab report`` end to end against the sandbox."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Figure, Runs

REPORT_DAYS = 90


def report_end_to_end(runs: int = 3, days: int = 180) -> Figure:
    """Return figure 5: the report command run cold (fresh cache) ``runs`` times."""
    import auditlab.commands.report  # noqa: F401  (the command must exist to be measured)
    from auditlab.sandbox import serve

    figure = Figure(5, "`auditlab report` end to end")
    today = dt.datetime.now(dt.UTC).date()
    first = today - dt.timedelta(days=REPORT_DAYS - 1)
    seconds = []
    with serve(seed=0, days=days) as server, tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "INVENT_API_KEY": server.api_key}
        for run in range(runs):
            out = Path(folder) / f"report-{run}.html"
            command = [
                sys.executable, "-m", "auditlab.cli", "report", "--from", first.isoformat(),
                "--to", today.isoformat(), "--out", str(out), "--base-url", server.base_url,
                "--cache-dir", str(Path(folder) / f"cache-{run}"), "--no-progress",
            ]  # fmt: skip
            start = time.perf_counter()
            subprocess.run(command, env=env, check=True, capture_output=True)
            seconds.append(time.perf_counter() - start)
            size_kb = out.stat().st_size / 1024
        entries = sum(1 for e in server.org.entries if e["created_at"][:10] >= first.isoformat())
    figure.rows.append({
        "period": f"{first} .. {today} ({REPORT_DAYS} days)",
        "entries": f"{entries:,}",
        "time": Runs(tuple(seconds)).spread(),
        "HTML size": f"{size_kb:,.0f} kB",
    })  # fmt: skip
    figure.headline = f"{REPORT_DAYS} days, {entries:,} entries: {Runs(tuple(seconds)).spread()}"
    figure.notes.append(
        "`auditlab report --from ... --to ... --out report.html --base-url <sandbox>` in a "
        "fresh process with a fresh cache each run: fetch, analysis, notebook execution "
        "(papermill) and HTML export, against the default sandbox org (seed 0)."
    )
    return figure
