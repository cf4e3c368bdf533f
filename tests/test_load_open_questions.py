"""The loader is exact whichever answer the server gives to what Invent leaves open.

Against the real sandbox over HTTP, with the sandbox's clock and the loader's
pinned to one hand-moved clock (nothing here depends on today's date): every
``user_filter`` rule x entries naming one side only x late entries; the grace
period and ``verify``; a run that fails midway keeps the days it read whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import orjson
import pandas as pd
import pyarrow.parquet as pq
import pytest
import time_machine
from helpers import PLANTED_KEY
from test_load import FailAfter, assert_same, queried_days

from auditlab import load_audit_logs
from auditlab.api.client import InventClient
from auditlab.api.query import Query
from auditlab.api.retry import RetryPolicy
from auditlab.cache.orgs import key_fingerprint
from auditlab.cache.plan import MAX_RUN_DAYS, TreeState, day_range, plan_sync
from auditlab.cache.store import OrgCache
from auditlab.cli import main
from auditlab.clock import ManualClock
from auditlab.errors import FetchIncomplete, RetriesExhausted
from auditlab.frame import empty_frame, entries_to_table, table_to_frame
from auditlab.load import sync
from auditlab.report import last_verification
from auditlab.report.present import evidence_html, provenance
from auditlab.report.scope import Scope
from auditlab.sandbox import generate_org, serve
from auditlab.stamps import utc_day
from auditlab.verify import verify_audit_logs, verify_cache

MIDNIGHT = dt.datetime(2026, 3, 15, tzinfo=dt.UTC)
TODAY, YESTERDAY = MIDNIGHT.date(), MIDNIGHT.date() - dt.timedelta(days=1)
UNLIMITED = 1_000_000
QUICK = RetryPolicy(max_attempts=2, jitter=False, sleep=lambda seconds: None)
Entry = dict[str, Any]


def person(entry: Entry, side: str) -> str | None:
    return (entry.get(side) or {}).get("id")


# The server's user_id rule under each switch, written here from the switch's meaning.
USER_RULES: dict[str, Callable[[Entry, str], bool]] = {
    "actor": lambda e, v: person(e, "actor") == v,
    "user": lambda e, v: person(e, "user") == v,
    "either": lambda e, v: v in (person(e, "actor"), person(e, "user")),
}


def expected(server: Any, rule: str, **filters: str) -> pd.DataFrame:
    """Return the frame of what the server shows now for filters (no dates), newest first."""
    keep = [
        e
        for e in server.visible()
        if e["action"] == filters.get("action", e["action"])
        and ("user_id" not in filters or USER_RULES[rule](e, filters["user_id"]))
    ]
    return table_to_frame(entries_to_table(keep))


def load(server: Any, clock: ManualClock, **arguments: Any) -> pd.DataFrame:
    return load_audit_logs(
        base_url=server.base_url, progress=False, rate_limit=UNLIMITED, clock=clock, **arguments
    )


def one_sided_person(server: Any) -> str:
    """Return the person named on one side only most often (or anyone, without gaps)."""
    counts: dict[str, int] = {}
    for entry in server.org.entries:
        for side, other in (("actor", "user"), ("user", "actor")):
            if person(entry, side) and not person(entry, other):
                counts[person(entry, side)] = counts.get(person(entry, side), 0) + 1
    return max(counts, key=counts.get) if counts else server.org.people[2].id


@pytest.mark.parametrize("late", [0, 3], ids=["on-time", "late"])
@pytest.mark.parametrize("gaps", [0.0, 0.3], ids=["both-sides", "one-side"])
@pytest.mark.parametrize("rule", ["actor", "user", "either"])
def test_loader_is_exact_under_every_rule_gap_and_late_entry(
    rule: str, gaps: float, late: int
) -> None:
    clock = ManualClock(MIDNIGHT + dt.timedelta(seconds=5))
    with serve(api_key=PLANTED_KEY, seed=31, days=14, now=clock(), rate_limit=None, scale=0.5,
               user_filter=rule, person_gaps=gaps, late=late, clock=clock) as server:  # fmt: skip
        who = one_sided_person(server)
        queries = [{}, {"user_id": who}, {"action": "assistant.updated"},
                   {"user_id": who, "action": "assistant.updated"}]  # fmt: skip
        hidden_at_first = sum(at > clock() for at in server.server.shown_from.values())
        assert (hidden_at_first > 0) == bool(late), "late entries must still be on their way"
        for seconds in (5, 1800, 7200, 10800):  # in yesterday's grace period, then after it
            clock.set(MIDNIGHT + dt.timedelta(seconds=seconds))
            for filters in queries:
                server.stats.reset()
                got = load(server, clock, **filters)
                assert_same(got, expected(server, rule, **filters))
                if seconds == 10800:  # yesterday was complete at 02:00: only today is asked
                    assert queried_days(server.stats) <= {TODAY}
        if gaps:
            one_rule = {r: expected(server, r, user_id=who)["id"].tolist() for r in USER_RULES}
            assert len({tuple(ids) for ids in one_rule.values()}) > 1, "rules must differ here"


# --- grace and verify -------------------------------------------------------------------


@pytest.fixture
def late_server() -> Any:
    clock = ManualClock(MIDNIGHT + dt.timedelta(minutes=3))
    with serve(api_key=PLANTED_KEY, seed=32, days=14, now=clock(), rate_limit=None, late=4,
               late_delay=dt.timedelta(minutes=20), clock=clock) as server:  # fmt: skip
        yield server


def test_yesterday_is_fetched_again_during_its_grace_period_and_never_after(
    late_server: Any,
) -> None:
    clock = late_server.clock
    grace = dt.timedelta(minutes=30)
    load(late_server, clock, grace=grace)
    clock.set(MIDNIGHT + dt.timedelta(minutes=25))
    late_server.stats.reset()
    df = load(late_server, clock, grace=grace)
    assert queried_days(late_server.stats) == {YESTERDAY, TODAY}
    assert_same(df, expected(late_server, "user"))
    clock.set(MIDNIGHT + dt.timedelta(minutes=31))
    load(late_server, clock, grace=grace)  # the grace period is over: yesterday is complete
    late_server.stats.reset()
    clock.set(MIDNIGHT + dt.timedelta(hours=5))
    assert_same(load(late_server, clock, grace=grace), expected(late_server, "user"))
    assert queried_days(late_server.stats) == {TODAY}


def test_without_grace_a_late_entry_is_missed_until_verify_refetches_its_range(
    late_server: Any, private_cache_dir: Path
) -> None:
    clock = late_server.clock
    none = dt.timedelta(0)
    first = load(late_server, clock, grace=none)
    clock.set(MIDNIGHT + dt.timedelta(hours=2))  # every late entry is shown by now
    stale = load(late_server, clock, grace=none)
    truth = expected(late_server, "user")
    assert len(stale) == len(first) < len(truth)  # yesterday was cached complete too early
    late_server.stats.reset()
    fixed = load(late_server, clock, grace=none, verify=True)
    assert_same(fixed, truth)
    manifest = orjson.loads(
        (private_cache_dir / f"org={late_server.org.org_id}" / "_manifest.json").read_bytes()
    )
    checks = manifest["trees"]["all"]["checks"]
    moved = {span for span, check in checks.items() if check["refetched"]}
    # the one run: the newest month, fetched while the history's start was looked up
    newest_month = (YESTERDAY - dt.timedelta(days=MAX_RUN_DAYS - 1), YESTERDAY)
    assert moved == {"{}..{}".format(*newest_month)}
    assert manifest["verified"]["checked"] == len(checks) and manifest["verified"]["refetched"] == 1
    counts = [q for q in late_server.stats.queries if parse_qs(q).get("take") == ["1"]]
    assert len(counts) == len(checks)  # one take=1 request per cached range
    late_server.stats.reset()
    again = load(late_server, clock, grace=none, verify=True)
    assert_same(again, truth)
    assert queried_days(late_server.stats) == {TODAY} | set(
        day_range(*newest_month)
    )  # the count requests name the range; nothing is fetched again but today
    assert late_server.stats.requests == len(checks) + 1


def test_cache_verify_command_reports_and_records_what_it_found(
    late_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = late_server.clock
    shown = late_server.server.shown_from
    who = next(
        person(e, "user") for e in late_server.org.entries
        if shown.get(e["id"], MIDNIGHT) > clock() and person(e, "user")
    )  # fmt: skip
    load(late_server, clock, grace=dt.timedelta(0))
    load(late_server, clock, grace=dt.timedelta(0), user_id=who)  # its own tree: two ranges
    clock.set(MIDNIGHT + dt.timedelta(hours=2))
    # the command reads the wall clock: it is moved to the sandbox's moment
    with time_machine.travel(clock().timestamp(), tick=False):
        status = main(["cache", "verify", "--base-url", late_server.base_url])
    said = "cache last verified at 2026-03-15 02:00:00 UTC: 2 ranges checked, 2 refetched"
    assert status == 0
    assert capsys.readouterr().out == f"org c: {said}\n"
    df = load(late_server, clock)
    assert_same(df, expected(late_server, "user"))
    assert last_verification(df) == said
    found = verify_audit_logs(base_url=late_server.base_url, clock=clock)
    line = "cache last verified at 2026-03-15 02:00:00 UTC: 2 ranges checked, 0 refetched"
    assert str(found) == last_verification(df) == line
    scope = Scope.build(date_from="2026-03-01", date_to="2026-03-14")
    rows = provenance(scope, df=df, digest="0" * 64, base_url=late_server.base_url,
                      loaded_at=clock(), fetched=None, verified=line)  # fmt: skip
    shown = evidence_html(scope, rows, loaded_at=clock(), pseudonymized=False)
    assert "2 ranges checked, 0 refetched" in shown
    never = provenance(scope, df=empty_frame(), digest="0" * 64, base_url="x",
                       loaded_at=clock(), fetched=None)  # fmt: skip
    assert "never verified" in evidence_html(scope, never, loaded_at=clock(), pseudonymized=False)


def test_a_range_whose_count_cannot_be_had_is_left_unchecked(
    late_server: Any, private_cache_dir: Path
) -> None:
    clock = late_server.clock
    load(late_server, clock, grace=dt.timedelta(0))
    late_server.server.knobs = replace(late_server.server.knobs, fault_rate=1.0)
    store = OrgCache(private_cache_dir, late_server.org.org_id)
    with InventClient(PLANTED_KEY, late_server.base_url, retry=QUICK) as client:
        found = verify_cache(client, store, "c", None, YESTERDAY, now=clock())
    assert (found.checked, found.refetched, found.missing) == (0, 0, ())
    assert store.manifest().verified["checked"] == 0


# --- a run that fails midway keeps the days it read whole -------------------------------

NOON = MIDNIGHT + dt.timedelta(hours=12)


def complete_days(cache: Path, org_id: str) -> dict[dt.date, list[str]]:
    """Return each complete day of the unfiltered tree and the ids its part holds."""
    folder = cache / f"org={org_id}"
    try:
        records = orjson.loads((folder / "_manifest.json").read_bytes())["trees"]["all"]["days"]
    except (FileNotFoundError, KeyError):
        return {}
    days = {}
    for day, record in records.items():
        if record["complete"]:
            part = folder / f"day={day}" / "part-0.parquet"
            ids = pq.read_table(part, columns=["id"])["id"].to_pylist() if record["rows"] else []
            days[dt.date.fromisoformat(day)] = ids
    return days


def truth_ids(entries: list[Entry], day: dt.date) -> list[str]:
    return [e["id"] for e in entries if e["created_at"][:10] == day.isoformat()]


def test_a_run_that_loses_a_page_keeps_the_days_its_pages_hold_whole(
    private_cache_dir: Path,
) -> None:
    first, last = dt.date(2026, 2, 20), YESTERDAY  # one run of 23 days
    with serve(api_key=PLANTED_KEY, seed=33, days=30, now=NOON, rate_limit=None) as server:
        entries = [e for e in server.org.entries if first <= utc_day(e["created_at"]) <= last]
        oldest_read = entries[5 * 100 - 1]  # pages 1..5 come back, page 6 never does
        whole = set(day_range(utc_day(oldest_read["created_at"]) + dt.timedelta(days=1), last))
        transport = FailAfter(server, 1 + 5)  # the org lookup, then five pages
        fingerprint = key_fingerprint(PLANTED_KEY, server.base_url)
        with (
            InventClient(PLANTED_KEY, server.base_url, retry=QUICK, transport=transport,
                         max_concurrency=1) as client,
            pytest.raises(FetchIncomplete) as caught,
        ):  # fmt: skip
            sync(client, Query.build(date_from=first, date_to=last), private_cache_dir,
                 fingerprint, clock=lambda: NOON)  # fmt: skip
        missing = sorted(set(day_range(first, last)) - whole)
        assert list(caught.value.days) == missing and 2 <= len(whole) <= 10
        kept = complete_days(private_cache_dir, server.org.org_id)
        assert set(kept) == whole
        assert all(kept[day] == truth_ids(entries, day) for day in whole)

        server.server.knobs = replace(server.server.knobs, fault_rate=0.0)
        server.stats.reset()
        with InventClient(PLANTED_KEY, server.base_url, retry=QUICK) as client:
            table = sync(client, Query.build(date_from=first, date_to=last),
                         private_cache_dir, fingerprint, clock=lambda: NOON)  # fmt: skip
        df = table_to_frame(table)
        assert queried_days(server.stats) == set(missing)
        assert_same(df, table_to_frame(entries_to_table(entries)))


def test_reruns_through_random_faults_fetch_only_the_rest_and_end_exact(
    private_cache_dir: Path,
) -> None:
    first, last = dt.date(2026, 2, 1), YESTERDAY  # two runs: 31 days and 11 days
    with serve(api_key=PLANTED_KEY, seed=34, days=45, now=NOON, rate_limit=None, scale=0.5,
               fault_rate=0.3, cut_rate=0.1) as server:  # fmt: skip
        entries = [e for e in server.org.entries if first <= utc_day(e["created_at"]) <= last]
        fingerprint = key_fingerprint(PLANTED_KEY, server.base_url)
        kept_while_failing = 0
        for _attempt in range(60):
            before = complete_days(private_cache_dir, server.org.org_id)
            server.stats.reset()
            try:
                with InventClient(PLANTED_KEY, server.base_url, retry=QUICK,
                                  max_concurrency=4) as client:  # fmt: skip
                    table = sync(client, Query.build(date_from=first, date_to=last),
                                 private_cache_dir, fingerprint, clock=lambda: NOON)  # fmt: skip
            except (FetchIncomplete, RetriesExhausted) as error:
                table = None
                failed = set(getattr(error, "days", ()))
            after = complete_days(private_cache_dir, server.org.org_id)
            assert not queried_days(server.stats) & set(before), "a complete day was fetched again"
            for day, ids in after.items():  # whatever is cached complete is exact
                assert ids == truth_ids(entries, day), day
            if table is not None:
                break
            runs = plan_sync(first, last, TODAY, {"all": TreeState(frozenset(before))}).runs
            kept_while_failing += sum(  # runs that failed, yet kept some of their days
                1 for low, high in runs
                if any(low <= d <= high for d in failed)
                and any(low <= d <= high for d in set(after) - set(before))
            )  # fmt: skip
        else:
            raise AssertionError("60 attempts did not complete the sync")
        assert _attempt > 0, "the faults must have failed at least one attempt"
        assert kept_while_failing > 0, "some failing attempt must have kept days"
        assert_same(table_to_frame(table), table_to_frame(entries_to_table(entries)))


def test_history_starts_on_the_utc_day_of_an_oldest_entry_written_with_an_offset(
    private_cache_dir: Path,
) -> None:
    org = generate_org(seed=35, days=14, now=NOON)
    oldest_day = utc_day(org.entries[-1]["created_at"])
    # 23:30 UTC the day before, as Invent might write it from a +02:00 clock: the text
    # starts with the next day, which a loader reading the first ten characters trusts
    earlier = {**org.entries[-1], "id": "alog_00000000000000000000000000",
               "created_at": f"{oldest_day.isoformat()}T01:30:00+02:00"}  # fmt: skip
    org.entries.append(earlier)
    with serve(api_key=PLANTED_KEY, org=org, rate_limit=None) as server:
        df = load(server, ManualClock(NOON))
    assert df["id"].iloc[-1] == earlier["id"]
    assert df["date"].iloc[-1].date() == oldest_day - dt.timedelta(days=1)
    assert_same(df, table_to_frame(entries_to_table(org.entries)))
