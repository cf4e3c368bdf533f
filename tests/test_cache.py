"""The cache on its own: the sync planner, the Parquet store, the manifest, file modes."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from auditlab.cache.files import cache_root, write_atomic
from auditlab.cache.manifest import UNFILTERED, Manifest, filter_fingerprint
from auditlab.cache.orgs import key_fingerprint, org_folder_name, resolve_org_folder
from auditlab.cache.plan import TreeState, last_settled, plan_sync
from auditlab.cache.store import OrgCache, split_by_day
from auditlab.errors import InvalidQuery
from auditlab.frame import entries_to_table
from auditlab.frame.convert import LARGE_TEXT_SCHEMA
from auditlab.sandbox import generate_org

NOW = dt.datetime(2026, 10, 20, 12, tzinfo=dt.UTC)
TODAY = NOW.date()


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def days(*texts: str) -> frozenset[dt.date]:
    return frozenset(day(t) for t in texts)


@pytest.fixture(scope="module")
def org_table() -> pa.Table:
    """Return a 20-day synthetic org as one table (SCHEMA), newest first."""
    return entries_to_table(generate_org(seed=5, days=20, now=NOW).entries)


def same_rows(got: pa.Table, expected: pa.Table) -> bool:
    """Return True when both tables have the same columns and rows in the same order."""
    return got.column_names == expected.column_names and got.to_pylist() == expected.to_pylist()


def rows_between(table: pa.Table, first: dt.date, last: dt.date) -> pa.Table:
    return table.filter((pc.field("date") >= first) & (pc.field("date") <= last))


# --- the planner -------------------------------------------------------------------------


def test_missing_past_days_become_contiguous_runs_and_today_is_fetched_alone() -> None:
    trees = {UNFILTERED: TreeState(days("2026-10-15", "2026-10-16", "2026-10-18"))}
    plan = plan_sync(day("2026-10-14"), day("2026-10-20"), TODAY, trees)
    assert plan.runs == (
        (day("2026-10-19"), day("2026-10-19")),
        (day("2026-10-17"), day("2026-10-17")),
        (day("2026-10-14"), day("2026-10-14")),
    )
    assert plan.today == TODAY
    assert plan.local == dict.fromkeys(days("2026-10-15", "2026-10-16", "2026-10-18"), UNFILTERED)


def test_today_is_fetched_even_when_the_cache_says_it_is_complete() -> None:
    trees = {UNFILTERED: TreeState(days("2026-10-19", "2026-10-20"))}
    plan = plan_sync(day("2026-10-19"), day("2026-10-20"), TODAY, trees)
    assert plan.runs == () and plan.today == TODAY
    assert plan.local == {day("2026-10-19"): UNFILTERED}


def test_date_to_after_today_is_clipped_to_today() -> None:
    plan = plan_sync(day("2026-10-20"), day("2026-12-31"), TODAY, {UNFILTERED: TreeState()})
    assert plan.runs == () and plan.today == TODAY and plan.missing == [TODAY]


def test_a_range_ending_before_today_does_not_fetch_today() -> None:
    plan = plan_sync(day("2026-10-10"), day("2026-10-11"), TODAY, {UNFILTERED: TreeState()})
    assert plan.runs == ((day("2026-10-10"), day("2026-10-11")),) and plan.today is None


def test_unfiltered_tree_answers_a_filtered_query_before_the_filters_own_tree() -> None:
    trees = {
        UNFILTERED: TreeState(days("2026-10-10")),
        "f1": TreeState(days("2026-10-10", "2026-10-11")),
    }
    plan = plan_sync(day("2026-10-10"), day("2026-10-12"), TODAY, trees)
    assert plan.local == {day("2026-10-10"): UNFILTERED, day("2026-10-11"): "f1"}
    assert plan.runs == ((day("2026-10-12"), day("2026-10-12")),)


def test_a_day_in_its_grace_period_is_fetched_live_even_when_cached_complete() -> None:
    now = dt.datetime.combine(TODAY, dt.time(0, 20), tzinfo=dt.UTC)
    yesterday = TODAY - dt.timedelta(days=1)
    trees = {UNFILTERED: TreeState(days("2026-10-17", "2026-10-18", "2026-10-19"))}
    in_grace = plan_sync(day("2026-10-17"), TODAY, TODAY, trees,
                         settled=last_settled(now, dt.timedelta(hours=1)))  # fmt: skip
    assert in_grace.fresh == (yesterday, yesterday) and in_grace.today == TODAY
    assert sorted(in_grace.local) == [day("2026-10-17"), day("2026-10-18")]
    assert in_grace.runs == () and in_grace.missing == [yesterday, TODAY]
    after = plan_sync(day("2026-10-17"), TODAY, TODAY, trees,
                      settled=last_settled(now, dt.timedelta(minutes=10)))  # fmt: skip
    assert after.fresh is None and yesterday in after.local


def test_days_before_the_known_first_day_are_answered_as_empty() -> None:
    trees = {UNFILTERED: TreeState(frozenset(), start=day("2026-10-12"))}
    plan = plan_sync(day("2026-10-01"), day("2026-10-13"), TODAY, trees)
    assert plan.runs == ((day("2026-10-12"), day("2026-10-13")),)
    assert sorted(plan.local) == [day("2026-10-01") + dt.timedelta(n) for n in range(11)]


def test_refresh_answers_nothing_from_the_cache() -> None:
    trees = {UNFILTERED: TreeState(days("2026-10-18", "2026-10-19"), start=day("2026-10-18"))}
    plan = plan_sync(day("2026-10-17"), day("2026-10-20"), TODAY, trees, refresh=True)
    assert plan.local == {}
    assert plan.runs == ((day("2026-10-17"), day("2026-10-19")),) and plan.today == TODAY


def test_runs_longer_than_a_month_are_split_newest_first() -> None:
    plan = plan_sync(day("2026-07-01"), day("2026-10-19"), TODAY, {UNFILTERED: TreeState()})
    assert plan.runs[0] == (day("2026-09-19"), day("2026-10-19"))
    assert all((last - first).days < 31 for first, last in plan.runs)
    covered = sorted(d for first, last in plan.runs for d in _span(first, last))
    assert covered == list(_span(day("2026-07-01"), day("2026-10-19")))


def _span(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(n) for n in range((last - first).days + 1)]


# --- the store ---------------------------------------------------------------------------


def stored(root: Path, org_table: pa.Table, first: str, last: str) -> tuple[OrgCache, pa.Table]:
    """Return a store holding the org's unfiltered rows of first..last, and those rows."""
    store = OrgCache(root, "org_test")
    rows = rows_between(org_table, day(first), day(last))
    store.store_range({}, rows, day(first), day(last), server_count=rows.num_rows, complete=True)
    return store, rows


def test_stored_range_reads_back_exactly_newest_first(tmp_path: Path, org_table: pa.Table) -> None:
    first, last = day("2026-10-08"), day("2026-10-19")
    store, expected = stored(tmp_path, org_table, "2026-10-08", "2026-10-19")
    got = store.read(dict.fromkeys(_span(first, last), UNFILTERED), {})
    assert same_rows(got, expected) and got.schema == LARGE_TEXT_SCHEMA
    assert store.states({})[UNFILTERED].complete == frozenset(_span(first, last))


def test_unfiltered_days_are_filtered_locally_by_action(
    tmp_path: Path, org_table: pa.Table
) -> None:
    first, last = day("2026-10-01"), day("2026-10-19")
    store, rows = stored(tmp_path, org_table, "2026-10-01", "2026-10-19")
    got = store.read(dict.fromkeys(_span(first, last), UNFILTERED), {"action": "assistant.updated"})
    expected = rows.filter(pc.field("action") == "assistant.updated")
    assert got.num_rows > 0 and same_rows(got, expected)


@pytest.mark.parametrize("name", ["user_id", "assistant_id", "workflow_id", "connection_id"])
def test_an_id_filter_is_never_answered_by_the_unfiltered_tree(
    tmp_path: Path, org_table: pa.Table, name: str
) -> None:
    store, _ = stored(tmp_path, org_table, "2026-10-01", "2026-10-19")
    filters = {name: "x_1"}
    assert list(store.states(filters)) == [filter_fingerprint(filters)]
    with_action = {name: "x_1", "action": "chat.deleted"}
    assert list(store.states(with_action)) == [filter_fingerprint(with_action)]
    with pytest.raises(ValueError, match=name):
        store.read({day("2026-10-02"): UNFILTERED}, filters)


def test_an_id_filters_tree_answers_the_same_filter_with_an_action_added(
    tmp_path: Path, org_table: pa.Table
) -> None:
    store = OrgCache(tmp_path, "org_test")
    target = day("2026-10-15")
    rows = rows_between(org_table, target, target)
    user = rows.column("user_id").drop_null()[0].as_py()
    mine = rows.filter(pc.field("user_id") == user)
    store.store_range({"user_id": user}, mine, target, target,
                      server_count=mine.num_rows, complete=True)  # fmt: skip
    both = {"user_id": user, "action": "assistant.updated"}
    states = store.states(both)
    assert list(states) == [filter_fingerprint({"user_id": user}), filter_fingerprint(both)]
    assert states[filter_fingerprint({"user_id": user})].complete == {target}
    by_user = filter_fingerprint({"user_id": user})
    got = store.read({target: by_user}, {"action": "assistant.updated"})
    assert same_rows(got, mine.filter(pc.field("action") == "assistant.updated"))


def test_day_without_entries_is_complete_with_zero_rows_and_no_file(
    tmp_path: Path, org_table: pa.Table
) -> None:
    store = OrgCache(tmp_path, "org_test")
    empty = org_table.slice(0, 0)
    store.store_range(
        {}, empty, day("2026-01-01"), day("2026-01-03"), server_count=0, complete=True
    )
    record = store.manifest().trees[UNFILTERED].days["2026-01-02"]
    assert (record.rows, record.complete, record.sha256) == (0, True, None)
    assert not list(tmp_path.rglob("*.parquet"))
    assert store.states({})[UNFILTERED].complete == days("2026-01-01", "2026-01-02", "2026-01-03")


def test_filtered_range_lives_apart_from_the_unfiltered_tree(
    tmp_path: Path, org_table: pa.Table
) -> None:
    store = OrgCache(tmp_path, "org_test")
    filters = {"action": "chat.deleted"}
    target = day("2026-10-15")
    rows = rows_between(org_table, target, target).filter(pc.field("action") == "chat.deleted")
    store.store_range(filters, rows, target, target, server_count=rows.num_rows, complete=True)
    key = filter_fingerprint(filters)
    assert store.part_path(key, target).is_file()
    assert "_filtered" in store.part_path(key, target).parts
    assert not store.part_path(UNFILTERED, target).exists()
    states = store.states(filters)
    assert states[UNFILTERED].complete == frozenset() and states[key].complete == {target}


def test_a_day_whose_part_is_gone_or_changed_is_no_longer_trusted(
    tmp_path: Path, org_table: pa.Table
) -> None:
    store, _ = stored(tmp_path, org_table, "2026-10-17", "2026-10-19")
    store.part_path(UNFILTERED, day("2026-10-17")).unlink()
    with store.part_path(UNFILTERED, day("2026-10-18")).open("ab") as part:
        part.write(b"x")
    assert store.states({})[UNFILTERED].complete == {day("2026-10-19")}


def test_manifest_records_count_range_time_and_content_hash(
    tmp_path: Path, org_table: pa.Table
) -> None:
    first = day("2026-10-18")
    store, rows = stored(tmp_path, org_table, "2026-10-18", "2026-10-19")
    record = Manifest.load(store.manifest_path, "org_test").trees[UNFILTERED].days["2026-10-18"]
    part = store.part_path(UNFILTERED, first).read_bytes()
    assert record.sha256 == hashlib.sha256(part).hexdigest() and record.size == len(part)
    assert (record.first, record.last, record.server_count) == (
        "2026-10-18",
        "2026-10-19",
        rows.num_rows,
    )
    assert record.rows == rows_between(org_table, first, first).num_rows
    assert dt.datetime.fromisoformat(record.fetched_at).tzinfo is not None


def test_cache_files_are_0600_and_folders_0700(tmp_path: Path, org_table: pa.Table) -> None:
    root = tmp_path / "cache"
    first = day("2026-10-18")
    store, rows = stored(root, org_table, "2026-10-18", "2026-10-19")
    store.store_range({"action": "chat.deleted"}, rows.slice(0, 0), first, first,
                      server_count=0, complete=True)  # fmt: skip
    resolve_org_folder(root, "f" * 24, "c", lambda: {"org": {"id": "org_test"}})
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]}
    assert {m for p, m in modes.items() if p.is_file()} == {0o600}
    assert {m for p, m in modes.items() if p.is_dir()} == {0o700}


def test_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a" / "f.json", b"{}")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["f.json"]


def test_a_write_removes_the_temporary_a_killed_write_of_that_file_left(tmp_path: Path) -> None:
    target = tmp_path / "day=2026-10-14" / "part-0.parquet"
    write_atomic(target, b"old")
    killed = target.parent / ".part-0.parquet.0123456789ab.tmp"
    in_progress = target.parent / ".part-0.parquet.ba9876543210.tmp"
    other_file = target.parent / ".other.parquet.0123456789ab.tmp"
    for temporary in (killed, in_progress, other_file):
        temporary.write_bytes(b"half")
    hour_ago = in_progress.stat().st_mtime - 3600  # on the file system's clock
    for temporary in (killed, other_file):
        os.utime(temporary, (hour_ago, hour_ago))
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in target.parent.iterdir()) == sorted(
        [target.name, in_progress.name, other_file.name]
    )


def test_cache_root_refuses_a_file_naming_the_parameter(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidQuery, match="cache_dir") as caught:
        cache_root(tmp_path / "file")
    assert caught.value.parameter == "cache_dir"


def test_cache_root_comes_from_the_environment_when_not_given(
    private_cache_dir: Path,
) -> None:
    assert cache_root() == private_cache_dir


# --- orgs --------------------------------------------------------------------------------


def test_org_is_resolved_once_and_remembered_under_the_key_fingerprint(tmp_path: Path) -> None:
    asked: list[int] = []

    def newest() -> dict:
        asked.append(1)
        return {"org": {"id": "org_real"}}

    fingerprint = key_fingerprint("sk_one", "http://127.0.0.1:1")
    assert resolve_org_folder(tmp_path, fingerprint, "c", newest) == "org_real"
    assert resolve_org_folder(tmp_path, fingerprint, "c", newest) == "org_real"
    assert len(asked) == 1
    assert (tmp_path / "_keys" / f"{fingerprint}.json").is_file()


def test_org_without_entries_is_kept_under_the_key_fingerprint(tmp_path: Path) -> None:
    fingerprint = key_fingerprint("sk_two", "http://127.0.0.1:1")
    assert resolve_org_folder(tmp_path, fingerprint, "c", lambda: None) == f"key-{fingerprint}"


def test_unsafe_org_ids_become_hashed_folder_names() -> None:
    assert org_folder_name("org_7Qm2") == "org_7Qm2"
    for unsafe in ("../x", "a/b", "_hidden", ".dot", "x" * 200):
        name = org_folder_name(unsafe)
        assert name.startswith("id-") and "/" not in name


def test_rows_are_split_by_utc_day_keeping_their_order(org_table: pa.Table) -> None:
    first, last = day("2026-10-17"), day("2026-10-19")
    rows = rows_between(org_table, first, last)
    shuffled = pa.concat_tables(
        [rows.slice(0, 50), rows.slice(rows.num_rows - 50), rows.slice(50, rows.num_rows - 100)]
    )
    parts = split_by_day(shuffled, first, last)
    assert sorted(parts) == [first, day("2026-10-18"), last]
    for when, part in parts.items():
        assert same_rows(part, rows_between(shuffled, when, when))


def test_rows_dated_outside_the_range_are_not_cached(org_table: pa.Table) -> None:
    rows = rows_between(org_table, day("2026-10-18"), day("2026-10-19"))
    parts = split_by_day(rows, day("2026-10-19"), day("2026-10-19"))
    assert list(parts) == [day("2026-10-19")]
    assert (
        parts[day("2026-10-19")].num_rows
        == rows_between(rows, day("2026-10-19"), day("2026-10-19")).num_rows
    )
