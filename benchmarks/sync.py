"""Figure 1: cold sync throughput against the sandbox: rate-limit bound, the limiter matrix
(``limiters.py``) and latency bound."""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass

import httpx

from auditlab.api.query import MAX_TAKE, PARAMETER_NAMES
from benchmarks.data import DAYS, ENTRIES_AT_SCALE_1, NOW
from benchmarks.frame import naive_frame
from benchmarks.harness import Figure, Runs, ratio
from benchmarks.limiters import Matrix

TARGET_OF_CEILING = 0.90
TARGET_OVER_NAIVE = 5.0
NO_LIMIT = 1_000_000  # requests per minute: a client limit that never binds


@dataclass(frozen=True)
class SyncRun:
    """One cold sync: what it returned, how long it took and what the server saw."""

    entries: int
    seconds: float
    requests: int
    rate_limited: int

    @property
    def per_minute(self) -> float:
        return self.entries / self.seconds * 60


def auditlab_sync(server, *, rate_limit: int, max_concurrency: int = 8) -> SyncRun:
    """Return a cold ``load_audit_logs`` of the whole org into a fresh cache."""
    from auditlab import load_audit_logs

    server.stats.reset()
    with tempfile.TemporaryDirectory(prefix="auditlab-bench-cache-") as cache:
        start = time.perf_counter()
        df = load_audit_logs(
            api_key=server.api_key, base_url=server.base_url, cache_dir=cache, progress=False,
            rate_limit=rate_limit, max_concurrency=max_concurrency, clock=server.clock,
        )  # fmt: skip
        seconds = time.perf_counter() - start
    return SyncRun(len(df), seconds, server.stats.requests, server.stats.rate_limited)


def naive_sync(server) -> SyncRun:
    """Return the usual alternative: a sequential httpx page loop, then json_normalize."""
    server.stats.reset()
    start = time.perf_counter()
    bodies = []
    headers = {"Authorization": f"Bearer {server.api_key}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
        page = 1
        while True:
            params = {PARAMETER_NAMES["page"]: page, PARAMETER_NAMES["take"]: MAX_TAKE}
            response = client.get("/orgs/c/audit-logs", params=params)
            response.raise_for_status()
            bodies.append(response.content)
            if len(response.json()) < MAX_TAKE:
                break
            page += 1
    df = naive_frame(bodies)
    seconds = time.perf_counter() - start
    return SyncRun(len(df), seconds, server.stats.requests, server.stats.rate_limited)


def rate_limit_bound(per_minute: int, minutes: float, latency_ms: float = 150.0) -> dict:
    """Return the row of a cold sync long enough to run ``minutes`` at the ceiling."""
    from auditlab.sandbox import serve

    ceiling = per_minute * MAX_TAKE
    scale = ceiling * minutes / ENTRIES_AT_SCALE_1
    # Enough requests in flight that latency alone could beat the limit.
    concurrency = max(8, math.ceil(per_minute / 60 * latency_ms / 1000 * 2))
    limited = serve(rate_limit=per_minute, latency_ms=latency_ms, scale=scale, days=DAYS, now=NOW)
    with limited as server:
        run = auditlab_sync(server, rate_limit=per_minute, max_concurrency=concurrency)
    needed = math.ceil(run.entries / MAX_TAKE)
    share = run.per_minute / ceiling
    return {
        "regime": f"rate limit {per_minute:,}/min, {latency_ms:.0f} ms",
        "entries": f"{run.entries:,}",
        "time": f"{run.seconds:.1f} s",
        "entries/min": f"{run.per_minute:,.0f}",
        "of ceiling": f"{share:.0%} ({'met' if share >= TARGET_OF_CEILING else 'MISSED'})",
        "requests (ceil(entries/100))": f"{run.requests:,} ({needed:,})",
        "429s": run.rate_limited,
    }


def latency_bound(
    runs: int, latency_ms: float = 50.0, scale: float = 1.0, days: int = DAYS
) -> dict:
    """Return the row comparing auditlab and the naive loop with no effective limit."""
    from auditlab.sandbox import serve

    ours: list[SyncRun] = []
    naive: list[SyncRun] = []
    with serve(rate_limit=None, latency_ms=latency_ms, scale=scale, days=days, now=NOW) as server:
        for _ in range(runs):
            ours.append(auditlab_sync(server, rate_limit=NO_LIMIT))
            naive.append(naive_sync(server))
    ours_runs = Runs(tuple(r.seconds for r in ours))
    naive_runs = Runs(tuple(r.seconds for r in naive))
    speedup = naive_runs.median / ours_runs.median
    entries = ours[0].entries
    return {
        "regime": f"no limit, {latency_ms:.0f} ms, {days} days",
        "entries": f"{entries:,}",
        "time": f"auditlab {ours_runs.spread()}; naive loop {naive_runs.spread()}",
        "entries/min": f"auditlab {entries / ours_runs.median * 60:,.0f}; "
        f"naive {naive[0].entries / naive_runs.median * 60:,.0f}",
        "of ceiling": f"{ratio(naive_runs.median, ours_runs.median)} the naive loop "
        f"({'met' if speedup >= TARGET_OVER_NAIVE else 'MISSED'})",
        "requests (ceil(entries/100))": f"{ours[0].requests:,} ({math.ceil(entries / 100):,})",
        "429s": sum(r.rate_limited for r in ours),
    }


def cold_sync(
    limits: tuple[tuple[int, float], ...] = ((3_000, 2.0), (500, 3.0)),
    runs: int = 3,
    latency_scale: float = 1.0,
    matrix: Matrix | None = None,
) -> Figure:
    """Return figure 1: one row per (limit per minute, minutes), the limiter matrix, then
    the latency-bound row."""
    figure = Figure(1, "Cold sync throughput against the sandbox")
    bound = [rate_limit_bound(limit, minutes) for limit, minutes in limits]
    matrix = matrix or Matrix()
    matrix_rows = matrix.rows()
    # The whole default org, 60 days of a busier one (about 12,500 entries), and a first
    # sync of two weeks (18 pages), where round trips count more than pages.
    latency = [
        latency_bound(runs, scale=latency_scale),
        latency_bound(runs, scale=1.6 * latency_scale, days=60),
        latency_bound(runs, scale=latency_scale, days=14),
    ]
    figure.rows += [*bound, *matrix_rows, *latency]
    headline = [f"{row['regime']}: {row['of ceiling']}, {row['429s']} 429s" for row in bound]
    headline.append(f"limiter matrix: {matrix_summary(matrix_rows)}")
    headline += [f"{row['regime']}: {row['of ceiling']}, {row['429s']} 429s" for row in latency]
    figure.headline = "; ".join(headline)
    figure.notes += [
        "Rate-limit bound: sandbox limit (a sliding window) = client limit, 150 ms latency; "
        "the ceiling is 100 entries x the allowed requests per minute; target >= "
        f"{TARGET_OF_CEILING:.0%}, no 429s. Requests are paced evenly, so even the first "
        "minute stays under the ceiling.",
        *matrix.notes(),
        "Latency bound: no sandbox limit, 50 ms latency, auditlab (cold cache each run) "
        "against a sequential httpx page loop + `pd.json_normalize` with the same dtype "
        f"conversions, alternating; target >= {TARGET_OVER_NAIVE:.0f}x.",
    ]
    return figure


def matrix_summary(rows: list[dict]) -> str:
    """Return the limiter matrix in one phrase: how many rows met every target."""
    met = sum("MISSED" not in " ".join(map(str, row.values())) for row in rows)
    return f"{met} of {len(rows)} settings meet every target"
