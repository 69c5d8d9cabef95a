"""Exact Online OAuth: consent redirect, code exchange, expiry, refresh-token rotation."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx
from sim_clients import ExactClient

from talkqa.simulators.launcher import Simulators


def _consent(http: httpx.Client, creds: dict, **extra: str) -> httpx.Response:
    params = {"client_id": creds["client_id"], "redirect_uri": creds["redirect_uri"], "response_type": "code",
              "state": "s1", **extra}
    return http.get("/api/oauth2/auth", params=params)


def _exchange(http: httpx.Client, creds: dict, code: str) -> httpx.Response:
    return http.post("/api/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": creds["redirect_uri"],
        "client_id": creds["client_id"], "client_secret": creds["client_secret"]})


def test_consent_redirects_with_code_and_state_and_code_is_single_use(simulators: Simulators) -> None:
    creds = simulators.credentials["exact"]
    with httpx.Client(base_url=simulators.exact.url) as http:
        r = _consent(http, creds)
        assert r.status_code == 302
        location = urlparse(r.headers["location"])
        assert location.geturl().startswith(creds["redirect_uri"])
        query = parse_qs(location.query)
        assert query["state"] == ["s1"]
        first = _exchange(http, creds, query["code"][0])
        assert first.status_code == 200
        body = first.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == "600"  # a string, as Exact sends it
        assert body["access_token"] and body["refresh_token"]
        again = _exchange(http, creds, query["code"][0])
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_consent_rejects_unknown_client_and_wrong_redirect(simulators: Simulators) -> None:
    creds = simulators.credentials["exact"]
    with httpx.Client(base_url=simulators.exact.url) as http:
        assert _consent(http, creds, client_id="nope").status_code == 400
        assert _consent(http, creds, redirect_uri="https://evil.example/cb").status_code == 400


def test_code_expires_after_three_minutes(simulators: Simulators) -> None:
    creds = simulators.credentials["exact"]
    with httpx.Client(base_url=simulators.exact.url) as http:
        code = parse_qs(urlparse(_consent(http, creds).headers["location"]).query)["code"][0]
        simulators.clock.sleep(181)
        r = _exchange(http, creds, code)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_rejected(exact: ExactClient) -> None:
    r = exact.http.post("/api/oauth2/token", data={
        "grant_type": "refresh_token", "refresh_token": exact.creds["refresh_token"],
        "client_id": exact.creds["client_id"], "client_secret": "wrong"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_client"


def test_access_token_expires_after_ten_minutes(exact: ExactClient, simulators: Simulators) -> None:
    assert exact.request("GET", "/api/v1/current/Me").status_code == 200
    simulators.clock.sleep(599)
    assert exact.request("GET", "/api/v1/current/Me").status_code == 200
    simulators.clock.sleep(1)
    r = exact.request("GET", "/api/v1/current/Me")
    assert r.status_code == 401
    assert r.json()["error"]["message"]["value"]


def test_refresh_too_early_is_rejected_then_accepted_after_570_s(exact: ExactClient, simulators: Simulators) -> None:
    early = exact.token_call(exact.creds["refresh_token"])
    assert early.status_code == 401
    assert early.json() == {"error": "invalid_request", "error_description": "Access Token not expired"}
    simulators.clock.sleep(569)
    assert exact.token_call(exact.creds["refresh_token"]).status_code == 401
    simulators.clock.sleep(1)
    assert exact.token_call(exact.creds["refresh_token"]).status_code == 200


def test_refresh_rotates_and_the_old_token_is_revoked(exact: ExactClient, simulators: Simulators) -> None:
    old = exact.creds["refresh_token"]
    simulators.clock.sleep(570)
    new = exact.refresh()
    assert new["refresh_token"] != old
    r = exact.token_call(old)
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_grant", "error_description": "Old refresh token used."}
    exact.token = new["access_token"]
    assert exact.request("GET", "/api/v1/current/Me").status_code == 200


def test_me_gives_the_current_division(exact: ExactClient) -> None:
    r = exact.request("GET", "/api/v1/current/Me", params={"$select": "CurrentDivision"})
    assert r.status_code == 200
    results = r.json()["d"]["results"]
    assert results[0]["CurrentDivision"] == exact.division
    assert "FullName" not in results[0]


def test_unknown_token_is_401(exact: ExactClient) -> None:
    r = exact.http.get(exact.contacts, headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    assert set(r.json()["error"]) == {"code", "message"}
