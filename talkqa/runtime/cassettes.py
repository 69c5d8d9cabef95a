"""Cassette settings for generated suites: where cassettes live, how requests match, what is scrubbed,
and how they are written.

* One small cassette per test, ``cassettes/<module>/<test>.json`` beside the generated modules (the
  name is pytest-recording's own, :func:`cassette_name`).
* Requests match on method, path and query only: replays point at ``.invalid`` hosts, and
  bodies carry values a fuzz test changes.
* Secrets never reach a cassette: see :mod:`talkqa.runtime.scrub`.
* Cassettes are deterministic JSON (:func:`serialize`): recording twice with no change in the sync
  writes the same bytes. The recording run is made repeatable at its source (the simulators' clock
  starts again for every test; see :mod:`talkqa.runtime.backends`); what stays volatile is dropped
  or renamed here: see :func:`normalise`.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from talkqa.runtime.scrub import scrub_request, scrub_response

MATCH_ON = ("method", "path", "talkqa_query")
SKIP_PATCHERS = ("httplib", "requests", "boto3", "urllib3", "httplib2", "tornado", "aiohttp", "httpx2")
#: vcrpy's serializer name, which pytest-recording also makes the file suffix; ours is registered
#: under it (:func:`register`)
SERIALIZER = "json"
SUFFIX = "." + SERIALIZER


@functools.lru_cache(maxsize=4096)
def _query(uri: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(parse_qsl(urlsplit(uri).query, keep_blank_values=True)))


def talkqa_query(r1: Any, r2: Any) -> None:
    """vcrpy's ``query`` matcher, with the parsed query cached per URI (matching is a linear scan
    over every recorded interaction, several times per request: parsing dominated replay time)."""
    if _query(r1.uri) != _query(r2.uri):
        raise AssertionError("query differs")


def vcr_settings(recording: bool = True) -> dict[str, Any]:
    """``use_cassette`` settings (for a VCR passed through :func:`register`). Scrubbing runs when
    recording; a replay compares method, path and query, which never carry a secret, so it skips the
    per-match request scrub."""
    settings: dict[str, Any] = {
        # talkqa speaks httpx only: patching the other libraries costs an import scan per cassette
        # and once broke a teardown (vcrpy's urllib3 patcher met a half-imported urllib3)
        "skip_patchers": SKIP_PATCHERS,
        "match_on": MATCH_ON,
        "decode_compressed_response": True,
        "before_record_response": scrub_response,
        "serializer": SERIALIZER,
    }
    if recording:
        settings["before_record_request"] = scrub_request
        settings["filter_headers"] = ["authorization", "cookie", "set-cookie", "ocp-apim-subscription-key"]
    return settings


def register(vcr: Any) -> Any:
    """Teach a ``vcr.VCR`` talkqa's query matcher and cassette format; returns it."""
    vcr.register_matcher("talkqa_query", talkqa_query)
    vcr.register_serializer(SERIALIZER, JsonCassettes)
    return vcr


def cassette_dir(request: pytest.FixtureRequest) -> str:
    module = Path(request.node.fspath)
    return str(module.parent / "cassettes" / module.stem)


def cassette_name(test_name: str) -> str:
    """The file name pytest-recording gives a test's cassette: ``get_default_cassette_name``, shortened
    to a prefix and an md5 when too long for a file name as its ``use_cassette`` does (counting the
    suffix as it does), and the serializer's suffix."""
    from pytest_recording.plugin import get_default_cassette_name

    name = get_default_cassette_name(None, test_name)
    if len(name) + len(SERIALIZER) > _max_filename_len():
        digest = hashlib.md5(name.encode()).hexdigest()
        name = f"{name[: _max_filename_len() - len(SERIALIZER) - len(digest) - 3]}...{digest}"
    return name + SUFFIX


@functools.cache
def _max_filename_len() -> int:
    """pytest-recording's ``MAX_FILENAME_LEN``, found as it finds it (importing its module would
    import vcrpy, which a run without recordings never needs)."""
    try:
        return os.pathconf(".", "PC_NAME_MAX")
    except (AttributeError, ValueError, OSError):
        return 255


def unplayed(cassette: Any) -> list[str]:
    """``METHOD path`` of every recorded interaction the run did not play."""
    return [f"{r.method} {r.path}" for i, r in enumerate(cassette.requests) if not cassette.play_counts[i]]


# -- the cassette format ---------------------------------------------------------------------------------

#: Headers dropped from recorded requests: transport details no replay reads (matching is on method,
#: path and query), and the length, which follows from the body.
VOLATILE_REQUEST_HEADERS = frozenset({
    "host", "user-agent", "accept-encoding", "connection", "keep-alive", "content-length", "date",
})
#: Headers dropped from recorded responses: when and by whom it was served, per-request ids, and the
#: length (a replayed body is a stream of its own length). Connectors read none of them.
VOLATILE_RESPONSE_HEADERS = frozenset({
    "date", "server", "content-length", "connection", "keep-alive", "transfer-encoding", "via", "age",
    "x-request-id", "request-id", "x-correlation-id", "x-served-by", "x-cache", "x-timer", "cf-ray",
    "x-amzn-requestid", "x-amz-cf-id",
})

#: A loopback origin as a simulator listens on it, raw, JSON-escaped or percent-encoded.
_LOOPBACK = re.compile(
    r"(?P<lead>https?(?::(?://|\\/\\/)|%3A%2F%2F))"
    r"(?P<host>127\.0\.0\.1|localhost|\[::1\]|%5B%3A%3A1%5D)(?::|%3A)(?P<port>\d{1,5})(?!\d)",
    re.IGNORECASE,
)
_STABLE_ORIGIN = re.compile(r"loopback-(\d+)\.talkqa\.invalid")
#: a UUID, alone or after a percent-escape (``guid%27<uuid>%27``)
_UUID = re.compile(
    r"(?:(?<=%[0-9A-Fa-f]{2})|(?<![0-9A-Za-z-]))[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Za-z-])"
)
_STABLE_UUID = re.compile(r"00000000-0000-4000-8000-(\d{12})")
#: a client id in a form, a query, JSON or ``name: value`` text
_CLIENT_ID = re.compile(r"""(?P<lead>\bclient[_-]?id["']?\s*[:=]\s*["']?)(?P<value>[^\s"'&,;<>]+)""", re.IGNORECASE)
_STABLE_CLIENT = re.compile(r"client-(\d+)")


class _Renames:
    """First-seen values of one cassette mapped to stable ones (each kind numbered from 1 in order of
    appearance); values already stable keep their name, and new ones are numbered after them."""

    def __init__(self, stable: re.Pattern[str], make: Callable[[int], str]) -> None:
        self.stable, self.make = stable, make
        self.names: dict[str, str] = {}
        self.taken: set[int] = set()

    def keep(self, text: str) -> None:
        self.taken |= {int(m.group(1)) for m in self.stable.finditer(text)}

    def name(self, key: str) -> str:
        if key not in self.names:
            number = max(self.taken, default=0) + 1
            self.taken.add(number)
            self.names[key] = self.make(number)
        return self.names[key]


def _texts(interaction: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The texts of an interaction in a fixed order: what the client sent, and what it got."""
    request, response = interaction["request"], interaction["response"]
    sent = [request["uri"]]
    sent += [v for _, values in sorted(request["headers"].items()) for v in values if isinstance(v, str)]
    sent += [request["body"]] if isinstance(request["body"], str) else []
    got = [v for _, values in sorted(response["headers"].items()) for v in values if isinstance(v, str)]
    body = response.get("body", {}).get("string")
    got += [body] if isinstance(body, str) else []
    return sent, got


def normalise(data: dict[str, Any]) -> dict[str, Any]:
    """A cassette (vcrpy's dict of ``interactions``) without what changes from one recording to the next.

    * Volatile headers are dropped (:data:`VOLATILE_REQUEST_HEADERS`, :data:`VOLATILE_RESPONSE_HEADERS`).
    * A simulator's loopback origin (``http://127.0.0.1:<random port>``) becomes
      ``http://loopback-<n>.talkqa.invalid``, raw or encoded, wherever it appears.
    * A UUID first seen in a response (an id the server generated) becomes
      ``00000000-0000-4000-8000-<n as 12 digits>`` everywhere in the cassette, later request paths
      included, so a replay reads the new id and asks for it. A UUID the client sent first is its own
      (a constant it may send again in a path) and is kept.
    * A client id (``client_id`` in a form, query or JSON) becomes ``client-<n>``.

    Each mapping is per cassette, numbered in order of first appearance, so it is consistent within
    the cassette and the same for the same recording. Requests match on method, path and query, and
    a renamed value is renamed in all of them alike. Applying it again changes nothing.
    """
    data = copy.deepcopy(data)
    interactions = data.get("interactions", [])
    for interaction in interactions:
        request, response = interaction["request"], interaction["response"]
        request["headers"] = _kept(request["headers"], VOLATILE_REQUEST_HEADERS)
        response["headers"] = _kept(response["headers"], VOLATILE_RESPONSE_HEADERS)
    origins = _Renames(_STABLE_ORIGIN, lambda n: f"loopback-{n}.talkqa.invalid")
    uuids = _Renames(_STABLE_UUID, lambda n: f"00000000-0000-4000-8000-{n:012d}")
    clients = _Renames(_STABLE_CLIENT, lambda n: f"client-{n}")
    parts = [_texts(i) for i in interactions]
    for text in (t for sent, got in parts for t in sent + got):
        for names in (origins, uuids, clients):
            names.keep(text)
    from_client: set[str] = set()
    for sent, got in parts:
        for text, in_response in [(t, False) for t in sent] + [(t, True) for t in got]:
            for m in _LOOPBACK.finditer(text):
                origins.name(_origin_key(m))
            for m in _UUID.finditer(text):
                key = m.group(0).lower()
                if key in uuids.names or key in from_client or _STABLE_UUID.fullmatch(key):
                    continue
                if in_response:
                    uuids.name(key)
                else:
                    from_client.add(key)
            for m in _CLIENT_ID.finditer(text):
                if not _STABLE_CLIENT.fullmatch(m["value"]):
                    clients.name(m["value"])

    def rewrite(text: str) -> str:
        text = _LOOPBACK.sub(lambda m: m["lead"] + origins.names[_origin_key(m)], text)
        text = _UUID.sub(lambda m: _same_case(uuids.names.get(m.group(0).lower()), m.group(0)), text)
        return _CLIENT_ID.sub(lambda m: m["lead"] + clients.names.get(m["value"], m["value"]), text)

    for interaction in interactions:
        request, response = interaction["request"], interaction["response"]
        request["uri"] = rewrite(request["uri"])
        if isinstance(request["body"], str):
            request["body"] = rewrite(request["body"])
        for headers in (request["headers"], response["headers"]):
            for name, values in headers.items():
                headers[name] = [rewrite(v) if isinstance(v, str) else v for v in values]
        body = response.get("body", {})
        if isinstance(body.get("string"), str):
            body["string"] = rewrite(body["string"])
    return data


def _kept(headers: dict[str, Any], volatile: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in headers.items() if k.lower() not in volatile}


def _origin_key(m: re.Match[str]) -> str:
    host = m["host"].lower().replace("%5b%3a%3a1%5d", "[::1]")
    return f"{host}:{m['port']}"


def _same_case(new: str | None, old: str) -> str:
    if new is None:
        return old
    return new.upper() if old.isupper() else new


class JsonCassettes:
    """vcrpy's serializer interface (``serialize``/``deserialize``) for talkqa's cassettes: JSON with
    sorted keys, two-space indents, ASCII only (vcrpy writes in the locale's encoding), one trailing
    newline, after :func:`normalise`. A body that is no UTF-8 text is kept as ``{"base64": ...}``
    (``{"base64_string": ...}`` in a response), which vcrpy's own JSON serializer cannot hold."""

    @staticmethod
    def serialize(cassette: dict[str, Any]) -> str:
        data = normalise(cassette)
        for interaction in data.get("interactions", []):
            request, response = interaction["request"], interaction["response"]
            if isinstance(request.get("body"), bytes):
                request["body"] = {"base64": base64.b64encode(request["body"]).decode("ascii")}
            body = response.get("body", {})
            if isinstance(body.get("string"), bytes):
                body["base64_string"] = base64.b64encode(body.pop("string")).decode("ascii")
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n"

    @staticmethod
    def deserialize(text: str) -> dict[str, Any]:
        data = json.loads(text)
        for interaction in data.get("interactions", []) if isinstance(data, dict) else []:
            request, response = interaction["request"], interaction["response"]
            if isinstance(request.get("body"), dict) and "base64" in request["body"]:
                request["body"] = base64.b64decode(request["body"]["base64"])
            body = response.get("body", {})
            if "base64_string" in body:
                body["string"] = base64.b64decode(body.pop("base64_string"))
        return data


def _as_is(request: Any) -> Any:
    return request


def _key(request: Any) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """What :data:`MATCH_ON` compares: two requests match exactly when their keys are equal (a request
    that did not come through httpx carries its key already: :mod:`talkqa.runtime.replay_wire`)."""
    key = getattr(request, "talkqa_key", None)
    if key is not None:
        return key
    return request.method, request.path or "/", _query(request.uri)


def fast_replay(cassette: Any) -> bool:
    """In replay, let ``cassette`` find a request's recorded interactions by a lookup instead of vcrpy's
    scan, and without copying the request first.

    vcrpy deep-copies every request and compares it with every recorded one, twice per request ("can it
    play", then "play"): most of a replayed fuzz example's extra cost. With :data:`MATCH_ON` (method,
    path, query: equalities) the matching interactions are those with an equal key, in recorded order,
    which is what the lookup yields; the copy only protects the request from filters, and a replay has
    none (:func:`vcr_settings`). Nothing changes unless the cassette replays (record mode ``none``), its
    filter list is empty and it matches on exactly these three. Returns whether the cassette looks up
    (now or already).
    """
    hook = getattr(cassette, "_before_record_request", None)
    if hook is _as_is:
        return True
    code, closure = getattr(hook, "__code__", None), getattr(hook, "__closure__", None) or ()
    if code is None or getattr(cassette, "record_mode", None) != "none":
        return False
    cells = dict(zip(code.co_freevars, closure, strict=False))
    filters = cells.get("filter_functions")
    if filters is None or filters.cell_contents != []:
        return False
    if [getattr(m, "__name__", None) for m in getattr(cassette, "_match_on", ())] != ["method", "path",
                                                                                       "talkqa_query"]:
        return False
    index: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[int]] = {}
    for i, (stored, _response) in enumerate(cassette.data):
        index.setdefault(_key(stored), []).append(i)
    data = cassette.data

    def responses(request: Any) -> Any:
        for i in index.get(_key(request), ()):
            yield i, data[i][1]

    cassette._before_record_request = _as_is
    cassette._responses = responses
    return True
