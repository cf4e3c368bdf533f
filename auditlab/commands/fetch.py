"""``auditlab fetch``: load audit logs (through the cache) and write them to Parquet or CSV.

A CSV file is made to be opened in a spreadsheet: a text cell that would run as
a formula gets a leading ``'`` (``auditlab.safety.csv_safe``); ``--raw`` writes
the text as sent, for programs. Parquet always keeps the text as sent.
The API key comes from ``INVENT_API_KEY`` or a ``.env`` file, never from the
command line, where other users could read it in the process list.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import TYPE_CHECKING

from auditlab.cache.files import write_atomic
from auditlab.commands.options import add_load, load_arguments
from auditlab.environment import API_KEY_VARIABLE
from auditlab.errors import InvalidQuery
from auditlab.safety import to_csv

if TYPE_CHECKING:
    import pandas as pd

SUFFIXES = (".parquet", ".csv")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``fetch`` subcommand."""
    parser = subparsers.add_parser(
        "fetch",
        help="fetch audit logs into a Parquet or CSV file",
        description="Fetch the audit logs of an org, or of several (complete past days come "
        "from the cache), and write them to --out. "
        f"The API key is read from {API_KEY_VARIABLE} or ./.env.",
    )
    add_load(parser)
    parser.add_argument("--out", required=True, type=Path, help="output file: .parquet or .csv")
    parser.add_argument(
        "--raw",
        action="store_true",
        help="CSV: write text exactly as sent, for programs only (by default a cell a "
        "spreadsheet would run as a formula gets a leading ')",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load, write --out atomically and print what was written; return 0."""
    from auditlab.load import load_audit_logs

    if args.out.suffix.lower() not in SUFFIXES:
        raise InvalidQuery(f"--out {str(args.out)!r} must end in .parquet or .csv", parameter="out")
    df = load_audit_logs(**load_arguments(args))
    write_atomic(args.out, frame_bytes(df, args.out.suffix.lower(), raw=args.raw))
    print(f"wrote {len(df):,} rows to {args.out.resolve()}")
    return 0


def frame_bytes(df: pd.DataFrame, suffix: str, *, raw: bool = False) -> bytes:
    """Return df as the bytes of a .parquet or .csv file (CSV formula-safe unless ``raw``).

    >>> import pandas as pd
    >>> frame_bytes(pd.DataFrame({"name": ["=1+1"]}), ".csv")
    b"name\\r\\n'=1+1\\r\\n"
    """
    if suffix == ".csv":
        return to_csv(df, raw=raw).encode()
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    return buffer.getvalue()
