"""Which connector serves which (system slug, spec entity), and the shared per-system clients.

    connector_for("exact", "Contacts", Endpoints.from_env(), clock=clock)

One :class:`Connections` holds one :class:`~talkqa.connectors.http.SystemClient` (one httpx client,
one token provider) per system; every connector made from it shares them. ``connector_for`` keeps
one ``Connections`` per (endpoints, clock) pair unless you pass your own.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx

from talkqa.clock import Clock, SystemClock
from talkqa.connectors.auth import ExactAuth, PowerOfficeAuth, TokenStore
from talkqa.connectors.base import ResourceConnector, UnsupportedEntity
from talkqa.connectors.config import ConfigError, Endpoints
from talkqa.connectors.exact import ExactContactsConnector
from talkqa.connectors.http import RetryPolicy, SystemClient
from talkqa.connectors.poweroffice import ContactPersonV1Connector, SupplierPersonV2Connector
from talkqa.wire import Wire


class Connections:
    """The per-system HTTP clients (with auth) for one :class:`Endpoints`."""

    def __init__(
        self,
        endpoints: Endpoints,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        wire: Wire | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.clock = clock or SystemClock()
        self.seed = seed
        self.retry = retry
        self.transport = transport
        self.wire = wire  # answers without httpx (a simulator in this process)
        self.timeout = timeout
        self._clients: dict[str, SystemClient] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Connections(systems={sorted(self._clients)})"

    def client(self, system: str) -> SystemClient:
        with self._lock:
            if system not in self._clients:
                self._clients[system] = self._build(system)
            return self._clients[system]

    def _build(self, system: str) -> SystemClient:
        seed = self.seed * 1000 + len(self._clients)
        common: dict[str, Any] = {"clock": self.clock, "seed": seed, "retry": self.retry,
                                  "transport": self.transport, "timeout": self.timeout, "wire": self.wire}
        if system == "powerofficego":
            po = self.endpoints.poweroffice
            if po is None:
                raise ConfigError("PowerOffice Go is not configured (TALKQA_POWEROFFICE_* settings)")
            limits = {"v1": po.v1_limit, "v2": po.v2_limit, "token": po.v2_limit} if po.rate_limits else None
            client = SystemClient(system, limits=limits, **common)
            client.auth = PowerOfficeAuth(client, po.token_url, po.app_key, po.client_key, po.subscription_key)
            return client
        if system == "exact":
            ex = self.endpoints.exact
            if ex is None:
                raise ConfigError("Exact Online is not configured (TALKQA_EXACT_* settings)")
            client = SystemClient(system, limits={"default": ex.minute_limit} if ex.rate_limits else None, **common)
            store = TokenStore(ex.token_store) if ex.token_store else None
            client.auth = ExactAuth(client, ex.token_url, ex.client_id, ex.client_secret,
                                    refresh_token=ex.refresh_token, store=store,
                                    auto_consent=(ex.auth_url, ex.redirect_uri) if ex.redirect_uri else None)
            return client
        raise UnsupportedEntity(f"unknown system {system!r}; supported: {sorted({s for s, _ in _FACTORIES})}")

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def __enter__(self) -> Connections:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


Factory = Callable[[Connections, dict[str, Any]], ResourceConnector]


def _v1(conns: Connections, opts: dict[str, Any]) -> ResourceConnector:
    po = conns.endpoints.poweroffice
    assert po is not None
    opts.setdefault("default_parent", po.v1_parent)
    return ContactPersonV1Connector(conns.client("powerofficego"), po.v1_url, **opts)


def _v2(conns: Connections, opts: dict[str, Any]) -> ResourceConnector:
    po = conns.endpoints.poweroffice
    assert po is not None
    return SupplierPersonV2Connector(conns.client("powerofficego"), po.v2_url, **opts)


def _exact(conns: Connections, opts: dict[str, Any]) -> ResourceConnector:
    ex = conns.endpoints.exact
    assert ex is not None
    opts.setdefault("division", ex.division)
    return ExactContactsConnector(conns.client("exact"), ex.api_url, **opts)


_FACTORIES: dict[tuple[str, str], Factory] = {
    ("powerofficego", "Contactperson"): _v1,
    ("powerofficego", "Suppliers person"): _v2,
    ("exact", "Contacts"): _exact,
}
_ALIASES: dict[tuple[str, str], str] = {
    ("powerofficego", "Suppliers (human data)"): "Suppliers person",
}

_DEFAULT_CLOCK = SystemClock()
_POOLS_LOCK = threading.Lock()


def supported() -> list[tuple[str, str]]:
    """Every (system slug, entity) a connector exists for (aliases included)."""
    return sorted([*_FACTORIES, *_ALIASES])


def connector_for(
    system_slug: str,
    entity: str,
    endpoints: Endpoints,
    *,
    clock: Clock | None = None,
    connections: Connections | None = None,
    **options: Any,
) -> ResourceConnector:
    """The connector of ``entity`` (the spec's entity name) in ``system_slug``.

    ``options`` go to the connector (e.g. ``page_size``, ``default_parent``, ``scan_addresses``).
    Raises :class:`UnsupportedEntity` listing what is supported.
    """
    key = (system_slug.strip().lower(), entity.strip())
    key = (key[0], _ALIASES.get(key, key[1]))
    factory = _FACTORIES.get(key)
    if factory is None:
        listing = ", ".join(f"{s}/{e}" for s, e in supported())
        raise UnsupportedEntity(f"no connector for system {system_slug!r}, entity {entity!r}; supported: {listing}")
    if connections is None:
        connections = _pool(endpoints, clock)
    elif connections.endpoints is not endpoints:
        raise ValueError("connections were built for other endpoints")
    return factory(connections, dict(options))


def _pool(endpoints: Endpoints, clock: Clock | None) -> Connections:
    """The shared pool, kept on the endpoints object itself (so it lives exactly as long)."""
    clock = clock or _DEFAULT_CLOCK
    with _POOLS_LOCK:
        pools: list[Connections] | None = endpoints.__dict__.get("_talkqa_pools")
        if pools is None:
            pools = []
            object.__setattr__(endpoints, "_talkqa_pools", pools)
        for pool in pools:
            if pool.clock is clock:
                return pool
        pool = Connections(endpoints, clock=clock)
        pools.append(pool)
        return pool
