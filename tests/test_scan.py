"""Lazy access to the cache: auditlab.dataset, auditlab.duckdb, and other engines reading it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow.compute as pc
import pytest
from helpers import NOW, PLANTED_KEY, TODAY, days_before

import auditlab
from auditlab.errors import InvalidQuery
from auditlab.sandbox import serve

UNLIMITED = 1_000_000
PARENT, SUB1 = "org_sandbox", "org_sandbox_sub1"


@pytest.fixture(scope="module")
def cached(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    """Return a sandbox of a parent and one sub-org, and a cache the whole group is synced into."""
    cache = tmp_path_factory.mktemp("cache")
    with serve(api_key=PLANTED_KEY, seed=6, days=14, now=NOW, sub_orgs=1, rate_limit=None) as sb:
        auditlab.sync(include_sub_orgs=True, base_url=sb.base_url, cache_dir=cache,
                      progress=False, rate_limit=UNLIMITED, clock=sb.clock)  # fmt: skip
        yield sb, cache


def ids(server: Any, org: str, **where: Any) -> list[str]:
    """Return the ids of an org's entries, newest first, of one action or from one day on."""
    return [
        e["id"]
        for e in server.orgs[org].entries
        if e["action"] == where.get("action", e["action"])
        and e["created_at"][:10] >= str(where.get("since", ""))
    ]


def test_dataset_holds_every_cached_entry_of_the_org(cached: tuple[Any, Path]) -> None:
    server, cache = cached
    table = auditlab.dataset(PARENT, cache_dir=cache).to_table()
    assert table.schema == auditlab.SCHEMA
    assert table.column("id").to_pylist() == ids(server, PARENT)


def test_dataset_reads_only_the_days_asked_and_pushes_the_action_down(
    cached: tuple[Any, Path],
) -> None:
    server, cache = cached
    since = days_before(3)
    logs = auditlab.dataset(SUB1, date_from=since, cache_dir=cache)
    assert len(logs.files) == 4  # one file a day: 3 days ago .. today
    assert logs.to_table(columns=["id"]).column("id").to_pylist() == ids(server, SUB1, since=since)
    updated = auditlab.dataset(SUB1, action="org.updated", cache_dir=cache)
    assert updated.to_table().column("id").to_pylist() == ids(server, SUB1, action="org.updated")
    assert updated.count_rows(filter=pc.field("source") == "system") == sum(
        e["source"] == "system" for e in server.orgs[SUB1].entries if e["action"] == "org.updated"
    )


def test_c_is_the_org_the_key_synced_and_several_orgs_are_one_dataset(
    cached: tuple[Any, Path],
) -> None:
    server, cache = cached
    own = auditlab.dataset("c", cache_dir=cache, base_url=server.base_url)
    assert own.files == auditlab.dataset(PARENT, cache_dir=cache).files
    both = auditlab.dataset([PARENT, SUB1], cache_dir=cache).to_table(columns=["org_id"])
    assert pc.value_counts(both.column("org_id")).to_pylist() == [
        {"values": PARENT, "counts": len(server.org.entries)},
        {"values": SUB1, "counts": len(server.sub_orgs[0].entries)},
    ]


def test_an_org_with_nothing_cached_is_refused_naming_org_id(cached: tuple[Any, Path]) -> None:
    _, cache = cached
    with pytest.raises(InvalidQuery) as caught:
        auditlab.dataset("org_elsewhere", cache_dir=cache)
    assert caught.value.parameter == "org_id"
    assert "auditlab.sync('org_elsewhere', ...)" in str(caught.value)
    with pytest.raises(InvalidQuery) as caught:
        auditlab.duckdb(SUB1, action="org.renamed", cache_dir=cache)
    assert caught.value.parameter == "action"


def test_duckdb_relation_is_the_same_rows_as_the_dataset(cached: tuple[Any, Path]) -> None:
    server, cache = cached
    relation = auditlab.duckdb(SUB1, action="member.invited", cache_dir=cache)
    got = relation.query("logs", "select id from logs order by created_at desc, id desc")
    assert [row[0] for row in got.fetchall()] == ids(server, SUB1, action="member.invited")


def test_polars_and_duckdb_read_the_cache_as_one_hive_table_with_the_same_rows(
    cached: tuple[Any, Path],
) -> None:
    server, cache = cached
    pattern = str(cache / "org=*" / "day=*" / "*.parquet")
    columns = ["id", "org_id", "created_at", "action", "org", "day"]
    by_polars = (
        pl.scan_parquet(pattern, hive_partitioning=True)
        .select(columns)
        .sort(["created_at", "id"], descending=True)
        .collect()
        .to_pandas()
    )
    by_duckdb = duckdb.sql(
        f"select {', '.join(columns)} from read_parquet('{pattern}', hive_partitioning=true) "
        "order by created_at desc, id desc"
    ).df()
    assert by_polars["id"].tolist() == by_duckdb["id"].tolist()
    assert len(by_polars) == sum(len(org.entries) for org in server.orgs.values())
    assert by_polars["id"].is_unique
    for frame in (by_polars, by_duckdb):
        assert (frame["org"] == frame["org_id"]).all()  # the folder names the org of its rows
        utc_days = frame["created_at"].dt.tz_convert("UTC").dt.date  # DuckDB answers in TZ
        assert (pd.to_datetime(frame["day"]).dt.date == utc_days).all()
    assert str(TODAY) in set(by_duckdb["day"].astype(str))
