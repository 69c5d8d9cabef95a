"""The generic simulator: a JSON/HTTP API for any (system, entity) the documents name.

One :class:`GenericStore` holds every tenant of every generic system of a run; each tenant is
independent (the two sides of a same-system document are two tenants). It is served in process
(an httpx transport: fast, and recorded by vcrpy like any other transport) and, when an external
process needs it, over HTTP on 127.0.0.1 (uvicorn), both from the same store.

Routes, under a tenant's base URL ``/<slug>/<tenant>`` (the profile can rename everything):

* ``GET    <entity path>``          list: ``?updated_after=`` (strictly after), ``?<ref field>=``,
                                     paging by cursor, page, offset or next link, ``?limit=``
* ``POST   <entity path>``          create (201, the record with its id)
* ``GET    <entity path>/<id>``     one record
* ``PATCH  <entity path>/<id>``     merge the given fields (nested objects merge; lists replace)
* ``POST   <token path>``           OAuth2 token endpoint (client credentials or refresh token)
* ``POST   /_admin/reset``          forget everything (tests)

Every write is validated against the schema: unknown fields, wrong JSON types, read-only fields
and missing required fields are 400 with a message naming the field. Under a ``text_values`` prefix
a value must be JSON text that reads as the field's kind (HubSpot's ``properties``); with a
``select_param``, a read returns of the fields under ``select_prefix`` only those it names.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import re
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

from talkqa.clock import Clock, FakeClock
from talkqa.connectors.base import FieldSpec
from talkqa.connectors.codecs import get_path, set_path
from talkqa.simulators.faults import Fault, FaultPlan
from talkqa.systems.generic.profile import DEFAULT, Profile
from talkqa.systems.generic.schema import EntitySchema, Schema

ORIGIN = "http://generic.talkqa.local"  # the in-process origin (never resolved: the transport answers)
ADMIN_PREFIX = "/_admin"
_JSON_TYPES = {
    "string": (str,),
    "integer": (int,),
    "float": (int, float),
    "boolean": (bool,),
    "list": (list,),
}


@dataclass
class Req:
    """One request, as the store reads it (from httpx, from the ASGI server, or from a direct call)."""

    method: str
    path: str
    params: dict[str, str]
    headers: Mapping[str, str]  # lower-case names
    content: bytes
    base: str  # scheme://host[:port] + path, for links the store hands out

    @classmethod
    def of(cls, request: httpx.Request) -> Req:
        url = request.url
        return cls(request.method, url.path, dict(url.params), {k.lower(): v for k, v in request.headers.items()},
                   request.content, str(url.copy_with(query=None)))


class Dropped(Exception):
    """A fault: the connection closes without a response (``applied``: after the request took effect)."""

    def __init__(self, applied: bool) -> None:
        super().__init__("the server closed the connection without a response")
        self.applied = applied


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Credentials:
    token: str
    client_id: str
    client_secret: str
    refresh_token: str
    api_key: str

    @classmethod
    def fresh(cls) -> Credentials:
        raw = secrets.token_hex(36)  # one read of the system's randomness for all five (a tenant per reset)
        return cls(
            token=f"gen-token-{raw[:16]}",
            client_id=f"gen-client-{raw[16:24]}",
            client_secret=f"gen-secret-{raw[24:40]}",
            refresh_token=f"gen-refresh-{raw[40:56]}",
            api_key=f"gen-key-{raw[56:72]}",
        )


@dataclass
class _Entity:
    schema: EntitySchema
    profile: Profile
    wire: dict[str, FieldSpec]  # wire path -> spec
    id_field: str
    required: tuple[str, ...]

    def wire_of(self, canonical: str) -> str:
        return self.profile.wire_name(canonical)


@dataclass
class _Tenant:
    credentials: Credentials
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # entity path -> id -> wire
    next_id: int = 1
    tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)


class GenericStore:
    """Every generic tenant's records; answers httpx requests."""

    def __init__(self, schema: Schema, profiles: Mapping[str, Profile], clock: Clock) -> None:
        self.schema = schema
        self.profiles = dict(profiles)
        self.clock = clock
        self.lock = threading.RLock()
        self._tenants: dict[tuple[str, str], _Tenant] = {}
        self._entities: dict[tuple[str, str], _Entity] = {}  # (slug, entity path) -> entity
        self._last_stamp = datetime(1970, 1, 1, tzinfo=UTC)
        self._credentials: dict[tuple[str, str], Credentials] = {}
        self.requests = 0
        self.faults = FaultPlan(0)  # scheduled faults (seeded: a run is repeatable); cleared by reset
        self.faults_fired = 0
        self._presented: set[str] = set()  # access tokens requests have presented (token_expiry hits only those)
        for entity in schema:
            self.add_entity(entity)

    # -- set-up ------------------------------------------------------------------------------------
    def profile(self, slug: str) -> Profile:
        return self.profiles.get(slug, DEFAULT)

    def add_entity(self, entity: EntitySchema) -> _Entity:
        profile = self.profile(entity.slug)
        path = profile.entity_path(entity.entity)
        known = self._entities.get((entity.slug, path))
        if known is not None:
            return known
        id_field = profile.id_field or entity.id_path
        wire = {profile.wire_name(p): spec for p, spec in entity.fields.items() if p != entity.id_path}
        required = tuple(profile.wire_name(p) for p in profile.required_for(entity.entity)) + tuple(
            profile.wire_name(p) for p, s in entity.fields.items() if s.required_on_create
        )
        made = _Entity(entity, profile, wire, id_field, required)
        self._entities[(entity.slug, path)] = made
        return made

    def credentials(self, slug: str, tenant: str) -> Credentials:
        with self.lock:
            return self._tenant(slug, tenant).credentials

    def base_url(self, slug: str, tenant: str, origin: str = ORIGIN) -> str:
        return f"{origin}/{slug}/{tenant or 'main'}"

    def _tenant(self, slug: str, tenant: str) -> _Tenant:
        key = (slug, tenant or "main")
        found = self._tenants.get(key)
        if found is None:
            creds = self._credentials.get(key)
            if creds is None:  # made once per tenant: its long-lived credentials outlive resets
                creds = self._credentials[key] = Credentials.fresh()
            found = self._tenants[key] = _Tenant(creds)
            found.tokens.add(creds.token)
            found.refresh_tokens.add(creds.refresh_token)
        return found

    def reset(self) -> None:
        """Forget every record and issued token; keep each tenant's long-lived credentials."""
        with self.lock:
            self._tenants.clear()
            self._presented.clear()
        self.faults.clear()

    def expire_tokens(self, slug: str, tenant: str = "") -> None:
        """Every access token of a tenant expires (refresh tokens stay valid): the next request gets 401."""
        with self.lock:
            self._tenant(slug, tenant).tokens.clear()

    # -- requests ------------------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one httpx request (the in-process transport and the HTTP server come here); a dropped
        connection or a lost response is an :class:`httpx.RemoteProtocolError`, as over a socket."""
        try:
            status, body, headers = self.answer_with_headers(Req.of(request))
        except Dropped as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from None
        return httpx.Response(status, json=body, headers=headers)

    def answer(self, request: Req) -> tuple[int, Any]:
        """(status, JSON body) for one request."""
        status, body, _ = self.answer_with_headers(request)
        return status, body

    def answer_with_headers(self, request: Req) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON body, headers) for one request, or :class:`Dropped` (a scheduled fault)."""
        self.requests += 1
        path = request.path
        if path.startswith(ADMIN_PREFIX + "/"):
            try:
                status, body = self._admin(request, path[len(ADMIN_PREFIX):])
            except ApiError as exc:
                status, body = exc.status, {"error": str(exc)}
            return status, body, {}
        fault = self._fault(request)
        kind = fault.kind if fault is not None else None
        if kind == "drop_connection":
            raise Dropped(applied=False)
        if kind == "rate_limit_burst":
            return 429, {"error": "rate limit exceeded: retry after 1 second"}, {"Retry-After": "1"}
        if kind == "server_error":
            return fault.status, {"error": "injected server error"}, {}  # type: ignore[union-attr]
        if kind == "slow" and isinstance(self.clock, FakeClock):
            self.clock.sleep(fault.seconds)  # type: ignore[union-attr]
        status, body = self._api(request, path, expire=kind == "token_expiry")
        if kind == "lost_response":
            raise Dropped(applied=True)
        return status, body, {}

    def _fault(self, request: Req) -> Fault | None:
        # a token expires only if it can be renewed (an OAuth2 profile: a static bearer token is long-lived)
        # and has been presented before (it is not expired the moment it is issued)
        token = _bearer(request)
        if self.faults.idle():  # nothing scheduled: only remember that the token was presented
            if token is not None:
                with self.lock:
                    self._presented.add(token)
            return None
        oauth = self.profile(request.path.strip("/").partition("/")[0]).auth_type.startswith("oauth2")
        with self.lock:
            presented = token is not None and token in self._presented
            if token is not None:
                self._presented.add(token)
        expires = oauth and presented
        fault = self.faults.pick(request.method, request.path, exclude=() if expires else ("token_expiry",))
        if fault is not None:
            with self.lock:
                self.faults_fired += 1
        return fault

    def _api(self, request: Req, path: str, *, expire: bool = False) -> tuple[int, Any]:
        try:
            parts = path.strip("/").split("/", 2)
            if len(parts) < 3:
                raise ApiError(404, f"no resource at {path}")
            slug, tenant_name, rest = parts[0], parts[1], "/" + parts[2]
            with self.lock:
                tenant = self._tenant(slug, tenant_name)
                profile = self.profile(slug)
                if request.method == "POST" and profile.auth_type.startswith("oauth2") and \
                        rest == "/" + (profile.token_url or "oauth/token").lstrip("/"):
                    return 200, self._token(tenant, request)
                if expire:  # the token_expiry fault: the token this request presents expires now
                    tenant.tokens.discard(_bearer(request) or "")
                self._authorize(tenant, profile, request)
                return self._route(slug, tenant, request, rest)
        except ApiError as exc:
            return exc.status, {"error": str(exc)}

    def _admin(self, request: Req, path: str) -> tuple[int, Any]:
        if (request.method, path) == ("POST", "/reset"):
            self.reset()
            return 200, {"ok": True}
        raise ApiError(404, f"no admin route {request.method} {path}")

    def _authorize(self, tenant: _Tenant, profile: Profile, request: Req) -> None:
        if profile.auth_type == "none":
            return
        if profile.auth_type == "api_key":
            if request.headers.get(profile.auth_header.lower()) != tenant.credentials.api_key:  # names: lower-case
                raise ApiError(401, f"missing or wrong {profile.auth_header}")
            return
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        if token not in tenant.tokens:
            raise ApiError(401, "missing, expired or unknown bearer token")

    def _token(self, tenant: _Tenant, request: Req) -> dict[str, Any]:
        form = dict(parse_qsl(request.content.decode("utf-8", "replace")))
        grant = form.get("grant_type")
        creds = tenant.credentials
        if grant == "client_credentials":
            if (form.get("client_id"), form.get("client_secret")) != (creds.client_id, creds.client_secret):
                raise ApiError(401, "invalid client")
            token = f"gen-token-{secrets.token_hex(8)}"
            tenant.tokens.add(token)
            return {"access_token": token, "token_type": "bearer", "expires_in": 3600}
        if grant == "refresh_token":
            old = form.get("refresh_token", "")
            if old not in tenant.refresh_tokens:
                raise ApiError(400, "invalid_grant: unknown or already used refresh token")
            tenant.refresh_tokens.discard(old)  # rotation: a refresh token works once
            token, refresh = f"gen-token-{secrets.token_hex(8)}", f"gen-refresh-{secrets.token_hex(8)}"
            tenant.tokens.add(token)
            tenant.refresh_tokens.add(refresh)
            return {"access_token": token, "refresh_token": refresh, "token_type": "bearer", "expires_in": 3600}
        raise ApiError(400, "unsupported_grant_type")

    def _entity_for(self, slug: str, rest: str) -> tuple[_Entity, str, str | None]:
        """The entity whose path is the longest one ``rest`` is or lies under (a lookup per ``/`` of
        ``rest``, longest first: a run's store holds the entities of every document in it)."""
        probe = rest
        while True:
            entity = self._entities.get((slug, probe))
            if entity is not None:
                tail = rest[len(probe):].strip("/")
                return entity, probe, (tail or None)
            cut = probe.rfind("/")
            if cut < 0 or not probe:
                break
            probe = probe[:cut]  # "/a/b" -> "/a" -> "" (a path of "" holds everything under "/")
        raise ApiError(404, f"no entity at {rest}")

    def _route(self, slug: str, tenant: _Tenant, request: Req, rest: str) -> tuple[int, Any]:
        entity, path, record_id = self._entity_for(slug, rest)
        table = tenant.records.setdefault(path, {})
        method = request.method
        if record_id is None:
            if method == "GET":
                return 200, self._list(entity, table, request)
            if method == "POST":
                record = self._create(entity, tenant, table, _body(request))
                return 201, self._single(entity, record)
            raise ApiError(405, f"method {method} not allowed on a collection")
        if record_id not in table:
            raise ApiError(404, f"no {entity.schema.entity} with id {record_id}")
        if method == "GET":
            return 200, self._single(entity, _selected(entity.profile, _copy(table[record_id]), request.params))
        if method in ("PATCH", "PUT"):
            record = table[record_id]
            self._write(entity, record, _body(request), create=False)
            record[entity.profile.modified_field] = self._stamp()
            return 200, self._single(entity, record)
        if method == "DELETE":
            del table[record_id]
            return 204, None
        raise ApiError(405, f"method {method} not allowed on a record")

    def _single(self, entity: _Entity, record: dict[str, Any]) -> Any:
        out = _copy(record)
        env = entity.profile.single_envelope
        return set_path({}, env, out) if env else out

    def _stamp(self) -> str:
        now = datetime.fromtimestamp(self.clock.now(), UTC)
        if now <= self._last_stamp:
            now = self._last_stamp + timedelta(microseconds=1)
        self._last_stamp = now
        return f"{_whole_seconds(now.replace(microsecond=0))}.{now.microsecond:06d}Z"

    def _create(self, entity: _Entity, tenant: _Tenant, table: dict[str, Any], body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "the body must be a JSON object")
        record: dict[str, Any] = {}
        self._write(entity, record, body, create=True)
        missing = [p for p in entity.required if get_path(record, p) in (None, "")]
        if missing:
            raise ApiError(400, f"{entity.schema.entity}: required field(s) missing: {', '.join(missing)}")
        number = tenant.next_id
        tenant.next_id += 1
        id_spec = entity.schema.fields.get(entity.schema.id_path)
        record[entity.id_field] = number if id_spec is not None and id_spec.kind == "integer" else str(number)
        record[entity.profile.modified_field] = self._stamp()
        table[str(number)] = record
        return record

    def _write(self, entity: _Entity, record: dict[str, Any], body: Any, *, create: bool) -> None:
        if not isinstance(body, dict):
            raise ApiError(400, "the body must be a JSON object")
        profile = entity.profile
        for key in (entity.id_field, profile.modified_field):
            if key in body:
                raise ApiError(400, f"{entity.schema.entity}.{key} is read-only")
        ref = get_path(body, profile.ref_field)
        if ref is not None and not isinstance(ref, str):
            raise ApiError(400, f"{profile.ref_field} must be a string")
        for path, value in _leaves(body, "", set(profile.lists)):
            if path == profile.ref_field:
                continue
            spec = entity.wire.get(path)
            if spec is None:
                raise ApiError(400, f"{entity.schema.entity} has no field {path!r}")
            if spec.read_only:
                raise ApiError(400, f"{entity.schema.entity}.{path} is read-only")
            if profile.text_prefix(path) is not None:
                _check_text(entity.schema.entity, path, spec, value)
            else:
                _check_type(entity.schema.entity, path, spec, value)
        _merge(record, body, set(profile.lists), "")

    def _list(self, entity: _Entity, table: dict[str, dict[str, Any]], request: Req) -> Any:
        profile = entity.profile
        query = dict(request.params)
        rows = sorted(table.values(), key=lambda r: (r[profile.modified_field], str(r[entity.id_field])))
        since = query.get(profile.since_param) if profile.since_param else None
        if since:
            rows = [r for r in rows if r[profile.modified_field] > since]
        if profile.ref_filter_param and profile.ref_filter_param in query:
            wanted = query[profile.ref_filter_param]
            rows = [r for r in rows if get_path(r, profile.ref_field) == wanted]
        try:
            size = max(1, min(int(query.get(profile.size_param, profile.page_size)), profile.page_size))
            start = 0
            if profile.paging == "page":
                start = (max(1, int(query.get(profile.page_param, 1))) - 1) * size
            elif profile.paging == "offset":
                start = max(0, int(query.get(profile.offset_param, 0)))
            elif profile.cursor_param in query:
                start = int(base64.urlsafe_b64decode(query[profile.cursor_param].encode()).decode())
        except (TypeError, ValueError) as exc:
            raise ApiError(400, f"bad paging parameter: {exc}") from None
        if profile.paging == "none":
            size = max(1, len(rows))
        page = [_selected(profile, _copy(r), query) for r in rows[start:start + size]]
        more = start + size < len(rows)
        if not profile.envelope:
            return page
        body = set_path({}, profile.envelope, page)
        if profile.paging in ("cursor", "next_link"):
            cursor = base64.urlsafe_b64encode(str(start + size).encode()).decode() if more else None
            if profile.paging == "cursor":
                set_path(body, profile.next_cursor_path, cursor)
            else:
                params = {**query, profile.cursor_param: cursor}
                link = f"{request.base}?{urlencode(params)}" if more else None
                set_path(body, profile.next_link_path, link)
        return body


@functools.lru_cache(maxsize=64)
def _whole_seconds(moment: datetime) -> str:
    """``moment`` as ``%Y-%m-%dT%H:%M:%S`` (formatting a stamp whole cost more than the write it marks)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _bearer(request: Req) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() or None if header.lower().startswith("bearer ") else None


def _copy(value: Any) -> Any:
    """A copy of JSON data (faster than ``copy.deepcopy`` for dicts, lists and scalars; a scalar is
    shared, not visited)."""
    if isinstance(value, dict):
        return {k: _copy(v) if isinstance(v, dict | list) else v for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) if isinstance(v, dict | list) else v for v in value]
    return value


def _body(request: Req) -> Any:
    try:
        return json.loads(request.content or b"null")
    except ValueError:
        raise ApiError(400, "the body is not JSON") from None


def _leaves(value: Any, prefix: str, lists: set[str]) -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}{key}"
            if isinstance(child, dict):
                yield from _leaves(child, path + ".", lists)
            elif isinstance(child, list) and path in lists:
                for item in child:
                    if isinstance(item, dict):
                        yield from _leaves(item, path + ".", lists)
                    else:
                        yield path, item
            else:
                yield path, child


def _selected(profile: Profile, record: dict[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
    """``record`` as a read returns it: with a ``select_param``, the fields under ``select_prefix`` are
    only those the query names (a read that names none gets none of them)."""
    if not profile.select_param:
        return record
    inside = get_path(record, profile.select_prefix)
    if isinstance(inside, dict):
        names = {n.strip() for n in query.get(profile.select_param, "").split(",") if n.strip()}
        set_path(record, profile.select_prefix, {k: v for k, v in inside.items() if k in names})
    return record


_INT_TEXT = re.compile(r"^[+-]?\d+$")


def _check_text(entity: str, path: str, spec: FieldSpec, value: Any) -> None:
    """A value under a ``text_values`` prefix: JSON text (or null) that reads as the field's kind."""
    if value is None:
        return _check_type(entity, path, spec, value)
    if not isinstance(value, str):
        raise ApiError(400, f"{entity}.{path} must be sent as text, not {type(value).__name__}")
    text = value.strip()
    if value == "":
        return None  # clears the field, whatever its kind
    ok = True
    if spec.kind == "integer":
        ok = bool(_INT_TEXT.match(text))
    elif spec.kind == "float":
        try:
            ok = math.isfinite(float(text))
        except ValueError:
            ok = False
    elif spec.kind == "boolean":
        ok = text.lower() in ("true", "false")
    if not ok:
        raise ApiError(400, f"{entity}.{path}: {value!r} is not a valid {spec.kind}")
    if spec.max_length is not None and len(value) > spec.max_length:
        raise ApiError(400, f"{entity}.{path} is longer than {spec.max_length} characters")
    return None


def _check_type(entity: str, path: str, spec: FieldSpec, value: Any) -> None:
    if value is None:
        if not spec.nullable:
            raise ApiError(400, f"{entity}.{path} cannot be null")
        return
    allowed = _JSON_TYPES.get(spec.kind)
    if allowed is None:
        return  # any
    if spec.kind in ("integer", "float") and isinstance(value, bool):
        raise ApiError(400, f"{entity}.{path} must be a number, not {value!r}")
    if not isinstance(value, allowed):
        raise ApiError(400, f"{entity}.{path} must be {spec.kind}, not {type(value).__name__}")
    if spec.max_length is not None and isinstance(value, str) and len(value) > spec.max_length:
        raise ApiError(400, f"{entity}.{path} is longer than {spec.max_length} characters")


def _merge(into: dict[str, Any], changes: dict[str, Any], lists: set[str], prefix: str) -> None:
    for key, value in changes.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and path not in lists:
            child = into.get(key)
            if not isinstance(child, dict):
                child = into[key] = {}
            _merge(child, value, lists, path + ".")
        else:
            into[key] = _copy(value)


class StoreTransport(httpx.MockTransport):
    """The store as an httpx transport (in process; vcrpy records and replays it like any other)."""

    def __init__(self, store: GenericStore) -> None:
        super().__init__(store.handle)


def asgi_app(store: GenericStore) -> Any:
    """The store as an ASGI app, for serving it over HTTP to another process."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        query = scope.get("query_string", b"").decode()
        url = f"http://{scope.get('server', ('127.0.0.1', 0))[0]}:{scope.get('server', ('', 0))[1]}{scope['path']}"
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
        request = httpx.Request(scope["method"], url + (f"?{query}" if query else ""), headers=headers, content=body)
        try:
            response = store.handle(request)
        except httpx.RemoteProtocolError:  # a dropped connection or lost response (a scheduled fault)
            from talkqa.simulators.server import abort_connection

            abort_connection(scope)
            return
        headers = [(b"content-type", b"application/json")]
        if "retry-after" in response.headers:
            headers.append((b"retry-after", response.headers["retry-after"].encode("latin-1")))
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": response.content})

    return app
