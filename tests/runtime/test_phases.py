"""Shared runs (talkqa/runtime/phases.py): a job's k-th sync is every job's k-th sync, a failed run
reaches every job that waited for it, and each job sees only its own records."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.parser import parse_file
from talkqa.connectors.codecs import get_path, set_path
from talkqa.runtime.bench import Bench
from talkqa.runtime.phases import CheckView, PerTest, SharedRuns
from talkqa.testing.memory import MemoryResource

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = parse_file(ROOT / "spec" / "powerofficego-exact.rst")


class _Counting:
    """A bench with no flows whose sync only counts (and may fail)."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.document = dataclasses.replace(DOCUMENT, flows=())
        self.runs = 0
        self.fail_at = fail_at

    def sync(self) -> None:
        self.runs += 1
        if self.runs == self.fail_at:
            raise AssertionError("the sync failed")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=8))
def test_the_runs_are_the_most_syncs_one_job_asks_for(syncs: list[int]) -> None:
    bench = _Counting()
    runs = SharedRuns(bench)  # type: ignore[arg-type]

    def job(n: int) -> Any:
        def run(view: CheckView) -> list[int]:
            seen = []
            for _ in range(n):
                view.sync()
                seen.append(bench.runs)
            return seen

        return run

    outcomes = runs.run([(runs.view(), job(n)) for n in syncs])
    assert runs.runs == bench.runs == max(syncs)
    for n, outcome in zip(syncs, outcomes, strict=True):
        assert outcome.error is None and outcome.value == list(range(1, n + 1))  # its k-th sync is run k


def test_a_failed_run_reaches_every_job_that_waited_for_it_and_only_those() -> None:
    bench = _Counting(fail_at=2)
    runs = SharedRuns(bench)  # type: ignore[arg-type]

    def syncs(n: int) -> Any:
        def run(view: CheckView) -> None:
            for _ in range(n):
                view.sync()

        return run

    early, waiting, later = runs.run([(runs.view(), syncs(1)), (runs.view(), syncs(2)), (runs.view(), syncs(3))])
    assert early.error is None and not early.shared_failure
    for outcome in (waiting, later):
        assert isinstance(outcome.error, AssertionError) and outcome.shared_failure
    assert runs.runs == 2  # the job that failed at run 2 stopped there; nobody asked for a third


def test_a_probing_job_stops_before_its_first_write() -> None:
    bench = _Counting()
    runs = SharedRuns(bench)  # type: ignore[arg-type]
    (outcome,) = runs.run([(runs.view(probe=True), lambda view: view.sync())])
    assert isinstance(outcome.error, PerTest) and bench.runs == 0


class _CopyingSync:
    """A sync of the seed document's first flow over memory resources: a target per new source,
    carrying the flow's rows; and, when told, one record made of nothing."""

    def __init__(self, resources: dict[tuple[str, str], MemoryResource], stray: bool) -> None:
        self.resources = resources
        self.stray = stray
        self.done: set[str] = set()

    def sync(self) -> None:
        flow = DOCUMENT.flows[0]
        src = self.resources[(DOCUMENT.system_key("source"), flow.source_label)]
        tgt = self.resources[(DOCUMENT.system_key("target"), flow.target_label)]
        for change in list(src.iter_all()):
            if change.id not in self.done:
                self.done.add(change.id)
                record: dict[str, Any] = {}
                for row in flow.syncable_rows:
                    set_path(record, row.target, get_path(change.record, row.source))
                tgt.create(record)
        if self.stray:
            tgt.create({})
            self.stray = False

    def close(self) -> None:
        pass


@pytest.mark.parametrize("stray", [False, True])
def test_each_job_sees_the_records_made_for_its_own_and_a_record_of_nothing_is_everyones(
        tmp_path: Path, stray: bool) -> None:
    resources: dict[tuple[str, str], MemoryResource] = {}

    def resolve(slug: str, label: str) -> MemoryResource:
        return resources.setdefault((slug, label), MemoryResource(slug, label, prefix=label))

    sync = _CopyingSync(resources, stray)
    bench = Bench(DOCUMENT, resolve, tmp_path, live=True,  # type: ignore[arg-type]
                  make_sut=lambda *_: sync)  # type: ignore[arg-type,return-value]
    flow = DOCUMENT.flows[0]
    for row in flow.syncable_rows:  # every field the rows name, so records carry values
        resolve(DOCUMENT.system_key("source"), flow.source_label).fields[row.source] = _text(row.source)
        resolve(DOCUMENT.system_key("target"), flow.target_label).fields[row.target] = _text(row.target)
    runs = SharedRuns(bench)

    def job(creates: int) -> Any:
        def run(view: CheckView) -> tuple[set[str], set[str]]:
            src, tgt = view.pair(flow)
            before = view.ids(tgt)
            mine = {view.create(src, view.record_for(flow, "source", src, 10 + i)) for i in range(creates)}
            view.sync()
            return mine, view.ids(tgt) - before

        return run

    outcomes = runs.run([(runs.view(), job(n)) for n in (1, 2, 3)])
    target = resources[(DOCUMENT.system_key("target"), flow.target_label)]
    made_of_nothing = {rid for rid, record in target.records.items() if not record}
    assert len(made_of_nothing) == stray
    seen: list[str] = []
    for n, outcome in zip((1, 2, 3), outcomes, strict=True):
        assert outcome.error is None
        _sources, new = outcome.value
        assert len(new - made_of_nothing) == n and made_of_nothing <= new  # its own, and everyone's stray
        seen += sorted(new - made_of_nothing)
    assert len(seen) == len(set(seen)) == 6  # no target shown to two jobs


def _text(path: str) -> Any:
    from talkqa.connectors.base import FieldSpec

    return FieldSpec(path, "string", 60)
