"""``auditlab sandbox``: serve a synthetic Invent org on 127.0.0.1 until interrupted."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import signal
import threading

from auditlab.environment import API_KEY_VARIABLE, BASE_URL_VARIABLE
from auditlab.sandbox.limits import ALGORITHMS, DEFAULT_BURST
from auditlab.sandbox.server import DEFAULT_RATE_LIMIT, check_loopback, serve
from auditlab.sandbox.undocumented import DEFAULT_LATE_DELAY, USER_FILTERS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sandbox`` subcommand."""
    parser = subparsers.add_parser(
        "sandbox",
        help="serve a synthetic Invent org over HTTP on 127.0.0.1",
        description="Serve a synthetic Invent org speaking the audit-log API until Ctrl-C. "
        "The key it prints is a throwaway for this sandbox only.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 = free port)")
    parser.add_argument("--api-key", help="the key clients must send (default: a random one)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic org")
    parser.add_argument("--days", type=int, default=180, help="days of history (default 180)")
    parser.add_argument("--scale", type=float, default=1.0, help="volume multiplier")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before each answer")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=DEFAULT_RATE_LIMIT,
        help=f"requests per minute per IP (default {DEFAULT_RATE_LIMIT}; 0 = none)",
    )
    parser.add_argument(
        "--limiter",
        choices=ALGORITHMS,
        default="sliding",
        help="how the rate limit is counted (default sliding)",
    )
    parser.add_argument(
        "--burst",
        type=int,
        default=DEFAULT_BURST,
        help=f"token-bucket capacity (default {DEFAULT_BURST})",
    )
    parser.add_argument(
        "--competing",
        type=float,
        default=0.0,
        help="requests per minute another program on the same IP spends of the limit",
    )
    parser.add_argument(
        "--rate-headers", action="store_true", help="send RateLimit-* headers with answers"
    )
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of 5xx answers")
    parser.add_argument("--cut-rate", type=float, default=0.0, help="share of bodies cut short")
    parser.add_argument("--live", type=int, default=0, help="entries appended after each page")
    parser.add_argument("--chaos", type=float, default=0.0, help="share of entries with unknowns")
    parser.add_argument(
        "--hostile",
        type=float,
        default=0.0,
        help="share of entries with hostile text (markup, formulas, bidi controls, huge sizes) "
        "in every free-text field",
    )
    parser.add_argument(
        "--user-filter",
        choices=USER_FILTERS,
        default="user",
        help="which person the user_id filter matches (default user)",
    )
    parser.add_argument(
        "--person-gaps",
        type=float,
        default=0.0,
        help="share of entries naming the person in actor only or user only",
    )
    parser.add_argument(
        "--late", type=int, default=0, help="entries per UTC midnight that are shown late"
    )
    parser.add_argument(
        "--late-delay",
        type=float,
        default=DEFAULT_LATE_DELAY.total_seconds(),
        metavar="SECONDS",
        help=f"longest delay past midnight (default {DEFAULT_LATE_DELAY.total_seconds():.0f})",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; return the exit status."""
    try:
        check_loopback(args.host)
    except ValueError as error:
        raise SystemExit(f"auditlab sandbox: --host: {error}") from None
    running = serve(
        api_key=args.api_key,
        seed=args.seed,
        days=args.days,
        scale=args.scale,
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
        limiter=args.limiter,
        burst=args.burst,
        competing=args.competing,
        rate_headers=args.rate_headers,
        fault_rate=args.fault_rate,
        cut_rate=args.cut_rate,
        live=args.live,
        chaos=args.chaos,
        hostile=args.hostile,
        user_filter=args.user_filter,
        person_gaps=args.person_gaps,
        late=args.late,
        late_delay=dt.timedelta(seconds=args.late_delay),
        host=args.host,
        port=args.port,
    )
    with contextlib.ExitStack() as stack:
        try:
            sandbox = stack.enter_context(running)
        except ValueError as error:  # a knob out of range, named by the message
            raise SystemExit(f"auditlab sandbox: {error}") from None
        print(f"Invent sandbox for org {sandbox.org.org_id} ({len(sandbox.org.entries)} entries)")
        print(f"{BASE_URL_VARIABLE}={sandbox.base_url}")
        print(f"{API_KEY_VARIABLE}={sandbox.api_key}")
        print("Press Ctrl-C to stop.", flush=True)
        # A service manager stops with SIGTERM: shut down as cleanly as on Ctrl-C. SIGINT
        # is set too: a process started from a background job inherits it ignored.
        for stop in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop, _interrupt)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return 0
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
