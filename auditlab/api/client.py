"""The HTTP client for Invent's audit-log endpoint: one request, done right, then paging.

Layers, each its own module: ``credentials`` (key and base URL), ``ratelimit``
(one limiter for every request in flight, learning the server's limit),
``retry`` (what to retry and how long to wait), ``paging`` (how pages add up
to a range). This module joins them around one request function and maps
answers to auditlab's exceptions.

Threads, not asyncio: pages run in a ``ThreadPoolExecutor`` over one
thread-safe ``httpx2.Client``, so the client also works inside Jupyter's
running event loop.
"""

from __future__ import annotations

import functools
import ssl
import threading
from collections.abc import Mapping
from dataclasses import replace
from types import TracebackType
from typing import Any

import httpx2
import orjson

from auditlab._version import __version__
from auditlab.api.credentials import ApiKey, resolve_api_key, resolve_base_url
from auditlab.api.paging import FetchResult, OnPage, Page, fetch_live, fetch_stable
from auditlab.api.query import DEFAULT_TAKE, MAX_TAKE, PARAMETER_NAMES, Query
from auditlab.api.ratelimit import INVENT_RATE_LIMIT, RateLimiter, read_budget, shared_limiter
from auditlab.api.retry import RetryPolicy, Transient, parse_retry_after
from auditlab.checks import check_whole_number
from auditlab.environment import API_KEY_VARIABLE
from auditlab.errors import APIError, AuthError, InvalidQuery, NotFound

USER_AGENT = f"auditlab/{__version__}"
COUNT_HEADER = "pagination-count"
# Failures of the connection or of the body, not of our request: worth another try.
TRANSIENT_ERRORS: tuple[type[httpx2.HTTPError], ...] = (
    httpx2.TimeoutException,
    httpx2.NetworkError,  # connect, read, write and close errors
    httpx2.RemoteProtocolError,  # e.g. the body ended before Content-Length
    httpx2.DecodingError,  # a compressed body cut short
)
SERVER_MESSAGE_LIMIT = 300
# Invent's parameter names back to ours, to name the parameter a 400 answer blames.
OUR_NAMES = {theirs: ours for ours, theirs in PARAMETER_NAMES.items()}


class InventClient:
    """A client for one Invent key: pages, ranges, retries and the rate limit.

    ``rate_limit`` is the most requests per minute the caller allows; one
    limiter, shared by every client of this process talking to the same base
    URL (Invent counts per IP), paces requests under it and learns from 429s
    and rate-limit headers what the server actually grants.
    ``max_concurrency`` bounds the requests in flight. Pass ``limiter`` to
    use another RateLimiter, e.g. one with a fake clock.

    >>> from auditlab.api.query import Query
    >>> from auditlab.sandbox import serve
    >>> with serve(api_key="sk_test_doc", days=14) as server:
    ...     with InventClient("sk_test_doc", server.base_url) as client:
    ...         result = client.fetch(Query.build(), live=False)
    ...     len(result.entries) == len(server.org.entries), result.complete
    (True, True)
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        max_concurrency: int = 8,
        rate_limit: int = INVENT_RATE_LIMIT,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx2.BaseTransport | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        check_whole_number("max_concurrency", max_concurrency, "requests in flight")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise InvalidQuery(
                f"timeout must be a number of seconds > 0, not {timeout!r}", parameter="timeout"
            )
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise InvalidQuery(
                "retry must be an auditlab.api.retry.RetryPolicy, e.g. RetryPolicy(max_attempts=3)",
                parameter="retry",
            )
        self.base_url = resolve_base_url(base_url)
        self.limiter = limiter if limiter is not None else shared_limiter(self.base_url, rate_limit)
        self.retry = retry if retry is not None else RetryPolicy()
        self.max_concurrency = max_concurrency
        self._key = ApiKey(resolve_api_key(api_key))
        self._in_flight = threading.BoundedSemaphore(max_concurrency)
        self._http = httpx2.Client(
            base_url=self.base_url,
            auth=_BearerAuth(self._key),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            timeout=httpx2.Timeout(timeout),
            verify=_tls_context(),
            limits=httpx2.Limits(
                max_connections=max_concurrency, max_keepalive_connections=max_concurrency
            ),
            transport=transport,
        )

    def __repr__(self) -> str:
        return (
            f"InventClient(base_url={self.base_url!r}, api_key={self._key!r}, "
            f"max_concurrency={self.max_concurrency}, rate_limit={self.limiter.limit})"
        )

    def __enter__(self) -> InventClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool; ``with InventClient(...)`` does it on exit."""
        self._http.close()

    def fetch(
        self,
        query: Query,
        *,
        live: bool,
        on_page: OnPage | None = None,
        fetched: Mapping[int, Page] | None = None,
    ) -> FetchResult:
        """Return all entries of query's range, deduplicated by id, newest first.

        ``live=False`` for a range that ends before today (it cannot change:
        pages are fetched concurrently, ``ceil(count / 100)`` requests);
        ``live=True`` for a range that includes today (read in order and
        reconciled with the server's count, see ``paging.fetch_live``).
        ``on_page(n)`` is called after each page with the number of new
        entries it brought, e.g. to drive a progress bar. A page whose
        retries run out is not raised: it ends the fetch, and the result is
        not complete and names the error (``stopped``); for a stable range
        it also says how far back what was read is whole (``whole_after``).
        ``fetched`` are pages of query the caller already has, by number
        (100 entries a page): each is read as the answer to the first request
        for its number, which is then not sent. A live fetch takes page 1
        only, as its later pages must be read after it.

        >>> with InventClient("sk_test_doc", "http://127.0.0.1:1") as client:
        ...     client.fetch(Query.build(), live="yes")
        Traceback (most recent call last):
        ...
        auditlab.errors.InvalidQuery: live must be True or False, not 'yes'
        """
        if not isinstance(query, Query):
            raise InvalidQuery(
                "query must be an auditlab.api.query.Query, made with Query.build(...)",
                parameter="query",
            )
        if not isinstance(live, bool):
            raise InvalidQuery(f"live must be True or False, not {live!r}", parameter="live")
        given = dict(fetched or {})
        if any(page.take != DEFAULT_TAKE for page in given.values()) or (live and set(given) - {1}):
            raise InvalidQuery(
                f"fetched must be pages of {DEFAULT_TAKE} entries (page 1 only for a live "
                f"fetch), not {sorted(given)}",
                parameter="fetched",
            )

        def one_page(number: int) -> Page:
            # Each number is asked for once, except page 1 of a live fetch (once per pass).
            page = given.pop(number, None)
            return page if page is not None else self.fetch_page(query, number)

        if live:
            return fetch_live(one_page, on_page=on_page)
        return fetch_stable(one_page, max_concurrency=self.max_concurrency, on_page=on_page)

    def fetch_page(self, query: Query, page: int, take: int = DEFAULT_TAKE) -> Page:
        """Return one page of query's entries, with the server's total count.

        Retries transient failures per the retry policy (429s do not use up
        its tries); every attempt waits for the rate limiter.

        >>> from auditlab.sandbox import serve
        >>> with serve(api_key="sk_test_doc", days=14) as server:
        ...     with InventClient("sk_test_doc", server.base_url) as client:
        ...         page = client.fetch_page(Query.build(), 2, take=10)
        ...     page.count == len(server.org.entries), len(page.entries), page.requests
        (True, 10, 1)
        """
        check_whole_number("page", page, "1-based page number")
        check_whole_number("take", take, "entries per page", maximum=MAX_TAKE)
        path = query.path
        params = query.to_params(page=page, take=take)
        attempts = 0

        def attempt() -> Page:
            nonlocal attempts
            attempts += 1
            return self._get_page(path, params, query.org_id, page, take)

        answered = self.retry.call(
            attempt, what=f"GET {path} page {page}", progress=lambda: self.limiter.last_success
        )
        return replace(answered, requests=attempts)

    def _get_page(
        self, path: str, params: dict[str, str], org_id: str, page: int, take: int
    ) -> Page:
        """Return one attempt's page, or raise Transient or a typed error."""
        with self._in_flight, self.limiter.slot() as sent:
            try:
                response = self._http.get(path, params=params)
            except TRANSIENT_ERRORS as exc:
                raise Transient(type(exc).__name__) from None
            except httpx2.HTTPError as exc:
                raise APIError(
                    f"GET {path} failed: {type(exc).__name__}: {self._key.scrub(str(exc))}"
                ) from None
        status = response.status_code
        self._learn(response, sent)
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(
                response.headers.get("retry-after"), date=response.headers.get("date")
            )
            if status == 429 and self.retry.honours(retry_after):
                self.limiter.pause(retry_after)  # every request waits out the limit
            raise Transient(f"HTTP {status}", status=status, retry_after=retry_after)
        if status != 200:
            raise self._error(response, path, org_id)
        try:
            count = int(response.headers[COUNT_HEADER])
        except (KeyError, ValueError):
            raise APIError(
                f"GET {path} answered without a whole-number {COUNT_HEADER} header",
                status_code=status,
            ) from None
        try:
            return Page.from_body(response.content, count=count, page=page, take=take)
        except ValueError:
            raise Transient(
                f"a body that is not JSON (HTTP {status}, {len(response.content)} bytes)",
                status=status,
            ) from None
        except TypeError as error:
            raise APIError(f"GET {path} answered {error}", status_code=status) from None

    def _learn(self, response: httpx2.Response, sent: float) -> None:
        """Tell the limiter what the answer to the request sent at ``sent`` says of the limit."""
        headers = response.headers
        budget = read_budget(headers, date=headers.get("date"))
        if budget is not None:
            self.limiter.note(budget)
        if response.status_code == 429:
            self.limiter.throttled(sent)
        elif response.status_code == 200:
            self.limiter.succeeded()

    def _error(self, response: httpx2.Response, path: str, org_id: str) -> APIError | InvalidQuery:
        """Return the exception for a non-retryable answer, with the server's message."""
        status = response.status_code
        message, parameter = self._server_says(response)
        if status == 400:
            return InvalidQuery(
                f"Invent rejected the query (HTTP 400): {message}",
                parameter=OUR_NAMES.get(parameter or "", parameter),
            )
        if status in (401, 403):
            return AuthError(
                f"Invent refused the API key (HTTP {status}): {message}. Check the api_key "
                f"argument, the {API_KEY_VARIABLE} environment variable or the .env file",
                status_code=status,
            )
        if status == 404:
            return NotFound(
                f"organisation {org_id!r} was not found for this API key (HTTP 404): {message}. "
                "Use 'c' for the key's own organisation",
                status_code=status,
            )
        return APIError(f"GET {path} answered HTTP {status}: {message}", status_code=status)

    def _server_says(self, response: httpx2.Response) -> tuple[str, str | None]:
        """Return the server's error message (short, key scrubbed) and the parameter it names."""
        try:
            body: Any = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = response.text
        parameter = None
        if isinstance(body, dict):
            if isinstance(body.get("parameter"), str):
                parameter = body["parameter"]
            body = next(
                (body[name] for name in ("message", "error", "detail") if body.get(name)), body
            )
        text = body if isinstance(body, str) else orjson.dumps(body).decode()
        text = text.strip() or response.reason_phrase
        return self._key.scrub(text)[:SERVER_MESSAGE_LIMIT], parameter


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Return the process's one TLS context, as httpx2 makes it (the system's trust store).

    ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` still name another bundle. Loading the
    certificates costs about 20 ms, which every client would pay again.
    """
    return httpx2.create_ssl_context()


class _BearerAuth(httpx2.Auth):
    """Adds ``Authorization: Bearer <key>`` to each request, keeping the key out of reprs."""

    def __init__(self, key: ApiKey) -> None:
        self._key = key

    def auth_flow(self, request: httpx2.Request) -> Any:
        request.headers["Authorization"] = f"Bearer {self._key.reveal()}"
        yield request
