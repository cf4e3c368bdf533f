"""``auditlab demo``: the whole job on the sandbox, from fetch to the HTML report.

Starts the sandbox with a throwaway key (handed to the report's kernel through
its environment only), loads the last 90 days into a local cache, writes the
compliance report and says which of the sandbox's planted incidents the
report shows, each in the section a reviewer would read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from auditlab.checks import check_whole_number
from auditlab.clock import utc_today
from auditlab.environment import API_KEY_VARIABLE


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="serve the sandbox, fetch 90 days, write the compliance report",
        description="Serve the synthetic org on 127.0.0.1, load the last 90 days into a "
        "local cache, write the compliance report and check it against the planted incidents.",
    )
    parser.add_argument("--out", default="out/report.html", help="HTML file (out/report.html)")
    parser.add_argument("--cache-dir", default="out/cache", help="cache root (out/cache)")
    parser.add_argument("--days", type=int, default=90, help="days to report on (default 90)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic org")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; return 0 when the report shows every planted incident, else 1."""
    from auditlab.load import load_audit_logs
    from auditlab.report import Scope, incidents_found, write_report
    from auditlab.sandbox import serve

    days = check_whole_number("days", args.days, "days to report on", maximum=180)
    started = time.monotonic()
    print(f"Starting the sandbox (synthetic org, seed {args.seed}) on 127.0.0.1 ...", flush=True)
    with serve(seed=args.seed) as sandbox:
        print(f"  {sandbox.base_url}: {len(sandbox.org.entries):,} entries over 180 days")
        today = utc_today(sandbox.clock)
        scope = Scope.build(date_from=today - dt.timedelta(days=days - 1), date_to=today)
        print(
            f"Loading {scope.date_from} .. {scope.date_to} into {Path(args.cache_dir).resolve()}",
            flush=True,
        )
        df = load_audit_logs(
            date_from=scope.date_from,
            date_to=scope.date_to,
            api_key=sandbox.api_key,
            base_url=sandbox.base_url,
            cache_dir=args.cache_dir,
            clock=sandbox.clock,
        )
        print(f"  {len(df):,} entries loaded ({time.monotonic() - started:.1f} s so far)")
        print("Writing the compliance report (papermill, then HTML) ...", flush=True)
        out = write_report(
            args.out,
            scope,
            base_url=sandbox.base_url,
            cache_dir=args.cache_dir,
            progress=sys.stderr.isatty(),
            environment={API_KEY_VARIABLE: sandbox.api_key},
        )
        findings = incidents_found(out.read_text("utf-8"), sandbox.org.answer_key)
    print(f"Report: {out.resolve()}  ({time.monotonic() - started:.1f} s in all)")
    print("Planted incidents (sandbox answer key) and where the report shows them:")
    for finding in findings:
        status = "found " if finding.found else "MISSED"
        print(f"  {status} {finding.kind:<32} in '{finding.section}'")
    found = sum(f.found for f in findings)
    print(f"{found} of {len(findings)} planted incidents found.")
    return 0 if found == len(findings) else 1
