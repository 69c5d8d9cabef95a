"""Answering a :class:`~talkqa.connectors.http.SystemClient`'s requests without building httpx objects.

httpx parses the URL, builds a request and a response object and runs its hooks for every call: about
0.4 ms, most of a replayed or in-process request's cost. Two answerers need none of it:

* a **replay** (:mod:`talkqa.runtime.replay_wire`) finds the recorded answer by method, path and
  query, what the cassette matches on anyway;
* a **simulator in this process** (:class:`talkqa.simulators.inprocess.InProcessTransport`) is called
  with the method, path, query, headers and body it would read off the socket.

Both receive a :class:`WireRequest` and return a :class:`WireResponse`, which offers what talkqa's
clients read of an ``httpx.Response`` (``status_code``, ``headers``, ``content``, ``text``,
``json()``, ``request.method`` and ``request.url.path``). The client does everything else as over
HTTP: authentication, retries, rate limits, error mapping, the API budget. Recording cassettes and
reaching real APIs always go through httpx.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx


class Headers(dict):
    """Response headers by lower-case name; ``get`` and ``in`` ignore case, as httpx's do."""

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name.lower() if isinstance(name, str) else name)


@dataclass(frozen=True)
class WireURL:
    scheme: str
    host: str
    port: int | None
    #: the path as it goes on the wire (percent-encoded where httpx would encode it)
    path: str
    #: the query items, decoded, in the order sent
    query: tuple[tuple[str, str], ...]

    @property
    def base(self) -> str:
        """``scheme://host[:port]``."""
        return f"{self.scheme}://{self.host}" + (f":{self.port}" if self.port is not None else "")

    @property
    def query_string(self) -> bytes:
        return _encoded(self.query)

    def __str__(self) -> str:
        query = self.query_string.decode("ascii")
        return f"{self.base}{self.path}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class WireRequest:
    method: str
    url: WireURL
    headers: Mapping[str, str]  # lower-case names
    content: bytes


class WireResponse:
    """What the clients read of an answer."""

    __slots__ = ("content", "headers", "request", "status_code")

    def __init__(self, status_code: int, headers: Headers, content: bytes, request: WireRequest) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.request = request

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)

    def raise_for_status(self) -> WireResponse:
        """Itself when it succeeded; else :class:`WireStatusError` (an ``httpx.HTTPError``), as httpx does."""
        if self.status_code >= 400:
            raise WireStatusError(f"{self.request.method} {self.request.url} answered HTTP {self.status_code}: "
                                  f"{self.text[:300]}")
        return self


class WireStatusError(httpx.HTTPError):
    """An answer with an error status, from :meth:`WireResponse.raise_for_status`."""


class Wire(Protocol):
    def answer(self, request: WireRequest) -> WireResponse:
        """The answer to ``request``; raises what httpx would for a dropped connection."""


@functools.lru_cache(maxsize=4096)
def _encoded(query: tuple[tuple[str, str], ...]) -> bytes:
    """The query string of ``query`` (a client sends the same few queries again and again)."""
    return urlencode(query).encode("ascii")


@functools.lru_cache(maxsize=4096)
def _split(url: str) -> tuple[str, str, int | None, str, tuple[tuple[str, str], ...]]:
    parsed = httpx.URL(url)  # httpx's own parsing once per URL: the same path encoding as over HTTP
    raw = parsed.raw_path.decode("ascii").split("?", 1)[0] or "/"
    query = tuple(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    return parsed.scheme, parsed.host, parsed.port, raw, query


def _text(value: Any) -> str:
    """A query value as httpx writes it (JSON-style booleans, None as empty)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def build_request(method: str, url: str, params: Mapping[str, Any] | None, content: bytes | None,
                  data: Mapping[str, str] | None, headers: Mapping[str, str]) -> WireRequest:
    """The request httpx would send for these arguments (its query, form body and content type)."""
    scheme, host, port, path, query = _split(url)
    items: tuple[tuple[str, str], ...] | list[tuple[str, str]] = query
    if params is not None:  # as httpx 0.28 does: given params replace the URL's own query
        items = [(str(key), _text(one)) for key, value in params.items()
                 for one in (value if isinstance(value, list | tuple) else (value,))]
    sent = {k.lower(): v for k, v in headers.items()}
    if content is None and data is not None:
        content = urlencode(data, doseq=True).encode("utf-8")
        sent.setdefault("content-type", "application/x-www-form-urlencoded")
    sent.setdefault("host", host + (f":{port}" if port is not None else ""))
    return WireRequest(method, WireURL(scheme, host, port, path, tuple(items)), sent, content or b"")


_ACTIVE: list[Wire] = []


def active() -> Wire | None:
    """The wire answering every client's requests now (a replay installs one per test), if any."""
    return _ACTIVE[-1] if _ACTIVE else None


@contextlib.contextmanager
def answering(wire: Wire) -> Iterator[Wire]:
    """Let ``wire`` answer every :class:`SystemClient`'s requests inside the block."""
    _ACTIVE.append(wire)
    try:
        yield wire
    finally:
        _ACTIVE.remove(wire)
