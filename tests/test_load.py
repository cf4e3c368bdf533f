"""load_audit_logs over real HTTP against the sandbox: exact truth, cost, faults, kill, keys."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import duckdb
import httpx2
import orjson
import pandas as pd
import pytest
from helpers import NOW, PLANTED_KEY, TODAY, days_before, files_containing_key

import auditlab
from auditlab import load_audit_logs
from auditlab.api.client import InventClient
from auditlab.api.query import Query
from auditlab.api.ratelimit import RateLimiter
from auditlab.api.retry import RetryPolicy
from auditlab.cache.orgs import key_fingerprint
from auditlab.cache.plan import day_range
from auditlab.errors import FetchIncomplete, InvalidQuery, NotFound
from auditlab.frame import entries_to_table, table_to_frame
from auditlab.frame.schema import COLUMN_NAMES
from auditlab.load import sync
from auditlab.sandbox import serve

NO_WAIT = RetryPolicy(max_attempts=30, jitter=False, sleep=lambda seconds: None)
DAYS = 30
UNLIMITED = 1_000_000


YESTERDAY = days_before(1)


def truth(
    entries: list[dict[str, Any]], first: dt.date | None = None, last: dt.date | None = None
) -> pd.DataFrame:
    """Return the frame of the server's entries dated first..last, newest first."""
    low = first.isoformat() if first else ""
    high = last.isoformat() if last else "9999"
    return table_to_frame(
        entries_to_table([e for e in entries if low <= e["created_at"][:10] <= high])
    )


def assert_same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert got["id"].tolist() == expected["id"].tolist()
    assert got.equals(expected)


def categories_as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Return a slice of a frame renumbered 0..n-1 with categoricals as plain text.

    A slice keeps the categories of the whole frame, so slices are compared by value.
    """
    return df.reset_index(drop=True).apply(
        lambda c: c.astype("str") if isinstance(c.dtype, pd.CategoricalDtype) else c
    )


def queried_days(stats: Any) -> set[dt.date]:
    """Return every day covered by a dated audit-log query the server answered."""
    covered: set[dt.date] = set()
    for query in stats.queries:
        params = parse_qs(query)
        if "from" in params and "to" in params:
            first, last = (dt.date.fromisoformat(params[n][0]) for n in ("from", "to"))
            covered.update(day_range(first, last))
    return covered


def load(server: Any, **arguments: Any) -> pd.DataFrame:
    # The sandbox has no limit, and the client's limiter is shared by every load
    # in this process: at Invent's 500/min this module's loads would wait for real.
    arguments = {
        "base_url": server.base_url,
        "progress": False,
        "rate_limit": UNLIMITED,
        "clock": server.clock,
        **arguments,
    }
    return load_audit_logs(**arguments)


def sync_frame(server: Any, cache: Path, *, retry: RetryPolicy = NO_WAIT, **query: Any) -> Any:
    """Return load's frame through sync() with our own retry policy (no real waiting)."""
    with InventClient(PLANTED_KEY, server.base_url, retry=retry) as client:
        fingerprint = key_fingerprint(PLANTED_KEY, server.base_url)
        rows = sync(client, Query.build(**query), cache, fingerprint, clock=server.clock)
        return table_to_frame(rows)


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    """Return a well-behaved sandbox (no rate limit, so tests never wait) of DAYS days."""
    with serve(api_key=PLANTED_KEY, seed=7, days=DAYS, now=NOW, rate_limit=None) as running:
        yield running


@pytest.fixture
def stats(server: Any) -> Any:
    server.stats.reset()
    return server.stats


# --- the plain paths ---------------------------------------------------------------------


def test_cold_load_equals_the_truth_at_about_one_request_per_hundred_entries(
    server: Any, stats: Any
) -> None:
    df = load(server)
    assert_same(df, truth(server.org.entries))
    pages = math.ceil(len(server.org.entries) / 100)
    # + 2 to find the first day, <= 1 per run, the fresh days' and today's page edges
    assert pages <= stats.requests <= pages + 6
    assert list(df.columns) == list(COLUMN_NAMES)
    assert df.index.equals(pd.RangeIndex(len(df)))


def test_a_first_load_finds_the_org_on_pages_it_fetches_anyway_and_asks_no_page_twice(
    server: Any, stats: Any
) -> None:
    load(server)
    assert "page=1&take=1" not in stats.queries  # no request for the org's newest entry alone
    assert set(stats.queries.values()) == {1}


def test_second_identical_call_sends_requests_for_today_only(server: Any, stats: Any) -> None:
    load(server)
    stats.reset()
    df = load(server)
    assert queried_days(stats) == {TODAY}
    assert all(parse_qs(q)["from"] == [TODAY.isoformat()] for q in stats.queries)
    assert_same(df, truth(server.org.entries))


def test_past_range_loaded_twice_costs_no_request_the_second_time(server: Any, stats: Any) -> None:
    first, last = days_before(12), days_before(3)
    load(server, date_from=first, date_to=last)
    stats.reset()
    df = load(server, date_from=first, date_to=last)
    assert stats.requests == 0
    assert_same(df, truth(server.org.entries, first, last))


def test_cached_days_between_fetched_runs_come_back_in_order(server: Any, stats: Any) -> None:
    middle = (days_before(12), days_before(3))
    load(server, date_from=middle[0], date_to=middle[1])
    stats.reset()
    first = days_before(20)
    df = load(server, date_from=first)
    fetched = set(day_range(first, TODAY)) - set(day_range(*middle))
    assert queried_days(stats) == fetched
    assert_same(df, truth(server.org.entries, first))


def test_refresh_fetches_every_day_again(server: Any, stats: Any) -> None:
    first = days_before(10)
    load(server, date_from=first)
    stats.reset()
    df = load(server, date_from=first, refresh=True)
    assert queried_days(stats) == set(day_range(first, TODAY))
    assert_same(df, truth(server.org.entries, first))


def test_range_is_clipped_to_today_and_a_future_range_is_empty(server: Any, stats: Any) -> None:
    first = days_before(2)
    df = load(server, date_from=first, date_to=TODAY + dt.timedelta(days=30))
    assert_same(df, truth(server.org.entries, first))
    stats.reset()
    future = load(server, date_from=TODAY + dt.timedelta(days=1))
    assert len(future) == 0 and list(future.columns) == list(COLUMN_NAMES)
    assert stats.requests == 0


@pytest.mark.parametrize(
    ("filters", "asks_the_server"),
    [
        ({"action": "assistant.updated"}, False),
        ({"user_id": "from the data"}, True),
        ({"assistant_id": "from the data"}, True),
        ({"action": "assistant.updated", "user_id": "from the data"}, True),
    ],
    ids=["action", "user_id", "assistant_id", "action+user_id"],
)
def test_filtered_query_equals_the_server_filtered_one_and_only_action_is_derived_locally(
    server: Any, stats: Any, filters: dict[str, str], asks_the_server: bool
) -> None:
    newest = next(e for e in server.org.entries if e.get("user") and e.get("assistant"))
    values = {"user_id": newest["user"]["id"], "assistant_id": newest["assistant"]["id"]}
    filters = {name: values.get(name, value) for name, value in filters.items()}
    load(server, date_to=YESTERDAY)
    stats.reset()
    df = load(server, date_to=YESTERDAY, **filters)
    filtered = [parse_qs(q) for q in stats.queries if "from=" in q]
    assert bool(filtered) == asks_the_server
    assert all(p.get(name) == [value] for p in filtered for name, value in filters.items())
    stats.reset()
    again = load(server, date_to=YESTERDAY, **filters)
    assert stats.requests == 0  # the filter's own tree now holds every past day
    first = truth(server.org.entries)["date"].min().date()
    with InventClient(base_url=server.base_url, retry=NO_WAIT) as client:
        answer = client.fetch(
            Query.build(date_from=first, date_to=YESTERDAY, **filters), live=False
        )
    assert answer.complete and len(answer.entries) > 0
    assert_same(df, table_to_frame(entries_to_table(answer.entries)))
    assert_same(again, df)


def test_cold_filtered_query_is_fetched_filtered_and_kept_out_of_the_hive_tree(
    server: Any, stats: Any, private_cache_dir: Path
) -> None:
    df = load(server, action="chat.deleted")
    assert all("action=chat.deleted" in query for query in stats.queries if "from=" in query)
    expected = [e for e in server.org.entries if e["action"] == "chat.deleted"]
    assert_same(df, table_to_frame(entries_to_table(expected)))
    assert not list(private_cache_dir.glob("org=*/day=*/*.parquet"))
    assert list(private_cache_dir.glob("org=*/_filtered/*/day=*/*.parquet"))


def test_duckdb_reads_the_cache_as_the_same_rows(server: Any, private_cache_dir: Path) -> None:
    df = load(server, date_to=YESTERDAY)
    load(server, date_to=YESTERDAY, action="chat.deleted")  # must not show up twice
    pattern = str(private_cache_dir / "*" / "*" / "*.parquet")
    seen = duckdb.sql(
        f"select id, created_at, action, user_id, org, day "
        f"from read_parquet('{pattern}', hive_partitioning=true) "
        "order by created_at desc, id"
    ).df()
    assert seen["id"].is_unique and len(seen) == len(df)
    mine = df.sort_values(["created_at", "id"], ascending=[False, True], ignore_index=True)
    for column in ("id", "action", "user_id"):
        assert seen[column].astype(str).tolist() == mine[column].astype(str).tolist(), column
    # DuckDB shows instants in the session's time zone (TZ): compare them as instants
    assert pd.to_datetime(seen["created_at"], utc=True).tolist() == mine["created_at"].tolist()
    assert set(seen["org"]) == {server.org.org_id}
    assert (pd.to_datetime(seen["day"]).dt.date == mine["date"].dt.date).all()


def test_cache_files_are_private(server: Any, private_cache_dir: Path) -> None:
    load(server)
    load(server, action="chat.deleted")
    paths = [private_cache_dir, *private_cache_dir.rglob("*")]
    assert {p.stat().st_mode & 0o777 for p in paths if p.is_file()} == {0o600}
    assert {p.stat().st_mode & 0o777 for p in paths if p.is_dir()} == {0o700}


def test_key_never_reaches_cache_files_logs_or_errors(
    server: Any, private_cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        load(server)
        load(server, user_id="usr_nobody", refresh=True)
        with pytest.raises(InvalidQuery) as caught:
            load(server, action="not.an.action")
    assert files_containing_key(private_cache_dir) == []
    assert PLANTED_KEY not in caplog.text
    assert PLANTED_KEY not in str(caught.value) and PLANTED_KEY not in repr(caught.value)


def test_two_orgs_behind_c_sharing_one_cache_folder_never_see_each_other(
    private_cache_dir: Path,
) -> None:
    key_a, key_b = "sk_live_org_alpha_key", "sk_live_org_beta_key"
    with (
        serve(api_key=key_a, org_id="org_alpha", seed=21, days=14, now=NOW,
              rate_limit=None) as alpha,
        serve(api_key=key_b, org_id="org_beta", seed=22, days=14, now=NOW,
              rate_limit=None) as beta,
    ):
        for _ in range(2):  # cold, then warm
            got_a = load(alpha, api_key=key_a)
            got_b = load(beta, api_key=key_b)
            assert_same(got_a, truth(alpha.org.entries))
            assert_same(got_b, truth(beta.org.entries))
            assert not set(got_a["id"]) & set(got_b["id"])
    folders = sorted(p.name for p in private_cache_dir.glob("org=*"))
    assert folders == ["org=org_alpha", "org=org_beta"]


def test_explicit_org_id_shares_the_cache_of_c_after_one_lookup(server: Any, stats: Any) -> None:
    load(server)
    stats.reset()
    df = load(server, org_id=server.org.org_id)
    lookups = [q for q in stats.queries if "from=" not in q]
    assert len(lookups) == 1 and queried_days(stats) == {TODAY}
    assert_same(df, truth(server.org.entries))


def test_an_org_the_key_cannot_see_raises_not_found_and_caches_nothing(
    server: Any, private_cache_dir: Path
) -> None:
    with pytest.raises(NotFound, match="org_elsewhere"):
        load(server, org_id="org_elsewhere")
    assert not list(private_cache_dir.glob("org=*"))


# --- a misbehaving server ----------------------------------------------------------------


def test_exact_through_server_errors_and_cut_bodies(private_cache_dir: Path) -> None:
    with serve(api_key=PLANTED_KEY, seed=8, days=20, now=NOW, rate_limit=None,
               fault_rate=0.25, cut_rate=0.15) as server:  # fmt: skip
        df = sync_frame(server, private_cache_dir)
        assert server.stats.server_errors > 0 and server.stats.cuts > 0
        assert_same(df, truth(server.org.entries))


def test_unknown_actions_and_extra_fields_survive_the_cache(private_cache_dir: Path) -> None:
    with serve(api_key=PLANTED_KEY, seed=12, days=14, now=NOW, rate_limit=None,
               chaos=0.05) as server:  # fmt: skip
        df = sync_frame(server, private_cache_dir)
        again = sync_frame(server, private_cache_dir)
        expected = truth(server.org.entries)
    assert expected["extra_fields"].notna().any()
    assert not set(expected["action"].dropna()) <= set(auditlab.ACTIONS)
    assert_same(df, expected)
    assert_same(again, expected)


class FakeClock:
    """A clock both the server's limiter and the client's waits share: waiting is instant."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_exact_through_429s_honouring_retry_after(private_cache_dir: Path) -> None:
    clock = FakeClock()
    retry = RetryPolicy(max_attempts=30, jitter=False, sleep=clock.sleep)
    with serve(api_key=PLANTED_KEY, seed=9, days=14, now=NOW, rate_limit=8) as server:
        server.server.limiter.clock = clock
        with InventClient(PLANTED_KEY, server.base_url, retry=retry,
                          limiter=RateLimiter(10_000, clock=clock, sleep=clock.sleep),
                          max_concurrency=2) as client:  # fmt: skip
            fingerprint = key_fingerprint(PLANTED_KEY, server.base_url)
            rows = sync(client, Query.build(), private_cache_dir, fingerprint, clock=server.clock)
            df = table_to_frame(rows)
        assert server.stats.rate_limited > 0
        assert_same(df, truth(server.org.entries))


def test_live_appends_during_paging_give_today_as_it_was_at_one_instant(
    private_cache_dir: Path,
) -> None:
    late = dt.datetime.combine(TODAY, dt.time(23, 59), tzinfo=dt.UTC)
    with serve(api_key=PLANTED_KEY, seed=3, days=14, scale=3.0, now=late, live=7,
               rate_limit=None) as server:  # fmt: skip
        df = sync_frame(server, private_cache_dir)
        snapshot = list(server.org.entries)  # the server may still append after our last page
    assert server.stats.live_added > 0
    past = categories_as_text(df[df["date"].dt.date < TODAY])
    assert_same(past, categories_as_text(truth(snapshot, last=YESTERDAY)))
    now_today = truth(snapshot, TODAY, TODAY)
    got_today = by_time_then_id(df[df["date"].dt.date == TODAY])
    missed = len(now_today) - len(got_today)  # arrived after our last page of today
    assert missed >= 0 and len(got_today) > 300
    # Hundreds of live entries share one second here; the order within a
    # second is the server's own, so today is compared second by second.
    assert_same(got_today, by_time_then_id(truth(snapshot[missed:], TODAY, TODAY)))


def by_time_then_id(df: pd.DataFrame) -> pd.DataFrame:
    ordered = df.sort_values(["created_at", "id"], ascending=False)
    return categories_as_text(ordered)


class FailAfter(httpx2.BaseTransport):
    """Real HTTP to the sandbox; after ``after`` requests the sandbox answers only 5xx."""

    def __init__(self, server: Any, after: int) -> None:
        self.server, self.after, self.sent = server, after, 0
        self.inner = httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        self.sent += 1
        if self.sent > self.after:
            self.server.server.knobs = replace(self.server.server.knobs, fault_rate=1.0)
        return self.inner.handle_request(request)


def test_fetch_incomplete_names_the_days_and_keeps_the_runs_it_completed(
    private_cache_dir: Path,
) -> None:
    first = days_before(40)
    newest_month = (days_before(31), YESTERDAY)  # the first run fetched
    quick = RetryPolicy(max_attempts=2, jitter=False, sleep=lambda seconds: None)
    with serve(api_key=PLANTED_KEY, seed=10, days=50, now=NOW, rate_limit=None) as server:
        month = truth(server.org.entries, *newest_month)
        # the newest month's pages, its page 1 also finding the org; runs go one at a time
        transport = FailAfter(server, math.ceil(len(month) / 100))
        client = InventClient(
            PLANTED_KEY, server.base_url, retry=quick, transport=transport, max_concurrency=1
        )
        fingerprint = key_fingerprint(PLANTED_KEY, server.base_url)
        with client, pytest.raises(FetchIncomplete) as caught:
            query = Query.build(date_from=first)
            sync(client, query, private_cache_dir, fingerprint, clock=server.clock)
        missing = [*day_range(first, newest_month[0] - dt.timedelta(days=1)), TODAY]
        assert list(caught.value.days) == missing
        assert f"{first}..{missing[-2]}, {TODAY})" in str(caught.value)
        assert PLANTED_KEY not in str(caught.value)

        server.server.knobs = replace(server.server.knobs, fault_rate=0.0)
        server.stats.reset()
        df = sync_frame(server, private_cache_dir, date_from=first)
        assert queried_days(server.stats) == set(missing)
        assert_same(df, truth(server.org.entries, first))


RESUMABLE = """
import datetime as dt
import sys
from auditlab import load_audit_logs
from auditlab.clock import clock_from
now = dt.datetime.fromisoformat(sys.argv[2])
load_audit_logs(base_url=sys.argv[1], progress=False, max_concurrency=1, clock=clock_from(now))
"""


def complete_days(manifest: Path) -> set[str]:
    try:
        raw = orjson.loads(manifest.read_bytes())
    except FileNotFoundError:
        return set()
    days = raw["trees"].get("all", {}).get("days", {})
    return {day for day, record in days.items() if record["complete"]}


def test_sync_killed_midway_resumes_without_refetching_completed_days(
    private_cache_dir: Path,
) -> None:
    with serve(api_key=PLANTED_KEY, seed=11, days=75, now=NOW, latency_ms=15,
               rate_limit=None) as server:  # fmt: skip
        child = subprocess.Popen([sys.executable, "-c", RESUMABLE, server.base_url,
                                  server.clock().isoformat()], env=os.environ.copy())  # fmt: skip
        manifest = private_cache_dir / f"org={server.org.org_id}" / "_manifest.json"
        deadline = time.monotonic() + 30
        while not complete_days(manifest) and child.poll() is None:
            assert time.monotonic() < deadline, "the child never completed a day"
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait()
        done = {dt.date.fromisoformat(day) for day in complete_days(manifest)}
        assert 0 < len(done) < 70, "kill the child after some days, before all of them"
        records = orjson.loads(manifest.read_bytes())["trees"]["all"]["days"]
        for day in done:  # every part the manifest names is whole
            part = manifest.parent / f"day={day}" / "part-0.parquet"
            digest = hashlib.sha256(part.read_bytes()).hexdigest() if part.exists() else None
            assert digest == records[day.isoformat()]["sha256"]
        server.stats.reset()
        df = load(server)
        assert queried_days(server.stats).isdisjoint(done)
        assert_same(df, truth(server.org.entries))


# --- bad input ---------------------------------------------------------------------------

BAD_INPUT = [
    ({"date_from": "2026-02-30"}, "date_from"),
    ({"date_to": "yesterday"}, "date_to"),
    ({"date_from": "2026-10-02", "date_to": "2026-10-01"}, "date_to"),
    ({"action": "member.promoted"}, "action"),
    ({"user_id": "u" * 129}, "user_id"),
    ({"assistant_id": "a" * 129}, "assistant_id"),
    ({"workflow_id": ""}, "workflow_id"),
    ({"connection_id": "c" * 129}, "connection_id"),
    ({"org_id": ""}, "org_id"),
    ({"org_id": []}, "org_id"),
    ({"org_id": ["org_a", 7]}, "org_id"),
    ({"org_id": ["org_a", "bad/id"]}, "org_id"),
    ({"org_id": "org_a", "include_sub_orgs": "yes"}, "include_sub_orgs"),
    ({"base_url": "http://example.com"}, "base_url"),
    ({"max_concurrency": 0}, "max_concurrency"),
    ({"rate_limit": 0}, "rate_limit"),
    ({"refresh": "yes"}, "refresh"),
    ({"progress": "on"}, "progress"),
    ({"api_key": ""}, "api_key"),
    ({"grace": dt.timedelta(minutes=-1)}, "grace"),
    ({"grace": 3600}, "grace"),
    ({"verify": "yes"}, "verify"),
]


@pytest.mark.parametrize(("arguments", "parameter"), BAD_INPUT, ids=[p for _, p in BAD_INPUT])
def test_bad_input_names_the_parameter_before_any_request(
    server: Any, stats: Any, arguments: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(InvalidQuery) as caught:
        load(server, **arguments)
    assert caught.value.parameter == parameter
    assert parameter in str(caught.value)
    assert stats.requests == 0


def test_missing_key_names_api_key_before_any_request(
    server: Any, stats: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INVENT_API_KEY")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidQuery, match="api_key") as caught:
        load(server)
    assert caught.value.parameter == "api_key" and stats.requests == 0


def test_cache_dir_that_is_a_file_names_cache_dir_before_any_request(
    server: Any, stats: Any, tmp_path: Path
) -> None:
    (tmp_path / "not-a-folder").write_text("")
    with pytest.raises(InvalidQuery, match="cache_dir"):
        load(server, cache_dir=tmp_path / "not-a-folder")
    assert stats.requests == 0


# --- progress ----------------------------------------------------------------------------


def test_progress_true_shows_a_bar_of_entries_and_false_is_silent(
    server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    first = days_before(5)
    load(server, date_from=first, progress=True)
    shown = capsys.readouterr().err
    assert "audit-log entries" in shown
    assert f"audit-log entries: {len(truth(server.org.entries, first))} entries" in shown
    load(server, date_from=first, progress=False)
    assert capsys.readouterr().err == ""
