"""A real HTTP server on 127.0.0.1 speaking Invent's audit-log API over a synthetic org.

It implements Invent's documented endpoint ``GET /orgs/{org_id}/audit-logs`` (``org_id``
is the org's id or ``c``; with ``sub_orgs``, a sub-org's id too, and ``GET
/orgs/{org_id}/orgs`` lists the sub-orgs behind the same key), Bearer auth,
every filter validated, newest first, ``page``/``take`` with the
``pagination-*`` headers, and a per-IP requests-per-minute limit answering
429 with ``Retry-After``, counted as a sliding window, fixed windows or a
token bucket (``limits.py``), optionally with ``RateLimit-*`` headers. On
request it misbehaves: latency, 5xx answers, connections cut mid-body,
entries appended while clients page (``live``), unknown actions or fields
(``chaos``) and hostile text in every free-text field (``hostile``).

>>> with serve(days=30, seed=1) as sandbox:
...     sandbox.base_url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import ipaddress
import logging
import random
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np
import orjson

from auditlab.clock import Clock, clock_from
from auditlab.sandbox.chaos import add_chaos
from auditlab.sandbox.contract import BadParameter, parse_paging, parse_request
from auditlab.sandbox.entries import Entry
from auditlab.sandbox.generate import SyntheticOrg, generate_org, live_entries
from auditlab.sandbox.hostile import add_hostile
from auditlab.sandbox.incidents import Incident
from auditlab.sandbox.limits import (
    ALGORITHMS,
    DEFAULT_BURST,
    DEFAULT_WINDOW_S,
    Algorithm,
    ServerLimit,
    in_steps,
    rate_headers,
)
from auditlab.sandbox.store import LogStore
from auditlab.sandbox.suborgs import generate_sub_orgs, listing_page
from auditlab.sandbox.undocumented import (
    DEFAULT_LATE_DELAY,
    add_late_entries,
    add_person_gaps,
    check_user_filter,
    visible,
)

log = logging.getLogger("auditlab")

DEFAULT_RATE_LIMIT = 500
FAULT_STATUSES = (500, 502, 503)


class Stats:
    """What the server answered: requests, statuses, 429s, 5xx, cuts and query strings.

    >>> stats = Stats()
    >>> stats.record(200, "take=1"); stats.requests, stats.by_status[200]
    (1, 1)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget everything counted so far."""
        with self._lock:
            self.requests = 0
            self.by_status: Counter[int] = Counter()
            self.queries: Counter[str] = Counter()
            self.cuts = 0
            self.live_added = 0

    def record(self, status: int, query: str | None = None, *, cut: bool = False) -> None:
        """Count one answered request (and its query string, for audit-log requests)."""
        with self._lock:
            self.requests += 1
            self.by_status[status] += 1
            if query is not None:
                self.queries[query] += 1
            self.cuts += cut

    def add_live(self, count: int) -> None:
        """Count entries appended by the ``live`` knob."""
        with self._lock:
            self.live_added += count

    @property
    def rate_limited(self) -> int:
        """Return how many 429 answers were sent."""
        return self.by_status[429]

    @property
    def server_errors(self) -> int:
        """Return how many 5xx answers were sent."""
        return sum(n for status, n in self.by_status.items() if status >= 500)


@dataclass(frozen=True)
class Knobs:
    """How the server misbehaves: all zero means a well-behaved Invent.

    ``fault_rate``: share of requests answered 500/502/503 (seeded dice).
    ``cut_rate``: share of 200 answers whose connection is cut after half the
    body (the Content-Length header still promises all of it). ``live``: new
    entries put at the front of the log after each page is answered.
    ``chaos``: share of entries with unknown fields, half of them also with an
    unknown action. ``hostile``: share of entries whose free-text fields hold
    hostile text (``auditlab.sandbox.hostile``). ``rate_limit``: requests per
    ``window_s`` seconds (a minute) per client IP, counted as ``limiter`` (see
    ``limits.py``) with a token bucket of ``burst``; ``competing``: requests
    per window another program behind the same IP spends; ``rate_headers``:
    send ``RateLimit-*`` headers with every answer that passed the limit.
    ``down``: ids of orgs whose audit log answers only 503 (the rest of the
    group is served as usual).

    What Invent leaves open (``auditlab.sandbox.undocumented``):
    ``user_filter``: which person ``user_id`` matches (``actor``, ``user`` or
    ``either``). ``person_gaps``: share of people's entries naming the person
    in ``actor`` only or ``user`` only. ``late``: entries written in the last
    minutes before each UTC midnight and shown only up to ``late_delay``
    after it, by the server's clock.
    """

    latency_ms: float = 0.0
    rate_limit: int | None = DEFAULT_RATE_LIMIT
    fault_rate: float = 0.0
    cut_rate: float = 0.0
    live: int = 0
    chaos: float = 0.0
    hostile: float = 0.0
    user_filter: str = "user"
    person_gaps: float = 0.0
    late: int = 0
    late_delay: dt.timedelta = DEFAULT_LATE_DELAY
    limiter: Algorithm = "sliding"
    burst: int = DEFAULT_BURST
    window_s: float = DEFAULT_WINDOW_S
    competing: float = 0.0
    rate_headers: bool = False
    down: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in ("fault_rate", "cut_rate", "chaos", "hostile", "person_gaps"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.latency_ms < 0 or self.live < 0 or (self.rate_limit or 0) < 0 or self.late < 0:
            raise ValueError("latency_ms, live, late and rate_limit must not be negative")
        if self.late_delay <= dt.timedelta(0):
            raise ValueError(f"late_delay must be positive, got {self.late_delay}")
        check_user_filter(self.user_filter)
        if self.limiter not in ALGORITHMS:
            allowed = ", ".join(ALGORITHMS)
            raise ValueError(f"limiter must be one of {allowed}, not {self.limiter!r}")


class SandboxHTTPServer(ThreadingHTTPServer):
    """The threading HTTP server holding the orgs (parent first), their stores, knobs and stats.

    ``org`` and ``store`` are the parent's, the org ``c`` means; ``stores``
    holds every org's by id.
    """

    daemon_threads = True
    allow_reuse_address = True
    # socketserver listens with a backlog of 5: on a busy machine a client opening its
    # eight connections at once lost a SYN and waited a second to retry; a real API
    # front end accepts far more.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        org: SyntheticOrg,
        api_key: str,
        knobs: Knobs,
        seed: int,
        *,
        clock: Clock,
        shown_from: dict[str, dt.datetime] | None = None,
        sub_orgs: list[SyntheticOrg] | None = None,
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, SandboxHandler)
        self.org = org
        self.sub_orgs = list(sub_orgs or [])
        self.orgs = {each.org_id: each for each in (org, *self.sub_orgs)}
        self.api_key = api_key
        self.knobs = knobs
        self.seed = seed
        self.clock = clock
        self.shown_from = shown_from or {}
        self.stats = Stats()
        self.limiter = (
            ServerLimit(knobs.rate_limit, algorithm=knobs.limiter, window_s=knobs.window_s,
                        burst=knobs.burst, competing=knobs.competing)
            if knobs.rate_limit else None
        )  # fmt: skip
        self.stores = {
            org_id: LogStore(each.entries, user_filter=knobs.user_filter,
                             shown_from=self.shown_from)
            for org_id, each in self.orgs.items()
        }  # fmt: skip
        self.store = self.stores[org.org_id]
        self._dice = random.Random(seed)
        self._live_rng = np.random.default_rng([seed, 1])
        self._chaos_rng = random.Random(f"{seed}-chaos")
        self._hostile_rng = random.Random(f"{seed}-hostile")
        self._dice_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def roll(self) -> float:
        """Return the next number from the seeded dice that decide faults and cuts."""
        with self._dice_lock:
            return self._dice.random()

    def find_org(self, org_id: str) -> SyntheticOrg | None:
        """Return the org an id in a path names (``c``: the parent), None when the key has none."""
        return self.org if org_id == "c" else self.orgs.get(org_id)

    def append_live(self, org: SyntheticOrg | None = None) -> None:
        """Append ``knobs.live`` new entries at the front of an org's log (now, unique ids).

        ``org`` defaults to the parent.
        """
        org = self.org if org is None else org
        with self._dice_lock:
            fresh = live_entries(org, self._live_rng, self.knobs.live, self.clock())
            if self.knobs.chaos:
                add_chaos(fresh, self.knobs.chaos, self._chaos_rng)
            if self.knobs.hostile:
                add_hostile(fresh, self.knobs.hostile, self._hostile_rng, heavy=0)
            if self.knobs.person_gaps:
                add_person_gaps(fresh, self.knobs.person_gaps, self.seed)
            self.stores[org.org_id].append(fresh)
            org.entries[0:0] = fresh[::-1]
        self.stats.add_live(len(fresh))

    def track(self, connection: socket.socket, open_: bool) -> None:
        """Remember open client connections so stopping can close them."""
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def close_connections(self) -> None:
        """Shut down every client connection still open."""
        with self._connections_lock:
            for connection in list(self._connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("sandbox: error while serving %s", client_address, exc_info=True)


class SandboxHandler(BaseHTTPRequestHandler):
    """Answers one request as Invent's endpoint does, with the misbehaviour knobs applied."""

    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "InventSandbox/1.0"
    # Headers and body go out in two writes; without this, Nagle's algorithm
    # and delayed ACKs add ~40 ms to every small answer.
    disable_nagle_algorithm = True
    timeout = 30
    # the RateLimit-* headers of the request being answered (rate_headers knob)
    limit_headers: dict[str, str] = {}  # noqa: RUF012 (replaced, never mutated)

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.track(self.connection, False)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sandbox: " + format, *args)

    def do_GET(self) -> None:
        server = self.server
        knobs = server.knobs
        split = urlsplit(self.path)
        parts = split.path.strip("/").split("/")
        org_request = len(parts) == 3 and parts[0] == "orgs"
        audit_request = org_request and parts[2] == "audit-logs"
        listing_request = org_request and parts[2] == "orgs"
        query = split.query if audit_request else None
        if knobs.latency_ms:
            time.sleep(knobs.latency_ms / 1000)
        self.limit_headers = {}
        if server.limiter is not None:
            verdict = server.limiter.admit(self.client_address[0])
            if knobs.rate_headers:
                self.limit_headers = rate_headers(verdict, knobs.window_s)
            if verdict.retry_after is not None:
                message = (f"rate limit exceeded: at most {knobs.rate_limit} requests "
                           f"per {knobs.window_s:g} s")  # fmt: skip
                wait = in_steps(verdict.retry_after, knobs.window_s)
                self._error(429, message, query, headers={"Retry-After": wait})
                return
        org = server.find_org(unquote(parts[1])) if org_request else None
        down = audit_request and org is not None and org.org_id in knobs.down
        if down or (knobs.fault_rate and server.roll() < knobs.fault_rate):
            status = FAULT_STATUSES[int(server.roll() * len(FAULT_STATUSES))]
            self._error(status, "the server is having a bad moment; try again", query)
            return
        if not self._authorised():
            self._error(401, "missing or invalid API key", query)
            return
        if not (audit_request or listing_request):
            self._error(404, "not found", query)
            return
        if org is None:
            self._error(404, "organisation not found for this API key", query)
            return
        try:
            if listing_request:
                page, take = parse_paging(split.query)
                children = server.sub_orgs if org is server.org else []
                body, count = listing_page(children, page, take)
            else:
                wanted = parse_request(split.query)
                page, take = wanted.page, wanted.take
                body, count = server.stores[org.org_id].page(
                    wanted.filters, wanted.date_from, wanted.date_to, page, take,
                    now=server.clock(),
                )  # fmt: skip
        except BadParameter as error:
            self._error(400, str(error), query, parameter=error.parameter)
            return
        headers = {
            "pagination-count": str(count),
            "pagination-page": str(page),
            "pagination-take": str(take),
        }
        cut = bool(knobs.cut_rate) and server.roll() < knobs.cut_rate
        # Counted before it is sent: a client that has its answer sees it counted.
        server.stats.record(200, query, cut=cut)
        self._send(200, body, headers, cut=cut)
        if knobs.live and audit_request:
            server.append_live(org)

    def do_POST(self) -> None:
        self.limit_headers = {}
        self._error(405, "method not allowed", None)

    do_PUT = do_DELETE = do_PATCH = do_POST

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        expected = self.server.api_key.encode()
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected)

    def _error(
        self,
        status: int,
        message: str,
        query: str | None,
        *,
        parameter: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        payload: dict[str, Any] = {"statusCode": status, "message": message}
        if parameter is not None:
            payload["parameter"] = parameter
        self.server.stats.record(status, query)
        self._send(status, orjson.dumps(payload), headers or {})

    def _send(
        self, status: int, body: bytes, headers: dict[str, str], *, cut: bool = False
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**self.limit_headers, **headers}.items():
            self.send_header(name, value)
        if cut:
            self.send_header("Connection", "close")
        self.end_headers()
        if cut:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


@dataclass
class Sandbox:
    """A running sandbox: where it listens, its key, the orgs it serves, its clock and stats.

    ``org`` is the key's own org (``c``), ``sub_orgs`` its sub-orgs, in the
    order the listing gives them. ``clock`` is the sandbox's idea of the
    current moment (see ``auditlab.clock``); a client given the same clock
    agrees with it on which day is today.
    """

    base_url: str
    api_key: str
    org: SyntheticOrg
    stats: Stats
    knobs: Knobs
    server: SandboxHTTPServer
    sub_orgs: list[SyntheticOrg] = field(default_factory=list)

    @property
    def orgs(self) -> dict[str, SyntheticOrg]:
        """Return every org the key can read by id, the parent first."""
        return {each.org_id: each for each in (self.org, *self.sub_orgs)}

    @property
    def answer_key(self) -> list[Incident]:
        """Return the incidents planted in every org, the parent's first; each names its org."""
        return [incident for each in self.orgs.values() for incident in each.answer_key]

    @property
    def clock(self) -> Clock:
        """Return the clock the sandbox stamps live entries with and shows late entries by."""
        return self.server.clock

    def __repr__(self) -> str:
        entries = len(self.org.entries)
        return f"Sandbox(base_url={self.base_url!r}, org_id={self.org.org_id!r}, {entries=})"

    def visible(self, org_id: str | None = None) -> list[Entry]:
        """Return an org's entries the server shows now by its clock, newest first: the truth now.

        ``org_id`` defaults to the parent's; ``org.entries`` also holds late
        entries not shown yet.
        """
        org = self.org if org_id is None else self.orgs[org_id]
        return visible(org.entries, self.server.shown_from, self.server.clock())


def check_loopback(host: str) -> None:
    """Raise ValueError unless host is a loopback address (the sandbox never listens wider)."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"host must be a loopback address such as 127.0.0.1, not {host!r}")


@contextlib.contextmanager
def serve(
    *,
    api_key: str | None = None,
    seed: int = 0,
    days: int = 180,
    now: dt.datetime | None = None,
    org_id: str = "org_sandbox",
    scale: float = 1.0,
    org: SyntheticOrg | None = None,
    sub_orgs: int = 0,
    latency_ms: float = 0.0,
    rate_limit: int | None = DEFAULT_RATE_LIMIT,
    fault_rate: float = 0.0,
    cut_rate: float = 0.0,
    live: int = 0,
    chaos: float = 0.0,
    hostile: float = 0.0,
    user_filter: str = "user",
    person_gaps: float = 0.0,
    late: int = 0,
    late_delay: dt.timedelta = DEFAULT_LATE_DELAY,
    limiter: Algorithm = "sliding",
    burst: int = DEFAULT_BURST,
    window_s: float = DEFAULT_WINDOW_S,
    competing: float = 0.0,
    rate_headers: bool = False,
    down: tuple[str, ...] = (),
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Clock | None = None,
) -> Iterator[Sandbox]:
    """Yield a running sandbox server on 127.0.0.1, stopped cleanly on exit.

    ``org`` serves an org generated earlier (its entries are the truth and
    grow when ``live`` appends); otherwise one is generated from ``seed``,
    ``days``, ``now`` (default: the current time), ``org_id`` and ``scale``.
    ``sub_orgs`` adds that many sub-orgs behind the same key, each its own
    log with its own planted incidents (``auditlab.sandbox.suborgs``); every
    knob applies to each org, and the orgs in ``down`` answer only 503.
    ``clock`` is the server's idea of the current moment: it stamps the
    entries ``live`` appends and decides when late entries show; by default
    it starts at the org's ``now`` and runs on at the real pace, so a pinned
    org stays pinned. ``user_filter``, ``person_gaps``, ``late`` and
    ``late_delay`` pick answers to what Invent's docs leave open (see
    ``Knobs``). ``api_key`` defaults to a random one. ``port=0`` picks a free
    port. ``rate_limit`` requests per ``window_s`` seconds are counted as
    ``limiter`` (``"sliding"``, ``"fixed"`` or ``"token-bucket"`` holding
    ``burst``), with ``competing`` of them spent by another program on the
    same IP; ``rate_headers`` adds ``RateLimit-*`` headers. A short
    ``window_s`` (say 1 s with a proportionally smaller ``rate_limit``) lets a
    test cross many windows fast.
    ``hostile`` (a share, e.g. 0.08) fills the free-text fields of that share
    of entries, and of every actor's newest entry, with hostile text, the same
    for a seed, the incidents spared; the newest such entry of the history
    carries 5 MB of metadata (``auditlab.sandbox.hostile``).

    >>> import httpx2
    >>> with serve(api_key="k", days=30) as sb:
    ...     httpx2.get(f"{sb.base_url}/orgs/c/audit-logs?take=1",
    ...                headers={"Authorization": "Bearer k"}).status_code
    200
    """
    check_loopback(host)
    knobs = Knobs(
        latency_ms=latency_ms, rate_limit=rate_limit, fault_rate=fault_rate, cut_rate=cut_rate,
        live=live, chaos=chaos, hostile=hostile, user_filter=user_filter, person_gaps=person_gaps,
        late=late, late_delay=late_delay, limiter=limiter, burst=burst, window_s=window_s,
        competing=competing, rate_headers=rate_headers, down=frozenset(down),
    )  # fmt: skip
    if org is None:
        org = generate_org(seed=seed, days=days, now=now, org_id=org_id, scale=scale)
    children = generate_sub_orgs(org, sub_orgs)
    shown_from: dict[str, dt.datetime] = {}
    for each, each_seed in [(org, seed), *((child, child.seed) for child in children)]:
        if chaos:
            add_chaos(each.entries, chaos, random.Random(f"{each_seed}-chaos-history"),
                      keep=each.answer_key)  # fmt: skip
        if hostile:
            history = random.Random(f"{each_seed}-hostile-history")
            add_hostile(each.entries, hostile, history, keep=each.answer_key, every_actor=True)
        shown_from.update(add_late_entries(each, late, each_seed, late_delay))
        if person_gaps:
            add_person_gaps(each.entries, person_gaps, each_seed, keep=each.answer_key)
    key = api_key or f"sk_sandbox_{secrets.token_hex(16)}"
    clock = clock_from(org.now) if clock is None else clock
    server = SandboxHTTPServer(
        (host, port), org, key, knobs, seed, clock=clock, shown_from=shown_from,
        sub_orgs=children,
    )  # fmt: skip
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="auditlab-sandbox", daemon=True)  # fmt: skip
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    url_host = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
    try:
        yield Sandbox(
            f"http://{url_host}:{bound_port}", key, org, server.stats, knobs, server, children
        )
    finally:
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join()
