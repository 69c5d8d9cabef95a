"""Batch mode: many checks of one document judged from a few runs of the system under test.

Per-test mode runs the system under test at least twice per check and per fuzz example; a real
integration platform's run takes seconds and counts against API quotas. In batch mode (the
default for an external sync, ``--talkqa-batch``), the checks of a document that can share runs do:

1. **arrange**: every mapping check gets its own source record, every fuzz value its own (K values
   per row and direction, drawn by the same Hypothesis strategies and profile); forward fuzz values
   are in the record as it is created;
2. **run** the system under test once; each new target record is paired with the source record it
   carries (by the values of the flow's rows: every record of the batch has values of its own);
3. **edit**: each forward check edits its source, each reverse check (and reverse fuzz value) its
   target; **run** once more;
4. **judge** every check from what the systems hold, with the same assertions and messages as per
   test (:func:`talkqa.runtime.checks._expect`);
5. **shrink**: a failing fuzz row's smallest failing value is shrunk by at most
   :data:`SHRINK_ROUNDS` more batches (each two runs), only for that row's values, and says so.

The flow checks (link policy, the checks beyond one value per row, conditional and identifier rows)
share the same runs as jobs of their own (:mod:`talkqa.runtime.batch_flows`, :mod:`talkqa.runtime.phases`):
every check's k-th sync is the batch's k-th run. Each check keeps its own test, id, message and
JUnit/results entry: the verdict of a batched check is raised by its own test.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.model import Document, Flow, Policy
from generator.model import Mapping as Row
from talkqa.connectors.base import ConnectorError, Record, ResourceConnector
from talkqa.connectors.codecs import get_path
from talkqa.runtime.batch_flows import FlowPlan, flow_batchable, plan, verdict
from talkqa.runtime.bench import Bench
from talkqa.runtime.checks import (
    _domain,
    _emptied_earlier,
    _expect,
    _flow,
    _fresh_value,
    _row,
    _writable,
    bench_update,
    forward_value,
    id_path,
    same,
)
from talkqa.runtime.failures import ChecklistFailure, Unsupported
from talkqa.runtime.phases import SharedRuns
from talkqa.runtime.values import domain_gap

#: Extra batches a failing fuzz row may use to shrink its smallest failing value.
SHRINK_ROUNDS = 2
#: Candidates tried per failing row and round.
SHRINK_CANDIDATES = 6


@dataclass
class Verdict:
    """What a batched check found: passed (failure None, reason ""), failed, or not checkable."""

    failure: ChecklistFailure | None = None
    reason: str = ""  # not checkable here: the Unsupported message
    finding: str | None = None  # a fuzz row's domain gap (talkqa.runtime.values.domain_gap)
    error: BaseException | None = None  # anything else a check raised (the sync failed, a connector erred)

    @classmethod
    def of(cls, raised: BaseException | None) -> Verdict:
        """The verdict of a check that raised ``raised`` (None: it conforms)."""
        if isinstance(raised, Unsupported):
            return cls(reason=str(raised))
        if isinstance(raised, ChecklistFailure):
            return cls(failure=raised)
        return cls(error=raised)

    def raise_it(self) -> None:
        if self.reason:
            raise Unsupported(self.reason)
        if self.failure is not None:
            raise self.failure
        if self.error is not None:
            raise self.error


@dataclass
class _Pair:
    """One source record of the batch, the check (and fuzz value) it serves, and its target once paired."""

    case: dict[str, Any]
    flow: Flow
    row: Row
    src: ResourceConnector
    tgt: ResourceConnector
    created: Record
    source_id: str
    value: Any = None  # the edit (mapping), or the fuzz value
    fuzz: bool = False
    target_id: str | None = None
    failure: ChecklistFailure | None = None


@dataclass
class BatchRun:
    """The verdicts of one document's batch, and what it cost."""

    verdicts: dict[tuple[str, str], Verdict] = field(default_factory=dict)  # (kind, case id) -> verdict
    sync_runs: int = 0
    shrink_runs: int = 0
    errors: list[str] = field(default_factory=list)  # why some checks fell back to one check at a time


def _key(case: dict[str, Any]) -> tuple[str, str]:
    return case["kind"], case["id"]


def batchable(bench: Bench, case: dict[str, Any]) -> str | None:
    """Why ``case`` must run per test (None: it can share the batch's runs)."""
    if case["kind"] not in ("mapping", "fuzz") or case.get("skip"):
        return "only mapping and fuzz checks are batched"
    try:
        flow, src, tgt = _flow(bench, case)
        row = _row(flow, case)
    except Unsupported as exc:
        return str(exc)
    if flow.policy is not Policy.ALWAYS or flow.condition or row.condition is not None:
        return "the flow links through match rules or a condition: checked per test"
    if row.source == id_path(src) or row.target == id_path(tgt):
        return "identifier row: checked per test"
    if case["kind"] == "mapping" and case["direction"] == "reverse" and not case.get("governs_reverse"):
        return "a row that does not carry edits back: checked per test"
    return None


def run_batch(
    make_bench: Callable[[Path], Bench], document: Document, cases: Sequence[dict[str, Any]], state_dir: Path,
    fuzz_values: Callable[[Any, dict[str, Any]], list[Any]],
    look: Callable[[Path], Bench] | None = None,
    empty_refused: Callable[[dict[str, Any]], str | None] | None = None,
    conflict_winner: str | None = None,
) -> BatchRun:
    """Judge every batchable case of ``document`` from shared runs; ``fuzz_values(domain, case)`` draws
    the values of a fuzz case. Cases not in the result run per test.

    ``look`` makes a bench that only resolves connectors (no reset); ``empty_refused(case)`` says why a
    system refuses a record with the row's field empty (probed before the batch, as per test: the
    probe resets the systems), so the batch draws no empty value there. ``conflict_winner``: the run's
    setting, as the plugin gives every bench per test."""
    out = BatchRun()
    planned: list[tuple[dict[str, Any], Flow, Row, ResourceConnector, ResourceConnector, Any]] = []
    flow_plans: list[FlowPlan] = []
    viewer = (look or make_bench)(state_dir / "look")
    try:
        for case in cases:
            if batchable(viewer, case) is not None:
                if flow_batchable(document, case) is None:  # a flow check: its own code, as a job
                    found = plan(viewer, case)
                    if isinstance(found, Unsupported):
                        out.verdicts[_key(case)] = Verdict(reason=str(found))
                    else:
                        flow_plans.append(found)
                continue
            try:
                flow, src, tgt = _flow(viewer, case)
                row = _row(flow, case)
                _writable(src, tgt, row, case["direction"])
                domain = _domain(src, tgt, row, viewer, flow)
            except Unsupported as exc:
                out.verdicts[_key(case)] = Verdict(reason=str(exc))
                continue
            if case["kind"] == "fuzz":
                from talkqa.runtime.fuzz import siblings_decide_empty

                domain = siblings_decide_empty(flow, row, domain)
            planned.append((case, flow, row, src, tgt, domain))
    finally:
        viewer.close()
    if empty_refused is not None:
        for i, (case, flow, row, src, tgt, domain) in enumerate(planned):
            if case["kind"] == "fuzz" and domain.kind == "string" and getattr(domain, "empty_ok", False) \
                    and empty_refused(case):
                planned[i] = (case, flow, row, src, tgt, dataclasses.replace(domain, empty_ok=False))
    if not planned and not flow_plans:
        return out
    # drawn here, in this thread, before any job runs (Hypothesis draws them)
    drawn = {case["id"]: fuzz_values(domain, case) for case, *_, domain in planned if case["kind"] == "fuzz"}
    bench = make_bench(state_dir / "batch")
    if conflict_winner is not None:
        bench.conflict_winner = conflict_winner  # type: ignore[attr-defined]
    try:
        runs = SharedRuns(bench)
        jobs: list[tuple[Any, Callable[[Any], Any]]] = []
        if planned:
            jobs.append((runs.view(), lambda view: _values_job(view, planned, drawn, cases, state_dir, out)))
        for flow_plan in flow_plans:
            jobs += [(runs.view(probe=flow_plan.probe), job) for job in flow_plan.jobs]
        outcomes = runs.run(jobs)
        if planned and outcomes[0].error is not None:  # its checks run per test, and the run says why
            error = outcomes[0].error
            out.errors.append(f"the value checks fell back to one check at a time: {type(error).__name__}: {error}")
            for case, *_ in planned:
                out.verdicts.pop(_key(case), None)
        # a run that failed cannot say whose records failed it: the checks that waited for it run per test
        again = [key for key, v in out.verdicts.items() if v.failure is not None and v.failure.kind == "sync-failed"]
        at = 1 if planned else 0
        for flow_plan in flow_plans:
            flow_plan.outcomes = outcomes[at:at + len(flow_plan.jobs)]
            at += len(flow_plan.jobs)
            found = verdict(flow_plan)
            if not found.per_test:
                out.verdicts[_key(flow_plan.case)] = Verdict.of(found.error)
            elif any(o.shared_failure for o in flow_plan.outcomes):
                again.append(_key(flow_plan.case))
        for key in again:
            out.verdicts.pop(key, None)
        if again:
            out.errors.append(f"{len(again)} check(s) ran per test: a run of the system under test they shared "
                              "failed, and a failed run cannot say whose records failed it")
        out.sync_runs = runs.runs
        return out
    finally:
        bench.close()


def _values_job(bench: Any, planned: Sequence[tuple[dict[str, Any], Flow, Row, ResourceConnector, ResourceConnector,
                                                     Any]],
                drawn: dict[str, list[Any]], cases: Sequence[dict[str, Any]], state_dir: Path, out: BatchRun) -> None:
    """The mapping and fuzz checks of the batch, as one job: arrange every value, run, pair, edit, run,
    judge, shrink."""
    pairs: list[_Pair] = []
    fuzz_pairs: dict[str, list[_Pair]] = {}
    seed = 1
    for case, _flow0, _row0, _src0, _tgt0, domain in planned:
        flow, src, tgt = _flow(bench, case)  # this bench's connectors
        row = _row(flow, case)
        values = [None] if case["kind"] == "mapping" else drawn[case["id"]]
        for value in values:
            seed += 1
            try:
                pair = _arrange(bench, case, flow, row, src, tgt, domain, value, 7_000 + seed)
            except ConnectorError as exc:
                if case["kind"] == "fuzz":
                    continue  # a value a system refuses is not one the document's systems can carry
                out.verdicts[_key(case)] = Verdict(failure=ChecklistFailure(
                    f"{case['document']}:{case['line']}: {case['flow_title']}: arranging the check's record "
                    f"failed: {exc}", kind="error"))
                break
            if pair is not None:
                pairs.append(pair)
                if case["kind"] == "fuzz":
                    fuzz_pairs.setdefault(case["id"], []).append(pair)
        if case["kind"] == "fuzz" and not fuzz_pairs.get(case["id"]):
            out.verdicts[_key(case)] = Verdict(reason="no fuzz value differs from the value arranged")
    if not pairs:
        return
    _sync_and_edit(bench, pairs, out)
    for case, *_ in planned:
        mine = [p for p in pairs if p.case is case]
        if not mine or _key(case) in out.verdicts:
            continue
        failing = [p for p in mine if p.failure is not None]
        if not failing:
            out.verdicts[_key(case)] = Verdict()
        elif case["kind"] == "mapping":
            out.verdicts[_key(case)] = Verdict(failure=failing[0].failure)
        else:
            out.verdicts[_key(case)] = Verdict(failure=_smallest(failing).failure)
    _shrink(lambda _folder: bench, state_dir, cases, fuzz_pairs, out)
    for case, _flow0, row, src, tgt, _domain0 in planned:  # a fuzz row's finding, as per test
        judged = out.verdicts.get(_key(case))
        if case["kind"] == "fuzz" and judged is not None and not judged.reason:
            judged.finding = domain_gap(src.fields[row.source], tgt.fields[row.target])


def _arrange(bench: Bench, case: dict[str, Any], flow: Flow, row: Row, src: ResourceConnector,
             tgt: ResourceConnector, domain: Any, value: Any, seed: int) -> _Pair | None:
    """Create the source record of one check (or fuzz value); None when the value is no edit."""
    forward = case["direction"] == "forward"
    overrides = dict(_emptied_earlier(src, flow, row)) if forward else {}
    fuzz = case["kind"] == "fuzz"
    if fuzz and forward:
        overrides[row.source] = value  # a forward fuzz value travels with the record as it is created
    created = bench.record_for(flow, "source", src, seed, overrides or None)
    if fuzz and not forward and same(get_path(created, row.source), value):
        return None  # an edit to the value the origin already holds is no edit
    if not fuzz:
        value = _fresh_value(domain, seed + 1, get_path(created, row.source))
    source_id = bench.create(src, created)
    return _Pair(case, flow, row, src, tgt, created, source_id, value=value, fuzz=fuzz)


def _sync_and_edit(bench: Bench, pairs: list[_Pair], out: BatchRun) -> None:
    """Run, pair the new target records, edit, run again, judge every pair."""
    before: dict[int, set[str]] = {}
    for p in pairs:
        if id(p.tgt) not in before:
            before[id(p.tgt)] = bench.ids(p.tgt)
    _run(bench, pairs, out)
    if all(p.failure is not None for p in pairs):
        return
    _pair_targets(bench, pairs, before)
    editing = [p for p in pairs if p.failure is None and not (p.fuzz and p.case["direction"] == "forward")]
    for p in editing:
        if p.case["direction"] == "forward":
            bench_update(p.src, p.source_id, p.row.source, p.value)
        else:
            bench_update(p.tgt, p.target_id, p.row.target, p.value)
    if editing:
        _run(bench, pairs, out)
    for p in pairs:
        if p.failure is None:
            p.failure = _judge(bench, p)


def _run(bench: Bench, pairs: list[_Pair], out: BatchRun) -> None:
    try:
        bench.sync()
    except AssertionError as exc:  # the system under test failed: every pair still open fails with it
        for p in pairs:
            if p.failure is None:
                p.failure = ChecklistFailure(f"{p.case['document']}:{p.case['line']}: {p.case['flow_title']}: "
                                             f"the system under test failed while syncing:\n  {exc}",
                                             kind="sync-failed")
    out.sync_runs += 1


def _fingerprint(p: _Pair) -> dict[str, Any]:
    """What the target record of ``p`` should hold after the first run: the flow's forward values."""
    out = {}
    for row in p.flow.syncable_rows:
        if row.target in out or row.target == id_path(p.tgt) or row.source == id_path(p.src):
            continue
        spec = p.tgt.fields.get(row.target)
        if spec is None or spec.read_only:
            continue
        value = forward_value(p.flow, p.created, row.target)
        if value not in (None, ""):
            out[row.target] = value
    return out


def _pair_targets(bench: Bench, pairs: list[_Pair], before: dict[int, set[str]]) -> None:
    """Each pair's target: the new record that carries the most of its values (each record used once)."""
    by_target: dict[int, list[_Pair]] = {}
    for p in pairs:
        if p.failure is None:
            by_target.setdefault(id(p.tgt), []).append(p)
    for key, group in by_target.items():
        tgt = group[0].tgt
        new = sorted(bench.ids(tgt) - before[key])
        records = {record_id: tgt.get(record_id) for record_id in new}
        prints = {id(p): _fingerprint(p) for p in group}
        scored = []
        for p in group:
            for record_id, record in records.items():
                score = sum(same(get_path(record, path), value) for path, value in prints[id(p)].items())
                if score:
                    scored.append((-score, record_id, id(p), p))
        taken: set[str] = set()
        scores: dict[int, int] = {}
        for neg, record_id, _, p in sorted(scored, key=lambda s: (s[0], s[1], s[2])):
            if p.target_id is None and record_id not in taken:
                p.target_id, scores[id(p)] = record_id, -neg
                taken.add(record_id)
        for p in group:
            head = f"{p.case['document']}:{p.case['line']}: {p.case['flow_title']}: creating the linked record"
            if p.target_id is None:
                p.failure = ChecklistFailure(
                    f"{head}: none of the {len(new)} new {tgt.entity} records after the sync carries this "
                    f"{p.src.entity} record's values ({len(group)} records of the batch feed {tgt.entity})",
                    kind="link")
        for neg, record_id, _, p in scored:  # a record left over that carries a pair's values as well as its own
            if record_id not in taken and p.target_id is not None and -neg >= scores.get(id(p), 0) > 0:
                p.failure = ChecklistFailure(
                    f"{p.case['document']}:{p.case['line']}: {p.case['flow_title']}: creating the linked record: "
                    f"expected exactly 1 new {tgt.entity} record for a {p.src.entity} record, found 2 "
                    f"({p.target_id}, {record_id})", kind="link")


def _judge(bench: Bench, p: _Pair) -> ChecklistFailure | None:
    case, row = p.case, p.row
    try:
        if p.fuzz:
            if case["direction"] == "forward":
                _expect(bench, case, p.tgt, p.target_id, row.target, p.value, f"creating {p.src.entity} with it")
            else:
                _expect(bench, case, p.src, p.source_id, row.source, p.value, f"editing {p.tgt.entity}.{row.target}")
        elif case["direction"] == "forward":
            _expect(bench, case, p.tgt, p.target_id, row.target, p.value, f"editing {p.src.entity}.{row.source}")
        else:  # a row that carries edits back (batchable)
            _expect(bench, case, p.src, p.source_id, row.source, p.value, f"editing {p.tgt.entity}.{row.target}")
    except ChecklistFailure as exc:
        if p.fuzz:
            exc.example = p.value
        return exc
    return None


def _smallest(pairs: Sequence[_Pair]) -> _Pair:
    return min(pairs, key=lambda p: (len(repr(p.value)), repr(p.value)))


def shrink_candidates(value: Any) -> list[Any]:
    """Simpler values of the same kind than ``value`` (free text only: halves, ends, single characters)."""
    if not isinstance(value, str) or len(value) <= 1:
        return []
    half = len(value) // 2
    out: list[Any] = [value[:half], value[half:], value.strip(), value[:1], value[-1:]]
    out += sorted(set(value), key=value.index)[:SHRINK_CANDIDATES]
    seen: list[Any] = []
    for v in out:
        if v and v != value and v not in seen:
            seen.append(v)
    return seen[:SHRINK_CANDIDATES]


def _shrink(make_bench: Callable[[Path], Bench], state_dir: Path, cases: Sequence[dict[str, Any]],
            fuzz_pairs: dict[str, list[_Pair]], out: BatchRun) -> None:
    """At most :data:`SHRINK_ROUNDS` more batches, each with the failing fuzz rows' simpler values only."""
    by_id = {c["id"]: c for c in cases if c["kind"] == "fuzz"}
    current = {cid: _smallest([p for p in ps if p.failure is not None and p.failure.kind == "value"])
               for cid, ps in fuzz_pairs.items() if any(p.failure is not None and p.failure.kind == "value"
                                                        for p in ps)}
    for round_ in range(1, SHRINK_ROUNDS + 1):
        todo = {cid: shrink_candidates(p.value) for cid, p in current.items()}
        todo = {cid: vs for cid, vs in todo.items() if vs}
        if not todo:
            break
        bench = make_bench(state_dir / f"shrink-{round_}")
        try:
            pairs: list[_Pair] = []
            seed = 50_000 * round_
            for cid, values in todo.items():
                case = by_id[cid]
                flow, src, tgt = _flow(bench, case)
                row = _row(flow, case)
                domain = _domain(src, tgt, row, bench, flow)
                for value in values:
                    seed += 1
                    try:
                        pair = _arrange(bench, case, flow, row, src, tgt, domain, value, seed)
                    except ConnectorError:
                        continue  # a simpler value a system refuses is no candidate
                    if pair is not None:
                        pairs.append(pair)
            before_runs = out.sync_runs
            if pairs:
                _sync_and_edit(bench, pairs, out)
            out.shrink_runs += out.sync_runs - before_runs
        finally:
            bench.close()
        improved = False
        for cid in todo:
            failing = [p for p in pairs if p.case is by_id[cid] and p.failure is not None and p.failure.kind == "value"]
            if failing and len(repr(_smallest(failing).value)) < len(repr(current[cid].value)):
                current[cid] = _smallest(failing)
                improved = True
        if not improved:
            break
    for cid, p in current.items() if out.shrink_runs else ():
        failure = p.failure
        assert failure is not None
        failure.args = (f"{failure.message}\n  smallest failing value of the batch after shrinking with "
                        f"{out.shrink_runs} extra sync run(s) (at most {2 * SHRINK_ROUNDS}; per test, "
                        "--talkqa-batch=off, shrinks further)",)
        out.verdicts[("fuzz", cid)] = Verdict(failure=failure, finding=out.verdicts[("fuzz", cid)].finding)


def draw_values(config: Any, domain: Any) -> list[Any]:
    """The values a fuzz case tries, drawn as per test: the edge examples, then Hypothesis' draws from
    the row's strategy under the run's fuzz profile (the same count; derandomised under ci)."""
    from hypothesis import Phase, given, settings

    from talkqa.runtime.fuzz import fuzz_settings
    from talkqa.runtime.values import edge_examples, strategy

    drawn: list[Any] = []

    @given(value=strategy(domain))
    @settings(fuzz_settings(config), phases=[Phase.generate], database=None)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    out: list[Any] = []
    for value in [*edge_examples(domain), *drawn]:
        if not any(same(value, v) and repr(value) == repr(v) for v in out):
            out.append(value)
    return out
