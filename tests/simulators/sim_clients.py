"""Small authenticated httpx clients for the simulator tests."""
from __future__ import annotations

import json
from typing import Any

import httpx

from talkqa.simulators.launcher import Simulators


class PowerOfficeClient:
    """httpx on the PowerOffice simulator with a fresh token and the subscription key."""

    def __init__(self, sims: Simulators) -> None:
        self.sims = sims
        self.creds = sims.credentials["poweroffice"]
        self.http = httpx.Client(base_url=sims.poweroffice.url, timeout=10)
        self.token = self.new_token()

    def new_token(self) -> str:
        r = self.http.post("/OAuth/Token", data={"grant_type": "client_credentials"},
                           auth=(self.creds["application_key"], self.creds["client_key"]),
                           headers={"Ocp-Apim-Subscription-Key": self.creds["subscription_key"]})
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Ocp-Apim-Subscription-Key": self.creds["subscription_key"]}

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        headers = {**self.headers, **kw.pop("headers", {})}
        return self.http.request(method, url, headers=headers, **kw)

    def patch(self, url: str, ops: list[dict[str, Any]], content_type: str = "application/json-patch+json",
              ) -> httpx.Response:
        return self.request("PATCH", url, content=json.dumps(ops), headers={"Content-Type": content_type})


class ExactClient:
    """httpx on the Exact simulator with an access token obtained from the launcher's refresh token."""

    def __init__(self, sims: Simulators) -> None:
        self.sims = sims
        self.creds = sims.credentials["exact"]
        self.http = httpx.Client(base_url=sims.exact.url, timeout=10)
        self.division = self.creds["division"]
        self.token = self.refresh()["access_token"]

    def refresh(self) -> dict[str, Any]:
        r = self.token_call(self.creds["refresh_token"])
        assert r.status_code == 200, r.text
        body = r.json()
        self.creds["refresh_token"] = body["refresh_token"]
        return body

    def token_call(self, refresh_token: str) -> httpx.Response:
        return self.http.post("/api/oauth2/token", data={
            "grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": self.creds["client_id"], "client_secret": self.creds["client_secret"]})

    @property
    def contacts(self) -> str:
        return f"/api/v1/{self.division}/crm/Contacts"

    def one(self, contact_id: str) -> str:
        return f"{self.contacts}(guid'{contact_id}')"

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json", **kw.pop("headers", {})}
        return self.http.request(method, url, headers=headers, **kw)
