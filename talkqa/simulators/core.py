"""The machinery every simulator shares: routing, request log, faults, admin routes, state file."""
from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import logging
import re
import threading
from collections.abc import Awaitable, Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from talkqa.clock import Clock, FakeClock, SystemClock
from talkqa.simulators.auth import bearer_token
from talkqa.simulators.faults import Fault, FaultPlan
from talkqa.simulators.server import ServerThread, abort_connection
from talkqa.simulators.state import StateJournal

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[Response]]
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def query_of(request: Request) -> QueryParams:
    """``request.query_params``, parsed once per distinct query string (a connector asks the same few
    queries again and again; the parsed form is immutable, so one copy serves every request)."""
    return _parse_query(request.scope["query_string"])


@lru_cache(maxsize=4096)
def _parse_query(raw: bytes) -> QueryParams:
    return QueryParams(raw)


def base_of(request: Request) -> str:
    """``str(request.base_url)`` without the trailing slash, worked out once per scheme, host, server
    and root path (what Starlette builds it from; every request of a run has the same few)."""
    scope = request.scope
    host = next((v for k, v in scope["headers"] if k == b"host"), None)
    key = (scope.get("scheme", "http"), host, scope.get("server"), scope.get("root_path", ""))
    found = _BASES.get(key)
    if found is None:
        if len(_BASES) > 256:
            _BASES.clear()
        found = _BASES[key] = str(request.base_url).rstrip("/")
    return found


_BASES: dict[tuple[Any, ...], str] = {}


class Reply(Exception):
    """Raised by a handler to answer at once with ``response``."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class DropResponse(Response):
    """Not a response: closes the client's socket without sending a byte."""

    def __init__(self) -> None:
        super().__init__(status_code=0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        abort_connection(scope)
        await asyncio.sleep(0)  # let the loop process the abort; not a wait for time to pass


@dataclasses.dataclass
class CommonSettings:
    """Settings every simulator has."""

    rate_limits: bool = True


@dataclasses.dataclass
class _Route:
    method: str
    regex: re.Pattern[str]
    handler: Handler


class Simulator:
    """Base class: a subclass registers routes and implements the vendor behaviour.

    All state lives in ``self.state`` (JSON-serialisable) guarded by ``self.lock``; call
    ``self.changed()`` after mutating it so the state file (if any) records the change. With a
    state file the state's containers are tracked (:mod:`talkqa.simulators.state`): an entry
    (record, token, counter) that was set, deleted or read since the last ``changed()`` is
    appended to the file's journal if its value differs. An entry changed in place after it was
    reached by iterating (``.values()``) is not seen: name it, ``changed(("auth", "refresh"))``.
    """

    slug = "simulator"
    collections: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        settings: CommonSettings,
        clock: Clock | None = None,
        seed: int = 0,
        state_file: str | Path | None = None,
        port: int = 0,
    ) -> None:
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.settings = settings
        self._initial_settings = copy.deepcopy(settings)
        self.seed = seed
        self.lock = threading.RLock()
        self.faults = FaultPlan(seed)
        self.state_file = Path(state_file) if state_file else None
        self._journal = StateJournal(self.state_file) if self.state_file else None
        self._requests: list[dict[str, Any]] = []
        self._presented: set[str] = set()  # access tokens requests have presented (token_expiry hits only those)
        self.api_calls = 0  # every request answered since start (a reset keeps it: a run's cost)
        self.faults_fired = 0  # of them, the ones a scheduled fault answered
        self._routes: list[_Route] = []
        self._matched: dict[str, tuple[tuple[_Route, dict[str, str]], ...]] = {}
        stored = self._journal.load() if self._journal else None
        self.state = self.empty_state() if stored is None else self.load_state(stored)
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=ALL_METHODS)])
        self._server = ServerThread(self.app, port=port, name=self.slug)
        self.admin = SimulatorAdmin(self)
        self.register_routes()

    # ----- subclass hooks -------------------------------------------------------------------
    def register_routes(self) -> None:
        """Call ``self.route`` for each endpoint."""

    def empty_state(self) -> dict[str, Any]:
        return {"collections": {name: {} for name in self.collections}, "auth": {}, "meta": {}}

    def load_state(self, data: dict[str, Any]) -> dict[str, Any]:
        """State read back from the state file (subclasses may keep parts of the fresh state)."""
        state = self.empty_state()
        for key in state:
            if key in data:
                state[key] = data[key]
        return state

    def prepare_seed(self, collection: str, record: dict[str, Any]) -> dict[str, Any]:
        """Fill in id and timestamps of a raw record seeded through the admin channel."""
        raise NotImplementedError

    def normalize_path(self, path: str) -> str:
        return path

    def error_response(self, status: int, message: str) -> Response:
        return JSONResponse({"error": message}, status_code=status)

    def rate_limited_response(self, request: Request) -> Response:
        return self.error_response(429, "Too many requests")

    def finalize(self, request: Request, response: Response) -> Response:
        """Last touch on every non-admin response (e.g. rate-limit headers)."""
        return response

    def check_settings(self, settings: Any) -> None:
        """Raise ValueError when a combination of settings is invalid."""

    def on_reset(self) -> None:
        """Reset anything a subclass keeps outside ``self.state`` (limiters, caches)."""

    def expire_token(self, request: Request) -> None:
        """The ``token_expiry`` fault: the access token ``request`` presents expires now, as if its
        lifetime had passed (the request is then answered as any request with an expired token)."""

    # ----- routing ----------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler, *, ignore_case: bool = False) -> None:
        flags = re.IGNORECASE if ignore_case else 0
        self._routes.append(_Route(method, re.compile(pattern, flags), handler))
        self._matched.clear()

    def _matches(self, path: str) -> tuple[tuple[_Route, dict[str, str]], ...]:
        """The routes whose pattern matches ``path``, in order, with their groups (worked out once per
        path: a connector asks the same few paths again and again)."""
        found = self._matched.get(path)
        if found is None:
            if len(self._matched) > 4096:
                self._matched.clear()
            found = self._matched[path] = tuple(
                (r, m.groupdict()) for r in self._routes if (m := r.regex.fullmatch(path)) is not None)
        return found

    async def _dispatch(self, request: Request, path: str) -> Response:
        allowed: list[str] = []
        for r, groups in self._matches(path):
            if r.method != request.method:
                allowed.append(r.method)
                continue
            try:
                return await r.handler(request, **groups)
            except Reply as reply:
                return reply.response
        if allowed:
            return self.error_response(405, f"Method {request.method} not allowed")
        return self.error_response(404, f"No resource at {path}")

    async def handle_request(self, request: Request) -> Response:
        """What the app answers ``request`` (every path is routed here), for callers in this process."""
        return await self._handle(request)

    async def _handle(self, request: Request) -> Response:
        path = request.scope.get("root_path", "") + request.scope["path"]  # request.url.path, without a URL
        if path.startswith("/_admin/"):
            return await self._admin(request, path[len("/_admin") :])
        path = self.normalize_path(path)
        token = bearer_token(request)
        with self.lock:
            presented = token is not None and token in self._presented
            if token is not None:
                self._presented.add(token)
        fault = None if self.faults.idle() else self.faults.pick(request.method, path,
                                                                 exclude=() if presented else ("token_expiry",))
        kind = fault.kind if fault else None
        entry: dict[str, Any] = {
            "method": request.method, "path": path, "query": request.scope["query_string"].decode("latin-1"),
            "status": None, "time": self.clock.now(), "fault": kind,
        }
        if fault is not None and kind == "drop_connection":
            self._log(entry)
            return DropResponse()
        if fault is not None and kind == "slow":
            await self._delay(fault)
        if kind == "token_expiry":
            self.expire_token(request)
        try:
            if kind == "rate_limit_burst":
                response = self.rate_limited_response(request)
            elif fault is not None and kind == "server_error":
                response = self.error_response(fault.status, "Injected server error")
            else:
                response = self.finalize(request, await self._dispatch(request, path))
        except Exception:
            log.exception("%s failed on %s %s", self.slug, request.method, path)
            response = self.error_response(500, "Simulator error")
        entry["status"] = response.status_code
        self._log(entry)
        if kind == "lost_response":
            return DropResponse()
        return response

    def answers_without_waiting(self) -> bool:
        """Whether every answer is computed without waiting for time to pass: no scheduled ``slow`` fault
        sleeps for real (on a fake clock it moves the clock). Then a caller in this process may step the
        handler's coroutine by hand instead of running an event loop (:mod:`talkqa.simulators.inprocess`)."""
        if self.faults.idle():
            return True
        fake = isinstance(self.clock, FakeClock)
        return not any(f.kind == "slow" and (f.real or not fake) for f in self.faults.scheduled())

    async def _delay(self, fault: Fault) -> None:
        if isinstance(self.clock, FakeClock) and not fault.real:
            self.clock.sleep(fault.seconds)
        else:
            await asyncio.sleep(fault.seconds)  # the fault itself: a response that is late

    def _log(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self._requests.append(entry)
            self.api_calls += 1
            self.faults_fired += 1 if entry.get("fault") else 0

    # ----- state ----------------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any]:
        return self._state

    @state.setter
    def state(self, value: dict[str, Any]) -> None:
        """Replace the whole state (the next ``changed()`` writes it as a new snapshot)."""
        self._state = self._journal.attach(value) if self._journal else value

    def changed(self, *paths: tuple[str, ...]) -> None:
        """Record what changed since the last call in the state file, if one is configured: every
        entry set, deleted or read since, plus each of ``paths`` (a path names an entry or a whole
        container, e.g. ``("auth", "refresh")``)."""
        if self._journal is None:
            return
        with self.lock:
            self._journal.mark_all(paths)
            self._journal.flush(self._state)

    def table(self, collection: str) -> dict[str, Any]:
        return self.state["collections"][collection]

    def next_id(self, name: str = "id", start: int = 1) -> int:
        with self.lock:
            value = int(self.state["meta"].get(name, start))
            self.state["meta"][name] = value + 1
            return value

    # ----- lifecycle ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self._server.url

    @property
    def port(self) -> int | None:
        return self._server.port

    def start(self, timeout: float = 10.0) -> None:
        self._server.start(timeout)

    def stop(self) -> None:
        self._server.stop()

    # ----- operations shared by the admin routes and SimulatorAdmin -------------------------
    def reset(self) -> None:
        with self.lock:
            self.state = self.empty_state()
            self._requests.clear()
            self._presented.clear()
            if self.settings != self._initial_settings:  # changed by a test: back to a fresh copy
                self.settings = copy.deepcopy(self._initial_settings)
        self.faults.clear()
        self.on_reset()
        self.changed()

    def seed_record(self, collection: str, record: dict[str, Any]) -> dict[str, Any]:
        if collection not in self.collections:
            raise KeyError(collection)
        with self.lock:
            stored = self.prepare_seed(collection, copy.deepcopy(record))
            self.changed()
            return copy.deepcopy(stored)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.state["collections"])

    def request_log(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._requests)

    def update_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            current = self.settings
            for key, value in changes.items():
                if not hasattr(current, key) or key.startswith("_"):
                    raise ValueError(f"unknown setting {key!r}")
                old = getattr(current, key)
                ok = type(value) is type(old) or (isinstance(old, float) and type(value) is int)
                if not ok:
                    raise ValueError(f"setting {key!r} expects {type(old).__name__}")
            updated = dataclasses.replace(current, **changes)
            self.check_settings(updated)
            self.settings = updated
            return dataclasses.asdict(self.settings)

    def advance_clock(self, seconds: float) -> float:
        if not isinstance(self.clock, FakeClock):
            raise TypeError("this simulator does not own a FakeClock")
        self.clock.advance(seconds)
        return self.clock.now()

    # ----- admin routes ------------------------------------------------------------------------
    async def _admin(self, request: Request, path: str) -> Response:
        try:
            body: Any = None
            if request.method in ("POST", "PUT", "PATCH"):
                raw = await request.body()
                body = json.loads(raw) if raw.strip() else None
            return self._admin_call(request.method, path, body)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    def _admin_call(self, method: str, path: str, body: Any) -> Response:
        admin = self.admin
        if (method, path) == ("POST", "/reset"):
            admin.reset()
            return JSONResponse({"ok": True})
        if method == "POST" and path.startswith("/seed/"):
            if not isinstance(body, dict):
                raise ValueError("seed body must be a JSON object")
            try:
                return JSONResponse(admin.seed(path[len("/seed/") :], body), status_code=201)
            except KeyError:
                return JSONResponse({"error": f"no collection {path[6:]!r}"}, status_code=404)
        if (method, path) == ("GET", "/state"):
            return JSONResponse(admin.state())
        if (method, path) == ("GET", "/requests"):
            return JSONResponse(admin.requests())
        if (method, path) == ("GET", "/faults"):
            return JSONResponse(admin.faults())
        if (method, path) == ("POST", "/faults"):
            items = body.get("faults", [body]) if isinstance(body, dict) else body
            if not isinstance(items, list):
                raise ValueError("faults body: a fault object, a list, or {'faults': [...]}")
            admin.add_faults(*items)
            return JSONResponse(admin.faults(), status_code=201)
        if (method, path) == ("DELETE", "/faults"):
            admin.clear_faults()
            return JSONResponse({"ok": True})
        if (method, path) == ("GET", "/settings"):
            return JSONResponse(admin.settings())
        if (method, path) == ("POST", "/settings"):
            if not isinstance(body, dict):
                raise ValueError("settings body must be a JSON object")
            return JSONResponse(admin.settings(**body))
        if (method, path) == ("POST", "/clock/advance"):
            seconds = (body or {}).get("seconds")
            if not isinstance(seconds, int | float):
                raise ValueError("body needs a number 'seconds'")
            try:
                return JSONResponse({"now": admin.advance_clock(float(seconds))})
            except TypeError as exc:
                return JSONResponse({"error": str(exc)}, status_code=409)
        if (method, path) == ("GET", "/clock"):
            return JSONResponse({"now": self.clock.now(), "fake": isinstance(self.clock, FakeClock)})
        return JSONResponse({"error": f"no admin route {method} {path}"}, status_code=404)


class SimulatorAdmin:
    """The admin side channel, in process (same operations as ``/_admin/`` over HTTP)."""

    def __init__(self, simulator: Simulator) -> None:
        self._sim = simulator

    def reset(self) -> None:
        """Clear records, tokens, the request log, faults and settings; keep keys and clock."""
        self._sim.reset()

    def seed(self, collection: str, record: dict[str, Any]) -> dict[str, Any]:
        """Store a raw record (wire shape); returns it with its id and timestamps filled in."""
        return self._sim.seed_record(collection, record)

    def state(self) -> dict[str, Any]:
        """Every collection, raw, keyed by id."""
        return self._sim.snapshot()

    def records(self, collection: str) -> list[dict[str, Any]]:
        return list(self._sim.snapshot()[collection].values())

    def requests(self) -> list[dict[str, Any]]:
        """The request log (method, path, query, status, time, fault) without admin calls."""
        return self._sim.request_log()

    def add_faults(self, *faults: Fault | dict[str, Any]) -> None:
        for f in faults:
            self._sim.faults.add(f if isinstance(f, Fault) else Fault.from_dict(f))

    def fault(self, kind: str, **options: Any) -> None:
        """Schedule one fault, e.g. ``fault("server_error", status=503, path="/v2/")``."""
        self._sim.faults.add(Fault(kind=kind, **options))

    def faults(self) -> list[dict[str, Any]]:
        return self._sim.faults.list()

    def clear_faults(self) -> None:
        self._sim.faults.clear()

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Change settings (if any given) and return them all."""
        return self._sim.update_settings(changes)

    def advance_clock(self, seconds: float) -> float:
        return self._sim.advance_clock(seconds)
