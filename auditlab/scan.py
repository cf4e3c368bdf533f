"""Lazy access to the cache: a pyarrow dataset or a DuckDB relation over the cached days.

For logs too big for a DataFrame: nothing is read until asked, and filters
and column choices are pushed down to the Parquet files. Only the cache is
read, never the server: fill it first with ``auditlab.sync`` (or a load).
The files are the unfiltered tree's, one per cached day, exactly those its
manifest records, so a sync running meanwhile never shows half a day; the
days fetched under a server-side filter (``_filtered``) are not included.

DuckDB is an optional dependency: ``pip install 'auditlab[duckdb]'``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.compute as pc
import pyarrow.dataset as ds

from auditlab.api.credentials import resolve_api_key, resolve_base_url
from auditlab.api.query import Query
from auditlab.cache.files import cache_root
from auditlab.cache.manifest import UNFILTERED
from auditlab.cache.orgs import key_fingerprint, known_org_folder
from auditlab.cache.store import OrgCache
from auditlab.errors import InvalidQuery, MissingAPIKey
from auditlab.frame.schema import SCHEMA
from auditlab.group import check_orgs

if TYPE_CHECKING:
    import duckdb as duckdb_module


def dataset(
    org_id: str | Sequence[str] = "c",
    *,
    date_from: Any = None,
    date_to: Any = None,
    action: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
) -> ds.Dataset:
    """Return a ``pyarrow.dataset.Dataset`` over the cached days of one org or several.

    ``date_from``/``date_to`` choose the days' files, ``action`` filters the
    rows (as a filter the dataset pushes down); further filters and columns
    are the caller's (``to_table(columns=..., filter=...)``). The schema is
    ``auditlab.SCHEMA``. ``api_key`` and ``base_url`` only serve to find
    which org ``c`` is for the key. Raises ``InvalidQuery`` naming
    ``org_id`` for an org with nothing cached.

    >>> from auditlab.sandbox import serve
    >>> import tempfile, auditlab
    >>> cache = tempfile.mkdtemp()
    >>> with serve(api_key="sk_test_doc", days=14) as server:
    ...     _ = auditlab.sync(api_key="sk_test_doc", base_url=server.base_url,
    ...                       cache_dir=cache, progress=False, clock=server.clock)
    ...     logs = dataset("org_sandbox", action="org.updated", cache_dir=cache)
    ...     n = sum(e["action"] == "org.updated" for e in server.org.entries)
    >>> logs.count_rows() == n
    True
    """
    paths, action = _parts(org_id, date_from, date_to, action, cache_dir, api_key, base_url)
    found = ds.dataset(paths, schema=SCHEMA, format="parquet")
    return found if action is None else found.filter(pc.field("action") == action)


def duckdb(
    org_id: str | Sequence[str] = "c",
    *,
    date_from: Any = None,
    date_to: Any = None,
    action: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    connection: duckdb_module.DuckDBPyConnection | None = None,
) -> duckdb_module.DuckDBPyRelation:
    """Return a DuckDB relation over the same files as :func:`dataset`, for SQL where they lie.

    ``connection`` is the DuckDB connection to read on (default: a new
    in-memory one). The analysis tables accept the relation as they accept
    a DataFrame, and aggregate in DuckDB (``auditlab.analysis``).

    >>> from auditlab.sandbox import serve
    >>> import tempfile, auditlab
    >>> cache = tempfile.mkdtemp()
    >>> with serve(api_key="sk_test_doc", days=14) as server:
    ...     _ = auditlab.sync(api_key="sk_test_doc", base_url=server.base_url,
    ...                       cache_dir=cache, progress=False, clock=server.clock)
    ...     logs = duckdb("org_sandbox", cache_dir=cache)
    ...     logs.aggregate("count(*)").fetchall() == [(len(server.org.entries),)]
    True
    """
    engine = require_duckdb()
    paths, action = _parts(org_id, date_from, date_to, action, cache_dir, api_key, base_url)
    connection = engine.connect() if connection is None else connection
    if not paths:
        return connection.from_arrow(SCHEMA.empty_table())
    relation = connection.read_parquet(paths)
    if action is None:
        return relation
    return relation.filter(engine.ColumnExpression("action") == engine.ConstantExpression(action))


def require_duckdb() -> Any:
    """Return the duckdb module, or raise ModuleNotFoundError saying how to install it."""
    try:
        import duckdb as engine
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "DuckDB is not installed: pip install 'auditlab[duckdb]' (or pip install duckdb)",
            name="duckdb",
        ) from None
    return engine


def _parts(
    org_id: str | Sequence[str],
    date_from: Any,
    date_to: Any,
    action: str | None,
    cache_dir: str | os.PathLike[str] | None,
    api_key: str | None,
    base_url: str | None,
) -> tuple[list[str], str | None]:
    """Return the part files of the orgs' cached days in the range, and the action (None: all)."""
    orgs = check_orgs(org_id, False)
    query = Query.build(orgs[0], action=action, date_from=date_from, date_to=date_to)
    root = cache_root(cache_dir)
    fingerprint = _fingerprint(api_key, base_url)
    paths: list[str] = []
    for org in orgs:
        folder = known_org_folder(root, fingerprint, org)
        if folder is None:
            raise InvalidQuery(
                f"org {org!r} has nothing in the cache at {root}; fill it first with "
                f"auditlab.sync({org!r}, ...) or 'auditlab sync --org {org}'",
                parameter="org_id",
            )
        paths.extend(str(path) for path in _days(OrgCache(root, folder), query))
    return paths, query.action


def _days(store: OrgCache, query: Query) -> list[Path]:
    """Return the unfiltered tree's part files of the query's days, newest first."""
    tree = store.manifest().trees.get(UNFILTERED)
    low = query.date_from.isoformat() if query.date_from else ""
    high = query.date_to.isoformat() if query.date_to else "9999"
    days = sorted((day for day, record in (tree.days.items() if tree else ()) if record.rows
                   and low <= day <= high), reverse=True)  # fmt: skip
    return [store.part_path(UNFILTERED, dt.date.fromisoformat(day)) for day in days]


def _fingerprint(api_key: str | None, base_url: str | None) -> str | None:
    """Return the key's fingerprint on the server, None when no key is at hand."""
    try:
        return key_fingerprint(resolve_api_key(api_key), resolve_base_url(base_url))
    except MissingAPIKey:
        return None
