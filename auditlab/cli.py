"""The ``auditlab`` command line: one subcommand a module in ``auditlab.commands``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from auditlab.errors import AuditlabError

# Each module defines register(subparsers), which adds its parser and sets
# `func(args) -> int` as the parser's default.
COMMAND_MODULES: tuple[str, ...] = (
    "auditlab.commands.fetch",
    "auditlab.commands.sync",
    "auditlab.commands.cache",
    "auditlab.commands.report",
    "auditlab.commands.demo",
    "auditlab.commands.sandbox",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand that is installed.

    >>> build_parser().prog
    'auditlab'
    """
    parser = argparse.ArgumentParser(
        prog="auditlab",
        description="Invent audit logs as DataFrames, Parquet and reports.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log retries and waits")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status.

    >>> import tempfile
    >>> main(["cache", "info", "--cache-dir", tempfile.mkdtemp()])
    cache ...: 0 org(s), 0.0 B
    0
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except AuditlabError as error:
        print(f"auditlab {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
