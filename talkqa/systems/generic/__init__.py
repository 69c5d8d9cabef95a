"""The generic system: serves every (system, entity) that no plugin claims.

Its schema comes from the documents of the run (:mod:`.schema`), its wire shape from the system's
profile if one exists (:mod:`.profile`), else the generic simulator's own. ``GenericSystem`` has
the :class:`~talkqa.systems.base.SystemPlugin` interface; one is made per run, for its documents.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from talkqa.clock import Clock
from talkqa.connectors.base import AuthFailed, FieldSpec, ResourceConnector
from talkqa.connectors.http import SystemClient
from talkqa.connectors.secret import Secret, secret_or_none
from talkqa.systems.base import SimulatorHandle, SystemKey, SystemPlugin, SystemSession
from talkqa.systems.generic.connector import GenericConnector
from talkqa.systems.generic.direct import DirectClient
from talkqa.systems.generic.profile import DEFAULT, Profile, find_profiles
from talkqa.systems.generic.schema import Schema
from talkqa.systems.generic.simulator import GenericStore, StoreTransport, asgi_app

__all__ = ["GenericConfig", "GenericSystem", "Schema"]


@dataclass(frozen=True, eq=False)
class GenericConfig:
    key: SystemKey
    base_url: str
    profile: Profile
    token: Secret | None = None
    api_key: Secret | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    refresh_token: Secret | None = None
    transport: httpx.BaseTransport | None = None  # the in-process simulator, over httpx
    store: GenericStore | None = None  # the in-process simulator, called directly (nothing records)
    rate_limit: tuple[int, float] | None = None


class _Auth:
    """Bearer token, API key header, or an OAuth2 token (client credentials; refresh-token rotation)."""

    def __init__(self, client: SystemClient, config: GenericConfig) -> None:
        self.client = client
        self.config = config
        self.profile = config.profile
        self._access: str | None = config.token.reveal() if config.token else None
        self._refresh = config.refresh_token.reveal() if config.refresh_token else None
        self._lock = threading.Lock()

    def headers(self) -> dict[str, str]:
        kind = self.profile.auth_type
        if kind == "none":
            return {}
        if kind == "api_key":
            return {self.profile.auth_header: self.config.api_key.reveal()} if self.config.api_key else {}
        with self._lock:
            if self._access is None and kind.startswith("oauth2"):
                self._access = self._fetch()
            return {"Authorization": f"Bearer {self._access}"} if self._access else {}

    def on_unauthorized(self) -> None:
        with self._lock:
            if self.profile.auth_type.startswith("oauth2"):
                self._access = None

    def _fetch(self) -> str:
        p, c = self.profile, self.config
        url = p.token_url if p.token_url.startswith("http") else c.base_url.rstrip("/") + "/" + (
            p.token_url or "oauth/token").lstrip("/")
        if p.auth_type == "oauth2_refresh_token":
            form = {"grant_type": "refresh_token", "refresh_token": self._refresh or ""}
        else:
            form = {"grant_type": "client_credentials", "client_id": c.client_id or "",
                    "client_secret": c.client_secret.reveal() if c.client_secret else ""}
        if c.client_id and "client_id" not in form:
            form |= {"client_id": c.client_id, "client_secret": c.client_secret.reveal() if c.client_secret else ""}
        # asking again is safe: client credentials give another token; a rotated refresh token that was
        # spent by a request whose answer was lost is refused (400), which says so
        resp = self.client.request("POST", url, data=form, authenticated=False, idempotent=True)
        body = self.client.json(resp)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise AuthFailed(f"{c.key}: the token endpoint answered no access_token")
        self.client.redact.add(token)
        if body.get("refresh_token"):
            self._refresh = body["refresh_token"]
            self.client.redact.add(self._refresh)
        return str(token)


class _Session(SystemSession):
    def __init__(self, system: GenericSystem, config: GenericConfig, clock: Clock, seed: int) -> None:
        self.system = system
        self.config = config
        limits = {"default": config.rate_limit} if config.rate_limit else None
        secrets = [config.token, config.api_key, config.client_secret, config.refresh_token]
        self.client: Any
        if config.store is not None:
            self.client = DirectClient(str(config.key), config.store, clock)
        else:
            self.client = SystemClient(str(config.key), clock=clock, seed=seed, transport=config.transport,
                                       limits=limits)
        for s in secrets:
            if s is not None:
                self.client.redact.add(s.reveal())
        self.client.auth = _Auth(self.client, config)
        self._connectors: dict[str, GenericConnector] = {}

    def connector(self, entity: str) -> ResourceConnector:
        found = self._connectors.get(entity)
        if found is None:
            schema = self.system.schema.entity(self.config.key.slug, entity)
            found = self._connectors[entity] = GenericConnector(self.client, self.config.base_url, schema,
                                                                 self.config.profile)
        return found

    def close(self) -> None:
        self.client.close()


class GenericHandle(SimulatorHandle):
    """The generic store, in process; served over HTTP too once an external process needs it."""

    def __init__(self, system: GenericSystem, clock: Clock, *, in_process: bool = False) -> None:
        self.system = system
        self.clock = clock
        self.in_process = in_process
        self.store = GenericStore(system.schema, system.profiles, clock)
        self.transport = StoreTransport(self.store)
        self._server: Any = None
        self._configs: dict[tuple[SystemKey, bool], GenericConfig] = {}

    def api_calls(self) -> int:
        return self.store.requests

    def faults_fired(self) -> int:
        return self.store.faults_fired

    def inject_faults(self, faults: list[dict[str, Any]]) -> bool:
        from talkqa.simulators.faults import Fault

        for fault in faults:
            self.store.faults.add(Fault.from_dict(dict(fault)))
        return True

    def config(self, key: SystemKey) -> GenericConfig:
        """The tenant's config (made once per key and way of reaching the store: a tenant's credentials
        outlive resets, and a config is immutable)."""
        direct = self.in_process and self.store.faults.idle()
        found = self._configs.get((key, direct))
        if found is None:
            found = self._configs[(key, direct)] = self._config(key, direct)
        return found

    def _config(self, key: SystemKey, direct: bool) -> GenericConfig:
        creds = self.store.credentials(key.slug, key.tenant)
        return GenericConfig(
            key=key, base_url=self.store.base_url(key.slug, key.tenant), profile=self.system.profile(key.slug),
            token=Secret(creds.token), api_key=Secret(creds.api_key), client_id=creds.client_id,
            client_secret=Secret(creds.client_secret), refresh_token=Secret(creds.refresh_token),
            # faults scheduled: over httpx, so the connector's HTTP client meets them (and retries as over
            # a network); otherwise straight to the store when nothing records
            transport=self.transport, store=self.store if direct else None,
        )

    def command_config(self, config: GenericConfig) -> GenericConfig:
        if self._server is None:
            from talkqa.simulators.server import ServerThread

            self._server = ServerThread(asgi_app(self.store), name="generic")
            self._server.start()
        origin = self._server.url
        return dataclasses.replace(
            config, base_url=self.store.base_url(config.key.slug, config.key.tenant, origin), transport=None,
            store=None,
        )

    def reset(self) -> None:
        self.store.reset()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


class GenericSystem(SystemPlugin):
    """Any system, any entity: the schema from ``documents``, the wire shape from ``profiles``."""

    slug = "generic"
    title = "generic JSON/HTTP system"

    def __init__(self, documents: Iterable[Any] = (), profiles: Mapping[str, Profile] | None = None) -> None:
        self.profiles = dict(find_profiles() if profiles is None else profiles)
        self.schema = Schema.from_documents(documents, self.profiles)

    def profile(self, slug: str) -> Profile:
        return self.profiles.get(slug, DEFAULT)

    def entities(self) -> Mapping[str, Mapping[str, FieldSpec]]:
        return {e.entity: e.fields for e in self.schema}

    def serves(self, entity: str) -> bool:
        return True

    def config_from_env(self, key: SystemKey, env: Mapping[str, str]) -> GenericConfig | None:
        prefix = self.env_prefix(key)
        url = env.get(prefix + "URL") or self.profile(key.slug).base_url
        if not env.get(prefix + "URL") and not any(k.startswith(prefix) for k in env):
            return None
        if not url:
            return None
        rate = env.get(prefix + "RATE_LIMIT")  # "N/SECONDS"
        limit = None
        if rate and "/" in rate:
            n, per = rate.split("/", 1)
            limit = (int(n), float(per))
        return GenericConfig(
            key=key, base_url=url, profile=self.profile(key.slug),
            token=secret_or_none(env.get(prefix + "TOKEN")), api_key=secret_or_none(env.get(prefix + "API_KEY")),
            client_id=env.get(prefix + "CLIENT_ID") or None,
            client_secret=secret_or_none(env.get(prefix + "CLIENT_SECRET")),
            refresh_token=secret_or_none(env.get(prefix + "REFRESH_TOKEN")), rate_limit=limit,
        )

    def replay_config(self, key: SystemKey) -> GenericConfig:
        return GenericConfig(
            key=key, base_url=f"http://generic.talkqa.invalid/{key.slug}/{key.tenant or 'main'}",
            profile=self.profile(key.slug), token=Secret("replay"), api_key=Secret("replay"),
            client_id="replay", client_secret=Secret("replay"), refresh_token=Secret("replay"),
        )

    def command_env(self, key: SystemKey, config: GenericConfig, state_dir: Path | None = None) -> dict[str, str]:
        prefix = self.env_prefix(key)
        env = {prefix + "URL": config.base_url}
        for name, value in (("TOKEN", config.token), ("API_KEY", config.api_key),
                            ("CLIENT_SECRET", config.client_secret), ("REFRESH_TOKEN", config.refresh_token)):
            if value is not None:
                env[prefix + name] = value.reveal()
        if config.client_id:
            env[prefix + "CLIENT_ID"] = config.client_id
        return env

    def start_simulator(self, *, clock: Clock, rate_limits: bool, documents: Iterable[Any] = (),
                        in_process: bool = False) -> GenericHandle:
        return GenericHandle(self, clock, in_process=in_process)

    def open(self, key: SystemKey, config: GenericConfig, *, clock: Clock, seed: int = 0) -> SystemSession:
        return _Session(self, config, clock, seed)
