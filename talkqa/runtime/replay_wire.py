"""A replay that answers the clients' requests from the cassette without httpx (:mod:`talkqa.wire`).

vcrpy answers a replayed request inside httpx: the client builds a URL, a request and a response
object, vcrpy a request of its own, each time. What decides the answer is only what the cassette
matches on (:data:`~talkqa.runtime.cassettes.MATCH_ON`: method, path, query), so
:class:`CassetteWire` asks the cassette directly with exactly that, through the same calls vcrpy's
stub makes (``can_play_response_for``, ``play_response``): the same answers in the same order, the
same play counts (a request not made is still reported), the fuzz substitution of recorded values
(which wraps ``play_response``) and the same error for a request the cassette does not hold.

Used only where :func:`~talkqa.runtime.cassettes.fast_replay` applies (a replay with talkqa's own
settings); anything else, and every recording, goes through vcrpy and httpx.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from talkqa.runtime.cassettes import fast_replay
from talkqa.wire import Headers, WireRequest, WireResponse, answering


@functools.lru_cache(maxsize=4096)
def _matched_path(path: str) -> str:
    """The path as vcrpy's ``path`` matcher reads it (``urlparse``, which leaves out ``;params``)."""
    return urlparse("http://h" + path).path


class _Asked:
    """What the cassette's lookup reads of a request (its key), and what its messages print."""

    __slots__ = ("method", "path", "talkqa_key", "uri")

    def __init__(self, request: WireRequest) -> None:
        self.method = request.method
        self.path = _matched_path(request.url.path)
        self.uri = str(request.url)
        self.talkqa_key = (request.method, self.path or "/", tuple(sorted(request.url.query)))

    def __repr__(self) -> str:
        return f"<Request ({self.method}) {self.uri}>"


def _headers(recorded: dict[str, Any]) -> Headers:
    return Headers({name.lower(): ", ".join(values) if isinstance(values, list) else str(values)
                    for name, values in recorded.get("headers", {}).items()})


class CassetteWire:
    """Answers from one test's cassette (in replay)."""

    def __init__(self, cassette: Any) -> None:
        self.cassette = cassette

    def answer(self, request: WireRequest) -> WireResponse:
        cassette = self.cassette
        asked = _Asked(request)
        if not cassette.can_play_response_for(asked):
            from vcr.errors import CannotOverwriteExistingCassetteException
            from vcr.request import Request

            failed = Request(request.method, asked.uri, request.content or None, dict(request.headers))
            raise CannotOverwriteExistingCassetteException(cassette=cassette, failed_request=failed)
        recorded = cassette.play_response(asked)
        body = recorded.get("body", {}).get("string") or b""
        content = body.encode("utf-8") if isinstance(body, str) else body
        return WireResponse(recorded["status"]["code"], _headers(recorded), content, request)


@contextlib.contextmanager
def answered_by(cassette: Any) -> Iterator[None]:
    """Inside the block, ``cassette`` (when it replays with talkqa's settings) answers every client's
    requests directly; otherwise nothing changes and vcrpy answers inside httpx."""
    if cassette is None or not fast_replay(cassette):
        yield
        return
    with answering(CassetteWire(cassette)):
        yield
