"""A replay answering without httpx (talkqa.runtime.replay_wire) is the same replay: every request
matches what vcrpy would match for the request httpx would have built, the answers are the recorded
ones in the recorded order, and a request the cassette does not hold is refused the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import vcr
from hypothesis import given
from hypothesis import strategies as st
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request as VcrRequest

from talkqa.connectors.http import SystemClient
from talkqa.runtime.cassettes import _key, register, talkqa_query, vcr_settings
from talkqa.runtime.replay_wire import CassetteWire, _Asked, answered_by
from talkqa.wire import build_request

CASSETTES = Path(__file__).resolve().parents[2] / "generated_tests" / "cassettes" / "test_powerofficego_exact"


def replay(path: Path) -> Any:
    r = vcr.VCR()
    r.register_matcher("talkqa_query", talkqa_query)
    register(r)
    return r.use_cassette(str(path), record_mode="none", **vcr_settings(recording=False))


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
values = st.one_of(texts, st.integers(-10**6, 10**6), st.booleans(), st.none(), st.lists(texts, max_size=3))


segment = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="?#"), min_size=1, max_size=8)


@given(
    segments=st.lists(segment.filter(lambda s: s not in (".", "..")), min_size=1, max_size=3),
    query=st.lists(st.tuples(texts.filter(bool), texts), max_size=3),
    params=st.none() | st.dictionaries(texts.filter(bool), values, max_size=4),
    method=st.sampled_from(["GET", "POST", "PATCH", "DELETE"]),
)
def test_the_match_key_is_the_one_vcrpy_reads_off_httpxs_request(segments: list[str], query: list[tuple[str, str]],
                                                                   params: dict[str, Any] | None, method: str) -> None:
    url = "http://loopback-1.talkqa.invalid/api/" + "/".join(segments)
    if query:
        url += "?" + urlencode(query)
    sent = httpx.Client().build_request(method, url, params=params)
    from_httpx = _key(VcrRequest(sent.method, str(sent.url), b"", {}))
    ours = _Asked(build_request(method, url, params, None, None, {})).talkqa_key
    assert ours == from_httpx


@pytest.mark.parametrize("path", sorted(CASSETTES.glob("*.json"))[::9], ids=lambda p: p.stem)
def test_the_recorded_answers_come_back_in_order_and_all_play(path: Path) -> None:
    with replay(path) as cassette:
        recorded = [(req, resp) for req, resp in zip(cassette.requests, cassette.responses, strict=True)]
        assert answered_by(cassette).__enter__() is None  # (applies the lookup)
        wire = CassetteWire(cassette)
        for req, resp in recorded:
            answer = wire.answer(build_request(req.method, req.uri, None, req.body, None, {}))
            assert answer.status_code == resp["status"]["code"]
            body = resp["body"]["string"]
            assert answer.content == (body.encode() if isinstance(body, str) else body)
            for name, vals in resp["headers"].items():
                assert answer.headers.get(name.upper()) == ", ".join(vals)
        assert cassette.all_played
        with pytest.raises(CannotOverwriteExistingCassetteException):  # each answer plays once
            first = recorded[0][0]
            wire.answer(build_request(first.method, first.uri, None, None, None, {}))


def test_a_request_the_cassette_does_not_hold_is_refused_as_vcrpy_refuses_it() -> None:
    path = sorted(CASSETTES.glob("*.json"))[0]
    with replay(path) as cassette:
        first = cassette.requests[0]
        with answered_by(cassette):
            client = SystemClient("test")
            try:
                with pytest.raises(CannotOverwriteExistingCassetteException) as caught:
                    client.request(first.method, first.uri + ("&" if "?" in first.uri else "?") + "unrecorded=1")
            finally:
                client.close()
        assert "unrecorded=1" in str(caught.value)


def test_a_client_reads_the_same_answers_through_the_wire_as_through_httpx() -> None:
    path = sorted(CASSETTES.glob("*.json"))[-1]
    answers: list[list[tuple[int, Any]]] = []
    for direct in (False, True):
        with replay(path) as cassette:
            requests = list(cassette.requests)
            client = SystemClient("test")
            got = []
            with (answered_by(cassette) if direct else _nothing()):
                for req in requests:
                    resp = client.request(req.method, req.uri, content_type=None,
                                          ok=lambda r: True)
                    got.append((resp.status_code, client.json(resp) if resp.content else None))
            client.close()
            assert cassette.all_played
            answers.append(got)
    assert answers[0] == answers[1]


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
