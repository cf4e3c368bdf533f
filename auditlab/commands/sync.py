"""``auditlab sync``: fill the cache for a range and orgs without building a DataFrame.

The API key comes from ``INVENT_API_KEY`` or a ``.env`` file, never from the
command line.
"""

from __future__ import annotations

import argparse

from auditlab.commands.options import add_load, load_arguments
from auditlab.environment import API_KEY_VARIABLE


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sync`` subcommand."""
    parser = subparsers.add_parser(
        "sync",
        help="fetch audit logs into the cache only (no output file)",
        description="Fill the Parquet cache with what it lacks of the orgs' audit logs, for "
        "reading it lazily (auditlab.dataset, auditlab.duckdb) or with another engine. "
        f"The API key is read from {API_KEY_VARIABLE} or ./.env.",
    )
    add_load(parser)
    parser.add_argument(
        "--verify", action="store_true", help="check cached days against the server's counts"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Sync and print one line per org; return 0."""
    from auditlab.fill import sync

    done = sync(**load_arguments(args), verify=args.verify)
    for org in done:
        span = f"{org.first}..{org.last}" if org.first else "no days"
        print(
            f"org {org.org_id} (cached as org={org.folder}): {span}, "
            f"{org.fetched_days} day(s) fetched, {org.entries:,} entries"
        )
    return 0
