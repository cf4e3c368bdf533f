"""Where a notebook's audit log comes from: Invent (or a given server), or the sandbox.

A notebook never takes an API key as a parameter (papermill writes parameters
into the executed notebook). With no ``INVENT_API_KEY`` (environment or
``.env``) and no base URL, the notebook serves the built-in synthetic org
instead, and says so.
"""

from __future__ import annotations

import contextlib
import html
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from auditlab.api.credentials import (
    DOTENV_NAME,
    api_key_source,
    dotenv_folders,
    resolve_api_key,
    resolve_base_url,
)
from auditlab.api.query import Query
from auditlab.environment import API_KEY_VARIABLE, BASE_URL_VARIABLE
from auditlab.errors import MissingAPIKey
from auditlab.report.scope import Scope


@dataclass
class DataSource:
    """The server a notebook reads from; ``sandbox`` is set when it is the built-in one.

    Close it (or use it as a context manager) to stop a sandbox it started.
    """

    base_url: str
    sandbox: Any = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack, repr=False)

    @property
    def is_sandbox(self) -> bool:
        """Return True when the data is the built-in synthetic org."""
        return self.sandbox is not None

    def notice_html(self) -> str:
        """Return one HTML paragraph saying where the data (and the API key) come from.

        For Invent it names where the key was found (the environment variable
        or the ``.env`` file read); for the sandbox, where it was looked for.
        """
        if self.is_sandbox:
            ends = dict.fromkeys([dotenv_folders()[0], dotenv_folders()[-1]])
            searched = " up to ".join(f"<code>{html.escape(str(f))}</code>" for f in ends)
            return (
                f"<p><strong>Sandbox data.</strong> No <code>{API_KEY_VARIABLE}</code> was set "
                f"(neither in the environment nor in a <code>{DOTENV_NAME}</code> file in "
                f"{searched}) and no base URL was given, so this notebook started auditlab's "
                "built-in sandbox and reads its synthetic organisation "
                f"(<code>{html.escape(self.sandbox.org.org_id)}</code>, seed "
                f"{self.sandbox.org.seed}) at <code>{html.escape(self.base_url)}</code>. "
                f"Set <code>{API_KEY_VARIABLE}</code> to report on a real organisation.</p>"
            )
        found = api_key_source()
        key = f"; API key from <code>{html.escape(found)}</code>" if found else ""
        return f"<p>Data source: <code>{html.escape(self.base_url)}</code>{key}.</p>"

    @property
    def loader_arguments(self) -> dict[str, Any]:
        """Return ``base_url`` and ``api_key`` for ``load_audit_logs`` (the key: sandbox only).

        For Invent the key stays None, so the loader reads it from the
        environment and it never passes through a notebook variable.
        """
        return {
            "base_url": self.base_url,
            "api_key": self.sandbox.api_key if self.is_sandbox else None,
        }

    def load(self, scope: Scope, *, cache_dir: str | Path | None = None) -> pd.DataFrame:
        """Return the scope's entries through the loader (and its cache), newest first.

        The server is asked ``scope.query``; ``scope.keep`` then keeps what the
        scope covers.
        """
        return scope.keep(self._load(scope, scope.query, cache_dir))

    def load_history(self, scope: Scope, *, cache_dir: str | Path | None = None) -> pd.DataFrame:
        """Return every entry from ``scope.history_from`` (else the org's first day) to its end.

        The access review reads roles from these; the cache keeps them, so
        only the first review of an org fetches its whole history.
        """
        return self._load(scope, scope.history_query, cache_dir)

    def _load(self, scope: Scope, query: Query, cache_dir: str | Path | None) -> pd.DataFrame:
        from auditlab.load import load_audit_logs

        return load_audit_logs(
            scope.org_ids_argument,
            include_sub_orgs=scope.include_sub_orgs,
            action=query.action,
            date_from=query.date_from,
            date_to=query.date_to,
            cache_dir=cache_dir,
            progress=False,
            **self.loader_arguments,
        )

    def close(self) -> None:
        """Stop the sandbox if this source started one."""
        self._stack.close()

    def __enter__(self) -> DataSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(base_url: str | None = None, *, days: int = 180) -> DataSource:
    """Return the data source: ``base_url`` or Invent when a key is set, else a new sandbox.

    The sandbox serves ``days`` days of the default synthetic org (seed 0) on
    127.0.0.1 until the source is closed.

    >>> with open_source("http://127.0.0.1:8787") as source:
    ...     source.base_url, source.is_sandbox
    ('http://127.0.0.1:8787', False)
    """
    if base_url is not None or os.environ.get(BASE_URL_VARIABLE) or _has_api_key():
        return DataSource(resolve_base_url(base_url))
    from auditlab.sandbox import serve

    stack = contextlib.ExitStack()
    sandbox = stack.enter_context(serve(days=days))
    return DataSource(sandbox.base_url, sandbox, stack)


def _has_api_key() -> bool:
    try:
        resolve_api_key()
    except MissingAPIKey:
        return False
    return True
