"""Several orgs at once: load_audit_logs of a list or with sub-orgs, auditlab.sync, the listing."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pandas as pd
import pytest
import time_machine
from helpers import NOW, PLANTED_KEY, TODAY, days_before, files_containing_key

import auditlab
from auditlab import fill, load_audit_logs
from auditlab.api.client import InventClient
from auditlab.api.query import Query
from auditlab.api.retry import RetryPolicy
from auditlab.cache.orgs import key_fingerprint
from auditlab.cache.plan import day_range
from auditlab.cli import main
from auditlab.errors import AuthError, FetchIncomplete, InvalidQuery, NotFound
from auditlab.frame import entries_to_table, table_to_frame
from auditlab.group import load_orgs
from auditlab.sandbox import serve

UNLIMITED = 1_000_000
PARENT, SUB1, SUB2, SUB3 = "org_sandbox", "org_sandbox_sub1", "org_sandbox_sub2", "org_sandbox_sub3"
QUICK = RetryPolicy(max_attempts=2, jitter=False, sleep=lambda seconds: None)


@pytest.fixture(scope="module")
def group() -> Iterator[Any]:
    """Return a sandbox of a parent and three sub-orgs, 14 days each, with no rate limit."""
    with serve(api_key=PLANTED_KEY, seed=2, days=14, now=NOW, sub_orgs=3, rate_limit=None) as sb:
        yield sb


@pytest.fixture
def stats(group: Any) -> Any:
    group.stats.reset()
    return group.stats


def load(server: Any, org_id: Any = "c", **arguments: Any) -> pd.DataFrame:
    arguments = {"base_url": server.base_url, "progress": False, "rate_limit": UNLIMITED,
                 "clock": server.clock, **arguments}  # fmt: skip
    return load_audit_logs(org_id, **arguments)


def truth(server: Any, orgs: list[str], first: dt.date | None = None) -> pd.DataFrame:
    """Return the frame of these orgs' entries from ``first`` on, newest first, orgs in order."""
    entries = [
        entry
        for org in orgs
        for entry in server.orgs[org].entries
        if first is None or entry["created_at"][:10] >= first.isoformat()
    ]
    entries.sort(key=lambda entry: entry["created_at"], reverse=True)  # stable: orgs in order
    return as_text(table_to_frame(entries_to_table(entries)))


def as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Return df with categoricals as text: frames of different row sets differ in categories."""
    return df.apply(lambda c: c.astype("str") if isinstance(c.dtype, pd.CategoricalDtype) else c)


def ranges_asked(stats: Any) -> Counter[tuple[str, str]]:
    """Return how many ranges the server was asked for, by (from, to): page-1 requests."""
    asked: Counter[tuple[str, str]] = Counter()
    for query, times in stats.queries.items():
        params = {k: v[0] for k, v in parse_qs(query).items()}
        if "from" in params and params.get("page") == "1" and params.get("take") == "100":
            asked[params["from"], params.get("to", "")] += times
    return asked


def cached_orgs(cache: Path) -> list[str]:
    return sorted(p.name.removeprefix("org=") for p in cache.glob("org=*"))


def test_a_list_of_orgs_is_one_frame_newest_first_told_apart_by_org_columns(group: Any) -> None:
    df = load(group, [SUB2, SUB1])
    assert df.index.tolist() == list(range(len(df)))
    pd.testing.assert_frame_equal(as_text(df), truth(group, [SUB2, SUB1]))
    names = df.groupby("org_id", observed=True)["org_name"].unique().map(list).to_dict()
    assert names == {org: [group.orgs[org].org["name"]] for org in (SUB1, SUB2)}


def test_include_sub_orgs_loads_the_parent_and_every_sub_org_each_in_its_own_cache(
    group: Any, private_cache_dir: Path
) -> None:
    df = load(group, include_sub_orgs=True)
    pd.testing.assert_frame_equal(as_text(df), truth(group, [PARENT, SUB1, SUB2, SUB3]))
    assert cached_orgs(private_cache_dir) == [PARENT, SUB1, SUB2, SUB3]
    assert files_containing_key(private_cache_dir) == []


def test_orgs_loaded_together_cost_the_requests_of_one_by_one_plus_the_listing(
    group: Any, stats: Any, tmp_path: Path
) -> None:
    alone = 0
    for org in (PARENT, SUB1, SUB2, SUB3):
        load(group, org, cache_dir=tmp_path / org)
        alone += stats.requests
        stats.reset()
    load(group, include_sub_orgs=True, cache_dir=tmp_path / "together")
    assert stats.requests == alone + 1  # one listing page: three sub-orgs


def test_a_second_load_of_the_group_asks_only_for_today_in_each_org(group: Any, stats: Any) -> None:
    first = days_before(5)
    load(group, include_sub_orgs=True, date_from=first)
    stats.reset()
    df = load(group, include_sub_orgs=True, date_from=first)
    assert ranges_asked(stats) == {(str(TODAY), str(TODAY)): 4}
    pd.testing.assert_frame_equal(as_text(df), truth(group, [PARENT, SUB1, SUB2, SUB3], first))


def test_one_progress_bar_counts_every_org(group: Any, capsys: pytest.CaptureFixture[str]) -> None:
    df = load(group, [SUB1, SUB3], progress=True)
    bars = capsys.readouterr().err
    assert bars.count("audit-log entries: 0 entries") == 1  # one bar was opened
    assert f"audit-log entries: {len(df)} entries" in bars  # and it counted both orgs


def test_an_org_the_key_cannot_see_leaves_the_others_loaded_and_names_its_days(
    group: Any, stats: Any
) -> None:
    first = days_before(3)
    with pytest.raises(FetchIncomplete) as caught:
        load(group, [SUB1, "org_elsewhere"], date_from=first)
    days = tuple(day_range(first, TODAY))
    assert caught.value.orgs == {"org_elsewhere": days}
    assert caught.value.days == days
    message = str(caught.value)
    assert f"org 'org_elsewhere' (days {first}..{TODAY}, NotFound: " in message
    assert SUB1 not in message and PLANTED_KEY not in message
    stats.reset()
    load(group, SUB1, date_from=first)  # the other org was cached whole: only today is asked
    assert ranges_asked(stats) == {(str(TODAY), str(TODAY)): 1}


def test_an_org_whose_log_is_down_is_named_with_its_days_and_resumes_alone(
    private_cache_dir: Path,
) -> None:
    first = days_before(4)
    with serve(api_key=PLANTED_KEY, seed=3, days=14, now=NOW, sub_orgs=2, rate_limit=None,
               down=(SUB2,)) as server:  # fmt: skip
        fingerprint = key_fingerprint(PLANTED_KEY, server.base_url)
        query = Query.build(date_from=first)
        with InventClient(PLANTED_KEY, server.base_url, retry=QUICK) as client:
            with pytest.raises(FetchIncomplete) as caught:
                load_orgs(client, query, ["c"], private_cache_dir, fingerprint,
                          include_sub_orgs=True, clock=server.clock)  # fmt: skip
            assert caught.value.orgs == {SUB2: tuple(day_range(first, TODAY))}
            assert f"org '{SUB2}' (days {first}..{TODAY}, RetriesExhausted" in str(caught.value)
            assert cached_orgs(private_cache_dir) == [PARENT, SUB1]

            server.server.knobs = replace(server.server.knobs, down=frozenset())
            server.stats.reset()
            table = load_orgs(client, query, ["c"], private_cache_dir, fingerprint,
                              include_sub_orgs=True, clock=server.clock)  # fmt: skip
        assert ranges_asked(server.stats) == {
            (str(first), str(days_before(1))): 1,  # the org that was down: its past days
            (str(TODAY), str(TODAY)): 3,  # and today, in every org
        }
        assert as_text(table_to_frame(table)).equals(truth(server, [PARENT, SUB1, SUB2], first))


def test_a_refused_key_ends_the_whole_load_at_once(group: Any, stats: Any) -> None:
    with pytest.raises(AuthError) as caught:
        load(group, [SUB1, SUB2], api_key="sk_live_not_this_one")
    assert caught.value.status_code == 401


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"org_id": []}, "org_id"),
        ({"org_id": ["org_a", 7]}, "org_id"),
        ({"org_id": ["org_a", "bad/id"]}, "org_id"),
        ({"org_id": "org_a", "include_sub_orgs": "yes"}, "include_sub_orgs"),
    ],
)
def test_bad_orgs_are_refused_before_any_request(
    group: Any, stats: Any, arguments: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(InvalidQuery) as caught:
        load(group, **arguments)
    assert caught.value.parameter == parameter
    assert stats.requests == 0


def test_sync_fills_the_cache_without_a_frame_and_a_load_then_asks_only_for_today(
    group: Any, stats: Any
) -> None:
    first = days_before(6)
    arguments = {"base_url": group.base_url, "progress": False, "rate_limit": UNLIMITED,
                 "clock": group.clock, "date_from": first}  # fmt: skip
    done = auditlab.sync([SUB1, SUB3], **arguments)
    expected = truth(group, [SUB1, SUB3], first)
    assert [(d.org_id, d.folder, d.first, d.last, d.fetched_days) for d in done] == [
        (SUB1, SUB1, first, TODAY, 7),
        (SUB3, SUB3, first, TODAY, 7),
    ]
    assert sum(d.entries for d in done) == len(expected)
    stats.reset()
    df = load_audit_logs([SUB1, SUB3], **arguments)
    assert ranges_asked(stats) == {(str(TODAY), str(TODAY)): 2}
    pd.testing.assert_frame_equal(as_text(df), expected)
    again = auditlab.sync([SUB1, SUB3], **arguments)
    today = [sum(e["created_at"][:10] == TODAY.isoformat() for e in group.orgs[org].entries)
             for org in (SUB1, SUB3)]  # fmt: skip
    assert [(d.fetched_days, d.entries) for d in again] == [(1, n) for n in today]


def test_sync_cuts_the_missing_days_into_ranges_of_about_entries_per_range(
    group: Any, stats: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fill, "ENTRIES_PER_RANGE", 500)
    first, yesterday = days_before(10), days_before(1)
    auditlab.sync(SUB2, date_from=first, base_url=group.base_url, progress=False,
                  rate_limit=UNLIMITED, clock=group.clock)  # fmt: skip
    past = sum(first.isoformat() <= e["created_at"][:10] < str(TODAY)
               for e in group.orgs[SUB2].entries)  # fmt: skip
    days = int(500 // (past / 10))
    assert 1 < days < 10  # a range of a few days, not the whole run
    expected, high = [], yesterday
    while high >= first:  # newest first, `days` days each, the oldest range what is left
        low = max(first, high - dt.timedelta(days=days - 1))
        expected.append((str(low), str(high)))
        high = low - dt.timedelta(days=1)
    asked = [span for span in ranges_asked(stats) if span[1] != str(TODAY)]
    assert sorted(asked) == sorted(expected)
    assert stats.queries[f"from={first}&to={yesterday}&page=1&take=1"] == 1  # the one count


def test_sync_on_the_command_line_says_what_each_org_got(
    group: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    first, wall_today = days_before(2), TODAY + dt.timedelta(days=1)
    # The command reads the wall clock: a day on, every day of the pinned org is past.
    with time_machine.travel((NOW + dt.timedelta(days=1)).timestamp(), tick=True):
        status = main(["sync", "--base-url", group.base_url, "--no-progress", "--sub-orgs",
                       "--org", SUB3, "--from", first.isoformat()])  # fmt: skip
    assert status == 0
    rows = sum(e["created_at"][:10] >= first.isoformat() for e in group.orgs[SUB3].entries)
    days = (wall_today - first).days + 1
    said = f"org {SUB3} (cached as org={SUB3}): {first}..{wall_today}, {days} day(s) fetched"
    assert capsys.readouterr().out == f"{said}, {rows:,} entries\n"


def test_list_sub_orgs_is_one_row_per_sub_org_and_member(group: Any, stats: Any) -> None:
    orgs = auditlab.list_sub_orgs(base_url=group.base_url)
    assert stats.requests == 1
    assert orgs.columns.tolist() == [
        "org_id", "org_name", "org_plan", "org_created_at", "member_id", "member_role",
        "member_status", "member_user_id", "member_user_name", "member_user_email",
    ]  # fmt: skip
    expected = [
        (child.org_id, child.org["name"], person.id, person.role)
        for child in group.sub_orgs
        for person in child.people
        if person.kind == "person"
    ]
    got = orgs[["org_id", "org_name", "member_user_id", "member_role"]]
    assert list(got.itertuples(index=False, name=None)) == expected
    assert str(orgs["org_created_at"].dtype) == "datetime64[us, UTC]"
    assert set(orgs["member_status"]) == {"ACTIVE", "REMOVED"}


def test_list_sub_orgs_of_a_sub_org_is_empty_and_of_an_unknown_org_not_found(group: Any) -> None:
    leaf = auditlab.list_sub_orgs(SUB1, base_url=group.base_url)
    assert leaf.empty and leaf.columns[0] == "org_id"
    with pytest.raises(NotFound):
        auditlab.list_sub_orgs("org_elsewhere", base_url=group.base_url)
    with pytest.raises(InvalidQuery) as caught:
        auditlab.list_sub_orgs("../etc", base_url=group.base_url)
    assert caught.value.parameter == "org_id"
