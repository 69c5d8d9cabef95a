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
from talkqa.runtime.budget import RunBudget
from talkqa.runtime.sandbox import Ledger
from talkqa.runtime.sut import CommandSut, ReferenceSut, Sut
from talkqa.sync import predicates
from talkqa.sync.engine import related_flows
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
        self._scopes: dict[tuple[str, str, int], frozenset[int]] = {}
        self._predicates: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}

    def clock_for_run(self) -> Any:
        return FakeClock()

    def before_test(self) -> None:
        pass

    def close(self) -> None:
        self.systems.close()

    def bench(self, document: Document, state_dir: Path, *, prepare: bool = True, flow: int | None = None) -> Bench:
        """A bench for one test (or example). ``prepare=False`` only resolves connectors: no reset,
        no set-up requests (for looking at field specs before a test runs). ``flow``: the flow the test
        checks; the reference sync then runs only the flows that share records with it
        (:meth:`scope`); an external sync always runs whole."""
        if prepare:
            self.before_test()
        binding = self.systems.bind(document, prepare=prepare and self.arranges)
        scope = self.scope(document, flow)
        if prepare and self.arranges:
            self.systems.prepare_document(document, binding, scope)
        return Bench(
            document, binding.resolve, state_dir, live=self.live,
            make_sut=self._sut_factory(binding, scope), on_close=binding.close,
            wire_forms=self.wire_forms, _domains=self._domain_cache.setdefault(document.path, {}),
        )

    def wire_forms(self, connector: Any, path: str, value: Any) -> list[Any]:
        from talkqa.systems.base import SystemKey

        key = SystemKey(connector.system.split("#")[0])
        plugin = self.systems.plugin_for(key, connector.entity)
        return plugin.wire_forms(connector, path, value)

    def scope(self, document: Document, flow: int | None) -> frozenset[int] | None:
        """The flows a check of ``flow`` can observe (:func:`related_flows`): the rest read and write no
        record it arranges, reads or any of these flows touch, so skipping them cannot hide a failure of
        this check (their own checks run them). None (every flow) when no flow is given."""
        if flow is None or self.sut != "reference" or not 0 <= flow < len(document.flows):
            return None  # an external sync is never restricted
        key = (document.path, document.content_hash, flow)
        found = self._scopes.get(key) if document.content_hash else None  # no hash: not known to be the same
        if found is None:
            found = self._scopes[key] = related_flows(document, flow,
                                                      lambda f: self.systems.resources(document, f))
        return found

    def predicates(self, document: Document) -> dict[str, Any]:
        """``predicates.registry(document)``, worked out once per document and run (it reads the profile
        folders; they do not change during a run), again whenever a predicate is registered or removed."""
        registered = predicates.registry()
        key = (document.path, document.content_hash)
        cached = self._predicates.get(key) if document.content_hash else None
        if cached is None or cached[0] != registered:
            cached = self._predicates[key] = (registered, predicates.registry(document))
        return dict(cached[1])

    def _sut_factory(self, binding: Binding, flows: frozenset[int] | None = None) -> Callable[..., Sut]:
        if self.sut == "reference":
            return lambda doc, resolve, state: ReferenceSut(doc, resolve, state, self.predicates(doc), flows=flows)
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

    #: the fault profile of the run (talkqa.runtime.faults), scheduled again after every reset
    faults = "none"
    #: systems whose simulator cannot misbehave (the run says so)
    unfaulted: frozenset[str] = frozenset()

    def before_test(self) -> None:
        self.systems.reset()
        if isinstance(self.systems.clock, FakeClock):
            self.systems.clock.rewind()  # every test starts at the same time: a recording repeats in any order
        if self.faults != "none":
            from talkqa.runtime.faults import faults_of

            self.unfaulted = self.unfaulted | set(self.systems.inject_faults(faults_of(self.faults)))


class CassettesBackend(Backend):
    name = "cassettes"
    live = False
    mode = "replay"

    def _sut_factory(self, binding: Binding, flows: frozenset[int] | None = None) -> Callable[..., Sut]:
        if self.sut != "reference":
            raise ValueError("an external --talkqa-sut runs live only: add --talkqa-backend=simulators or sandbox")
        return super()._sut_factory(binding, flows)


class SandboxBackend(Backend):
    """Real APIs, shared and never reset: each bench sees, syncs and afterwards removes only its own
    records (:mod:`talkqa.runtime.sandbox`); with a :class:`RunBudget` every request is counted against
    its system's budget (docs/sandboxes.md)."""

    name = "sandbox"
    mode = "live"
    arranges = False
    #: the run's API budget (set by the plugin); None: requests are not counted
    budget: RunBudget | None = None
    #: where records that could not be deleted are listed (set by the plugin)
    ledger: Ledger | None = None
    #: the test being run (for the ledger)
    test = ""
    #: benches made so far (a fuzz test's examples: one bench each)
    benches = 0

    def clock_for_run(self) -> Any:
        return SystemClock()

    def use_budget(self, budget: RunBudget) -> None:
        from talkqa.connectors.http import REQUEST_GATES

        self.budget = budget
        REQUEST_GATES.append(budget.take)

    def close(self) -> None:
        from talkqa.connectors.http import REQUEST_GATES

        if self.budget is not None and self.budget.take in REQUEST_GATES:
            REQUEST_GATES.remove(self.budget.take)
        super().close()

    def bench(self, document: Document, state_dir: Path, *, prepare: bool = True, flow: int | None = None) -> Bench:
        from functools import partial

        from talkqa.runtime.sandbox import Ledger, Ownership, clean_up, pairs_with_own

        self.benches += prepare  # a look at the connectors (prepare=False) makes no request
        binding = self.systems.bind(document, prepare=False)
        scope = self.scope(document, flow)
        ownership = Ownership(self.systems.clock.now())
        ledger = self.ledger or Ledger(Path(".talkqa") / "sandbox")
        test = self.test

        def close() -> None:
            try:
                clean_up(ownership, ledger, test)
            finally:
                binding.close()

        bench = Bench(
            document, ownership.resolver(binding.resolve), state_dir, live=True,
            make_sut=self._sut_factory(binding, scope), on_close=close, wire_forms=self.wire_forms,
            _domains=self._domain_cache.setdefault(document.path, {}), ownership=ownership,
        )
        if self.sut != "reference":  # an external sync's writes are not seen: its records are found by content
            ownership.discover = partial(pairs_with_own, bench)
        return bench


BACKENDS: dict[str, type[Backend]] = {
    "cassettes": CassettesBackend,
    "simulators": SimulatorsBackend,
    "sandbox": SandboxBackend,
}
