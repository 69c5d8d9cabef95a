"""No secret reaches a cassette: a generated test recorded against the simulators, every kind of
secret-carrying HTTP through the cassette settings, and a gate over every committed cassette."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest
import vcr

from talkqa.runtime.cassettes import register, vcr_settings
from tests.generate.helpers import REPO

SEED = REPO / "generated_tests"
COMMITTED = sorted((SEED / "cassettes").rglob("*.json"))
#: Names that carry secrets (written here, independently of talkqa.runtime.scrub).
SECRET_NAME = re.compile(
    r"token|secret|passw|api.?key|subscription.?key|client.?key|application.?key|^key$|^code$", re.IGNORECASE
)
NOT_SECRET = {"token_type", "expires_in"}


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
    elif isinstance(value, bytes):
        yield value.decode("utf-8", "replace")
    elif value is not None:
        yield str(value)


def forms(secret: str) -> set[str]:
    """The ways a secret can be written: as is, URL-encoded, JSON-escaped."""
    return {secret, quote(secret, safe=""), json.dumps(secret)[1:-1]}


def assert_no_secret(cassette: Path, secrets: dict[str, str]) -> None:
    raw = cassette.read_text(encoding="utf-8")
    loaded = "\n".join(strings(json.loads(raw)))  # JSON-escaped strings read back
    for name, secret in secrets.items():
        for form in forms(secret):
            assert form not in raw and form not in loaded, f"{cassette.name}: the {name} leaked ({form[:6]}...)"


# -- (a) a generated test recorded against the simulators ---------------------------------------------

RECORDED = [
    "test_powerofficego_exact.py::test_mapping[Contactperson.city->Contacts.City[forward]]",
    "test_powerofficego_exact.py::test_mapping[Contactperson.city<-Contacts.City[reverse]]",
    "test_powerofficego_exact.py::test_fuzz[Suppliers_person.FirstName->Contacts.FirstName[forward]]",
]


def test_recording_a_generated_test_keeps_no_secret(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    for name in ("conftest.py", "test_powerofficego_exact.py"):
        shutil.copy(SEED / name, suite / name)
    probe = tmp_path / "secrets.json"
    proc = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
            "-p", "tests.generate.leakprobe", "--record-mode=rewrite", "--talkqa-backend=simulators", *RECORDED,
        ],
        capture_output=True, text=True, cwd=suite, timeout=600,
        env={**os.environ, "TALKQA_LEAKPROBE": str(probe), "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "3 passed" in proc.stdout, proc.stdout[-2000:]
    cassettes = sorted((suite / "cassettes").rglob("*.json"))
    assert len(cassettes) == 3
    known = json.loads(probe.read_text(encoding="utf-8"))
    public = (".client_id", ".redirect_uri")  # identifiers, not secrets
    keys = {k: v for k, v in known["keys"].items() if v and not k.endswith(public)}
    po = known["keys"]
    basic = base64.b64encode(
        f"{po['powerofficego.application_key']}:{po['powerofficego.client_key']}".encode()
    ).decode()
    secrets = {**keys, "basic credentials": basic, **{f"token {t[:6]}": t for t in known["tokens"]}}
    assert len(known["tokens"]) >= 3, "the simulators issued no tokens: nothing was exercised"
    paths = set()
    for cassette in cassettes:
        assert_no_secret(cassette, secrets)
        paths |= {urlsplit(i["request"]["uri"]).path for i in json.loads(cassette.read_text())["interactions"]}
    assert {"/OAuth/Token", "/api/oauth2/token"} <= paths, "both token endpoints were recorded (and scrubbed)"


# -- (a') every place a secret can sit, through the cassette settings ------------------------------------

SECRETS = {f"s{i}": f"Leak{i:02d}-{'x' * 12}" for i in range(1, 16)}


def _answer(request: httpx.Request) -> httpx.Response:
    s = SECRETS
    if request.url.path == "/token":
        return httpx.Response(
            200, content=json.dumps({"access_token": s["s3"], "token_type": "bearer", "refresh_token": s["s4"]}),
            headers={"content-type": "application/json; charset=utf-8", "set-cookie": f"sid={s['s11']}; HttpOnly"},
        )  # fmt: skip
    if request.url.path == "/login":
        return httpx.Response(302, headers={"location": f"http://app.test/cb?code={s['s14']}&state=ok"})
    return httpx.Response(
        200, json={"name": "visible", "password": s["s10"], "items": [{"api_key": s["s13"]}]},
        headers={"content-type": "application/problem+json; charset=UTF-8"},
    )  # fmt: skip


def _record_every_kind(path: Path) -> None:
    s = SECRETS
    recorder = register(vcr.VCR())
    with (
        recorder.use_cassette(str(path), record_mode="all", **vcr_settings(recording=True)),
        httpx.Client(transport=httpx.MockTransport(_answer)) as client,
    ):
        client.post(
            "http://auth.test/token",
            data={"grant_type": "refresh_token", "refresh_token": s["s1"], "client_secret": s["s2"], "page": "2"},
        )
        client.post(
            "http://api.test/items?api_key=" + s["s5"] + "&code=" + s["s6"] + "&page=2",
            content=json.dumps({"client_secret": s["s7"], "nested": {"password": s["s8"]}, "name": "visible"}),
            headers={
                "content-type": "application/json; charset=utf-8",
                "authorization": f"Bearer {s['s3']}",
                "cookie": f"sid={s['s11']}",
                "ocp-apim-subscription-key": s["s9"],
                "x-api-key": s["s12"],
            },
        )
        client.get("http://auth.test/login", auth=("app", s["s15"]))


def test_every_kind_of_secret_is_scrubbed_when_recording(tmp_path: Path) -> None:
    cassette = tmp_path / "every.json"
    _record_every_kind(cassette)
    assert_no_secret(cassette, SECRETS)
    data = json.loads(cassette.read_text(encoding="utf-8"))
    assert len(data["interactions"]) == 3
    text = "\n".join(strings(data))
    assert "visible" in text and "page=2" in text, "scrubbing removed more than secrets"


def test_a_scrubbed_cassette_replays(tmp_path: Path) -> None:
    """Scrubbing keeps what matching needs: the same requests replay from the scrubbed cassette."""
    cassette = tmp_path / "every.json"
    _record_every_kind(cassette)
    player = register(vcr.VCR())
    with player.use_cassette(str(cassette), record_mode="none", **vcr_settings(recording=False)) as played:
        with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(599))) as client:
            token = client.post("http://auth.test/token", data={"refresh_token": "other"})
            assert token.json()["access_token"] == "REDACTED"
        assert played.play_count == 1


def test_a_secret_named_key_holding_an_object_or_list_is_scrubbed(tmp_path: Path) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"token": {"value": SECRETS["s1"]}, "api_key": [SECRETS["s2"]]})

    recorder = register(vcr.VCR())
    cassette = tmp_path / "nested.json"
    with (
        recorder.use_cassette(str(cassette), record_mode="all", **vcr_settings(recording=True)),
        httpx.Client(transport=httpx.MockTransport(answer)) as client,
    ):
        client.get("http://api.test/session")
    assert_no_secret(cassette, {"s1": SECRETS["s1"], "s2": SECRETS["s2"]})


# -- (b) the CI gate over the committed cassettes -------------------------------------------------------------


def secret_looking(interaction: dict[str, Any]) -> list[str]:
    """Every place in one recorded interaction that looks like a secret not redacted."""
    found: list[str] = []
    for side in ("request", "response"):
        part = interaction[side]
        for name, values in (part.get("headers") or {}).items():
            lowered = name.lower()
            if lowered in ("authorization", "cookie", "proxy-authorization"):
                found.append(f"{side} header {name} present")
            elif (SECRET_NAME.search(lowered) or lowered == "set-cookie") and values != ["REDACTED"]:
                found.append(f"{side} header {name}={values!r}")
        body = part.get("body")
        body = body.get("string") if isinstance(body, dict) else body
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
        if re.search(r"\b(Bearer|Basic) (?!REDACTED)\S", text):
            found.append(f"{side} body carries a Bearer/Basic credential")
        try:
            fields: list[tuple[str, Any]] = list(_json_fields(json.loads(text))) if text else []
        except ValueError:
            fields = parse_qsl(text, keep_blank_values=True) if "=" in text else []
        found += [f"{side} body {k}={v!r}" for k, v in fields if _bad(k, v)]
    query = parse_qsl(urlsplit(interaction["request"]["uri"]).query, keep_blank_values=True)
    found += [f"query {k}={v!r}" for k, v in query if _bad(k, v) and k != "$skiptoken"]
    return found


def _json_fields(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield k, v
            yield from _json_fields(v)
    elif isinstance(value, list):
        for v in value:
            yield from _json_fields(v)


def _bad(name: str, value: Any) -> bool:
    return bool(SECRET_NAME.search(name)) and name.lower() not in NOT_SECRET and value not in ("REDACTED", None, "")


def test_the_gate_catches_what_it_is_for() -> None:
    """The scanner is honest: each kind of leak it guards against is reported."""
    leaky = {
        "request": {
            "uri": "http://x.test/a?api_key=abc&page=1",
            "headers": {"Authorization": ["Bearer abc"], "Ocp-Apim-Subscription-Key": ["abc"]},
            "body": "grant_type=refresh_token&refresh_token=abc&client_secret=REDACTED",
        },
        "response": {
            "headers": {"Set-Cookie": ["sid=abc"]},
            "body": {"string": '{"access_token": "abc", "token_type": "bearer", "note": "Bearer abc"}'},
        },
    }
    found = secret_looking(leaky)
    assert len(found) == 7, found
    clean = {
        "request": {"uri": "http://x.test/a?page=1", "headers": {}, "body": "refresh_token=REDACTED"},
        "response": {"headers": {}, "body": {"string": '{"access_token": "REDACTED", "token_type": "bearer"}'}},
    }
    assert secret_looking(clean) == []


@pytest.mark.skipif(not COMMITTED, reason="no committed cassettes under generated_tests/cassettes/")
@pytest.mark.parametrize("cassette", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_no_committed_cassette_holds_a_secret(cassette: Path) -> None:
    data = json.loads(cassette.read_text(encoding="utf-8"))
    problems = [f"#{i}: {p}" for i, inter in enumerate(data["interactions"]) for p in secret_looking(inter)]
    assert not problems, f"{cassette.relative_to(REPO)}:\n  " + "\n  ".join(problems)
