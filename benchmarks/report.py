"""Figures 5 and 6: ``auditlab report`` end to end against the sandbox, and at scale."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Figure, Runs

REPORT_DAYS = 90
# Figure 6's fixed clock: its org and report are the same on every run.
NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


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


def report_at_scale(entries: int = 100_000, findings: int = 5_000) -> Figure:
    """Return figure 6: one report over ``entries`` entries with about ``findings`` findings.

    The org (seed 0) is scaled so that its last ``REPORT_DAYS`` days hold
    ``entries`` entries; the rules are the shipped ones plus one rule listing
    enough routine actions to bring the findings to about ``findings``.
    """
    from auditlab.sandbox import serve

    figure = Figure(6, "The report at scale")
    org = _org_with(entries)
    first = (NOW - dt.timedelta(days=REPORT_DAYS - 1)).date()
    with serve(org=org, rate_limit=None) as server, tempfile.TemporaryDirectory() as folder:
        rules = _rules_with_findings(org.entries, findings, Path(folder) / "rules.toml")
        out = Path(folder) / "report.html"
        command = [
            sys.executable, "-m", "auditlab.cli", "report", "--from", first.isoformat(),
            "--to", NOW.date().isoformat(), "--out", str(out), "--base-url", server.base_url,
            "--cache-dir", str(Path(folder) / "cache"), "--no-progress", "--rules", str(rules),
            "--xlsx", str(Path(folder) / "report.xlsx"),
        ]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(command, env={**os.environ, "INVENT_API_KEY": server.api_key},
                       check=True, capture_output=True)  # fmt: skip
        seconds = time.perf_counter() - start
        found = json.loads(out.with_suffix(".findings.json").read_bytes())["findings"]
        sizes = {name: (Path(folder) / name).stat().st_size / 1e6
                 for name in ("report.html", "report.findings.json", "report.xlsx")}  # fmt: skip
        opened = _open_in_chromium(out)
    figure.rows.append({
        "entries": f"{len(org.entries):,}", "findings": f"{len(found):,}",
        "build time": f"{seconds:.1f} s", "HTML": f"{sizes['report.html']:.1f} MB",
        "findings JSON": f"{sizes['report.findings.json']:.1f} MB",
        "xlsx": f"{sizes['report.xlsx']:.1f} MB", "opens in Chromium": opened,
    })  # fmt: skip
    target = sizes["report.html"] < 15
    figure.headline = (
        f"{len(org.entries):,} entries, {len(found):,} findings: HTML {sizes['report.html']:.1f} "
        f"MB ({'met' if target else 'MISSED'}: < 15 MB), built in {seconds:.0f} s"
    )
    figure.notes += [
        f"`auditlab report --rules ... --xlsx ...` in a fresh process with a fresh cache, "
        f"against the sandbox org (seed 0) scaled so its {REPORT_DAYS} days hold the entries, "
        "no rate limit: fetch, analysis, notebook execution, HTML, findings JSON and workbook.",
        "Rules: the shipped ones plus one rule listing routine actions, chosen so that the "
        "findings come to about the target (the shipped rules alone find far fewer).",
        "Opens in Chromium: headless, network blocked, from navigation until every chart is "
        "drawn and every long table is a DataTable. Target (issue 13): HTML < 15 MB.",
    ]
    return figure


def _org_with(entries: int):
    """Return the sandbox org (seed 0) scaled so that its REPORT_DAYS days hold ``entries``."""
    from auditlab.sandbox import generate_org

    scale = entries / 13_000
    while True:
        org = generate_org(seed=0, days=REPORT_DAYS, now=NOW, scale=scale)
        if len(org.entries) >= entries:
            return org
        scale *= 1.05 * entries / len(org.entries)


def _rules_with_findings(entries: list[dict], target: int, path: Path) -> Path:
    """Write the shipped rules plus a listing rule that brings the findings near ``target``."""
    from collections import Counter
    from importlib import resources

    from auditlab.analysis import findings
    from auditlab.frame import entries_to_table, table_to_frame

    df = table_to_frame(entries_to_table(entries))
    missing = target - len(findings(df))
    listed = {}
    for action, count in Counter(e["action"] for e in entries).most_common():
        if 0 < count <= missing and action not in listed:
            listed[action] = action.replace(".", " ")
            missing -= count
    text = resources.files("auditlab.analysis").joinpath("rules.toml").read_text("utf-8")
    table = ", ".join(f'"{a}" = "{reason}"' for a, reason in listed.items())
    path.write_text(f'{text}\n[rules.routine]\nseverity = "low"\nactions = {{ {table} }}\n')
    return path


def _open_in_chromium(page: Path) -> str:
    """Return how long headless Chromium takes to draw the report's charts and tables."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "not measured (playwright not installed)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                      else r.abort())  # fmt: skip
            start = time.perf_counter()
            tab.goto(page.as_uri(), wait_until="load", timeout=120_000)
            tab.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6 && "
                "document.querySelectorAll('table.auditlab-datatable').length === "
                "document.querySelectorAll('table.auditlab-datatable.dataTable').length",
                timeout=120_000,
            )
            return f"{time.perf_counter() - start:.1f} s"
        finally:
            browser.close()
