"""Fixtures: both simulators (``talkqa.simulators.launcher``) on 127.0.0.1 sharing one FakeClock,
reset before each test; connectors configured through ``Endpoints.from_simulators``.

Keys are the launcher's fake ones generated at runtime; nothing here talks beyond 127.0.0.1 and
nothing sleeps for real.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from talkqa.clock import FakeClock
from talkqa.connectors.config import Endpoints
from talkqa.connectors.registry import Connections
from talkqa.simulators.exact import ExactSimulator
from talkqa.simulators.inprocess import InProcessWire, serve_in_process, stop_in_process
from talkqa.simulators.launcher import Simulators, start_simulators
from talkqa.simulators.poweroffice import PowerOfficeSimulator


@dataclasses.dataclass
class Sims:
    launcher: Simulators
    clock: FakeClock

    @property
    def po(self) -> PowerOfficeSimulator:
        return self.launcher.poweroffice

    @property
    def ex(self) -> ExactSimulator:
        return self.launcher.exact

    def secrets(self) -> list[str]:
        """Every secret value known to the simulators right now (keys and issued tokens)."""
        creds = self.launcher.credentials
        values = [creds["poweroffice"][k] for k in ("application_key", "client_key", "subscription_key")]
        values.append(creds["exact"]["client_secret"])
        values += list(self.po.state["auth"]["tokens"])
        auth = self.ex.state["auth"]
        values += list(auth["access"]) + list(auth["refresh"]) + list(auth["codes"])
        return values


@pytest.fixture(scope="session")
def sims() -> Iterator[Sims]:
    clock = FakeClock()
    launcher = start_simulators(clock=clock, rate_limits=True, seed=7)
    try:
        yield Sims(launcher, clock)
    finally:
        launcher.stop()


@pytest.fixture
def fresh(sims: Sims) -> Sims:
    """The simulators with empty state, default settings, no faults, a new Exact refresh token."""
    sims.clock.advance(86_400)
    sims.launcher.reset()
    return sims


def endpoints_for(sims: Sims, token_store: Path | None, *, rate_limits: bool = True, ask_division: bool = False,
                  v1_parent: str | None = None, consent: bool = True) -> Endpoints:
    ep = Endpoints.from_simulators(sims.launcher, rate_limits=rate_limits, token_store=token_store,
                                   v1_parent=v1_parent)
    assert ep.exact is not None
    exact = ep.exact
    if ask_division:
        exact = dataclasses.replace(exact, division=None)
    if not consent:
        exact = dataclasses.replace(exact, redirect_uri=None)
    return dataclasses.replace(ep, exact=exact)


@pytest.fixture
def endpoints(fresh: Sims, tmp_path: Path) -> Endpoints:
    return endpoints_for(fresh, tmp_path / "exact-tokens.json")


@pytest.fixture(params=["http", "in-process"])
def conns(request: pytest.FixtureRequest, endpoints: Endpoints, fresh: Sims) -> Iterator[Connections]:
    """Clients over HTTP to the simulators' servers, or answered by the same simulators in process without
    httpx (talkqa.wire): every connector test holds both ways."""
    if request.param == "http":
        with Connections(endpoints, clock=fresh.clock, seed=1) as c:
            yield c
        return
    urls = [fresh.po.url, fresh.ex.url]
    for sim in (fresh.po, fresh.ex):
        serve_in_process(sim.url, sim.app, sim.handle_request, sim.answers_without_waiting)  # as a run does
    try:
        with Connections(endpoints, clock=fresh.clock, seed=1, wire=InProcessWire()) as c:
            yield c
    finally:
        for url in urls:
            stop_in_process(url)
