"""Toy CRM (slug ``toycrm``): the smallest complete system plugin, the worked example of docs/systems.md.

One entity, ``Person``, with a read-only integer ``id`` the system assigns and a required ``name``.
Its simulator is an in-process store answering HTTP through an httpx transport, so cassettes can
record it like any other API. A distribution would name :data:`plugin` in its entry points::

    [project.entry-points."talkqa.systems"]
    toycrm = "toycrm:plugin"
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from talkqa.clock import Clock
from talkqa.connectors.base import Change, FieldSpec, Page, Record, ResourceConnector, UnsupportedEntity
from talkqa.connectors.http import SystemClient
from talkqa.connectors.mapping import create_once
from talkqa.connectors.secret import Secret
from talkqa.systems.base import SimulatorHandle, SystemKey, SystemPlugin, SystemSession

SLUG = "toycrm"
ORIGIN = "http://toycrm.talkqa.local"  # the in-process simulator's origin: never resolved
API_KEY_HEADER = "X-Api-Key"

#: Person's fields by canonical path: what the simulator enforces and what the checks draw values for
PERSON_FIELDS: dict[str, FieldSpec] = {
    "id": FieldSpec("id", kind="integer", read_only=True),  # assigned by the system
    "name": FieldSpec("name", max_length=40, required_on_create=True, nullable=False),
    "email": FieldSpec("email", kind="email", max_length=80),
    "ledgerId": FieldSpec("ledgerId", max_length=40),
    "role": FieldSpec("role", max_length=20),  # "agent", "customer", ...: what "is of type X" reads
}
WRITABLE = {path for path, spec in PERSON_FIELDS.items() if not spec.read_only}
UNNAMED = "(unnamed)"


# -- configuration --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToyConfig:
    """What reaches one tenant: its base URL and API key; ``transport`` for the in-process simulator."""

    url: str
    api_key: Secret
    transport: httpx.BaseTransport | None = None


# -- the simulator ------------------------------------------------------------------------------------


@dataclass
class _Tenant:
    people: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 1
    sequence: int = 0  # change counter: a record's ``modified`` is the counter at its last write


class ToyStore:
    """Every tenant's people; answers ``/<tenant>/people[/<id>]`` like a small JSON API."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.lock = threading.Lock()
        self.tenants: dict[str, _Tenant] = {}

    def reset(self) -> None:
        with self.lock:
            self.tenants.clear()

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get(API_KEY_HEADER) != self.api_key:
            return _answer(401, {"error": f"missing or wrong {API_KEY_HEADER}"})
        parts = request.url.path.strip("/").split("/")
        if len(parts) not in (2, 3) or parts[1] != "people":
            return _answer(404, {"error": f"no resource at {request.url.path}"})
        with self.lock:
            tenant = self.tenants.setdefault(parts[0], _Tenant())
            if len(parts) == 2:
                return self._collection(tenant, request)
            return self._one(tenant, request, parts[2])

    def _collection(self, tenant: _Tenant, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            since, ref = request.url.params.get("since"), request.url.params.get("ref")
            rows = [dict(r) for r in tenant.people.values()
                    if (since is None or r["modified"] > since) and (ref is None or r.get("ref") == ref)]
            return _answer(200, {"items": rows})
        if request.method != "POST":
            return _answer(405, {"error": "GET or POST"})
        body = json.loads(request.content or b"{}")
        problem = _invalid(body, creating=True)
        if problem:
            return _answer(400, {"error": problem})
        record = {**body, "id": tenant.next_id}
        tenant.next_id += 1
        self._touch(tenant, record)
        tenant.people[record["id"]] = record
        return _answer(201, dict(record))

    def _one(self, tenant: _Tenant, request: httpx.Request, text: str) -> httpx.Response:
        record = tenant.people.get(int(text)) if text.isdigit() else None
        if record is None:
            return _answer(404, {"error": f"no person {text}"})
        if request.method == "GET":
            return _answer(200, dict(record))
        if request.method != "PATCH":
            return _answer(405, {"error": "GET or PATCH"})
        body = json.loads(request.content or b"{}")
        problem = _invalid(body, creating=False)
        if problem:
            return _answer(400, {"error": problem})
        record.update(body)
        self._touch(tenant, record)
        return _answer(200, dict(record))

    @staticmethod
    def _touch(tenant: _Tenant, record: dict[str, Any]) -> None:
        tenant.sequence += 1
        record["modified"] = f"{tenant.sequence:012d}"


def _invalid(body: Any, *, creating: bool) -> str | None:
    """Why the simulator refuses ``body`` (as the real API would), or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    for name, value in body.items():
        spec = PERSON_FIELDS.get(name)
        if name == "ref":
            continue
        if spec is None:
            return f"Person has no field {name!r}"
        if spec.read_only:
            return f"Person.{name} is read-only"
        if value is None and not spec.nullable:
            return f"Person.{name} cannot be null"
        if value is not None and not isinstance(value, str):
            return f"Person.{name} must be a string"
        if spec.max_length is not None and isinstance(value, str) and len(value) > spec.max_length:
            return f"Person.{name} is longer than {spec.max_length} characters"
    missing = [p for p, s in PERSON_FIELDS.items() if creating and s.required_on_create and not body.get(p)]
    return f"Person: required field(s) missing: {', '.join(missing)}" if missing else None


def _answer(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body)


class ToyHandle(SimulatorHandle):
    """One store for every tenant of a run; ``key.tenant`` picks the tenant (``target`` for the second
    side of a toycrm-toycrm document)."""

    def __init__(self) -> None:
        self.store = ToyStore(api_key="toy-key-not-secret-1234")
        self.transport = httpx.MockTransport(self.store.handle)

    def config(self, key: SystemKey) -> ToyConfig:
        return ToyConfig(f"{ORIGIN}/{key.tenant or 'main'}", Secret(self.store.api_key), self.transport)

    def reset(self) -> None:
        self.store.reset()

    def stop(self) -> None:
        self.store.reset()

    def info(self) -> dict[str, Any]:
        return {"url": ORIGIN, "api_key": self.store.api_key}


# -- the connector ----------------------------------------------------------------------------------


class _ApiKey:
    """The client's ``auth``: a header on every request."""

    def __init__(self, key: Secret) -> None:
        self.key = key

    def headers(self) -> dict[str, str]:
        return {API_KEY_HEADER: self.key.reveal()}

    def on_unauthorized(self) -> None:
        """An API key cannot be refreshed: the second 401 is raised as AuthFailed."""


class PersonConnector:
    """``Person`` over the toy API, in canonical records (the wire names are the canonical ones here)."""

    system = SLUG
    entity = "Person"
    fields: Mapping[str, FieldSpec] = PERSON_FIELDS
    id_path = "id"  # the record's own identifier: identifier rows and rules are checked through it

    def __init__(self, client: SystemClient, url: str) -> None:
        self.http = client
        self.url = url.rstrip("/") + "/people"

    @staticmethod
    def decode(wire: Mapping[str, Any]) -> Record:
        return {path: wire[path] for path in PERSON_FIELDS if path in wire}

    def _list(self, params: dict[str, str]) -> list[dict[str, Any]]:
        items = self.http.json(self.http.request("GET", self.url, params=params))["items"]
        return sorted(items, key=lambda r: r["modified"])

    def changed_since(self, watermark: str | None) -> Page:
        page = Page(watermark=watermark)
        for wire in self._list({"since": watermark} if watermark else {}):
            page.changes.append(Change(str(wire["id"]), self.decode(wire), wire["modified"]))
            page.watermark = wire["modified"]
        return page

    def iter_all(self) -> Iterator[Change]:
        for wire in self._list({}):
            yield Change(str(wire["id"]), self.decode(wire), wire["modified"])

    def get(self, record_id: str) -> Record:
        return self.decode(self.http.json(self.http.request("GET", f"{self.url}/{record_id}")))

    def complete_for_create(self, record: Record) -> Record:
        """The toy API refuses a person without a name; a document that maps none gets :data:`UNNAMED`."""
        return record if record.get("name") else {**record, "name": UNNAMED}

    def _body(self, record: Record) -> dict[str, Any]:
        unknown = set(record) - WRITABLE
        if unknown:
            raise ValueError(f"Person: not writable: {', '.join(sorted(unknown))}")
        return dict(record)

    def create(self, record: Record, *, external_ref: str | None = None) -> str:
        body = self._body(record) | ({"ref": external_ref} if external_ref else {})

        def post() -> str:
            return str(self.http.json(self.http.request("POST", self.url, json_body=body))["id"])

        find = (lambda: self.find_by_external_ref(external_ref)) if external_ref else None
        return create_once(post, find, f"{SLUG}: POST Person")

    def update(self, record_id: str, changes: Record) -> None:
        self.http.request("PATCH", f"{self.url}/{record_id}", json_body=self._body(changes))

    def find_by_external_ref(self, external_ref: str) -> str | None:
        found = self._list({"ref": external_ref})
        return str(found[0]["id"]) if found else None


class ToySession(SystemSession):
    def __init__(self, key: SystemKey, config: ToyConfig, clock: Clock, seed: int) -> None:
        self.config = config
        self.client = SystemClient(str(key), clock=clock, seed=seed, transport=config.transport)
        self.client.auth = _ApiKey(config.api_key)
        self.client.redact.add(config.api_key.reveal())  # never in an error message

    def connector(self, entity: str) -> ResourceConnector:
        if entity.strip() != "Person":
            raise UnsupportedEntity(f"{SLUG} has no connector for {entity!r}; supported: Person")
        return PersonConnector(self.client, self.config.url)

    def close(self) -> None:
        self.client.close()


# -- the plugin -----------------------------------------------------------------------------------------


class ToyCrmPlugin(SystemPlugin):
    slug = SLUG
    title = "Toy CRM"

    def entities(self) -> Mapping[str, Mapping[str, FieldSpec]]:
        return {"Person": PERSON_FIELDS}

    def config_from_env(self, key: SystemKey, env: Mapping[str, str]) -> ToyConfig | None:
        prefix = self.env_prefix(key)  # TALKQA_TOYCRM_, or TALKQA_TOYCRM_TARGET_ for the second tenant
        url = env.get(prefix + "URL")
        if not url:
            return None
        return ToyConfig(url, Secret(env.get(prefix + "API_KEY", "")))

    def replay_config(self, key: SystemKey) -> ToyConfig:
        return ToyConfig(f"http://toycrm.talkqa.invalid/{key.tenant or 'main'}", Secret("replay"))

    def command_env(self, key: SystemKey, config: ToyConfig, state_dir: Path | None = None) -> dict[str, str]:
        prefix = self.env_prefix(key)
        return {prefix + "URL": config.url, prefix + "API_KEY": config.api_key.reveal()}

    def start_simulator(self, *, clock: Clock, rate_limits: bool, documents: Iterable[Any] = (),
                        in_process: bool = False) -> ToyHandle:
        return ToyHandle()

    def open(self, key: SystemKey, config: ToyConfig, *, clock: Clock, seed: int = 0) -> SystemSession:
        return ToySession(key, config, clock, seed)


plugin = ToyCrmPlugin()
