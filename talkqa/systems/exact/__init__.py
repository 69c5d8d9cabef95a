"""Exact Online (slug ``exact``): CRM contacts over the REST API, OAuth2 with rotating refresh tokens.

Everything Exact-specific that talkqa knows is reached from here: the connector
(:mod:`talkqa.connectors.exact`), the field specs, the simulator (:mod:`talkqa.simulators.exact`),
the configuration (``TALKQA_EXACT_*``), replay settings and wire date forms. Entities other than
``Contacts`` are served by the generic system.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from talkqa.clock import Clock
from talkqa.connectors.base import FieldSpec, ResourceConnector
from talkqa.connectors.codecs import EXACT_DATE, EXACT_DATE_MS, ISO_DATE
from talkqa.connectors.config import Endpoints, ExactConfig
from talkqa.connectors.secret import Secret
from talkqa.systems.base import SystemKey, SystemPlugin, SystemSession
from talkqa.systems.exact.fields import EXACT_CONTACT_FIELDS
from talkqa.systems.tenants import TenantSimulators

REDIRECT_URI = "http://127.0.0.1/talkqa/oauth/callback"  # never called: the simulator consents at once


def tenant_env(key: SystemKey, env: Mapping[str, str], base: str) -> dict[str, str]:
    """The environment as the single-tenant config readers expect it: the first tenant reads ``base``
    (``TALKQA_EXACT_*``) as it is; the ``target`` tenant reads ``TALKQA_EXACT_TARGET_*`` as ``base``."""
    if not key.tenant:
        return dict(env)
    prefix = f"{base}{key.tenant.upper()}_"
    return {base + k[len(prefix):]: v for k, v in env.items() if k.startswith(prefix)}


def division_of(tenant: str) -> int:
    """A simulated tenant's division: fixed per tenant (as a real account's is), so recordings repeat."""
    return 100000 + int.from_bytes(hashlib.sha256(f"division:{tenant}".encode()).digest()[:8]) % 900000


class _Session(SystemSession):
    def __init__(self, endpoints: Endpoints, clock: Clock, seed: int, url: str) -> None:
        from talkqa.connectors.registry import Connections  # imported here: it imports the connectors
        from talkqa.simulators.inprocess import transport_for

        # a simulator of this run answers in process when nothing records (see Systems.in_process)
        local = transport_for(url)
        self.connections = Connections(endpoints, clock=clock, seed=seed, transport=local, wire=local)

    def connector(self, entity: str) -> ResourceConnector:
        from talkqa.connectors.registry import connector_for

        return connector_for("exact", entity, self.connections.endpoints, connections=self.connections)

    def close(self) -> None:
        self.connections.close()


class _Handle(TenantSimulators):
    """One Exact simulator per tenant, started on first use."""

    def make(self, tenant: str) -> Any:
        from talkqa.simulators.exact import ExactKeys, ExactSettings, ExactSimulator

        keys = ExactKeys(f"sim-{secrets.token_hex(8)}", f"sim-secret-{secrets.token_hex(12)}", REDIRECT_URI,
                         division_of(tenant))
        return ExactSimulator(keys, settings=ExactSettings(rate_limits=self.rate_limits), clock=self.clock)

    def config(self, key: SystemKey) -> ExactConfig:
        sim = self._sim(key.tenant)
        refresh = sim.issue_refresh_token()
        sim.age_tokens(sim.settings.access_token_lifetime)  # as after a stored grant: the first refresh works
        info = {"exact": {"url": sim.url}, "credentials": {"exact": {
            "client_id": sim.keys.client_id, "client_secret": sim.keys.client_secret,
            "redirect_uri": sim.keys.redirect_uri, "refresh_token": refresh}}}
        ex = Endpoints.from_simulators(info, token_store=None).exact
        assert ex is not None
        return dataclasses.replace(ex, division=None, rate_limits=self.rate_limits)

    def command_config(self, config: ExactConfig) -> ExactConfig:
        """An external sync is another OAuth client session: its own grant, so the two rotating
        refresh-token chains do not revoke each other."""
        sim = next((s for s in self._sims.values() if s.url == config.url), None)
        if sim is None:
            return config
        refresh = sim.issue_refresh_token()
        sim.age_tokens(sim.settings.access_token_lifetime, refresh)
        return dataclasses.replace(config, refresh_token=Secret(refresh))




class ExactPlugin(SystemPlugin):
    slug = "exact"
    title = "Exact Online"
    daily_quota = 5000  # 60 a minute and 5,000 a day, per app and division (Exact's knowledge base)

    def entities(self) -> Mapping[str, Mapping[str, FieldSpec]]:
        return {"Contacts": EXACT_CONTACT_FIELDS}

    def env_prefix(self, key: SystemKey) -> str:
        return "TALKQA_EXACT_" + (f"{key.tenant.upper()}_" if key.tenant else "")

    def config_from_env(self, key: SystemKey, env: Mapping[str, str]) -> ExactConfig | None:
        return Endpoints.from_env(tenant_env(key, env, "TALKQA_EXACT_")).exact

    def replay_config(self, key: SystemKey) -> ExactConfig:
        info = {"exact": {"url": "http://exact.talkqa.invalid"}, "credentials": {"exact": {
            "client_id": "replay", "client_secret": "replay", "refresh_token": "replay",
            "redirect_uri": "http://localhost/replay"}}}
        ex = Endpoints.from_simulators(info, token_store=None).exact
        assert ex is not None
        return dataclasses.replace(ex, division=None)

    def command_env(self, key: SystemKey, config: ExactConfig, state_dir: Path | None = None) -> dict[str, str]:
        p = self.env_prefix(key)
        env = {p + "URL": config.url, p + "CLIENT_ID": config.client_id,
               p + "CLIENT_SECRET": config.client_secret.reveal()}
        if config.refresh_token is not None:
            env[p + "REFRESH_TOKEN"] = config.refresh_token.reveal()
        if state_dir is not None:  # the rotated refresh token must outlive one run of the command
            env[p + "TOKEN_STORE"] = str(state_dir / f"{key.slug}{'-' + key.tenant if key.tenant else ''}-token.json")
        return env

    def start_simulator(self, *, clock: Clock, rate_limits: bool, documents: Iterable[Any] = (),
                        in_process: bool = False) -> _Handle:
        return _Handle(clock, rate_limits, in_process)

    def open(self, key: SystemKey, config: ExactConfig, *, clock: Clock, seed: int = 0) -> SystemSession:
        return _Session(Endpoints(exact=config), clock, seed, config.url)

    def wire_forms(self, connector: ResourceConnector, path: str, value: Any) -> list[Any]:
        forms = super().wire_forms(connector, path, value)
        spec = connector.fields.get(path)
        if spec is not None and spec.kind == "date" and value is not None:
            forms += [codec.encode(value) for codec in (ISO_DATE, EXACT_DATE, EXACT_DATE_MS)]
        return forms


plugin = ExactPlugin()
