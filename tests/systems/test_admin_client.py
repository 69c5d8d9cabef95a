"""The set-up client: a simulator in this process gets the same request through the wire as over httpx."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from talkqa.simulators.inprocess import serve_in_process, stop_in_process
from talkqa.systems.admin import AdminClient

URL = "http://admin-client-test.invalid:8123"


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    status = int(request.query_params.get("status", "200"))
    return JSONResponse({
        "method": request.method, "path": request.url.path, "query": sorted(request.query_params.multi_items()),
        "type": request.headers.get("content-type"), "body": json.loads(body) if body else None,
    }, status_code=status)


@pytest.fixture(scope="module")
def served() -> Iterator[httpx.Client]:
    app = Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST"])])
    transport = serve_in_process(URL, app)
    try:
        yield httpx.Client(transport=transport)  # the same app through httpx
    finally:
        stop_in_process(URL)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8)


@settings(max_examples=40)
@given(body=JSON, params=st.dictionaries(st.sampled_from(["a", "b", "$filter"]), st.text(max_size=6), max_size=2),
       path=st.sampled_from(["/_admin/seed/customers", "/x/y", "/"]))
def test_the_wire_answers_what_httpx_gets(served: httpx.Client, body: object, params: dict[str, str],
                                          path: str) -> None:
    admin = AdminClient()
    wire = admin.post(URL + path, json=body, params=params)
    over_httpx = served.post(URL + path, json=body, params=params)
    assert (wire.status_code, wire.json()) == (over_httpx.status_code, over_httpx.json())
    assert admin._http is None  # nothing went through httpx


def test_an_error_status_raises_an_httpx_error(served: httpx.Client) -> None:
    answer = AdminClient().get(URL + "/missing", params={"status": "404"})
    assert answer.status_code == 404
    with pytest.raises(httpx.HTTPError, match="404"):
        answer.raise_for_status()


def test_a_url_no_simulator_serves_in_process_goes_over_httpx() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(201, json={"id": 7})

    admin = AdminClient()
    admin._http = httpx.Client(transport=httpx.MockTransport(handler))
    assert admin.post("http://elsewhere.invalid/_admin/seed/customers", json={"name": "x"}).json() == {"id": 7}
    assert seen == ["http://elsewhere.invalid/_admin/seed/customers"]
