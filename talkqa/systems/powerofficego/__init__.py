"""PowerOffice Go (slug ``powerofficego``): v1 contact persons and v2 suppliers.

Everything PowerOffice-specific that talkqa knows is reached from here: the connectors
(:mod:`talkqa.connectors.poweroffice`), field specs, the simulator, ``TALKQA_POWEROFFICE_*``
configuration, the parent a v1 contact person needs, replay settings and wire date forms.
Entities other than these are served by the generic system.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from talkqa.clock import Clock
from talkqa.connectors.base import FieldSpec, ResourceConnector
from talkqa.connectors.codecs import ISO_DATE, PO_V1_DATE
from talkqa.connectors.config import Endpoints, PowerOfficeConfig
from talkqa.systems.admin import AdminClient
from talkqa.systems.base import SystemKey, SystemPlugin, SystemSession
from talkqa.systems.exact import tenant_env
from talkqa.systems.powerofficego.fields import POWEROFFICE_CONTACTPERSON_FIELDS, POWEROFFICE_SUPPLIER_FIELDS
from talkqa.systems.tenants import TenantSimulators


class _Session(SystemSession):
    def __init__(self, endpoints: Endpoints, clock: Clock, seed: int, url: str) -> None:
        from talkqa.connectors.registry import Connections  # imported here: it imports the connectors
        from talkqa.simulators.inprocess import transport_for

        # a simulator of this run answers in process when nothing records (see Systems.in_process)
        local = transport_for(url)
        self.connections = Connections(endpoints, clock=clock, seed=seed, transport=local, wire=local)

    def connector(self, entity: str) -> ResourceConnector:
        from talkqa.connectors.registry import connector_for

        return connector_for("powerofficego", entity, self.connections.endpoints, connections=self.connections)

    def close(self) -> None:
        self.connections.close()


class _Handle(TenantSimulators):
    """One PowerOffice Go simulator per tenant, started on first use."""

    def __init__(self, clock: Clock, rate_limits: bool, in_process: bool = False) -> None:
        super().__init__(clock, rate_limits, in_process)
        self._configs: dict[str, tuple[Any, PowerOfficeConfig]] = {}  # tenant -> (its simulator, config)

    def make(self, tenant: str) -> Any:
        from talkqa.simulators.poweroffice import PowerOfficeKeys, PowerOfficeSettings, PowerOfficeSimulator

        keys = PowerOfficeKeys(f"sim-app-{secrets.token_hex(8)}", f"sim-client-{secrets.token_hex(8)}",
                               f"sim-sub-{secrets.token_hex(8)}")
        return PowerOfficeSimulator(keys, settings=PowerOfficeSettings(rate_limits=self.rate_limits), clock=self.clock)

    def config(self, key: SystemKey) -> PowerOfficeConfig:
        """The tenant's config, made once per simulator: its keys are the simulator's own (a reset keeps
        them, as a real account's), and a config is immutable."""
        sim = self._sim(key.tenant)
        found = self._configs.get(key.tenant)
        if found is None or found[0] is not sim:
            info = {"poweroffice": {"url": sim.url}, "credentials": {"poweroffice": {
                "application_key": sim.keys.application_key, "client_key": sim.keys.client_key,
                "subscription_key": sim.keys.subscription_key}}}
            po = Endpoints.from_simulators(info, token_store=None, rate_limits=self.rate_limits).poweroffice
            assert po is not None
            found = self._configs[key.tenant] = (sim, po)
        return found[1]




class PowerOfficePlugin(SystemPlugin):
    slug = "powerofficego"
    title = "PowerOffice Go"

    def entities(self) -> Mapping[str, Mapping[str, FieldSpec]]:
        return {
            "Contactperson": POWEROFFICE_CONTACTPERSON_FIELDS,
            "Suppliers person": POWEROFFICE_SUPPLIER_FIELDS,
            "Suppliers (human data)": POWEROFFICE_SUPPLIER_FIELDS,
        }

    def env_prefix(self, key: SystemKey) -> str:
        return "TALKQA_POWEROFFICE_" + (f"{key.tenant.upper()}_" if key.tenant else "")

    def config_from_env(self, key: SystemKey, env: Mapping[str, str]) -> PowerOfficeConfig | None:
        return Endpoints.from_env(tenant_env(key, env, "TALKQA_POWEROFFICE_")).poweroffice

    def replay_config(self, key: SystemKey) -> PowerOfficeConfig:
        info = {"poweroffice": {"url": "http://poweroffice.talkqa.invalid"}, "credentials": {"poweroffice": {
            "application_key": "replay", "client_key": "replay", "subscription_key": "replay"}}}
        po = Endpoints.from_simulators(info, token_store=None).poweroffice
        assert po is not None
        return po

    def command_env(self, key: SystemKey, config: PowerOfficeConfig, state_dir: Path | None = None) -> dict[str, str]:
        p = self.env_prefix(key)
        env = {p + "V1_URL": config.v1_url, p + "V2_URL": config.v2_url, p + "TOKEN_URL": config.token_url,
               p + "APP_KEY": config.app_key.reveal(), p + "CLIENT_KEY": config.client_key.reveal()}
        if config.subscription_key is not None:
            env[p + "SUBSCRIPTION_KEY"] = config.subscription_key.reveal()
        if config.v1_parent:
            env[p + "V1_PARENT"] = config.v1_parent
        return env

    def start_simulator(self, *, clock: Clock, rate_limits: bool, documents: Iterable[Any] = (),
                        in_process: bool = False) -> _Handle:
        return _Handle(clock, rate_limits, in_process)

    def open(self, key: SystemKey, config: PowerOfficeConfig, *, clock: Clock, seed: int = 0) -> SystemSession:
        return _Session(Endpoints(poweroffice=config), clock, seed, config.token_url)

    def prepare(self, key: SystemKey, config: PowerOfficeConfig, admin: AdminClient) -> PowerOfficeConfig:
        """v1 contact persons are children of a customer or supplier: seed a parent customer through
        the simulator's admin route (over HTTP, so a cassette records it and a replay gets its id)."""
        if config.v1_parent:
            return config
        base = config.token_url.rsplit("/OAuth/", 1)[0]
        reply = admin.post(f"{base}/_admin/seed/customers", json={"name": "talkqa parent customer"})
        reply.raise_for_status()
        return dataclasses.replace(config, v1_parent=f"Customer:{reply.json()['id']}")

    def wire_forms(self, connector: ResourceConnector, path: str, value: Any) -> list[Any]:
        forms = super().wire_forms(connector, path, value)
        spec = connector.fields.get(path)
        if spec is not None and spec.kind == "date" and value is not None:
            forms += [codec.encode(value) for codec in (ISO_DATE, PO_V1_DATE)]
        return forms


plugin = PowerOfficePlugin()
