"""Cassette settings for generated suites: where cassettes live, how requests match, what is scrubbed.

* One small cassette per test, under ``cassettes/<module>/`` beside the generated modules.
* Requests match on method, path and query only: replays point at ``.invalid`` hosts, and
  bodies carry values a fuzz test changes.
* Secrets never reach a cassette: see :mod:`talkqa.runtime.scrub`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from talkqa.runtime.scrub import scrub_request, scrub_response

MATCH_ON = ("method", "path", "talkqa_query")
SKIP_PATCHERS = ("httplib", "requests", "boto3", "urllib3", "httplib2", "tornado", "aiohttp", "httpx2")


@functools.lru_cache(maxsize=4096)
def _query(uri: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(parse_qsl(urlsplit(uri).query, keep_blank_values=True)))


def talkqa_query(r1: Any, r2: Any) -> None:
    """vcrpy's ``query`` matcher, with the parsed query cached per URI (matching is a linear scan
    over every recorded interaction, several times per request: parsing dominated replay time)."""
    if _query(r1.uri) != _query(r2.uri):
        raise AssertionError("query differs")


def vcr_settings(recording: bool = True) -> dict[str, Any]:
    """``use_cassette`` settings. Scrubbing runs when recording; a replay compares method, path and
    query, which never carry a secret, so it skips the per-match request scrub."""
    settings: dict[str, Any] = {
        # talkqa speaks httpx only: patching the other libraries costs an import scan per cassette
        # and once broke a teardown (vcrpy's urllib3 patcher met a half-imported urllib3)
        "skip_patchers": SKIP_PATCHERS,
        "match_on": MATCH_ON,
        "decode_compressed_response": True,
        "before_record_response": scrub_response,
    }
    if recording:
        settings["before_record_request"] = scrub_request
        settings["filter_headers"] = ["authorization", "cookie", "set-cookie", "ocp-apim-subscription-key"]
    return settings


def cassette_dir(request: pytest.FixtureRequest) -> str:
    module = Path(request.node.fspath)
    return str(module.parent / "cassettes" / module.stem)


def unplayed(cassette: Any) -> list[str]:
    """``METHOD path`` of every recorded interaction the run did not play."""
    return [f"{r.method} {r.path}" for i, r in enumerate(cassette.requests) if not cassette.play_counts[i]]



def _as_is(request: Any) -> Any:
    return request


def _key(request: Any) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """What :data:`MATCH_ON` compares: two requests match exactly when their keys are equal."""
    return request.method, request.path or "/", _query(request.uri)


def fast_replay(cassette: Any) -> None:
    """In replay, let ``cassette`` find a request's recorded interactions by a lookup instead of vcrpy's
    scan, and without copying the request first.

    vcrpy deep-copies every request and compares it with every recorded one, twice per request ("can it
    play", then "play"): most of a replayed fuzz example's extra cost. With :data:`MATCH_ON` (method,
    path, query: equalities) the matching interactions are those with an equal key, in recorded order,
    which is what the lookup yields; the copy only protects the request from filters, and a replay has
    none (:func:`vcr_settings`). Nothing changes unless the cassette replays (record mode ``none``), its
    filter list is empty and it matches on exactly these three.
    """
    hook = getattr(cassette, "_before_record_request", None)
    code, closure = getattr(hook, "__code__", None), getattr(hook, "__closure__", None) or ()
    if code is None or getattr(cassette, "record_mode", None) != "none":
        return
    cells = dict(zip(code.co_freevars, closure, strict=False))
    filters = cells.get("filter_functions")
    if filters is None or filters.cell_contents != []:
        return
    if [getattr(m, "__name__", None) for m in getattr(cassette, "_match_on", ())] != ["method", "path",
                                                                                       "talkqa_query"]:
        return
    index: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[int]] = {}
    for i, (stored, _response) in enumerate(cassette.data):
        index.setdefault(_key(stored), []).append(i)
    data = cassette.data

    def responses(request: Any) -> Any:
        for i in index.get(_key(request), ()):
            yield i, data[i][1]

    cassette._before_record_request = _as_is
    cassette._responses = responses
