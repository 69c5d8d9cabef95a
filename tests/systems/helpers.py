"""What the generic system's tests share: documents, stores, a raw API client, and the three ways a
connector reaches a store (the in-process httpx transport, the direct client, the ASGI server)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from generator.model import Document
from generator.parser import parse_text
from talkqa.clock import Clock, FakeClock
from talkqa.connectors.base import FieldSpec
from talkqa.connectors.http import SystemClient
from talkqa.systems.base import SystemKey, SystemSession
from talkqa.systems.generic import GenericConfig, GenericSystem
from talkqa.systems.generic.connector import GenericConnector
from talkqa.systems.generic.profile import Profile
from talkqa.systems.generic.schema import EntitySchema, Schema
from talkqa.systems.generic.simulator import GenericStore, StoreTransport
from tests.spec.docwriter import DocSpec, FlowSpec, render

WAYS = ("httpx", "direct", "asgi")


def generated_suite(root: Path, *specs: DocSpec, files: Mapping[str, str] | None = None) -> Path:
    """``specs`` written in the vendor's format to ``root/spec`` (and ``files``, e.g. plugins, to ``root``),
    and their suite generated into ``root/gen`` by ``talkqa generate``, as a QA engineer would."""
    (root / "spec").mkdir(exist_ok=True)
    for spec in specs:
        (root / "spec" / spec.file_name).write_text(render(spec).text, encoding="utf-8")
    for name, text in (files or {}).items():
        (root / name).write_text(text, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "talkqa", "generate", "spec", "--out", "gen"], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return root


def document(source: str, target: str, *flows: FlowSpec, name: str | None = None) -> Document:
    """A document in the vendor's format (written by the spec tests' writer), read by the real parser."""
    src, tgt = source.lower(), target.lower()
    spec = DocSpec(source, target, src, tgt, flows=tuple(flows))
    return parse_text(render(spec).text, name or spec.file_name)


def entity(slug: str, label: str, kinds: Mapping[str, str], *, id_path: str = "id", id_kind: str = "string",
           required: Sequence[str] = ()) -> EntitySchema:
    """An entity schema by hand: ``kinds`` maps each writable path to its kind."""
    fields = {p: FieldSpec(p, kind=k, required_on_create=p in required) for p, k in kinds.items()}
    fields[id_path] = FieldSpec(id_path, kind=id_kind, read_only=True)
    return EntitySchema(slug, label, fields, id_path)


def store(*entities: EntitySchema, profiles: Mapping[str, Profile] | None = None,
          clock: Clock | None = None) -> GenericStore:
    schema = Schema({(e.slug, e.entity): e for e in entities})
    return GenericStore(schema, dict(profiles or {}), clock or FakeClock())


class Api:
    """Raw HTTP against one tenant of a store, through the in-process transport (what any client sees)."""

    def __init__(self, target: GenericStore, slug: str, tenant: str = "", *, token: str | None = "") -> None:
        self.store = target
        creds = target.credentials(slug, tenant)
        self.token = creds.token if token == "" else token
        self.base = target.base_url(slug, tenant)
        self.client = httpx.Client(transport=StoreTransport(target), base_url=self.base)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params={k: str(v) for k, v in params.items()}, headers=self._headers())

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.client.post(path, json=body, headers=self._headers())

    def patch(self, path: str, body: Any) -> httpx.Response:
        return self.client.patch(path, json=body, headers=self._headers())

    def create(self, path: str, body: Any) -> dict[str, Any]:
        resp = self.post(path, body)
        assert resp.status_code == 201, resp.text
        made: dict[str, Any] = resp.json()
        return made


class Simulated:
    """A generic simulator for ``system``, reached one way; ``open`` gives connectors of its tenants."""

    def __init__(self, system: GenericSystem, way: str = "httpx", clock: Clock | None = None) -> None:
        assert way in WAYS, way
        self.system = system
        self.way = way
        self.clock = clock or FakeClock()
        self.handle = system.start_simulator(clock=self.clock, rate_limits=False, in_process=way == "direct")
        self.store: GenericStore = self.handle.store
        self._sessions: list[SystemSession] = []

    def config(self, slug: str, tenant: str = "", **changes: Any) -> GenericConfig:
        """The config the simulator hands out for a tenant; ``changes`` replace some of its fields (e.g.
        ``token=None``, so that an OAuth2 profile has to fetch one)."""
        config: GenericConfig = self.handle.config(SystemKey(slug, tenant))
        if self.way == "asgi":
            config = self.handle.command_config(config)  # serves the store on 127.0.0.1, a free port
        return dataclasses.replace(config, **changes)

    def open(self, slug: str, label: str, tenant: str = "", **changes: Any) -> GenericConnector:
        session = self.system.open(SystemKey(slug, tenant), self.config(slug, tenant, **changes), clock=self.clock)
        self._sessions.append(session)
        found = session.connector(label)
        assert isinstance(found, GenericConnector)
        return found

    def close(self) -> None:
        for session in self._sessions:
            session.close()
        self.handle.stop()


@contextmanager
def simulated(system: GenericSystem, way: str = "httpx", clock: Clock | None = None) -> Iterator[Simulated]:
    sim = Simulated(system, way, clock)
    try:
        yield sim
    finally:
        sim.close()


class Bearer:
    """The tenant's long-lived bearer token, as a :class:`~talkqa.connectors.http.Auth`."""

    def __init__(self, token: str) -> None:
        self.token = token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def on_unauthorized(self) -> None:
        pass


def store_connector(target: GenericStore, schema: EntitySchema, tenant: str = "") -> GenericConnector:
    """A connector straight onto a store built by hand (no documents), over the in-process transport."""
    client = SystemClient(schema.slug, clock=target.clock, transport=StoreTransport(target))
    client.auth = Bearer(target.credentials(schema.slug, tenant).token)
    return GenericConnector(client, target.base_url(schema.slug, tenant), schema, target.profile(schema.slug))
