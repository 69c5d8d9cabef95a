"""The connectors' auth feeds the process-wide registry of secret values (KNOWN_SECRETS) with every
secret it sees, and the cassette hooks use it: a token echoed where no name gives it away is
scrubbed from a recording."""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr

import talkqa.connectors.auth as auth_module
from talkqa.connectors.registry import Connections, connector_for
from talkqa.connectors.secret import KNOWN_SECRETS
from talkqa.runtime.cassettes import JsonCassettes, register, vcr_settings

from .conftest import Sims, endpoints_for


def issued(sims: Sims) -> set[str]:
    auth = sims.ex.state["auth"]
    return set(sims.po.state["auth"]["tokens"]) | set(auth["access"]) | set(auth["refresh"])


def test_auth_registers_keys_tokens_codes_and_basic_credentials(
    fresh: Sims, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes: list[str] = []
    real = auth_module.authorization_code_from_redirect

    def spy(location: str) -> str:
        codes.append(real(location))
        return codes[-1]

    monkeypatch.setattr(auth_module, "authorization_code_from_redirect", spy)
    before = issued(fresh)
    ep = endpoints_for(fresh, tmp_path / "tokens.json")
    assert ep.exact is not None
    ep = dataclasses.replace(ep, exact=dataclasses.replace(ep.exact, refresh_token=None))  # consent first
    with Connections(ep, clock=fresh.clock) as conns:
        list(connector_for("powerofficego", "Suppliers person", ep, connections=conns).iter_all())
        exact = connector_for("exact", "Contacts", ep, connections=conns)
        list(exact.iter_all())
        fresh.clock.advance(600)  # the access token expires: a refresh rotates both tokens
        list(exact.iter_all())
    new = issued(fresh) - before
    assert len(new) >= 5 and len(codes) == 1, "a PowerOffice token, a consent and two Exact grants"
    creds = fresh.launcher.credentials
    po = creds["poweroffice"]
    basic = base64.b64encode(f"{po['application_key']}:{po['client_key']}".encode()).decode()
    expected = {*new, *codes, basic, creds["exact"]["client_secret"], *po.values()}
    assert {value for value in expected if value not in KNOWN_SECRETS} == set()


def test_a_token_the_auth_saw_is_scrubbed_from_a_recording_wherever_it_is(fresh: Sims, tmp_path: Path) -> None:
    ep = endpoints_for(fresh, tmp_path / "tokens.json")
    with Connections(ep, clock=fresh.clock) as conns:
        list(connector_for("exact", "Contacts", ep, connections=conns).iter_all())
        auth = conns.client("exact").auth
        assert isinstance(auth, auth_module.ExactAuth) and auth.state and auth.state.access_token
        token = auth.state.access_token.reveal()
        refresh = auth.state.refresh_token.reveal()

    def answer(request: httpx.Request) -> httpx.Response:
        body = {"Description": f"created with {token}", "Items": [{"Ref": refresh}], "token_type": "bearer"}
        return httpx.Response(200, content=json.dumps(body).encode("utf-16"), headers={"x-echo": token})

    recorder = register(vcr.VCR())
    path = tmp_path / "echo.json"
    with (
        recorder.use_cassette(str(path), record_mode="all", **vcr_settings(recording=True)),
        httpx.Client(transport=httpx.MockTransport(answer)) as client,
    ):
        client.get(f"http://api.test/echo?ref={refresh}")
    data: dict[str, Any] = JsonCassettes.deserialize(path.read_text(encoding="utf-8"))
    interaction = data["interactions"][0]
    body = interaction["response"]["body"]["string"]
    text = body.decode("utf-16")
    assert json.loads(text) == {"Description": "created with REDACTED", "Items": [{"Ref": "REDACTED"}],
                                "token_type": "bearer"}  # fmt: skip
    assert interaction["response"]["headers"]["x-echo"] == ["REDACTED"]
    assert interaction["request"]["uri"] == "http://api.test/echo?ref=REDACTED"
