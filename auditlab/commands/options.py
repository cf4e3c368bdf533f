"""Options more than one command takes, spelled once, and old spellings kept for one release.

``--no-progress`` silences a command's progress bars, ``--base-url`` and
``--cache-dir`` say where the API and the cache are; ``--action`` names the
action everywhere (``report`` takes several); ``fetch`` and ``sync`` take a
load's options (``add_load``). An old spelling still works for
one release, hidden from ``--help``, and says on stderr which spelling
replaces it.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Sequence
from typing import Any

from auditlab.environment import BASE_URL_VARIABLE, CACHE_DIR_VARIABLE


def add_base_url(parser: argparse.ArgumentParser) -> None:
    """Add ``--base-url``: the API's base URL, when it is not Invent's own.

    >>> parser = argparse.ArgumentParser()
    >>> add_base_url(parser)
    >>> parser.parse_args(["--base-url", "http://127.0.0.1:8787"]).base_url
    'http://127.0.0.1:8787'
    """
    parser.add_argument(
        "--base-url", help=f"API base URL (default: ${BASE_URL_VARIABLE}, else Invent)"
    )


def add_load(parser: argparse.ArgumentParser) -> None:
    """Add what a load takes: the orgs, the filters, the server, the cache, refresh, progress.

    The orgs are ``--org`` (repeatable) and ``--sub-orgs``; ``load_arguments``
    turns what the options parse into ``load_audit_logs``' keywords
    (``auditlab.sync`` takes the same).

    >>> parser = argparse.ArgumentParser()
    >>> add_load(parser)
    >>> given = load_arguments(parser.parse_args(["--org", "a", "--org", "b", "--sub-orgs"]))
    >>> given["org_id"], given["include_sub_orgs"], given["action"], given["progress"]
    (['a', 'b'], True, None, None)
    """
    parser.add_argument(
        "--org", action="append", metavar="ORG",
        help="org id (default: c, the key's own org); repeat it for several orgs",
    )  # fmt: skip
    parser.add_argument("--sub-orgs", action="store_true", help="the orgs' sub-orgs too")
    parser.add_argument("--action", help="one action, or ALL (default)")
    parser.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day (UTC)")
    parser.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day (UTC)")
    for name in ("user", "assistant", "workflow", "connection"):
        parser.add_argument(f"--{name}-id", help=f"only entries of this {name}")
    add_base_url(parser)
    add_cache_dir(parser)
    parser.add_argument("--refresh", action="store_true", help="fetch complete days again")
    add_no_progress(parser)


def load_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """Return the keywords of ``load_audit_logs`` that ``add_load``'s options set."""
    return {
        "org_id": args.org or ["c"],
        "include_sub_orgs": args.sub_orgs,
        **{
            name: getattr(args, name)
            for name in ("action", "date_from", "date_to", "user_id", "assistant_id",
                         "workflow_id", "connection_id", "base_url", "cache_dir", "refresh")
        },
        "progress": False if args.no_progress else None,
    }  # fmt: skip


def add_cache_dir(parser: argparse.ArgumentParser) -> None:
    """Add ``--cache-dir``: the root folder of the Parquet cache.

    >>> parser = argparse.ArgumentParser()
    >>> add_cache_dir(parser)
    >>> parser.parse_args([]).cache_dir is None
    True
    """
    parser.add_argument(
        "--cache-dir",
        help=f"cache folder (default: ${CACHE_DIR_VARIABLE}, else the user cache folder)",
    )


def add_no_progress(parser: argparse.ArgumentParser, *, old: str | None = None) -> None:
    """Add ``--no-progress`` (and ``old``, its deprecated spelling) to a command's parser.

    >>> parser = argparse.ArgumentParser(prog="auditlab report")
    >>> add_no_progress(parser, old="--quiet")
    >>> parser.parse_args(["--quiet"]).no_progress
    True
    """
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    if old is not None:
        parser.add_argument(old, dest="no_progress", **deprecated("--no-progress", nargs=0))


def deprecated(new: str, **options: Any) -> dict[str, Any]:
    """Return ``add_argument`` keywords for an old spelling of the option ``new``.

    >>> parser = argparse.ArgumentParser(prog="auditlab report")
    >>> _ = parser.add_argument("--action", dest="actions", nargs="+", action="extend")
    >>> _ = parser.add_argument("--actions", **deprecated("--action", nargs="+"))
    >>> parser.parse_args(["--actions", "org.updated", "--action", "org.deleted"]).actions
    ['org.updated', 'org.deleted']
    """
    return {"action": functools.partial(OldSpelling, new=new), "help": argparse.SUPPRESS, **options}


class OldSpelling(argparse.Action):
    """An option's old spelling: it warns on stderr, then does what the new one does.

    A flag (``nargs=0``) sets its destination to True; an option with values
    adds them to the destination's list. Made by :func:`deprecated`.
    """

    def __init__(self, *args: Any, new: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.new = new

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        print(
            f"{parser.prog}: {option_string} is deprecated and goes in the next release; "
            f"use {self.new}",
            file=sys.stderr,
        )
        if self.nargs == 0:
            setattr(namespace, self.dest, True)
        else:
            setattr(namespace, self.dest, [*(getattr(namespace, self.dest) or []), *(values or ())])
