"""``auditlab report``: the compliance report as one self-contained HTML file."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from auditlab.commands.options import add_base_url, add_cache_dir, add_no_progress, deprecated
from auditlab.environment import API_KEY_VARIABLE
from auditlab.errors import InvalidQuery

if TYPE_CHECKING:
    from auditlab.report import Scope

# The option that sets each parameter, so an error names what the user typed.
OPTIONS: dict[str, str] = {
    "org_id": "--org", "date_from": "--from", "date_to": "--to", "actions": "--action",
    "tz": "--tz", "base_url": "--base-url", "rules": "--rules", "baseline": "--baseline",
    "history_from": "--history-from",
}  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="write the compliance report (HTML) for an org and a period",
        description="Run the compliance report notebook with papermill and export it as one "
        f"HTML file that renders with no network. The API key comes from {API_KEY_VARIABLE} or "
        "a .env file only; with neither (and no --base-url) the built-in sandbox is used. "
        "The findings are also written beside the HTML as <out>.findings.json.",
    )
    parser.add_argument("--org", default="c", help="org id, or 'c' for the key's own (default)")
    parser.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD",
                        help="first UTC day (default: 90 days ending on --to)")  # fmt: skip
    parser.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD",
                        help="last UTC day, inclusive (default: today)")  # fmt: skip
    parser.add_argument("--out", default="report.html", help="HTML file to write (report.html)")
    add_base_url(parser)
    add_cache_dir(parser)
    parser.add_argument("--action", dest="actions", nargs="+", action="extend", metavar="ACTION",
                        help="only these actions (default: all)")  # fmt: skip
    parser.add_argument("--actions", **deprecated("--action", nargs="+"))
    parser.add_argument("--pseudonymize", action="store_true",
                        help="replace emails, names and IP addresses by pseudonyms")  # fmt: skip
    parser.add_argument("--tz", default="UTC", help="time zone for times of day (default UTC)")
    parser.add_argument("--history-from", metavar="YYYY-MM-DD",
                        help="first UTC day the access review reads roles from (default: the "
                        "org's first day; roles held before it are shown as unknown)")  # fmt: skip
    parser.add_argument("--keep-notebook", metavar="PATH", help="also keep the executed notebook")
    parser.add_argument("--rules", metavar="FILE",
                        help="TOML rules file (default: the rules shipped with auditlab)")
    parser.add_argument("--baseline", metavar="OLD.findings.json",
                        help="an earlier report's findings: mark and count what is new")
    parser.add_argument("--xlsx", metavar="FILE",
                        help="also write a workbook: findings, evidence per rule, actors, "
                             "provenance")
    parser.add_argument("--pdf", metavar="FILE",
                        help="also print the report to PDF with headless Chromium")  # fmt: skip
    add_no_progress(parser, old="--quiet")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check every option, write the report, print its path; return the exit status."""
    from auditlab.report import write_report

    scope = checked_scope(args)
    out = write_report(
        args.out,
        scope,
        base_url=args.base_url,
        cache_dir=args.cache_dir,
        pseudonymize=args.pseudonymize,
        keep_notebook=args.keep_notebook,
        progress=not args.no_progress and sys.stderr.isatty(),
        rules=args.rules,
        baseline=args.baseline,
        xlsx=args.xlsx,
        pdf=args.pdf,
    )
    print(out.resolve())
    return 0


def checked_scope(args: argparse.Namespace) -> Scope:
    """Return the report's scope from the options (rules and baseline checked too), or raise
    InvalidQuery naming the option."""
    from auditlab.analysis.rules import load_rules
    from auditlab.api.credentials import resolve_base_url
    from auditlab.report import Scope, read_baseline

    try:
        if args.base_url is not None:
            resolve_base_url(args.base_url)
        load_rules(args.rules)
        if args.baseline is not None:
            read_baseline(args.baseline)
        return Scope.build(
            args.org,
            date_from=args.date_from,
            date_to=args.date_to,
            actions=args.actions,
            tz=args.tz,
            history_from=args.history_from,
        )
    except InvalidQuery as error:
        option = OPTIONS.get(error.parameter or "", "")
        raise InvalidQuery(
            f"{option}: {error}" if option else str(error), parameter=error.parameter
        ) from None
