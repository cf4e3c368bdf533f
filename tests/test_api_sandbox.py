"""The client over real HTTP against the local sandbox: exact truth, cost, faults, limits."""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from helpers import NOW, PLANTED_KEY, TODAY, days_before

from auditlab.api.client import InventClient
from auditlab.api.query import Query
from auditlab.api.ratelimit import RateLimiter
from auditlab.api.retry import RetryPolicy
from auditlab.errors import AuthError, InvalidQuery, MissingAPIKey, NotFound
from auditlab.sandbox import serve

NO_WAIT = RetryPolicy(jitter=False, sleep=lambda seconds: None)


def truth(entries: list[dict[str, Any]], date_from: dt.date, date_to: dt.date) -> list[dict]:
    """Return the server's entries in [date_from, date_to], newest first."""
    low, high = date_from.isoformat(), date_to.isoformat()
    return [entry for entry in entries if low <= entry["created_at"][:10] <= high]


def settled(server: Any, requests: int, live: int = 0) -> None:
    """Wait (briefly) until the server has counted our last answer and its live append.

    The sandbox counts an answer just after sending it, so a client can be
    done a moment before the server's books are.
    """
    stats = server.stats
    deadline = time.monotonic() + 10
    while stats.requests < requests or stats.live_added < live * stats.by_status[200]:
        assert time.monotonic() < deadline, "the sandbox never finished its last answer"
        time.sleep(0.005)


def ids(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["id"] for entry in entries]


def test_stable_fetch_equals_the_truth_and_costs_one_request_per_page(sandbox: Any) -> None:
    end = days_before(1)
    start = days_before(59, end)
    expected = truth(sandbox.org.entries, start, end)
    sandbox.stats.reset()
    pages: list[int] = []
    with InventClient(base_url=sandbox.base_url, retry=NO_WAIT) as client:
        result = client.fetch(
            Query.build(date_from=start, date_to=end), live=False, on_page=pages.append
        )
    assert result.entries == expected
    assert result.complete and result.server_count == len(expected) > 5000
    settled(sandbox, result.requests)
    assert result.requests == sandbox.stats.requests == math.ceil(len(expected) / 100)
    assert sum(pages) == len(expected)


def test_pages_the_caller_already_has_are_read_as_answers_and_not_asked_for_again(
    sandbox: Any,
) -> None:
    query = Query.build(date_from=days_before(10), date_to=days_before(1))
    expected = truth(sandbox.org.entries, query.date_from, query.date_to)
    with InventClient(base_url=sandbox.base_url, retry=NO_WAIT) as client:
        given = {number: client.fetch_page(query, number) for number in (1, 3)}
        sandbox.stats.reset()
        result = client.fetch(query, live=False, fetched=given)
    assert result.entries == expected and result.complete
    settled(sandbox, math.ceil(len(expected) / 100) - 2)
    asked = sorted(int(q.split("page=")[1].split("&")[0]) for q in sandbox.stats.queries)
    assert asked == [n for n in range(1, math.ceil(len(expected) / 100) + 1) if n not in given]


def test_a_live_fetch_takes_only_page_1_from_the_caller(sandbox: Any) -> None:
    query = Query.build(date_from=TODAY)
    with InventClient(base_url=sandbox.base_url, retry=NO_WAIT) as client:
        page_2 = client.fetch_page(query, 2)
        with pytest.raises(InvalidQuery) as caught:
            client.fetch(query, live=True, fetched={2: page_2})
    assert caught.value.parameter == "fetched"


def test_stable_fetch_is_exact_through_server_errors_and_cut_bodies(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sleeps: list[float] = []
    retry = RetryPolicy(max_attempts=25, jitter=False, sleep=sleeps.append)
    with serve(
        api_key=PLANTED_KEY, seed=1, days=30, now=NOW, fault_rate=0.3, cut_rate=0.2
    ) as server:
        end = days_before(1)
        start = days_before(20, end)
        expected = truth(server.org.entries, start, end)
        with (
            caplog.at_level(logging.DEBUG),
            InventClient(base_url=server.base_url, retry=retry) as client,
        ):
            result = client.fetch(Query.build(date_from=start, date_to=end), live=False)
        stats = server.stats
        settled(server, result.requests)
        assert result.entries == expected and result.complete
        assert stats.server_errors > 0 and stats.cuts > 0
        assert result.requests == stats.requests
        assert len(sleeps) == stats.server_errors + stats.cuts
    assert PLANTED_KEY not in caplog.text


def test_client_at_the_server_limit_never_sees_a_429(caplog: pytest.LogCaptureFixture) -> None:
    # a 1-second window on both sides keeps the test short; the rule is the same at 60 s
    limit = 10
    # 21 days up to NOW hold 3,014 entries: more pages than two windows allow
    with serve(api_key=PLANTED_KEY, seed=2, days=21, now=NOW, rate_limit=limit,
               window_s=1.0) as server:  # fmt: skip
        expected = server.org.entries
        pages = math.ceil(len(expected) / 100)
        assert pages > 2 * limit  # so the limiter must hold requests back at least twice
        limiter = RateLimiter(limit, window=1.0)
        with (
            caplog.at_level(logging.DEBUG, logger="auditlab"),
            InventClient(base_url=server.base_url, limiter=limiter, retry=NO_WAIT) as client,
        ):
            result = client.fetch(Query.build(), live=False)
        assert result.entries == expected and result.complete
        settled(server, result.requests)
        assert server.stats.requests == pages
        assert server.stats.rate_limited == 0
        assert any(
            "rate limit: pacing at 10 requests per 1 s" in r.getMessage() for r in caplog.records
        )


def test_the_same_server_answers_429_to_a_client_without_the_limiter() -> None:
    with serve(api_key=PLANTED_KEY, seed=2, days=14, now=NOW, rate_limit=10,
               window_s=1.0) as server:  # fmt: skip
        headers = {"Authorization": f"Bearer {PLANTED_KEY}"}
        with httpx2.Client(base_url=server.base_url, headers=headers) as plain:
            statuses = [plain.get("/orgs/c/audit-logs").status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]


def serve_busy_today(live: int, **faults: float) -> Any:
    """Return a sandbox whose today is a full day (~900 entries) gaining ``live`` per answer."""
    late = dt.datetime.combine(TODAY, dt.time(23, 59), tzinfo=dt.UTC)
    return serve(api_key=PLANTED_KEY, seed=3, days=14, scale=4.0, now=late, live=live, **faults)


@pytest.mark.parametrize(
    ("live", "faults"),
    [(5, {}), (30, {}), (5, {"fault_rate": 0.2, "cut_rate": 0.2})],
    ids=["live5", "live30", "live5-with-faults"],
)
def test_live_fetch_of_today_equals_the_truth_at_the_end_without_duplicates(
    live: int, faults: dict[str, float]
) -> None:
    day = TODAY
    retry = RetryPolicy(max_attempts=25, jitter=False, sleep=lambda seconds: None)
    with serve_busy_today(live, **faults) as server:
        with InventClient(base_url=server.base_url, retry=retry) as client:
            result = client.fetch(Query.build(date_from=day, date_to=day), live=True)
        # the server appends entries after each answer, so after our last one too
        settled(server, result.requests, live)
        expected = truth(server.org.entries, day, day)[live:]
        assert result.complete and result.server_count == len(expected) > 500
        assert result.entries == expected
        assert len(set(ids(result.entries))) == len(result.entries)
        assert result.requests == server.stats.requests


def test_live_fetch_costs_its_pages_plus_one_or_two_requests() -> None:
    day = TODAY
    with serve_busy_today(5) as server:
        with InventClient(base_url=server.base_url, retry=NO_WAIT) as client:
            result = client.fetch(Query.build(date_from=day, date_to=day), live=True)
        pages = math.ceil(result.server_count / 100)
        assert result.complete
        assert pages < result.requests <= pages + 2


def test_concurrent_paging_of_a_moving_day_does_not_claim_to_be_complete() -> None:
    day = TODAY
    with serve_busy_today(5) as server:
        with InventClient(base_url=server.base_url, retry=NO_WAIT) as client:
            result = client.fetch(Query.build(date_from=day, date_to=day), live=False)
        assert result.server_count > 500
        assert not result.complete


def test_wrong_key_is_an_auth_error_that_does_not_show_either_key(sandbox: Any) -> None:
    wrong = "sk_live_WRONG_0123456789"
    with pytest.raises(AuthError) as caught, InventClient(wrong, sandbox.base_url) as client:
        client.fetch_page(Query.build(), 1)
    assert caught.value.status_code == 401
    assert wrong not in str(caught.value) and PLANTED_KEY not in str(caught.value)


def test_unknown_org_is_not_found_naming_the_org(sandbox: Any) -> None:
    with (
        pytest.raises(NotFound, match="'org_elsewhere'"),
        InventClient(base_url=sandbox.base_url) as client,
    ):
        client.fetch_page(Query.build("org_elsewhere"), 1)


def test_server_400_names_our_parameter(sandbox: Any) -> None:
    unchecked = Query(action="member.promoted")  # built without Query.build's checks
    with (
        pytest.raises(InvalidQuery, match="HTTP 400") as caught,
        InventClient(base_url=sandbox.base_url) as client,
    ):
        client.fetch_page(unchecked, 1)
    assert caught.value.parameter == "action"


def _fetch(base_url: str, **filters: Any) -> Callable[[], object]:
    def run() -> object:
        with InventClient(base_url=base_url) as client:
            return client.fetch(Query.build(**filters), live=False)

    return run


BAD_INPUT = [
    ("date_from", {"date_from": "2026-02-30"}),
    ("date_to", {"date_to": "2026-13-01"}),
    ("date_to", {"date_from": "2026-10-02", "date_to": "2026-10-01"}),
    ("action", {"action": "member.promoted"}),
    ("user_id", {"user_id": "u" * 129}),
    ("connection_id", {"connection_id": "c" * 129}),
    ("org_id", {"org_id": ""}),
]


@pytest.mark.parametrize(("parameter", "filters"), BAD_INPUT, ids=[f"{p}" for p, _ in BAD_INPUT])
def test_bad_filter_is_refused_naming_the_parameter_before_any_request(
    sandbox: Any, parameter: str, filters: dict[str, Any]
) -> None:
    sandbox.stats.reset()
    with pytest.raises(InvalidQuery) as caught:
        _fetch(sandbox.base_url, **filters)()
    assert caught.value.parameter == parameter
    assert parameter in str(caught.value)
    assert sandbox.stats.requests == 0


def test_missing_key_is_refused_before_any_request(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INVENT_API_KEY")
    monkeypatch.chdir(tmp_path)
    sandbox.stats.reset()
    with pytest.raises(MissingAPIKey) as caught:
        _fetch(sandbox.base_url)()
    assert caught.value.parameter == "api_key"
    assert sandbox.stats.requests == 0


def test_plain_http_to_a_non_loopback_host_is_refused_before_any_request(sandbox: Any) -> None:
    sandbox.stats.reset()
    port = httpx2.URL(sandbox.base_url).port
    with pytest.raises(InvalidQuery) as caught:
        _fetch(f"http://sandbox.example:{port}")()
    assert caught.value.parameter == "base_url"
    assert sandbox.stats.requests == 0
