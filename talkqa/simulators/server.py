"""Serving an ASGI app with uvicorn in a background thread on 127.0.0.1.

Also the one trick uvicorn does not offer: closing a connection without any
response (the ``drop_connection`` / ``lost_response`` faults).
"""
from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

Address = tuple[str, int]

_LIVE: dict[tuple[Address, Address], H11Protocol] = {}
_LIVE_LOCK = threading.Lock()


class _TrackedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, remembering each live connection by its (server, client) address."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None:  # no Nagle stall between a response's head and body (asyncio skips proto-0 sockets)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
        if self.server and self.client:
            with _LIVE_LOCK:
                _LIVE[(tuple(self.server), tuple(self.client))] = self  # type: ignore[index]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.server and self.client:
            with _LIVE_LOCK:
                _LIVE.pop((tuple(self.server), tuple(self.client)), None)  # type: ignore[arg-type]
        super().connection_lost(exc)


def abort_connection(scope: dict[str, Any]) -> bool:
    """Close the socket of the request in ``scope`` at once, sending nothing. True when found."""
    server, client = scope.get("server"), scope.get("client")
    if not server or not client:
        return False
    with _LIVE_LOCK:
        protocol = _LIVE.get((tuple(server), tuple(client)))  # type: ignore[arg-type]
    if protocol is None:
        return False
    if protocol.cycle is not None:
        protocol.cycle.disconnected = True  # uvicorn then sends no 500 of its own
    protocol.transport.abort()
    return True


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self._ready.set()


class ServerThread:
    """One uvicorn server in a daemon thread; ``start`` returns once it accepts connections."""

    def __init__(self, app: Any, *, port: int = 0, host: str = "127.0.0.1", name: str = "simulator") -> None:
        self._app = app
        self._host = host
        self._requested_port = port
        self._name = name
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("server not started")
        return f"http://{self._host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle delay between header and body
        sock.bind((self._host, self._requested_port))
        self.port = sock.getsockname()[1]
        ready = threading.Event()
        config = uvicorn.Config(
            self._app, http=_TrackedH11Protocol, lifespan="off", log_level="warning",
            access_log=False, timeout_keep_alive=30,
        )
        self._server = _Server(config, ready)
        server = self._server

        def run() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as exc:  # reported by start()
                self._error = exc
            finally:
                ready.set()
                sock.close()

        self._thread = threading.Thread(target=run, name=f"talkqa-{self._name}", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError(f"{self._name} did not start within {timeout} s")
        if self._error is not None or not server.started:
            raise RuntimeError(f"{self._name} failed to start: {self._error!r}")

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
        self._server = None
        self._thread = None
