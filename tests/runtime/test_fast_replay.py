"""Replays find recorded interactions by a lookup, without vcrpy's copies, only where that is the same
matching: the same interactions, in the same order, for every request."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import vcr

from talkqa.runtime.cassettes import _as_is, fast_replay, register, talkqa_query, vcr_settings

CASSETTES = Path(__file__).resolve().parents[2] / "generated_tests" / "cassettes" / "test_powerofficego_exact"


def recorder() -> vcr.VCR:
    r = vcr.VCR()
    r.register_matcher("talkqa_query", talkqa_query)
    register(r)  # the JSON cassettes' serializer
    return r


def replay(path: Path):  # type: ignore[no-untyped-def]
    return recorder().use_cassette(str(path), record_mode="none", **vcr_settings(recording=False))


@pytest.mark.parametrize("path", sorted(CASSETTES.glob("*.json"))[::7], ids=lambda p: p.stem)
def test_the_lookup_yields_what_vcrpys_scan_yields(path: Path) -> None:
    with replay(path) as cassette:
        asked = [copy.deepcopy(r) for r in cassette.requests]
        other = copy.deepcopy(asked[0])
        other.uri = other.uri + ("&" if "?" in other.uri else "?") + "unrecorded=1"
        asked.append(other)
        scanned = [[i for i, _ in cassette._responses(r)] for r in asked]
        fast_replay(cassette)
        assert cassette._before_record_request is _as_is
        looked_up = [[i for i, _ in cassette._responses(r)] for r in asked]
        assert looked_up == scanned
        assert scanned[-1] == []  # a request not recorded matches nothing either way
        for r in cassette.requests:  # and every recorded request plays, once
            assert r in cassette
            cassette.play_response(r)
        assert cassette.all_played


def test_recording_or_request_filters_keep_vcrpys_matching(tmp_path: Path) -> None:
    with recorder().use_cassette(str(tmp_path / "new.json"), record_mode="all", **vcr_settings()) as cassette:
        fast_replay(cassette)
        assert cassette._before_record_request is not _as_is
    path = sorted(CASSETTES.glob("*.json"))[0]
    with recorder().use_cassette(str(path), record_mode="none", **vcr_settings(recording=True)) as cassette:
        fast_replay(cassette)  # filters configured (scrubbing): they get their copy and the scan
        assert cassette._before_record_request is not _as_is
    with recorder().use_cassette(str(path), record_mode="none", match_on=("method", "uri"),
                                 serializer=vcr_settings()["serializer"]) as cassette:
        fast_replay(cassette)  # other matchers: vcrpy's scan
        assert cassette._before_record_request is not _as_is
