"""``auditlab cache info|verify|clear``: what the local cache holds, checking it, emptying it."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from auditlab.cache.files import cache_root
from auditlab.commands.options import add_base_url, add_cache_dir
from auditlab.environment import API_KEY_VARIABLE

if TYPE_CHECKING:
    from auditlab.cache.inventory import OrgSummary


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``cache`` subcommand with ``info``, ``verify`` and ``clear``."""
    parser = subparsers.add_parser(
        "cache",
        help="show or clear the local audit-log cache",
        description="Show or clear the Parquet cache of audit logs.",
    )
    actions = parser.add_subparsers(dest="cache_command", required=True, metavar="ACTION")
    info = actions.add_parser("info", help="per org: days, entries, size, filtered trees")
    verify = actions.add_parser(
        "verify",
        help="compare each cached range's count with the server's; refetch what changed",
        description="Ask the server for the count of every cached range (one request each) "
        "and fetch again the ranges whose count changed. The API key is read from "
        f"{API_KEY_VARIABLE} or ./.env.",
    )
    verify.add_argument("--org", default="c", help="org id (default: c, the key's own org)")
    verify.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day")
    verify.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day")
    add_base_url(verify)
    clear_parser = actions.add_parser("clear", help="delete cached audit logs")
    clear_parser.add_argument("--org", help="only this org id (default: every org)")
    clear_parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    for sub in (info, verify, clear_parser):
        add_cache_dir(sub)
    info.set_defaults(func=run_info)
    verify.set_defaults(func=run_verify)
    clear_parser.set_defaults(func=run_clear)


def run_info(args: argparse.Namespace) -> int:
    """Print one paragraph per cached org; return 0."""
    from auditlab.cache.inventory import describe

    root = cache_root(args.cache_dir)
    summaries = describe(root)
    total = sum(s.size for s in summaries)
    print(f"cache {root}: {len(summaries)} org(s), {_size(total)}")
    for summary in summaries:
        print(_describe(summary))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """Verify one org's cached ranges, print what was found; return 0, or 1 if days are missing."""
    from auditlab.verify import verify_audit_logs

    found = verify_audit_logs(
        args.org,
        date_from=args.date_from,
        date_to=args.date_to,
        base_url=args.base_url,
        cache_dir=args.cache_dir,
    )
    print(f"org {args.org}: {found}")
    if found.missing:
        print(
            f"could not fetch again: {len(found.missing)} day(s) from {found.missing[0]} "
            f"to {found.missing[-1]}; they will be fetched by the next load",
            file=sys.stderr,
        )
        return 1
    return 0


def run_clear(args: argparse.Namespace) -> int:
    """Delete one org's cache or all of it, after confirmation; return the exit status."""
    from auditlab.cache.inventory import clear

    root = cache_root(args.cache_dir)
    what = f"org {args.org}" if args.org else "every org"
    if not args.yes:
        if not sys.stdin.isatty():
            print("auditlab cache clear: pass --yes to clear without a prompt", file=sys.stderr)
            return 2
        if input(f"Delete the cached audit logs of {what} in {root}? [y/N] ").strip() != "y":
            print("nothing deleted")
            return 1
    removed = clear(root, args.org)
    print(f"cleared {what} in {root} ({len(removed)} folder(s) removed)")
    return 0


def _describe(summary: OrgSummary) -> str:
    span = f"{summary.oldest}..{summary.newest}" if summary.oldest else "no complete days"
    lines = [
        f"org {summary.org_id}: {summary.days} day(s) {span}, "
        f"{summary.entries:,} entries, {_size(summary.size)}"
    ]
    for filters in summary.filters:
        lines.append("  filtered: " + ", ".join(f"{k}={v}" for k, v in sorted(filters.items())))
    return "\n".join(lines)


def _size(size: float) -> str:
    units = ["B", "KB", "MB", "GB"]
    while size >= 1024 and len(units) > 1:
        size /= 1024
        units.pop(0)
    return f"{size:.1f} {units[0]}"
