"""A system client keeps the cookies a server sets and sends them back, as httpx does."""

from __future__ import annotations

import httpx

from talkqa.connectors.http import SystemClient


def test_a_cookie_set_by_a_response_is_sent_with_the_next_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/set":
            return httpx.Response(200, headers={"Set-Cookie": "affinity=7; Path=/"}, json={})
        return httpx.Response(200, json={"cookie": request.headers.get("cookie")})

    client = SystemClient("x", transport=httpx.MockTransport(handler))
    assert client.request("GET", "http://h.test/get").json() == {"cookie": None}
    client.request("GET", "http://h.test/set")
    assert client.request("GET", "http://h.test/get").json() == {"cookie": "affinity=7"}
    client.request("GET", "http://h.test/plain")  # a response setting no cookie keeps the jar as it was
    assert client.request("GET", "http://h.test/get").json() == {"cookie": "affinity=7"}
