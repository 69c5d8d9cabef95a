"""Where a generated test's HTTP goes.

* ``cassettes``: replayed from ``cassettes/`` beside the generated modules; nothing listens, the
  network is blocked, and URLs point at ``.invalid`` hosts.
* ``simulators``: every system's simulator (the plugin's own, or the generic one built from the
  documents), one set per pytest-xdist worker, reset before every test. ``talkqa record`` runs
  this backend with cassette recording on.
* ``sandbox``: the real APIs configured in ``TALKQA_<SLUG>_*`` variables; nothing is reset,
  records are created fresh.
* ``auto`` (the default) is decided per generated module by the plugin: ``cassettes`` where the
  module has recordings, ``simulators`` otherwise.

No system is named here: :class:`talkqa.systems.run.Systems` finds the plugin of each
(system, entity) through the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from generator.model import Document
from talkqa.clock import FakeClock, SystemClock, TickingClock
from talkqa.runtime.bench import Bench
from talkqa.runtime.sut import CommandSut, ReferenceSut, Sut
from talkqa.sync import predicates
from talkqa.systems.run import Binding, Systems


class Backend:
    """Makes the per-test :class:`Bench`; ``live`` says whether read-backs mean anything."""

    name = "base"
    live = True
    mode = "simulators"
    arranges = True

    def __init__(self, sut: str = "reference", documents: Iterable[Document] = (), *, recording: bool = False) -> None:
        self.sut = sut
        # the generic simulator answers without HTTP unless a cassette records or another process syncs
        in_process = not recording and sut == "reference"
        # an external sync lives in real time while the simulators' clock is fake: their rate budgets
        # could never refill for it, so they are off for it (rate limits are checked by the connector
        # tests and the fault profiles, not by the checklist)
        self.systems = Systems(documents, mode=self.mode, clock=self.clock_for_run(), in_process=in_process,
                               rate_limits=sut == "reference" or self.mode != "simulators")
        self._domain_cache: dict[str, dict[Any, Any]] = {}  # per document: value domains (fields never change)

    def clock_for_run(self) -> Any:
        return FakeClock()

    def before_test(self) -> None:
        pass

    def close(self) -> None:
        self.systems.close()

    def bench(self, document: Document, state_dir: Path, *, prepare: bool = True) -> Bench:
        """A bench for one test (or example). ``prepare=False`` only resolves connectors: no reset,
        no set-up requests (for looking at field specs before a test runs)."""
        if prepare:
            self.before_test()
        binding = self.systems.bind(document, prepare=prepare and self.arranges)
        if prepare and self.arranges:
            self.systems.prepare_document(document, binding)
        return Bench(
            document, binding.resolve, state_dir, live=self.live,
            make_sut=self._sut_factory(binding), on_close=binding.close,
            wire_forms=self.wire_forms, _domains=self._domain_cache.setdefault(document.path, {}),
        )

    def wire_forms(self, connector: Any, path: str, value: Any) -> list[Any]:
        from talkqa.systems.base import SystemKey

        key = SystemKey(connector.system.split("#")[0])
        plugin = self.systems.plugin_for(key, connector.entity)
        return plugin.wire_forms(connector, path, value)

    def _sut_factory(self, binding: Binding) -> Callable[..., Sut]:
        if self.sut == "reference":
            return lambda doc, resolve, state: ReferenceSut(doc, resolve, state, predicates.registry(doc))
        if self.sut.startswith("command:"):
            command = self.sut[len("command:") :]

            def make(doc: Document, resolve: Any, state: Path) -> Sut:
                env = self.systems.command_env(doc, binding, state)
                return CommandSut(command, env, state)

            return make
        raise ValueError(f"--talkqa-sut: expected 'reference' or 'command:<shell command>', got {self.sut!r}")


class SimulatorsBackend(Backend):
    name = "simulators"
    mode = "simulators"

    def clock_for_run(self) -> Any:
        return TickingClock()

    def before_test(self) -> None:
        self.systems.reset()
        if isinstance(self.systems.clock, FakeClock):
            self.systems.clock.rewind()  # every test starts at the same time: a recording repeats in any order


class CassettesBackend(Backend):
    name = "cassettes"
    live = False
    mode = "replay"

    def _sut_factory(self, binding: Binding) -> Callable[..., Sut]:
        if self.sut != "reference":
            raise ValueError("an external --talkqa-sut runs live only: add --talkqa-backend=simulators or sandbox")
        return super()._sut_factory(binding)


class SandboxBackend(Backend):
    name = "sandbox"
    mode = "live"
    arranges = False

    def clock_for_run(self) -> Any:
        return SystemClock()


BACKENDS: dict[str, type[Backend]] = {
    "cassettes": CassettesBackend,
    "simulators": SimulatorsBackend,
    "sandbox": SandboxBackend,
}
