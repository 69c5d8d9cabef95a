"""Scrubbing by value as well as by name: each kind of leak recorded through the cassette settings
(UTF-16 and UTF-8-with-BOM JSON, JSON inside a JSON string, XML, forms, plain text, widened key
names, a known token in a place no name gives away), checked on the written cassette in every
encoding a body could be in. The body must stay readable in its own encoding."""

from __future__ import annotations

import codecs
import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import vcr

from talkqa.connectors.secret import KNOWN_SECRETS, Redactor, remember_secret
from talkqa.runtime.cassettes import JsonCassettes, register, vcr_settings
from talkqa.runtime.scrub import decode_body, scrub_body, scrub_text

ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32")


def fresh(label: str) -> str:
    """A value no other test uses (the registry is process-wide)."""
    return f"{label}-{secrets.token_hex(8)}"


def forms(secret: str) -> set[str]:
    once = json.dumps(secret)[1:-1]
    return {secret, quote(secret, safe=""), once, json.dumps(once)[1:-1]}


def texts(value: Any) -> list[str]:
    """Every string in a loaded cassette; bytes decoded in every encoding that accepts them."""
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in [str(k), *texts(v)]]
    if isinstance(value, list):
        return [t for v in value for t in texts(v)]
    if isinstance(value, bytes):
        out = []
        for codec in ENCODINGS:
            try:
                out.append(value.decode(codec))
            except UnicodeDecodeError:
                continue
        return out
    return [] if value is None else [str(value)]


def record(tmp_path: Path, answer: Any, calls: Any) -> dict[str, Any]:
    """Record ``calls(client)`` against ``answer`` with the cassette settings; the loaded cassette."""
    recorder = register(vcr.VCR())
    path = tmp_path / "leak.json"
    with (
        recorder.use_cassette(str(path), record_mode="all", **vcr_settings(recording=True)),
        httpx.Client(transport=httpx.MockTransport(answer)) as client,
    ):
        calls(client)
    return JsonCassettes.deserialize(path.read_text(encoding="utf-8"))  # bodies that are no UTF-8: bytes again


def assert_clean(cassette: dict[str, Any], *leaked: str) -> None:
    every = texts(cassette)
    for secret in leaked:
        for form in forms(secret):
            assert not any(form in t for t in every), f"{secret[:8]}... leaked as {form[:12]}..."


def response_body(cassette: dict[str, Any], index: int = 0) -> bytes:
    body = cassette["interactions"][index]["response"]["body"]["string"]
    return body if isinstance(body, bytes) else body.encode("utf-8")


def request_body(cassette: dict[str, Any], index: int = 0) -> bytes:
    body = cassette["interactions"][index]["request"]["body"]
    return body if isinstance(body, bytes) else (body or "").encode("utf-8")


# -- encodings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codec", "bom", "charset"),
    [
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16"),
        ("utf-16-le", b"", ""),  # no BOM, no charset: found by where the NULs sit
        ("utf-16-be", b"", "utf-16be"),
        ("utf-8", codecs.BOM_UTF8, "utf-8"),
        ("utf-32-le", codecs.BOM_UTF32_LE, ""),
    ],
)
def test_json_in_any_unicode_encoding_is_scrubbed_and_stays_in_it(
    tmp_path: Path, codec: str, bom: bytes, charset: str
) -> None:
    access, refresh, issued = fresh("acc"), fresh("ref"), fresh("iss")
    remember_secret(issued)  # a token the connectors saw issued earlier
    doc = {"access_token": access, "refresh_token": refresh, "token_type": "bearer", "expires_in": 600,
           "note": f"previous token {issued} revoked", "name": "visible Ærlig"}  # fmt: skip
    ctype = "application/json" + (f"; charset={charset}" if charset else "")

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bom + json.dumps(doc, ensure_ascii=False).encode(codec),
                              headers={"content-type": ctype})  # fmt: skip

    cassette = record(tmp_path, answer, lambda c: c.get("http://api.test/token"))
    assert_clean(cassette, access, refresh, issued)
    raw = response_body(cassette)
    assert raw.startswith(bom), "the BOM was kept"
    back = json.loads(raw[len(bom) :].decode(codec))
    assert back == {**doc, "access_token": "REDACTED", "refresh_token": "REDACTED",
                    "note": "previous token REDACTED revoked"}  # fmt: skip
    headers = cassette["interactions"][0]["response"]["headers"]
    assert "content-length" not in headers  # not kept: a replayed body is a stream of its own length


def test_a_body_that_is_no_text_gets_known_values_replaced_in_its_bytes() -> None:
    token = fresh("bin")
    remember_secret(token)
    blob = b"\x89PNG\r\n\x1a\n\xff\xfe\x00" + token.encode() + b"\xc3\x28" + token.encode("utf-16-le") + b"\x00\xff"
    assert decode_body(blob, "image/png") is None
    out = scrub_body(blob, "image/png")
    assert isinstance(out, bytes) and token.encode() not in out and token.encode("utf-16-le") not in out
    assert out.startswith(b"\x89PNG") and b"REDACTED" in out and "REDACTED".encode("utf-16-le") in out


# -- shapes ----------------------------------------------------------------------------------------------


def test_json_inside_a_json_string_is_scrubbed_by_name(tmp_path: Path) -> None:
    inner_secret, deeper = fresh("inner"), fresh("deeper")
    payload = {"event": "login", "payload": json.dumps({"client_secret": inner_secret, "user": "visible",
               "more": json.dumps({"password": deeper})})}  # fmt: skip
    cassette = record(
        tmp_path, lambda r: httpx.Response(200, json=payload), lambda c: c.get("http://api.test/events")
    )
    assert_clean(cassette, inner_secret, deeper)
    back = json.loads(response_body(cassette))
    inner = json.loads(back["payload"])
    assert inner["client_secret"] == "REDACTED" and inner["user"] == "visible"
    assert json.loads(inner["more"]) == {"password": "REDACTED"}


def test_xml_elements_and_attributes_are_scrubbed_by_name(tmp_path: Path) -> None:
    password, key, token = fresh("pw"), fresh("pk"), fresh("tk")
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns:d="urn:x"><entry><d:Password>{password}</d:Password><d:Name>visible</d:Name>'
        f'<session private_key="{key}" kind="plain"/><AccessToken type="x">{token}</AccessToken>'
        "<token_type>bearer</token_type></entry></feed>"
    )
    cassette = record(
        tmp_path,
        lambda r: httpx.Response(200, content=xml.encode(), headers={"content-type": "application/atom+xml"}),
        lambda c: c.get("http://api.test/feed"),
    )
    assert_clean(cassette, password, key, token)
    body = response_body(cassette).decode()
    assert "<d:Password>REDACTED</d:Password>" in body and 'private_key="REDACTED"' in body
    assert '<AccessToken type="x">REDACTED</AccessToken>' in body
    assert "<d:Name>visible</d:Name>" in body and 'kind="plain"' in body and "<token_type>bearer</token_type>" in body


def test_forms_and_widened_key_names_in_any_case(tmp_path: Path) -> None:
    values = {name: fresh(name) for name in ("pwd", "passphrase", "private_key", "secret", "token", "cred")}

    def calls(client: httpx.Client) -> None:
        client.post("http://api.test/login", data={
            "user": "visible", "PWD": values["pwd"], "Passphrase": values["passphrase"],
            "PrivateKey": values["private_key"], "token_type": "bearer"})  # fmt: skip
        client.post("http://api.test/config", json={
            "Private_Key": values["private_key"], "credentials": {"user": "u-1", "secret": values["secret"]},
            "SECRET": values["secret"], "Token": values["token"], "expires_in": 3600, "name": "visible"})  # fmt: skip
        client.get("http://api.test/q", params={"pwd": values["pwd"], "ApiCredentials": values["cred"], "page": "2"})

    cassette = record(tmp_path, lambda r: httpx.Response(204), calls)
    assert_clean(cassette, *values.values())
    form = dict(pair.split("=", 1) for pair in request_body(cassette, 0).decode().split("&"))
    assert form == {"user": "visible", "PWD": "REDACTED", "Passphrase": "REDACTED", "PrivateKey": "REDACTED",
                    "token_type": "bearer"}  # fmt: skip
    config = json.loads(request_body(cassette, 1))
    assert config["credentials"] == {"user": "REDACTED", "secret": "REDACTED"}
    assert (config["expires_in"], config["name"]) == (3600, "visible")
    assert "page=2" in cassette["interactions"][2]["request"]["uri"]


def test_plain_text_pairs_and_bearer_credentials(tmp_path: Path) -> None:
    token, key, bearer = fresh("txt"), fresh("k"), fresh("b")
    text = f"error: invalid token: {token}\napi_key={key}\nsent Authorization: Bearer {bearer}\nattempts: 3\n"
    cassette = record(
        tmp_path,
        lambda r: httpx.Response(401, text=text, headers={"content-type": "text/plain"}),
        lambda c: c.get("http://api.test/x"),
    )
    assert_clean(cassette, token, key, bearer)
    assert response_body(cassette).decode().splitlines() == [
        "error: invalid token: REDACTED", "api_key=REDACTED", "sent Authorization: Bearer REDACTED", "attempts: 3",
    ]  # fmt: skip


def test_record_data_that_merely_mentions_a_name_is_kept() -> None:
    """Inside a body, free text is not scrubbed by name (a fuzz value must replay as recorded)."""
    doc = {"Name": "Error code: 42", "Plan": "Basic membership", "Note": "token=abc is not here", "City": "Oslo"}
    body = json.dumps(doc).encode()
    kept = {**doc, "Note": "token=abc is not here"}
    assert scrub_body(body, "application/json") is body
    assert json.loads(body) == kept


# -- known values in unexpected places -------------------------------------------------------------------


def test_a_known_token_is_scrubbed_wherever_it_appears(tmp_path: Path) -> None:
    token = fresh("anywhere") + "/+="  # characters that URL and JSON encode differently
    Redactor([token])  # how the connectors' auth feeds the process-wide registry
    assert token in KNOWN_SECRETS

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            302,
            headers={"x-debug-session": f"sid {token}", "location": f"http://app.test/cb?state={quote(token, safe='')}",
                     "content-type": "text/html"},
            content=f"<html><p title='{token}'>Moved, session {token}.</p></html>".encode(),
        )  # fmt: skip

    def calls(client: httpx.Client) -> None:
        client.get(f"http://api.test/sessions/{quote(token, safe='')}/info?q={quote(token, safe='')}",
                   headers={"x-trace": token})  # fmt: skip
        client.post("http://api.test/notes", json={"text": f"pasted {token} by mistake", "ok": True})

    cassette = record(tmp_path, answer, calls)
    assert_clean(cassette, token)
    first = cassette["interactions"][0]
    assert first["request"]["uri"].startswith("http://api.test/sessions/REDACTED/info")
    assert first["request"]["headers"]["x-trace"] == ["REDACTED"]
    assert first["response"]["headers"]["x-debug-session"] == ["sid REDACTED"]
    assert json.loads(request_body(cassette, 1)) == {"text": "pasted REDACTED by mistake", "ok": True}


def test_short_values_are_not_remembered_process_wide() -> None:
    """A short value (``replay``, a test's ``k``) would damage every recording it happens to occur in."""
    Redactor(["replay", "abcd1"])
    assert "replay" not in KNOWN_SECRETS and "abcd1" not in KNOWN_SECRETS
    assert scrub_text("replay mode, abcd1") == "replay mode, abcd1"


def test_scrubbing_is_idempotent() -> None:
    token = fresh("idem")
    remember_secret(token)
    body = json.dumps({"access_token": token, "x": f"a {token}", "nested": json.dumps({"pwd": "p" * 9})}).encode()
    once = scrub_body(body, "application/json")
    assert once is not body
    assert scrub_body(once, "application/json") is once
