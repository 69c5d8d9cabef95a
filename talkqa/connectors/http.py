"""One HTTP client per system: retries, rate limiting, token handling hooks, error mapping.

* One :class:`httpx.Client` per :class:`SystemClient`, built once with a shared SSL context (building
  a client without one costs ~25 ms) and the default transport, so vcrpy can record and replay it.
* Retries are bounded: exponential backoff with jitter from a seeded ``random.Random``, slept through
  the injected :class:`~talkqa.clock.Clock` (tests never really sleep). Retried: 429, 5xx, timeouts
  and dropped connections. ``Retry-After`` (seconds or an HTTP date) and Exact's
  ``X-RateLimit-Minutely-Reset`` / ``X-RateLimit-Reset`` (epoch milliseconds) say how long to wait.
* A request that is not idempotent (a create) is **not** repeated when its outcome is unknown (the
  connection dropped after sending, a read timeout, a 5xx): :class:`OutcomeUnknown` is raised so the
  connector can look the record up by its external ref first. 429 and connect errors are always safe.
* A client-side sliding-window limiter per API keeps under the vendor's rate (e.g. 10 requests/s);
  when Exact says the minutely budget is spent, the next request waits for the reset.
* Error messages name the system, method and URL path; secrets never appear: headers are not
  logged, and every message passes through a :class:`~talkqa.connectors.secret.Redactor` that knows
  the configured keys and every token issued.
"""
from __future__ import annotations

import collections
import email.utils
import functools
import json
import logging
import random
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from talkqa.clock import Clock, SystemClock
from talkqa.connectors.base import AuthFailed, ConnectorError, NotFound, OutcomeUnknown, ValidationFailed
from talkqa.connectors.secret import Redactor
from talkqa.wire import Wire, WireResponse, active, build_request

log = logging.getLogger("talkqa.connectors.http")

# Errors where the request certainly never reached the server: always safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Errors after (part of) the request went out: the server may have applied it.
_MAYBE_SENT = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError,
               httpx.WriteError, httpx.NetworkError, httpx.TimeoutException, httpx.ProtocolError)

#: what a request returns: httpx's response, or a wire's (:mod:`talkqa.wire`), which offers the same reads
Response = httpx.Response | WireResponse

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"})

#: Called with a client's system name before every request attempt; may raise to refuse it (a sandbox
#: run's API budget, talkqa.runtime.budget). Empty unless a run installs one.
REQUEST_GATES: list[Callable[[str], None]] = []


@functools.lru_cache(maxsize=1)
def shared_ssl_context() -> ssl.SSLContext:
    """One SSL context for every client (loading the CA bundle once)."""
    return ssl.create_default_context()


@functools.lru_cache(maxsize=4096)
def path_of(url: str) -> str:
    """The path of ``url`` as httpx reads it (for messages; a client asks the same URLs again and again)."""
    return httpx.URL(url).path


@functools.lru_cache(maxsize=1024)
def origin_of(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url`` as httpx reads it."""
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port


class _Cookies(httpx.Cookies):
    """httpx's cookie store, except that a response setting no cookie is not read (the standard library's
    jar would find nothing to store in it): reading every response cost a tenth of a replayed request."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers or "set-cookie2" in response.headers:
            super().extract_cookies(response)


class Auth(Protocol):
    """What :class:`SystemClient` needs from a token provider."""

    def headers(self) -> dict[str, str]:
        """Headers for an API call (fetching or refreshing a token when needed)."""

    def on_unauthorized(self) -> None:
        """An API call got 401: drop the cached token / refresh once."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6  # for 5xx / transport errors (the first try counts)
    max_rate_limited: int = 10  # 429 answers tolerated for one request
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_wait: float = 120.0  # a server-requested wait longer than this raises instead

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with jitter: base * 2^(n-1), scaled by a factor in [0.5, 1)."""
        raw = min(self.max_delay, self.base_delay * 2 ** max(0, attempt - 1))
        return raw * (0.5 + rng.random() / 2)


class RateLimiter:
    """At most ``max_requests`` in any ``per_seconds`` window of the clock; ``block_until`` pauses all."""

    def __init__(self, clock: Clock, max_requests: int, per_seconds: float) -> None:
        self.clock = clock
        self.max_requests = max_requests
        self.per_seconds = per_seconds
        self._times: collections.deque[float] = collections.deque()
        self._blocked_until = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for a slot; returns the seconds waited."""
        waited = 0.0
        with self._lock:
            while True:
                now = self.clock.now()
                wait = self._blocked_until - now
                while self._times and self._times[0] <= now - self.per_seconds:
                    self._times.popleft()
                if len(self._times) >= self.max_requests:
                    wait = max(wait, self._times[0] + self.per_seconds - now)
                if wait <= 0:
                    self._times.append(now)
                    return waited
                self.clock.sleep(wait)
                waited += wait

    def block_until(self, moment: float) -> None:
        with self._lock:
            self._blocked_until = max(self._blocked_until, moment)


@dataclass
class Stats:
    """Counters for benchmarks and tests (HTTP exchanges actually attempted)."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    slept: float = 0.0
    by_status: collections.Counter[int] = field(default_factory=collections.Counter)

    def reset(self) -> None:
        self.requests = self.retries = self.rate_limited = 0
        self.slept = 0.0
        self.by_status.clear()


def error_detail(payload: Any) -> str:
    """A human message out of any vendor error body (ProblemDetails, Exact, OAuth, APIM, v1)."""
    if not isinstance(payload, Mapping):
        return ""
    parts: list[str] = []
    validation = payload.get("validation")
    if isinstance(validation, Mapping):
        parts += [str(validation[k]) for k in ("summary", "exception") if validation.get(k)]
    err = payload.get("error")
    if isinstance(err, Mapping):
        msg = err.get("message")
        value = msg.get("value") if isinstance(msg, Mapping) else msg
        if value:
            parts.append(str(value))
    elif isinstance(err, str):
        parts.append(err)
    for key in ("error_description", "title", "Title", "detail", "Detail", "message", "Message"):
        if payload.get(key):
            parts.append(str(payload[key]))
    errors = payload.get("errors")
    if isinstance(errors, Mapping):
        parts.append("; ".join(f"{k}: {v}" for k, v in errors.items()))
    return " - ".join(dict.fromkeys(parts))


class SystemClient:
    """The HTTP client of one system (``system`` is the slug used in messages)."""

    def __init__(
        self,
        system: str,
        *,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        seed: int = 0,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        limits: Mapping[str, tuple[int, float]] | None = None,
        redactor: Redactor | None = None,
        default_headers: Mapping[str, str] | None = None,
        wire: Wire | None = None,
    ) -> None:
        self.system = system
        #: answers this client's requests without httpx (an in-process simulator); a replay's wire
        #: (:func:`talkqa.wire.answering`) answers every client's
        self.wire = wire
        self.clock = clock or SystemClock()
        self.retry = retry or RetryPolicy()
        self._seed = seed
        self._rng: random.Random | None = None  # seeded on first use: most clients never retry
        self.redact = redactor or Redactor()
        self.auth: Auth | None = None
        self.stats = Stats()
        self._limits = dict(limits or {})
        self._limiters: dict[str, RateLimiter] = {}  # made on an API's first request
        headers = {"Accept": "application/json", **(default_headers or {})}
        self._headers = headers
        self._transport = transport
        self._timeout = timeout
        self._http: httpx.Client | None = None  # made on first use: a client a wire answers never needs it

    @property
    def rng(self) -> random.Random:
        """The jitter of this client's backoff, seeded with its ``seed``."""
        if self._rng is None:
            self._rng = random.Random(self._seed)
        return self._rng

    @property
    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(
                transport=self._transport,
                verify=shared_ssl_context(),
                timeout=self._timeout,
                headers=self._headers,
                trust_env=False,  # no proxies from the environment: tests talk to 127.0.0.1 only
                follow_redirects=False,
            )
            if isinstance(getattr(self._http, "_cookies", None), httpx.Cookies):
                self._http._cookies = _Cookies()
        return self._http

    def __repr__(self) -> str:
        return f"SystemClient({self.system!r}, requests={self.stats.requests})"

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    # ------------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
        authenticated: bool = True,
        idempotent: bool | None = None,
        api: str = "default",
        ok: Callable[[Response], bool] | None = None,
    ) -> Response:
        """Send with retries; return the response or raise a :class:`ConnectorError` subclass.

        ``ok`` decides which responses are returned (default: status < 400). ``idempotent``
        defaults from the method (POST is not).
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        where = f"{self.system}: {method} {path_of(url)}"
        content = None
        req_headers = dict(headers or {})
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":")).encode()
            req_headers["Content-Type"] = content_type or "application/json"
        attempt = rate_limited = 0
        reauthed = False
        while True:
            attempt += 1
            waited = self._limiter(api).acquire()
            self.stats.slept += waited
            send_headers = dict(req_headers)
            if authenticated and self.auth is not None:
                send_headers.update(self.auth.headers())
            for gate in REQUEST_GATES:
                gate(self.system)
            self.stats.requests += 1
            wire = active() or self.wire
            try:
                if wire is not None:
                    resp = wire.answer(build_request(method, url, params, content, data,
                                                     {**self._headers, **send_headers}))
                else:
                    resp = self._client.request(
                        method, url, params=params, content=content, data=data, headers=send_headers
                    )
            except _NOT_SENT as exc:
                self._retry_or_raise(where, attempt, exc, outcome_known=True)
                continue
            except _MAYBE_SENT as exc:
                self._retry_or_raise(where, attempt, exc, outcome_known=idempotent)
                continue
            except httpx.HTTPError as exc:  # anything else httpx raises: not retried, but still ours
                raise ConnectorError(f"{where}: {type(exc).__name__}") from None
            self.stats.by_status[resp.status_code] += 1
            log.debug("%s -> %s", where, resp.status_code)
            self._note_rate_headers(api, resp)
            status = resp.status_code
            if status == 401 and authenticated and self.auth is not None and not reauthed:
                reauthed = True
                attempt -= 1
                self.auth.on_unauthorized()
                continue
            if status == 429:
                rate_limited += 1
                self.stats.rate_limited += 1
                if rate_limited > self.retry.max_rate_limited:
                    raise ConnectorError(f"{where} still rate limited after {rate_limited - 1} waits",
                                         status=429, retryable=True)
                self._sleep(where, self._rate_limit_wait(resp, rate_limited))
                attempt -= 1
                continue
            if status >= 500:
                detail = self._detail(resp)
                if not idempotent:
                    raise OutcomeUnknown(f"{where} answered HTTP {status}{detail}; it may or may not have "
                                         "been applied", status=status, retryable=True)
                if attempt < self.retry.max_attempts:
                    self.stats.retries += 1
                    self._sleep(where, self._server_wait(resp, attempt))
                    continue
                raise ConnectorError(f"{where} failed with HTTP {status} after {attempt} attempts{detail}",
                                     status=status, retryable=True)
            if (ok(resp) if ok else status < 400):
                return resp
            raise self._error(where, resp)

    def json(self, resp: Response) -> Any:
        """The response body as JSON, or a :class:`ConnectorError` naming the request."""
        try:
            return resp.json()
        except (ValueError, UnicodeDecodeError):
            where = f"{self.system}: {resp.request.method} {resp.request.url.path}"
            raise ConnectorError(f"{where}: the answer (HTTP {resp.status_code}) is not JSON",
                                 status=resp.status_code) from None

    # ------------------------------------------------------------------------------------------
    def _limiter(self, api: str) -> RateLimiter:
        limiter = self._limiters.get(api)
        if limiter is None:
            n, per = self._limits.get(api, (1_000_000_000, 1.0))
            limiter = self._limiters[api] = RateLimiter(self.clock, n, per)
        return limiter

    def _retry_or_raise(self, where: str, attempt: int, exc: Exception, *, outcome_known: bool) -> None:
        kind = type(exc).__name__
        if not outcome_known:
            raise OutcomeUnknown(f"{where}: no response ({kind}); it may or may not have been applied",
                                 retryable=True) from None
        if attempt >= self.retry.max_attempts:
            raise ConnectorError(f"{where}: no response after {attempt} attempts ({kind})",
                                 retryable=True) from None
        self.stats.retries += 1
        self._sleep(where, self.retry.backoff(attempt, self.rng))

    def _sleep(self, where: str, seconds: float) -> None:
        if seconds > self.retry.max_wait:
            raise ConnectorError(f"{where}: the server asks to wait {seconds:.0f} s, more than the "
                                 f"{self.retry.max_wait:.0f} s allowed", status=429, retryable=True)
        log.info("%s: waiting %.2f s before retrying", where, seconds)
        self.stats.slept += seconds
        self.clock.sleep(seconds)

    def _header_wait(self, resp: Response) -> float | None:
        """Seconds the server asks us to wait (Retry-After, or Exact's reset headers in epoch ms)."""
        waits: list[float] = []
        retry_after = resp.headers.get("Retry-After")
        if retry_after:
            try:
                waits.append(float(retry_after))
            except ValueError:
                try:
                    when = email.utils.parsedate_to_datetime(retry_after)
                    waits.append(when.timestamp() - self.clock.now())
                except (TypeError, ValueError):
                    pass
        for name, remaining in (("X-RateLimit-Minutely-Reset", "X-RateLimit-Minutely-Remaining"),
                                ("X-RateLimit-Reset", "X-RateLimit-Remaining")):
            reset = _number(resp.headers.get(name))
            left = _number(resp.headers.get(remaining))
            if reset is not None and (left is None or left <= 0):
                waits.append(reset / 1000.0 - self.clock.now())
        return max(waits) if waits else None

    def _rate_limit_wait(self, resp: Response, n: int) -> float:
        wait = self._header_wait(resp)
        if wait is None:
            return self.retry.backoff(n, self.rng) + 1.0  # vendors say: wait at least a second
        return max(0.0, wait) + 0.05 * self.rng.random() + 0.001

    def _server_wait(self, resp: Response, attempt: int) -> float:
        wait = self._header_wait(resp)
        backoff = self.retry.backoff(attempt, self.rng)
        return backoff if wait is None else max(wait, backoff)

    def _note_rate_headers(self, api: str, resp: Response) -> None:
        """Exact tells its budget on every response; when it is spent, wait for its reset."""
        for reset_name, remaining_name in (("X-RateLimit-Minutely-Reset", "X-RateLimit-Minutely-Remaining"),
                                           ("X-RateLimit-Reset", "X-RateLimit-Remaining")):
            left = _number(resp.headers.get(remaining_name))
            reset = _number(resp.headers.get(reset_name))
            if left is not None and left <= 0 and reset is not None and resp.status_code != 429:
                until = reset / 1000.0 + 0.001
                if until - self.clock.now() <= self.retry.max_wait:  # a longer wait: let the 429 say so
                    self._limiter(api).block_until(until)

    def _detail(self, resp: Response) -> str:
        try:
            text = error_detail(resp.json())
        except (ValueError, UnicodeDecodeError):
            text = ""
        text = self.redact(text)[:300]
        return f": {text}" if text else ""

    def _error(self, where: str, resp: Response) -> ConnectorError:
        status = resp.status_code
        msg = f"{where} failed with HTTP {status}{self._detail(resp)}"
        if status == 404:
            return NotFound(msg, status=status)
        if status in (401, 403):
            return AuthFailed(msg, status=status)
        if status in (400, 409, 422):
            return ValidationFailed(msg, status=status)
        return ConnectorError(msg, status=status)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
