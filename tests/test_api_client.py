"""One rule at a time: retries, waits, status mapping and the key, over a mock transport.

Everything that is about the whole path runs against the real sandbox in
test_api_sandbox.py; here each test isolates a single rule.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx2
import orjson
import pytest
from helpers import PLANTED_KEY, FakeTime

from auditlab.api.client import InventClient
from auditlab.api.query import Query
from auditlab.api.ratelimit import RateLimiter
from auditlab.api.retry import RetryPolicy, Transient
from auditlab.errors import (
    APIError,
    AuthError,
    InvalidQuery,
    NotFound,
    RetriesExhausted,
)

Answer = httpx2.Response | Exception
ENTRIES = [{"id": "alog_2", "action": "org.updated"}, {"id": "alog_1", "action": "org.updated"}]


def ok(entries: list[dict] = ENTRIES, count: int = 2) -> httpx2.Response:
    return httpx2.Response(
        200, content=orjson.dumps(entries), headers={"pagination-count": str(count)}
    )


class Script:
    """A mock transport answering with the given responses or exceptions, in order."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client_for(
    script: Callable[[httpx2.Request], httpx2.Response], sleeps: list[float], **policy: object
) -> InventClient:
    """Return a client over script whose retries and limiter share one fake clock.

    Every wait, by the retry policy or the limiter, lands in ``sleeps``.
    """
    time = FakeTime()
    time.sleeps = sleeps
    policy = {"sleep": time.sleep, "clock": time.clock, **policy}
    retry = RetryPolicy(jitter=False, **policy)  # type: ignore[arg-type]
    return InventClient(
        PLANTED_KEY,
        "https://invent.test",
        retry=retry,
        limiter=RateLimiter(500, clock=time.clock, sleep=time.sleep),
        transport=httpx2.MockTransport(script),
    )


def fetch_one(script: Script, **policy: object) -> tuple[list[float], Callable[[], object]]:
    sleeps: list[float] = []
    client = client_for(script, sleeps, **policy)
    return sleeps, lambda: client.fetch_page(Query.build("org_acme"), 1)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_status_is_retried_with_exponential_backoff(status: int) -> None:
    script = Script(httpx2.Response(status), httpx2.Response(status), ok())
    sleeps, call = fetch_one(script)
    page = call()
    assert [entry["id"] for entry in page.entries] == ["alog_2", "alog_1"]
    assert page.count == 2 and page.requests == 3
    assert sleeps == [0.5, 1.0]


@pytest.mark.parametrize(
    "failure",
    [
        httpx2.ConnectError("refused"),
        httpx2.ReadTimeout("slow"),
        httpx2.ConnectTimeout("slow"),
        httpx2.RemoteProtocolError("peer closed connection without sending complete message body"),
        httpx2.ReadError("connection reset"),
    ],
    ids=lambda failure: type(failure).__name__,
)
def test_connection_failures_and_timeouts_are_retried(failure: Exception) -> None:
    script = Script(failure, ok())
    sleeps, call = fetch_one(script)
    assert call().requests == 2
    assert sleeps == [0.5]


def test_a_body_that_is_not_json_is_retried() -> None:
    cut = httpx2.Response(200, content=b'[{"id": "alog_2", "act', headers={"pagination-count": "2"})
    script = Script(cut, ok())
    sleeps, call = fetch_one(script)
    assert call().requests == 2
    assert sleeps == [0.5]


def test_retry_after_seconds_is_honoured_exactly() -> None:
    script = Script(httpx2.Response(429, headers={"Retry-After": "7"}), ok())
    sleeps, call = fetch_one(script)
    call()
    assert sleeps == [7.0]


def test_retry_after_longer_than_the_policy_allows_gives_up_at_once() -> None:
    script = Script(httpx2.Response(429, headers={"Retry-After": "3600"}), ok())
    sleeps, call = fetch_one(script, retry_after_max=600)
    with pytest.raises(RetriesExhausted, match=r"wait 3600 s, longer than retry_after_max"):
        call()
    assert sleeps == [] and len(script.requests) == 1


def test_retry_after_http_date_is_measured_from_the_response_date() -> None:
    sent = datetime(2026, 10, 14, 8, 0, 0, tzinfo=UTC)
    headers = {
        "Date": format_datetime(sent, usegmt=True),
        "Retry-After": format_datetime(sent + timedelta(seconds=12), usegmt=True),
    }
    script = Script(httpx2.Response(503, headers=headers), ok())
    sleeps, call = fetch_one(script)
    call()
    assert sleeps == [12.0]


def test_attempts_are_bounded_and_the_last_status_is_reported() -> None:
    script = Script(*[httpx2.Response(503)] * 6)
    sleeps, call = fetch_one(script)
    with pytest.raises(RetriesExhausted) as caught:
        call()
    assert len(script.requests) == 6
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert caught.value.status_code == 503
    assert isinstance(caught.value, APIError)
    assert "failed 6 times, last with HTTP 503" in str(caught.value)


def test_backoff_is_capped_by_backoff_max() -> None:
    script = Script(*[httpx2.ReadTimeout("slow")] * 4)
    sleeps, call = fetch_one(script, max_attempts=4, backoff_initial=1.0, backoff_max=2.5)
    with pytest.raises(RetriesExhausted) as caught:
        call()
    assert sleeps == [1.0, 2.0, 2.5]
    assert caught.value.status_code is None
    assert "ReadTimeout" in str(caught.value)


def test_full_jitter_draws_each_wait_between_zero_and_the_ceiling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn: list[tuple[float, float]] = []
    monkeypatch.setattr(
        "auditlab.api.retry.random.uniform", lambda low, high: drawn.append((low, high)) or high / 4
    )
    sleeps: list[float] = []
    policy = RetryPolicy(jitter=True, sleep=sleeps.append)
    assert [policy.backoff(n) for n in (1, 2, 3)] == [0.125, 0.25, 0.5]
    assert drawn == [(0, 0.5), (0, 1.0), (0, 2.0)]


def test_each_retry_is_logged_with_status_and_wait(caplog: pytest.LogCaptureFixture) -> None:
    script = Script(httpx2.Response(503), httpx2.Response(429, headers={"Retry-After": "3"}), ok())
    _, call = fetch_one(script)
    with caplog.at_level(logging.INFO, logger="auditlab"):
        call()
    lines = [r.getMessage() for r in caplog.records if r.name == "auditlab"]
    assert lines == [
        "GET /orgs/org_acme/audit-logs page 1: HTTP 503; retry 1 of 5 in 0.50 s",
        "rate limit: the server answered 429; slowing to 300 requests per 60 s",
        "rate limit: the server asked to wait; pausing requests for 3.00 s",
        "GET /orgs/org_acme/audit-logs page 1: HTTP 429; retry in 3.00 s "
        "(rate limited: not counted against the 5 retries)",
    ]


def test_400_raises_invalid_query_with_the_server_message_and_is_not_retried() -> None:
    script = Script(httpx2.Response(400, json={"message": "from must be a valid date"}))
    sleeps, call = fetch_one(script)
    with pytest.raises(InvalidQuery, match=r"HTTP 400\): from must be a valid date"):
        call()
    assert len(script.requests) == 1 and sleeps == []


@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_raises_auth_error(status: int) -> None:
    script = Script(httpx2.Response(status, json={"message": "Unauthorized"}))
    _, call = fetch_one(script)
    with pytest.raises(AuthError) as caught:
        call()
    assert caught.value.status_code == status
    assert f"HTTP {status}" in str(caught.value) and "INVENT_API_KEY" in str(caught.value)
    assert len(script.requests) == 1


def test_404_raises_not_found_naming_the_org() -> None:
    script = Script(httpx2.Response(404, text="Not Found"))
    _, call = fetch_one(script)
    with pytest.raises(NotFound, match="organisation 'org_acme' was not found") as caught:
        call()
    assert caught.value.status_code == 404


def test_request_carries_bearer_auth_user_agent_and_the_query_parameters() -> None:
    script = Script(ok())
    sleeps: list[float] = []
    client = client_for(script, sleeps)
    client.fetch_page(
        Query.build("org_acme", action="member.role_changed", date_from="2026-10-01"), 3, 50
    )
    [request] = script.requests
    assert request.headers["authorization"] == f"Bearer {PLANTED_KEY}"
    assert request.headers["user-agent"] == "auditlab/0.1.0"
    assert request.url.path == "/orgs/org_acme/audit-logs"
    assert dict(request.url.params) == {
        "action": "member.role_changed",
        "from": "2026-10-01",
        "page": "3",
        "take": "50",
    }


def test_key_never_appears_in_errors_reprs_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    echoing = {"message": f"key {PLANTED_KEY} is revoked"}
    script = Script(
        httpx2.Response(503, json=echoing),
        httpx2.ReadError(f"reset while sending {PLANTED_KEY}"),
        httpx2.Response(401, json=echoing),
        httpx2.Response(400, json=echoing),
        httpx2.Response(404, json=echoing),
        *[httpx2.Response(500, json=echoing)] * 6,
    )
    sleeps: list[float] = []
    with caplog.at_level(logging.DEBUG):
        client = client_for(script, sleeps)
        texts = [repr(client), str(client), repr(client.limiter), repr(client.retry)]
        kinds: list[type[Exception]] = []
        for _ in range(4):
            with pytest.raises((AuthError, InvalidQuery, NotFound, RetriesExhausted)) as caught:
                client.fetch_page(Query.build("org_acme"), 1)
            kinds.append(type(caught.value))
            texts += [str(caught.value), repr(caught.value)]
    assert kinds == [AuthError, InvalidQuery, NotFound, RetriesExhausted]
    for text in [*texts, caplog.text]:
        assert PLANTED_KEY not in text
    assert "key *** is revoked" in texts[4]


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("max_concurrency", 0),
        ("max_concurrency", 2.5),
        ("rate_limit", 0),
        ("timeout", 0),
        ("timeout", "30"),
        ("retry", 3),
    ],
)
def test_bad_client_arguments_are_refused_naming_the_parameter(
    argument: str, value: object
) -> None:
    with pytest.raises(InvalidQuery) as caught:
        InventClient(PLANTED_KEY, "https://invent.test", **{argument: value})  # type: ignore[arg-type]
    assert caught.value.parameter == argument
    assert argument in str(caught.value)


@pytest.mark.parametrize(("argument", "value"), [("page", 0), ("take", 0), ("take", 101)])
def test_bad_page_arguments_are_refused_before_any_request(argument: str, value: int) -> None:
    script = Script()
    client = client_for(script, [])
    arguments = {"page": 1, "take": 100, argument: value}
    with pytest.raises(InvalidQuery) as caught:
        client.fetch_page(Query.build(), **arguments)
    assert caught.value.parameter == argument
    assert script.requests == []


@pytest.mark.parametrize(
    "policy",
    [{"max_attempts": 0}, {"backoff_initial": -1}, {"backoff_max": 0.1}, {"retry_after_max": -1},
     {"give_up_after": 0}],
)  # fmt: skip
def test_bad_retry_policy_is_refused_naming_the_parameter(policy: dict[str, float]) -> None:
    with pytest.raises(InvalidQuery) as caught:
        RetryPolicy(**policy)  # type: ignore[arg-type]
    assert caught.value.parameter == next(iter(policy))


def test_429_with_retry_after_pauses_the_shared_limiter() -> None:
    script = Script(httpx2.Response(429, headers={"Retry-After": "4"}), ok(), ok())
    sleeps: list[float] = []
    client = client_for(script, sleeps, sleep=lambda seconds: None)
    client.fetch_page(Query.build(), 1)  # its retry does not wait: the limiter does
    client.fetch_page(Query.build(), 1)  # the pause is over: only paced, at the cut rate
    assert sleeps == [4.0, pytest.approx(60 * 1.01 / 300)]


def test_clients_of_one_base_url_and_limit_share_one_limiter() -> None:
    def limiter(base_url: str, **arguments: int) -> RateLimiter:
        with InventClient(PLANTED_KEY, base_url, **arguments) as client:
            return client.limiter

    first = limiter("https://invent.test")
    assert limiter("https://invent.test/") is first
    assert limiter("https://other.test") is not first
    assert limiter("https://invent.test", rate_limit=100) is not first
    assert first.limit == 500


def limited(seconds: int = 1) -> httpx2.Response:
    return httpx2.Response(429, headers={"Retry-After": str(seconds)})


def test_429s_do_not_use_up_the_tries_kept_for_faults() -> None:
    script = Script(*[limited()] * 8, httpx2.Response(503), ok())
    _, call = fetch_one(script, max_attempts=2)
    assert call().requests == 10


def test_faults_still_end_after_max_attempts_with_429s_in_between() -> None:
    script = Script(httpx2.Response(503), limited(), httpx2.Response(502), ok())
    _, call = fetch_one(script, max_attempts=2)
    with pytest.raises(RetriesExhausted, match="failed 2 times, last with HTTP 502"):
        call()
    assert len(script.requests) == 3


def test_endless_429s_end_once_give_up_after_passes_without_progress() -> None:
    script = Script(*[limited(30)] * 50)
    _, call = fetch_one(script, give_up_after=100)
    with pytest.raises(
        RetriesExhausted, match=r"made no progress for give_up_after \(100 s\), last with HTTP 429"
    ) as caught:
        call()
    assert caught.value.status_code == 429
    assert len(script.requests) == 4  # at 0, 30, 60 and 90 s: one more wait would pass 100 s


def test_other_requests_accepted_meanwhile_keep_a_throttled_request_trying() -> None:
    sleeps: list[float] = []
    requests: list[httpx2.Request] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        requests.append(request)
        if len(requests) <= 20:
            client.limiter.succeeded()  # another page of the sync got through meanwhile
            return limited(30)
        return ok()

    client = client_for(answer, sleeps, give_up_after=100)
    page = client.fetch_page(Query.build("org_acme"), 1)
    assert page.requests == 21 and sum(sleeps) >= 600


def test_a_deadline_counts_from_the_latest_progress_the_caller_reports() -> None:
    now = [0.0]
    policy = RetryPolicy(give_up_after=100, jitter=False, clock=lambda: now[0],
                         sleep=lambda seconds: now.__setitem__(0, now[0] + seconds))  # fmt: skip
    failures = iter([Transient("HTTP 429", status=429, retry_after=30.0)] * 20)

    def attempt() -> str:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return "page"

    assert policy.call(attempt, what="GET page 2", progress=lambda: now[0] - 1) == "page"
    assert now[0] == 600.0
    failures = iter([Transient("HTTP 429", status=429, retry_after=30.0)] * 20)
    with pytest.raises(RetriesExhausted, match="made no progress"):
        policy.call(attempt, what="GET page 3", progress=lambda: 0.0)


def test_rate_limit_headers_teach_the_limiter_the_servers_limit() -> None:
    answer = ok()
    answer.headers.update({"RateLimit-Limit": "100", "RateLimit-Remaining": "99",
                           "RateLimit-Reset": "60", "RateLimit-Policy": "100;w=60"})  # fmt: skip
    client = client_for(Script(answer), [])
    client.fetch_page(Query.build("org_acme"), 1)
    assert client.limiter.ceiling == 100 and client.limiter.limit == 500


def test_a_sleep_that_does_not_wait_still_gives_up_on_time_asked_for() -> None:
    policy = RetryPolicy(give_up_after=100, sleep=lambda seconds: None)
    calls: list[int] = []

    def attempt() -> None:
        calls.append(1)
        raise Transient("HTTP 429", status=429, retry_after=30.0)

    with pytest.raises(RetriesExhausted, match="made no progress"):
        policy.call(attempt, what="GET page 1")
    assert len(calls) == 4
