"""The arguments of ``load_audit_logs`` and ``auditlab.sync``, checked once, before any request.

Both front doors take the same keywords (``auditlab.sync`` is
``load_audit_logs`` without the frame); ``LoadArguments.build`` checks them
all (a bad one raises ``InvalidQuery`` naming it) and finds the key, the
server and the cache folder, so each door only says what it does with them.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditlab.api.client import InventClient
from auditlab.api.credentials import ApiKey, resolve_api_key, resolve_base_url
from auditlab.api.query import Query
from auditlab.cache.files import cache_root
from auditlab.cache.orgs import key_fingerprint
from auditlab.errors import InvalidQuery
from auditlab.group import check_orgs

# The filters and dates among the arguments: Query.build's keywords.
QUERY_ARGUMENTS: tuple[str, ...] = (
    "action", "date_from", "date_to", "user_id", "assistant_id", "workflow_id", "connection_id",
)  # fmt: skip


@dataclass(frozen=True)
class LoadArguments:
    """Checked arguments: the orgs, the query (filters and dates), the server, cache and options.

    ``query`` names the first org; ``options`` are the keywords of
    ``auditlab.load.sync`` (``refresh``, ``grace``, ``verify``, ``clock``).
    The key never shows in the repr.

    >>> from auditlab.load import load_audit_logs
    >>> import inspect
    >>> given = inspect.signature(load_audit_logs).bind(
    ...     ["org_a", "org_b"], action="org.updated", api_key="sk_doc", cache_dir="/tmp/doc")
    >>> given.apply_defaults()
    >>> args = LoadArguments.build(given.arguments)
    >>> args.orgs, args.query.action, args.several
    (('org_a', 'org_b'), 'org.updated', True)
    """

    orgs: tuple[str, ...]
    include_sub_orgs: bool
    query: Query
    root: Path
    base_url: str
    max_concurrency: int
    rate_limit: int
    progress: bool
    options: dict[str, Any]
    api_key: ApiKey = field(repr=False)

    @classmethod
    def build(cls, arguments: Mapping[str, Any]) -> LoadArguments:
        """Return the checked arguments, or raise InvalidQuery naming the first bad one.

        ``arguments`` are ``load_audit_logs``' keywords by name, every one
        given (the front doors pass their ``locals()``).
        """
        orgs = check_orgs(arguments["org_id"], arguments["include_sub_orgs"])
        query = Query.build(orgs[0], **{name: arguments[name] for name in QUERY_ARGUMENTS})
        for name in ("refresh", "verify"):
            if not isinstance(arguments[name], bool):
                raise InvalidQuery(
                    f"{name} must be True or False, not {arguments[name]!r}", parameter=name
                )
        grace, progress, clock = (arguments[name] for name in ("grace", "progress", "clock"))
        if not isinstance(grace, dt.timedelta) or grace < dt.timedelta(0):
            raise InvalidQuery(
                f"grace must be a datetime.timedelta of 0 or more, not {grace!r}",
                parameter="grace",
            )
        if progress is not None and not isinstance(progress, bool):
            raise InvalidQuery(
                f"progress must be True, False or None (automatic), not {progress!r}",
                parameter="progress",
            )
        if not callable(clock):
            raise InvalidQuery(
                f"clock must be a function returning the current datetime, not {clock!r}",
                parameter="clock",
            )
        root = cache_root(arguments["cache_dir"])
        key = ApiKey(resolve_api_key(arguments["api_key"]))
        return cls(
            orgs, arguments["include_sub_orgs"], query, root,
            resolve_base_url(arguments["base_url"]), arguments["max_concurrency"],
            arguments["rate_limit"], wants_progress(progress),
            {name: arguments[name] for name in ("refresh", "grace", "verify", "clock")}, key,
        )  # fmt: skip

    @property
    def several(self) -> bool:
        """Return True when more than one org may be loaded (several given, or sub-orgs asked)."""
        return len(self.orgs) > 1 or self.include_sub_orgs

    @property
    def fingerprint(self) -> str:
        """Return the one-way fingerprint of the key on this server (``key_fingerprint``)."""
        return key_fingerprint(self.api_key.reveal(), self.base_url)

    def client(self) -> InventClient:
        """Return a client for the key and server, with the limits asked for."""
        return InventClient(
            self.api_key.reveal(),
            self.base_url,
            max_concurrency=self.max_concurrency,
            rate_limit=self.rate_limit,
        )


def wants_progress(progress: bool | None) -> bool:
    """Return whether to show a bar: as asked, else in Jupyter or a terminal.

    >>> wants_progress(False)
    False
    """
    if progress is not None:
        return progress
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    in_jupyter = type(shell).__name__ == "ZMQInteractiveShell"
    return in_jupyter or sys.stderr.isatty()
