"""Shared runs: many checks, each on records of its own, judged from the same runs of the system under test.

Every check (or part of one, :class:`talkqa.runtime.teeth.Split`) is a *job*: the check's own code,
run in a thread of its own against a :class:`CheckView` of one shared :class:`Bench`. Only one job
runs at a time (a baton passed in a fixed order, so a batch is deterministic). A job runs until it
asks for a sync or ends; when every job waits for a sync or has ended, the system under test runs
**once** for all of them, and each waiting job goes on in turn. A job's k-th sync is every job's k-th
sync, so the runs of a batch are the most syncs any one job asks for, not their sum.

What a job sees is its own, as if the systems held only its records (per test they do):

* listing an entity (``ids``, ``iter_all``, ``changed_since``) shows the records the job created,
  the records the system under test created *for* them, and the records that were there before the
  batch;
* a record the system under test created belongs to the job whose record carries the most of its
  values (through the rows of every flow into that entity, forward or back): every job draws its
  filler values from seeds of its own (``record_for``), so records of different jobs differ;
* a new record that carries nothing of any job's records (or as much of two jobs') is shown to every
  job it could belong to (to all when it carries nothing): a sync that makes records out of nothing
  fails the checks that count new records, as it would per test.

A run that fails (the system under test reports an error, or exits non-zero) is raised in every job
that waited for it, and marked in its :class:`Outcome`: a failed run cannot say whose records failed
it, so the batch sends those checks per test (:mod:`talkqa.runtime.batch`).

A job that only *probes* (``probe=True``) may read but not write: its first create, update or sync
raises :class:`PerTest`, and that check runs per test instead (nothing of it reached the systems).
"""
from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.model import Document, Flow
from talkqa.connectors.base import Change, Page, Record, ResourceConnector
from talkqa.connectors.codecs import get_path
from talkqa.runtime.bench import Bench, WrappedConnector

#: Seeds of job k are shifted by k times this: no two jobs' ``record_for`` values come from one seed. (Longer
#: seeds make longer filler values: a sync that mangles long text may fail a batch's run where per test it
#: did not; that run's checks then go per test, so the verdicts stay those of per test.)
SALT = 1_000_003

Key = tuple[str, str]  # (system key, entity label)


class PerTest(Exception):
    """A probing job reached a write or a sync: its check runs per test instead."""


def _canonical(value: Any) -> Any:
    from talkqa.runtime.checks import _canonical as canonical

    found = canonical(value)
    return repr(found) if isinstance(found, list | dict) else found


def _merge(record: Record, changes: Record) -> None:
    for name, value in changes.items():
        if isinstance(value, dict) and isinstance(record.get(name), dict):
            _merge(record[name], value)
        else:
            record[name] = copy.deepcopy(value)


@dataclass
class Outcome:
    """What one job returned, or raised."""

    value: Any = None
    error: BaseException | None = None
    shared_failure: bool = False  # a run it waited for failed: that run cannot say whose records failed it


@dataclass
class _Job:
    view: CheckView
    fn: Callable[[CheckView], Any]
    turn: threading.Event = field(default_factory=threading.Event)
    parked: threading.Event = field(default_factory=threading.Event)
    done: bool = False
    delivered: BaseException | None = None  # the sync's failure, raised in the job at its sync
    outcome: Outcome = field(default_factory=Outcome)

    def main(self) -> None:
        self.turn.wait()
        self.turn.clear()
        try:
            self.outcome.value = self.fn(self.view)
        except BaseException as exc:
            self.outcome.error = exc
        finally:
            self.done = True
            self.parked.set()

    def wait_for_sync(self) -> None:
        """In the job's thread: hand the baton back until the shared sync has run."""
        self.parked.set()
        self.turn.wait()
        self.turn.clear()
        failed, self.delivered = self.delivered, None
        if failed is not None:
            self.outcome.shared_failure = True
            raise failed

    def step(self) -> None:
        """In the coordinating thread: let the job run until it waits for a sync or ends."""
        self.parked.clear()
        self.turn.set()
        self.parked.wait()


class SharedRuns:
    """One shared bench, the jobs on it, and who owns which record."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.runs = 0
        self.document: Document = bench.document
        self._raw: dict[Key, ResourceConnector] = {}
        self._owners: dict[Key, dict[str, set[int]]] = {}  # record id -> the jobs that see it
        self._content: dict[Key, dict[str, tuple[int, Record]]] = {}  # records jobs created: owner, values
        self._everyone: dict[Key, set[str]] = {}  # ids every job sees
        self._views = 0
        for flow in self.document.flows:
            for key in self._keys(flow):
                if key not in self._raw:
                    self._raw[key] = bench.resolve(*key)
                    self._everyone[key] = self._list(key)  # there before the batch: everyone's, as per test

    def _keys(self, flow: Flow) -> tuple[Key, Key]:
        return ((self.document.system_key("source"), flow.source_label),
                (self.document.system_key("target"), flow.target_label))

    def _list(self, key: Key) -> set[str]:
        return {c.id for c in self._raw[key].iter_all()}

    # -- jobs ----------------------------------------------------------------------------------

    def view(self, probe: bool = False) -> CheckView:
        """A bench for one more job: its own seeds, its own records."""
        self._views += 1
        return CheckView(self, self._views - 1, probe)  # the first keeps its seeds: as per test, or its own

    def run(self, jobs: Sequence[tuple[CheckView, Callable[[CheckView], Any]]]) -> list[Outcome]:
        """Run every job to its end, syncing once whenever all of them wait for a sync."""
        running = [_Job(view, fn) for view, fn in jobs]
        for job in running:
            job.view.job = job
            threading.Thread(target=job.main, daemon=True, name=f"talkqa-batch-job-{job.view.index}").start()
        waiting = list(running)
        while waiting:
            for job in waiting:
                job.step()
            waiting = [job for job in waiting if not job.done]
            if not waiting:
                break
            failed = self._sync()
            for job in waiting:
                job.delivered = copy.copy(failed) if failed is not None else None
        return [job.outcome for job in running]

    def _sync(self) -> BaseException | None:
        before = {key: self._list(key) for key in self._raw}
        failed: BaseException | None = None
        try:
            self.bench.sync()
        except Exception as exc:
            failed = exc
        self.runs += 1
        for key in self._raw:
            new = sorted(self._list(key) - before[key])
            index = self._index(key) if new else {}
            for record_id in new:
                self._attribute(key, record_id, index)
        return failed

    # -- who owns what -------------------------------------------------------------------------

    def created(self, key: Key, record_id: str, owner: int, record: Record) -> None:
        self._owners.setdefault(key, {})[record_id] = {owner}
        self._content.setdefault(key, {})[record_id] = (owner, copy.deepcopy(record))

    def updated(self, key: Key, record_id: str, changes: Record) -> None:
        found = self._content.get(key, {}).get(record_id)
        if found is not None:
            _merge(found[1], changes)

    def visible(self, key: Key, viewer: int) -> set[str]:
        mine = {rid for rid, owners in self._owners.get(key, {}).items() if viewer in owners}
        return mine | self._everyone.get(key, set())

    def _fingerprints(self, key: Key) -> Iterator[tuple[int, dict[str, Any]]]:
        """(owner, values a record made from it holds) for every record jobs created, through every flow
        into ``key`` (forward) or out of it (back)."""
        from talkqa.runtime.checks import forward_value, id_path

        for flow in self.document.flows:
            source, target = self._keys(flow)
            src, tgt = self._raw[source], self._raw[target]
            rows = [r for r in flow.syncable_rows if r.source != id_path(src) and r.target != id_path(tgt)]
            for origin, forward in ((source, True), (target, False)):
                if (target if forward else source) != key:
                    continue
                for owner, record in self._content.get(origin, {}).values():
                    if forward:
                        values = {r.target: forward_value(flow, record, r.target) for r in rows}
                    else:
                        values = {r.source: get_path(record, r.target) for r in rows}
                    yield owner, {p: v for p, v in values.items() if v not in (None, "")}

    def _index(self, key: Key) -> dict[str, dict[Any, list[tuple[int, int]]]]:
        """path -> value -> (fingerprint, owner) of every record a new record of ``key`` could be made from."""
        index: dict[str, dict[Any, list[tuple[int, int]]]] = {}
        for n, (owner, values) in enumerate(self._fingerprints(key)):
            for path, value in values.items():
                index.setdefault(path, {}).setdefault(_canonical(value), []).append((n, owner))
        return index

    def _attribute(self, key: Key, record_id: str, index: dict[str, dict[Any, list[tuple[int, int]]]]) -> None:
        """The jobs a record the system under test created belongs to: those whose record it carries the
        most values of (everyone's when it carries none)."""
        record = self._raw[key].get(record_id)
        hits: dict[tuple[int, int], int] = {}
        for path, by_value in index.items():
            for found in by_value.get(_canonical(get_path(record, path)), ()):
                hits[found] = hits.get(found, 0) + 1
        best = max(hits.values(), default=0)
        if best == 0:
            self._everyone[key].add(record_id)  # carries nothing of any job's records: everyone's
        else:
            self._owners.setdefault(key, {})[record_id] = {owner for (_n, owner), k in hits.items() if k == best}


class ScopedConnector(WrappedConnector):
    """A connector as one job sees it: its own records (and everyone's) in listings; writes noted."""

    def __init__(self, inner: ResourceConnector, runs: SharedRuns, view: CheckView, key: Key) -> None:
        super().__init__(inner)
        self._runs = runs
        self._view = view
        self._key = key

    def get(self, record_id: str) -> Record:
        return self.inner.get(record_id)

    def find_by_external_ref(self, external_ref: str) -> str | None:
        return self.inner.find_by_external_ref(external_ref)

    def create(self, record: Record, *, external_ref: str | None = None) -> str:
        self._view.write()
        record_id = self.inner.create(record, external_ref=external_ref)
        self._runs.created(self._key, record_id, self._view.index, record)
        return record_id

    def update(self, record_id: str, changes: Record) -> None:
        self._view.write()
        self.inner.update(record_id, changes)
        self._runs.updated(self._key, record_id, changes)

    def iter_all(self) -> Iterator[Change]:
        mine = self._runs.visible(self._key, self._view.index)
        return (c for c in self.inner.iter_all() if c.id in mine)

    def changed_since(self, watermark: str | None) -> Page:
        page = self.inner.changed_since(watermark)
        mine = self._runs.visible(self._key, self._view.index)
        return Page([c for c in page.changes if c.id in mine], page.watermark)


class CheckView:
    """The bench one job works with: the shared bench, seen through that job's records."""

    def __init__(self, runs: SharedRuns, index: int, probe: bool) -> None:
        self._runs = runs
        self.index = index
        self.probe = probe
        self.job: _Job | None = None
        self._scoped: dict[Key, ScopedConnector] = {}

    def __getattr__(self, name: str) -> Any:  # document, live, writes, read, value_domain, conflict_winner, ...
        return getattr(self._runs.bench, name)

    def write(self) -> None:
        if self.probe:
            raise PerTest("the check writes: it runs per test")

    def pair(self, flow: Flow) -> tuple[ScopedConnector, ScopedConnector]:
        source, target = self._runs._keys(flow)
        return self._connector(source), self._connector(target)

    def _connector(self, key: Key) -> ScopedConnector:
        found = self._scoped.get(key)
        if found is None:
            found = self._scoped[key] = ScopedConnector(self._runs._raw[key], self._runs, self, key)
        return found

    def record_for(self, flow: Flow, side: str, connector: ResourceConnector, seed: int,
                   overrides: dict[str, Any] | None = None) -> Record:
        return self._runs.bench.record_for(flow, side, connector, seed + SALT * self.index, overrides)

    def create(self, connector: ResourceConnector, record: Record) -> str:
        self.write()
        return self._runs.bench.create(connector, record)

    def ids(self, connector: ResourceConnector) -> set[str]:
        return {c.id for c in connector.iter_all()}

    def sync(self) -> None:
        self.write()
        assert self.job is not None, "a view syncs only inside SharedRuns.run"
        self.job.wait_for_sync()

    def close(self) -> None:
        """Nothing: the shared bench is closed by whoever made it."""
