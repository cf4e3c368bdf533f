"""The sandbox's rate limit under each algorithm, on an injected clock (nothing waits)."""

from __future__ import annotations

import datetime as dt

import httpx2
import pytest

from auditlab.cli import main
from auditlab.sandbox import generate_org, serve
from auditlab.sandbox.limits import ServerLimit, Verdict, in_steps, rate_headers

KEY = "sk_test_limits_0123456789"


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limit_of(algorithm: str, limit: int, clock: Clock, **options: float) -> ServerLimit:
    return ServerLimit(limit, algorithm=algorithm, window_s=60, clock=clock, **options)  # type: ignore[arg-type]


def passes(limit: ServerLimit, n: int, client: str = "127.0.0.1") -> list[bool]:
    return [limit.admit(client).admitted for _ in range(n)]


def test_sliding_window_admits_limit_in_any_window_and_frees_slots_one_by_one() -> None:
    clock = Clock()
    limit = limit_of("sliding", 2, clock)
    assert passes(limit, 1) == [True]
    clock.now += 30
    assert passes(limit, 2) == [True, False]
    assert limit.admit("127.0.0.1") == Verdict(False, 2, 0, 30.0)
    clock.now += 30  # the first leaves the window; the one at +30 stays
    assert passes(limit, 2) == [True, False]
    assert limit.admit("127.0.0.1").retry_after == pytest.approx(30.0)


def test_fixed_window_refills_at_once_at_its_edge() -> None:
    clock = Clock(1020.0)  # the start of the window [1020, 1080)
    limit = limit_of("fixed", 3, clock)
    assert passes(limit, 4) == [True, True, True, False]
    assert limit.admit("127.0.0.1").retry_after == pytest.approx(60.0)
    clock.now = 1079.9
    assert passes(limit, 1) == [False]
    clock.now = 1080.0  # a new window: the whole budget again, right after the old one
    assert passes(limit, 4) == [True, True, True, False]


def test_token_bucket_allows_its_burst_then_one_request_per_token() -> None:
    clock = Clock()
    limit = limit_of("token-bucket", 120, clock, burst=3)  # 2 tokens per second
    assert passes(limit, 4) == [True, True, True, False]
    assert limit.admit("127.0.0.1").retry_after == pytest.approx(0.5)
    clock.now += 0.5
    assert limit.admit("127.0.0.1") == Verdict(True, 120, 0, 0.5)
    clock.now += 60  # a long pause refills only up to the burst
    assert passes(limit, 4) == [True, True, True, False]


@pytest.mark.parametrize("algorithm", ["sliding", "fixed", "token-bucket"])
def test_each_ip_has_its_own_budget(algorithm: str) -> None:
    limit = limit_of(algorithm, 2, Clock(), burst=2)
    assert passes(limit, 3, "127.0.0.1") == [True, True, False]
    assert passes(limit, 3, "127.0.0.2") == [True, True, False]


@pytest.mark.parametrize("algorithm", ["sliding", "fixed", "token-bucket"])
def test_an_untouched_budget_is_full_and_reports_no_reset(algorithm: str) -> None:
    limit = limit_of(algorithm, 60, Clock(960.0), burst=5)
    verdict = limit.admit("127.0.0.1")
    assert verdict.admitted and verdict.remaining == (4 if algorithm == "token-bucket" else 59)
    assert verdict.reset > 0


@pytest.mark.parametrize(
    ("algorithm", "wait", "spent"),
    # 30 a minute: one every 2 s from the first request on (960, 962, ..., 990 is 16);
    # the bucket (1 token a second, 10 at most) is emptied first: 2 of 4 new tokens gone
    [("sliding", 30, 16), ("fixed", 30, 16), ("token-bucket", 4, 2)],
)
def test_a_competing_consumer_spends_the_same_budget(
    algorithm: str, wait: float, spent: int
) -> None:
    remaining = []
    for competing in (0, 30):
        clock = Clock(960.0)
        limit = limit_of(algorithm, 60, clock, burst=10, competing=competing)
        passes(limit, 10 if algorithm == "token-bucket" else 1)
        clock.now += wait
        remaining.append(limit.admit("127.0.0.1").remaining)
    assert remaining[0] - remaining[1] == spent


def test_a_competitor_long_idle_costs_no_replay_and_leaves_a_full_window() -> None:
    clock = Clock(0.0)
    limit = limit_of("sliding", 10, clock, competing=5)
    limit.admit("127.0.0.1")
    clock.now = 1e9  # years later: only the last window's requests are replayed
    verdict = limit.admit("127.0.0.1")
    assert verdict.admitted and verdict.remaining == 10 - 5 - 1


@pytest.mark.parametrize(
    ("options", "parameter"),
    [({"algorithm": "leaky"}, "algorithm"), ({"burst": 0}, "burst"),
     ({"window_s": 0}, "window_s"), ({"competing": 60}, "competing")],
)  # fmt: skip
def test_bad_settings_are_refused_naming_them(options: dict, parameter: str) -> None:
    with pytest.raises(ValueError, match=parameter):
        ServerLimit(60, **options)


def test_header_seconds_round_up_and_shrink_with_the_window() -> None:
    assert [in_steps(s, 60) for s in (0.0, 0.01, 1.0, 1.5, 59.2)] == ["1", "1", "1", "2", "60"]
    assert [in_steps(s, 2.0) for s in (0.0, 0.02, 0.5)] == ["0.033", "0.033", "0.5"]
    assert rate_headers(Verdict(False, 24, 0, 0.5), 2.0) == {
        "RateLimit-Limit": "24", "RateLimit-Remaining": "0", "RateLimit-Reset": "0.5",
        "RateLimit-Policy": "24;w=2",
    }  # fmt: skip


@pytest.fixture(scope="module")
def org():
    return generate_org(seed=3, days=14, now=dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC))


@pytest.mark.parametrize("headers_on", [True, False])
def test_rate_headers_are_a_switch(org, headers_on: bool) -> None:
    with serve(org=org, api_key=KEY, rate_limit=2, rate_headers=headers_on) as sandbox:
        auth = {"Authorization": f"Bearer {KEY}"}
        with httpx2.Client(base_url=sandbox.base_url, headers=auth) as client:
            answers = [client.get("/orgs/c/audit-logs", params={"take": 1}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert 1 <= int(answers[2].headers["Retry-After"]) <= 60
    remaining = [a.headers.get("RateLimit-Remaining") for a in answers]
    assert remaining == (["1", "0", "0"] if headers_on else [None] * 3)
    if headers_on:
        assert answers[0].headers["RateLimit-Policy"] == "2;w=60"


@pytest.mark.parametrize("algorithm", ["sliding", "fixed", "token-bucket"])
def test_serve_counts_short_windows_without_patching_anything(org, algorithm: str) -> None:
    with serve(org=org, api_key=KEY, rate_limit=3, window_s=1.0, burst=3,
               limiter=algorithm) as sandbox:  # fmt: skip
        assert sandbox.server.limiter.window_s == 1.0
        assert sandbox.server.limiter.algorithm == algorithm
        auth = {"Authorization": f"Bearer {KEY}"}
        with httpx2.Client(base_url=sandbox.base_url, headers=auth) as client:
            answers = [client.get("/orgs/c/audit-logs", params={"take": 1}) for _ in range(4)]
    assert [a.status_code for a in answers][-1] == 429
    # a sixtieth of the window is the sandbox's "second": the wait fits the short window
    assert 0 < float(answers[-1].headers["Retry-After"]) <= 1.0


def test_serve_refuses_an_unknown_limiter(org) -> None:
    refused = pytest.raises(ValueError, match="limiter must be one of sliding, fixed, token-bucket")
    with refused, serve(org=org, api_key=KEY, limiter="leaky"):  # type: ignore[arg-type]
        pass


def test_command_refuses_a_bad_burst_naming_it() -> None:
    with pytest.raises(SystemExit, match="burst must be a whole number"):
        main(["sandbox", "--port", "0", "--days", "14", "--limiter", "token-bucket",
              "--burst", "0"])  # fmt: skip


def test_command_offers_only_the_three_limiters(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sandbox", "--limiter", "leaky"])
    assert "choose from 'sliding', 'fixed', 'token-bucket'" in capsys.readouterr().err
