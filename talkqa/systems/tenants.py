"""A simulator handle with one simulator per tenant, started on first use: what the PowerOffice Go and
Exact Online plugins share (each says only how to make its simulator, :meth:`TenantSimulators.make`).
The simulators are :class:`talkqa.simulators.core.Simulator` instances."""
from __future__ import annotations

from abc import abstractmethod
from typing import Any

from talkqa.clock import Clock
from talkqa.simulators.inprocess import serve_in_process, stop_in_process
from talkqa.systems.base import SimulatorHandle


class TenantSimulators(SimulatorHandle):
    """One simulator per tenant (``""`` and ``target``), started on first use, reset and stopped together."""

    def __init__(self, clock: Clock, rate_limits: bool, in_process: bool = False) -> None:
        self.clock = clock
        self.rate_limits = rate_limits
        self.in_process = in_process
        self._sims: dict[str, Any] = {}
        self._faults: list[dict[str, Any]] = []  # scheduled until the next reset, on tenants made since too

    @abstractmethod
    def make(self, tenant: str) -> Any:
        """A new (not yet started) simulator for ``tenant``."""

    def _sim(self, tenant: str) -> Any:
        if tenant not in self._sims:
            sim = self.make(tenant)
            sim.start()
            if self.in_process:
                serve_in_process(sim.url, sim.app, sim.handle_request, sim.answers_without_waiting)
            if self._faults:  # a tenant first reached mid-test meets the test's faults from its first request
                sim.admin.add_faults(*[dict(f) for f in self._faults])
            self._sims[tenant] = sim
        return self._sims[tenant]

    def simulator(self, tenant: str = "") -> Any:
        return self._sim(tenant)

    def api_calls(self) -> int:
        return sum(sim.api_calls for sim in self._sims.values())

    def faults_fired(self) -> int:
        return sum(sim.faults_fired for sim in self._sims.values())

    def inject_faults(self, faults: list[dict[str, Any]]) -> bool:
        self._faults = [dict(f) for f in faults]
        for sim in self._sims.values():
            sim.admin.add_faults(*[dict(f) for f in faults])
        return True

    def reset(self) -> None:
        self._faults = []
        for sim in self._sims.values():
            sim.admin.reset()

    def stop(self) -> None:
        for sim in self._sims.values():
            stop_in_process(sim.url)
            sim.stop()
        self._sims.clear()
