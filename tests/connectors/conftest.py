"""Fixtures: both simulators on 127.0.0.1 sharing one FakeClock, fresh state and connectors per test.

Keys are generated at runtime (fake ones); nothing here talks beyond 127.0.0.1 and nothing sleeps.
"""
from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from talkqa.clock import FakeClock
from talkqa.connectors.config import Endpoints
from talkqa.connectors.registry import Connections
from talkqa.simulators.exact import ExactKeys, ExactSimulator
from talkqa.simulators.poweroffice import PowerOfficeKeys, PowerOfficeSimulator


@dataclass
class Sims:
    clock: FakeClock
    po: PowerOfficeSimulator
    ex: ExactSimulator
    po_keys: PowerOfficeKeys
    ex_keys: ExactKeys

    def secrets(self) -> list[str]:
        """Every secret value known to the simulators right now (keys and issued tokens)."""
        values = [self.po_keys.application_key, self.po_keys.client_key, self.po_keys.subscription_key,
                  self.ex_keys.client_secret]
        values += list(self.po.state["auth"]["tokens"])
        auth = self.ex.state["auth"]
        values += list(auth["access"]) + list(auth["refresh"]) + list(auth["codes"])
        return values


@pytest.fixture(scope="session")
def sims() -> Iterator[Sims]:
    clock = FakeClock()
    po_keys = PowerOfficeKeys(secrets.token_hex(16), secrets.token_hex(16), secrets.token_hex(16))
    ex_keys = ExactKeys(f"client-{secrets.token_hex(4)}", secrets.token_hex(16),
                        "http://127.0.0.1/callback", 123456)
    po = PowerOfficeSimulator(po_keys, clock=clock, seed=7)
    ex = ExactSimulator(ex_keys, clock=clock, seed=7)
    po.start()
    ex.start()
    try:
        yield Sims(clock, po, ex, po_keys, ex_keys)
    finally:
        po.stop()
        ex.stop()


@pytest.fixture
def fresh(sims: Sims) -> Sims:
    """The simulators with empty state, default settings, no faults; the clock moved a day on."""
    sims.po.admin.reset()
    sims.ex.admin.reset()
    sims.clock.advance(86_400)
    return sims


def endpoints_for(sims: Sims, token_store: Path | None, *, rate_limits: bool = True,
                  division: int | None = None, v1_parent: str | None = None) -> Endpoints:
    raw = {
        "poweroffice": {
            "v1_url": f"{sims.po.url}/v1", "v2_url": f"{sims.po.url}/v2", "token_url": f"{sims.po.url}/OAuth/Token",
            "app_key": sims.po_keys.application_key, "client_key": sims.po_keys.client_key,
            "subscription_key": sims.po_keys.subscription_key, "v1_parent": v1_parent,
        },
        "exact": {
            "url": sims.ex.url, "client_id": sims.ex_keys.client_id, "client_secret": sims.ex_keys.client_secret,
            "division": division, "token_store": str(token_store) if token_store else None,
        },
    }
    ep = Endpoints.from_mapping(raw, rate_limits=rate_limits)
    assert ep.exact is not None
    exact = dataclasses.replace(ep.exact, redirect_uri=sims.ex_keys.redirect_uri, token_store=token_store)
    return dataclasses.replace(ep, exact=exact)


@pytest.fixture
def endpoints(fresh: Sims, tmp_path: Path) -> Endpoints:
    return endpoints_for(fresh, tmp_path / "exact-tokens.json")


@pytest.fixture
def conns(endpoints: Endpoints, fresh: Sims) -> Iterator[Connections]:
    with Connections(endpoints, clock=fresh.clock, seed=1) as c:
        yield c
