"""A simulator's ASGI app as an httpx transport, in this process: no socket, no server thread.

The simulators backend uses it when nothing records cassettes and no other process syncs (the same
requests reach the same app as over 127.0.0.1, a few times faster). It is an ``httpx.MockTransport``,
so vcrpy would see it like any other transport. A fault that drops the connection surfaces as
``httpx.ReadError``, as a closed socket does.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

import httpx

from talkqa.wire import Headers, WireRequest, WireResponse

_T = TypeVar("_T")

if TYPE_CHECKING:  # a replay run imports this module but never starts a simulator: no Starlette then
    from starlette.requests import Request


class InProcessTransport(httpx.MockTransport):
    """Calls ``app`` on a private event loop, one request at a time. Given ``handler`` (a simulator's
    own request handler, the one endpoint its app routes every path to), calls it directly with the
    request and sends its response as the app would: Starlette's routing and middleware, which add
    nothing to a simulator's answers, are skipped."""

    def __init__(self, app: Any, handler: Callable[[Request], Awaitable[Any]] | None = None,
                 steppable: Callable[[], bool] | None = None) -> None:
        self.app = app
        self.endpoint = handler  # (not "handler": MockTransport keeps its own under that name)
        self.steppable = steppable
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()
        super().__init__(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        with self._lock:
            status, headers, body = self._run(self._call(
                request.method, url.scheme, url.host, url.port, url.raw_path.split(b"?", 1)[0], url.query,
                [(k.lower(), v) for k, v in request.headers.raw], request.read()))
        if status is None:
            raise httpx.ReadError("the simulator closed the connection without answering", request=request)
        return httpx.Response(status, headers=headers, content=body, request=request)

    def answer(self, request: WireRequest) -> WireResponse:
        """The same answer without httpx objects (:mod:`talkqa.wire`)."""
        url = request.url
        sent = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()]
        with self._lock:
            status, headers, body = self._run(self._call(
                request.method, url.scheme, url.host, url.port, url.path.encode("ascii"), url.query_string, sent,
                request.content))
        if status is None:
            raise httpx.ReadError("the simulator closed the connection without answering")
        return WireResponse(status, Headers({k.decode("latin-1").lower(): v.decode("latin-1") for k, v in headers}),
                            body, request)

    def _run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """The coroutine's result. A simulator's answer never waits (its body is read from memory, its
        answer sent to memory) unless a scheduled fault sleeps for real: then it runs on the event loop;
        otherwise it is stepped by hand, which costs a fraction of a loop's turn. A step that yields a
        future after all is finished on the loop (:class:`_Rest`)."""
        if self.steppable is None or not self.steppable():
            return self._loop.run_until_complete(coro)
        try:
            while True:
                waiting = coro.send(None)
                if waiting is not None:  # a future: only a loop can wait for it
                    return self._loop.run_until_complete(_Rest(coro, waiting).wait())
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def _call(self, method: str, scheme: str, host: str, port: int | None, path: bytes, query: bytes,
                    headers: list[tuple[bytes, bytes]], body: bytes,
                    ) -> tuple[int | None, list[tuple[bytes, bytes]], bytes]:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": scheme, "path": unquote(path.decode("ascii")), "raw_path": path,
            "query_string": query, "root_path": "", "headers": headers,
            "server": (host, port or (443 if scheme == "https" else 80)), "client": None,
        }  # fmt: skip
        done = False

        async def receive() -> dict[str, Any]:
            nonlocal done
            if done:
                return {"type": "http.disconnect"}
            done = True
            return {"type": "http.request", "body": body, "more_body": False}

        response = None
        if self.endpoint is not None:
            request_type, plain = _starlette()
            response = await self.endpoint(request_type(scope, receive))
            if type(response) in plain and response.background is None:
                # what such a response sends (Response.__call__): its status, headers and body, read off it
                return response.status_code, list(response.raw_headers), response.body
        status: int | None = None
        answer_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, answer_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                answer_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        if response is not None:
            await response(scope, receive, send)
        else:
            await self.app(scope, receive, send)
        return status or None, answer_headers, b"".join(chunks)

    def close(self) -> None:
        """Kept open: every client of the run shares it (an httpx client closes its transport)."""

    def shutdown(self) -> None:
        if not self._loop.is_closed():
            self._loop.close()


@functools.cache
def _starlette() -> tuple[type[Request], tuple[type, ...]]:
    """Starlette's request type, and the response types whose ASGI call only sends their status, headers
    and body (imported when a simulator first answers: a replay run never loads Starlette)."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

    return Request, (Response, JSONResponse)


class _Rest:
    """The rest of a coroutine that, stepped by hand, yielded ``waiting`` (a future): awaited inside a task,
    it hands the future to the task, which resumes it when the future is done, and so on to the end."""

    def __init__(self, coro: Coroutine[Any, Any, Any], waiting: Any) -> None:
        self.coro = coro
        self.waiting = waiting

    async def wait(self) -> Any:
        return await self

    def __await__(self) -> Generator[Any, None, Any]:
        waiting = self.waiting
        while True:
            yield waiting
            try:
                waiting = self.coro.send(None)
            except StopIteration as done:
                return done.value


#: in-process transports by the base URL of the simulator they answer for (``http://127.0.0.1:PORT``)
_BY_URL: dict[str, InProcessTransport] = {}


def serve_in_process(url: str, app: Any, handler: Callable[[Request], Awaitable[Any]] | None = None,
                     steppable: Callable[[], bool] | None = None) -> InProcessTransport:
    """Answer requests to ``url`` in process from now on (for connectors that ask :func:`transport_for`).
    ``steppable``: whether the handler's answers may be stepped without an event loop now."""
    transport = _BY_URL[url.rstrip("/")] = InProcessTransport(app, handler, steppable)
    return transport


def stop_in_process(url: str) -> None:
    transport = _BY_URL.pop(url.rstrip("/"), None)
    if transport is not None:
        transport.shutdown()


@functools.lru_cache(maxsize=1024)
def _base(url: str) -> str:
    parts = httpx.URL(url)
    return f"{parts.scheme}://{parts.host}:{parts.port}"


def transport_for(url: str) -> InProcessTransport | None:
    """The in-process transport serving ``url`` (any URL under a simulator's base), if any."""
    return _BY_URL.get(_base(url))


class InProcessWire:
    """A wire (:mod:`talkqa.wire`) for clients of several simulators: each request goes to the in-process
    simulator of its URL."""

    def answer(self, request: WireRequest) -> WireResponse:
        local = transport_for(request.url.base)
        if local is None:
            raise httpx.ConnectError(f"no simulator answers in process for {request.url.base}")
        return local.answer(request)

