"""Batch mode for the flow checks: link-policy checks, the checks beyond one value per row, and the
mapping rows the value batch leaves out (conditional rows, identifier rows, rows that do not carry
edits back). Each runs as its own code, as per test, on a view of the batch's shared bench
(:mod:`talkqa.runtime.phases`); a check made of parts (:class:`talkqa.runtime.teeth.Split`) runs
every part as a job of its own, on records of its own, and its verdict is put together from the parts
in their order, as per test: the first part that fails (or cannot be checked) decides, otherwise the
check's ``finish``.

Only flows whose records no match rule can pair across checks are batched: the check's flow and
every flow that shares an entity with it (:func:`talkqa.sync.engine.related_flows`) create their
counterparts (policy *always*, or *conditional*) and have no match rule. A check that creates hundreds
of records (every-record-once) probes: its verdict is taken when it needs no write (it cannot be
checked), otherwise it runs per test.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from generator.model import Document, Policy
from talkqa.runtime.bench import Bench
from talkqa.runtime.checks import CHECKS, _flow, _row
from talkqa.runtime.failures import ChecklistFailure, Unsupported
from talkqa.runtime.phases import Outcome, PerTest
from talkqa.runtime.teeth import SPLITS, Split
from talkqa.sync.engine import related_flows

#: Flow checks that create more records than a batch should hold: probed, and run per test if they write.
PROBED = frozenset({"every-record-once"})
#: Policies whose flows create a counterpart for every record, without matching.
CREATING = (Policy.ALWAYS, Policy.CONDITIONAL)


@dataclass
class FlowPlan:
    """One flow check in a batch: its jobs (one per part), and how their outcomes make its verdict."""

    case: dict[str, Any]
    jobs: list[Callable[[Any], Any]]
    finish: Callable[[list[Any]], None] = lambda _notes: None
    probe: bool = False
    outcomes: list[Outcome] = field(default_factory=list)


def unmatched(document: Document, flow_index: int) -> bool:
    """Whether no match rule can pair records of ``flow_index`` (or of a flow sharing an entity with it)
    across checks: every such flow creates its counterparts and has no match rule."""
    def entities(flow: Any) -> set[tuple[str, str]]:
        return {("source", flow.source_label), ("target", flow.target_label)}

    related = related_flows(document, flow_index, entities)
    return all(document.flows[i].policy in CREATING and not document.flows[i].match for i in related)


def flow_batchable(document: Document, case: dict[str, Any]) -> str | None:
    """Why the flow check ``case`` runs per test (None: it can run in the batch)."""
    if case["kind"] not in ("link", "mapping") or case.get("skip"):
        return "only link and mapping checks run as flow jobs"
    if not 0 <= case["flow"] < len(document.flows) or not unmatched(document, case["flow"]):
        return "the flow (or one sharing an entity with it) links through match rules: checked per test"
    return None


def plan(look: Bench, case: dict[str, Any]) -> FlowPlan | Unsupported:
    """The jobs of ``case`` (or why it cannot be checked, found without writing anything)."""
    kind = case["kind"]
    try:
        flow, src, tgt = _flow(look, case)
        if kind == "mapping":
            _row(flow, case)
    except Unsupported as exc:
        return exc
    predicate = look.flow_predicate(flow)
    switched_off = predicate is not None and predicate.never
    check = case.get("check")
    if kind == "link" and check in SPLITS and not switched_off:
        build = SPLITS[check]
        try:
            split = build(look, case, flow, src, tgt)
        except Unsupported as exc:
            return exc
        if not split.parts:
            try:
                split.finish([])
            except Unsupported as exc:
                return exc

        def part(i: int) -> Callable[[Any], Any]:
            def job(view: Any) -> Any:
                f, s, t = _flow(view, case)
                mine: Split = build(view, case, f, s, t)
                return mine.parts[i](view, mine.arrange(view))

            return job

        return FlowPlan(case, [part(i) for i in range(len(split.parts))], split.finish)
    return FlowPlan(case, [lambda view: CHECKS[kind](view, case)], probe=kind == "link" and check in PROBED)


@dataclass
class FlowVerdict:
    """The verdict of a flow check from its parts: ``raise_it`` raises it (nothing: it conforms)."""

    error: BaseException | None = None
    per_test: bool = False


def verdict(flow_plan: FlowPlan) -> FlowVerdict:
    """The check's verdict from its parts' outcomes, in order, as per test; per test again when a part
    probed into a write, or waited for a run that failed (whose records failed it is not known)."""
    for outcome in flow_plan.outcomes:
        if isinstance(outcome.error, PerTest) or outcome.shared_failure:
            return FlowVerdict(per_test=True)
        if outcome.error is not None:
            return FlowVerdict(error=outcome.error)
    try:
        flow_plan.finish([o.value for o in flow_plan.outcomes])
    except (ChecklistFailure, Unsupported) as exc:
        return FlowVerdict(error=exc)
    return FlowVerdict()

