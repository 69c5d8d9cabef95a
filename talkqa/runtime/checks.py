"""The checks behind each generated test: arrange, sync, assert, per checklist case.

Each check raises :class:`ChecklistFailure` with a message a QA engineer can act on: the
document and line, the flow, the property and direction, expected and actual values.
Cases that cannot be checked raise :class:`Unsupported` (the plugin turns it into a skip
with the reason).
"""

from __future__ import annotations

from typing import Any

from generator.model import Flow, Policy
from generator.model import Mapping as Row
from talkqa.connectors.base import ResourceConnector
from talkqa.connectors.codecs import get_path
from talkqa.runtime.bench import Bench
from talkqa.runtime.values import Domain, example, incompatibility
from talkqa.sync import predicates


class Unsupported(Exception):
    """This case cannot be checked here (the message says why)."""


class ChecklistFailure(AssertionError):
    """A row of the document is not honoured."""


def same(a: Any, b: Any) -> bool:
    """Canonical equality, with an empty string and a missing value the same."""
    return (None if a == "" else a) == (None if b == "" else b)


def where(bench: Bench, case: dict[str, Any]) -> str:
    return f"{case['document']}:{case['line']}: {case['flow_title']}"


def _row(flow: Flow, case: dict[str, Any]) -> Row:
    for m in flow.mappings:
        if m.line == case["line"] and m.source == case["source"] and m.target == case["target"]:
            return m
    raise Unsupported(f"row at line {case['line']} is not in the document model")


def _flow(bench: Bench, case: dict[str, Any]) -> tuple[Flow, ResourceConnector, ResourceConnector]:
    flow = bench.document.flows[case["flow"]]
    if flow.policy is Policy.CONDITIONAL and (flow.condition or "") not in predicates.registry():
        raise Unsupported(f"conditional flow: no predicate registered for {flow.condition!r}")
    try:
        src, tgt = bench.pair(flow)
    except LookupError as exc:
        raise Unsupported(f"no connector: {exc}") from None
    return flow, src, tgt


def _domain(src: ResourceConnector, tgt: ResourceConnector, row: Row) -> Domain:
    sfield, tfield = src.fields.get(row.source), tgt.fields.get(row.target)
    if sfield is None:
        raise Unsupported(f"the {src.system} {src.entity} connector has no field {row.source!r}")
    if tfield is None:
        raise Unsupported(f"the {tgt.system} {tgt.entity} connector has no field {row.target!r}")
    why = incompatibility(sfield, tfield)
    if why:
        raise Unsupported(why)
    return Domain.of(sfield, tfield)


def _fresh_value(domain: Domain, seed: int, avoid: Any) -> Any:
    for k in range(1, 50):
        value = example(domain, seed + 7919 * k)
        if not same(value, avoid):
            return value
    raise Unsupported(f"cannot find a second valid value for a {domain.kind} field")


def linked_target(bench: Bench, tgt: ResourceConnector, before: set[str], what: str) -> str:
    new = sorted(bench.ids(tgt) - before)
    if len(new) != 1:
        raise ChecklistFailure(f"{what}: expected exactly 1 new {tgt.entity} record after the sync, found {len(new)}")
    return new[0]


def _expect(
    bench: Bench, case: dict[str, Any], system: ResourceConnector, record_id: str, path: str, expected: Any, action: str
) -> None:
    """The record holds ``expected`` at ``path``: read back when live; from what the sync sent when replayed."""
    head = f"{where(bench, case)}: {case['source']} -> {case['target']} [{case['direction']}]"
    actual = bench.read(system, record_id, path)  # replayed too, so recordings and replays ask the same
    if bench.live:
        if not same(actual, expected):
            raise ChecklistFailure(
                f"{head}\n  after {action}, {system.entity}.{path} should be {expected!r}\n  but it is {actual!r}"
            )
        return
    sent = bench.sut_wrote(system.system, system.entity, record_id, path)
    if not sent or not same(sent[-1], expected):
        raise ChecklistFailure(
            f"{head}\n  after {action}, the sync should write {system.entity}.{path} = {expected!r}\n"
            f"  but it wrote {sent[-1]!r}"
            if sent
            else f"{head}\n  after {action}, the sync should write {system.entity}.{path} = {expected!r}\n"
            "  but it sent no value for it"
        )


# -- mapping rows -----------------------------------------------------------------------------------


def check_mapping(bench: Bench, case: dict[str, Any]) -> None:
    flow, src, tgt = _flow(bench, case)
    row = _row(flow, case)
    domain = _domain(src, tgt, row)
    seed = case["line"] * 10
    before = bench.ids(tgt)
    source_id = bench.create(src, bench.record_for(flow, "source", src, seed))
    bench.sync()
    target_id = linked_target(bench, tgt, before, f"{where(bench, case)}: creating the linked record")
    baseline = get_path(bench.record_for(flow, "source", src, seed), row.source)
    value = _fresh_value(domain, seed + 1, baseline)
    if case["direction"] == "forward":
        bench_update(src, source_id, row.source, value)
        bench.sync()
        _expect(bench, case, tgt, target_id, row.target, value, f"editing {src.entity}.{row.source}")
    elif case["governs_reverse"]:
        bench_update(tgt, target_id, row.target, value)
        bench.sync()
        _expect(bench, case, src, source_id, row.source, value, f"editing {tgt.entity}.{row.target}")
    else:
        bench_update(tgt, target_id, row.target, value)
        bench.sync()
        forward = get_path(bench.record_for(flow, "source", src, seed), flow_first_source(flow, row.target))
        _expect(
            bench,
            case,
            tgt,
            target_id,
            row.target,
            forward,
            f"editing {tgt.entity}.{row.target} (not the row that carries edits back: reset to the source)",
        )


def flow_first_source(flow: Flow, target: str) -> str:
    return next(m.source for m in flow.syncable_rows if m.target == target)


def bench_update(connector: ResourceConnector, record_id: str, path: str, value: Any) -> None:
    from talkqa.connectors.codecs import set_path

    connector.update(record_id, set_path({}, path, value))


# -- link policy ------------------------------------------------------------------------------------


def check_link(bench: Bench, case: dict[str, Any]) -> None:
    flow, src, tgt = _flow(bench, case)
    check = case["check"]
    seed = case["line"] * 10 + 3
    head = f"{where(bench, case)} [{check}]: {case['statement']}"
    before = bench.ids(tgt)
    if check == "creates-one-per-source":
        a = bench.create(src, bench.record_for(flow, "source", src, seed))
        b = bench.create(src, bench.record_for(flow, "source", src, seed + 1))
        bench.sync()
        new = bench.ids(tgt) - before
        if len(new) != 2:
            raise ChecklistFailure(f"{head}\n  2 source records ({a}, {b}) gave {len(new)} new target records")
        return
    if check == "no-create-without-match":
        bench.create(src, bench.record_for(flow, "source", src, seed))
        bench.sync()
        new = bench.ids(tgt) - before
        if new:
            raise ChecklistFailure(f"{head}\n  a record that matches nothing produced {len(new)} new target records")
        return
    if check == "creates-when-no-match":
        bench.create(src, bench.record_for(flow, "source", src, seed))
        bench.sync()
        new = bench.ids(tgt) - before
        if len(new) != 1:
            raise ChecklistFailure(f"{head}\n  expected 1 new target record, found {len(new)}")
        return
    if check == "merges-existing":
        _check_match_links(bench, case, flow, src, tgt, head, near_miss=False)
        return
    if flow.policy is Policy.LINK_REQUIRED:
        pair = _check_match_links(bench, case, flow, src, tgt, head, near_miss=False)
        assert pair is not None
        source_id, target_id = pair
    else:
        source_id = bench.create(src, bench.record_for(flow, "source", src, seed))
        bench.sync()
        target_id = linked_target(bench, tgt, before, head)
    if check == "second-sync-no-change":
        src_mark = src.changed_since(None).watermark
        tgt_mark = tgt.changed_since(None).watermark
        bench.sync()
        changed = [
            (s.entity, c.id) for s, mark in ((src, src_mark), (tgt, tgt_mark)) for c in s.changed_since(mark).changes
        ]
        if changed:
            raise ChecklistFailure(f"{head}\n  the second sync changed {changed}")
        if bench.ids(tgt) - before - {target_id}:
            raise ChecklistFailure(f"{head}\n  the second sync created records")
        return
    if check == "edit-keeps-link":
        row = flow.syncable_rows[0]
        domain = _domain(src, tgt, row)
        value = _fresh_value(domain, seed + 5, get_path(src.get(source_id), row.source))
        bench_update(src, source_id, row.source, value)
        bench.sync()
        now = bench.ids(tgt) - before
        if now != {target_id}:
            raise ChecklistFailure(f"{head}\n  after an edit the target records are {sorted(now)}, not [{target_id}]")
        _expect(
            bench,
            {**case, "source": row.source, "target": row.target},
            tgt,
            target_id,
            row.target,
            value,
            f"editing {src.entity}.{row.source}",
        )
        return
    raise Unsupported(f"no check named {check!r}")


# -- match rules ------------------------------------------------------------------------------------


def _match_values(
    bench: Bench, case: dict[str, Any], flow: Flow, src: ResourceConnector, tgt: ResourceConnector
) -> tuple[dict[str, Any], dict[str, Any], Domain]:
    """Equal values for both sides of the case's match rule (the flow's first, for link checks)."""
    rules = [r for r in flow.match if r.line == case["line"]] if case["kind"] == "match" else list(flow.match[:1])
    if not rules:
        raise Unsupported("the flow has no match rule")
    rule = rules[0]
    sfield, tfield = src.fields.get(rule.source), tgt.fields.get(rule.target)
    if sfield is None or tfield is None:
        raise Unsupported(f"no connector field for the match rule {rule.source} == {rule.target}")
    domain = Domain.of(sfield, tfield)
    value = example(domain, case["line"] * 10 + 11)
    return {rule.source: value}, {rule.target: value}, domain


def _check_match_links(
    bench: Bench,
    case: dict[str, Any],
    flow: Flow,
    src: ResourceConnector,
    tgt: ResourceConnector,
    head: str,
    *,
    near_miss: bool,
) -> tuple[str, str] | None:
    """Arrange a target and a source that match (or nearly match), sync, check; the linked pair."""
    seed = case["line"] * 10 + 7
    src_over, tgt_over, domain = _match_values(bench, case, flow, src, tgt)
    target_id = bench.create(tgt, bench.record_for(flow, "target", tgt, seed, tgt_over))
    if near_miss:
        ((path, v),) = src_over.items()
        src_over = {path: _fresh_value(domain, seed, v)}  # as valid as the match value, but not equal
    before = bench.ids(tgt)
    source_id = bench.create(src, bench.record_for(flow, "source", src, seed + 1, src_over))
    bench.sync()
    new = bench.ids(tgt) - before
    if near_miss:
        if flow.policy is Policy.MERGE_OR_CREATE and len(new) != 1:
            raise ChecklistFailure(f"{head}\n  a near-miss should get a new record, found {len(new)} new")
        if flow.policy is not Policy.MERGE_OR_CREATE and new:
            raise ChecklistFailure(f"{head}\n  a near-miss created {len(new)} records")
        return None
    if new:
        raise ChecklistFailure(
            f"{head}\n  the existing {tgt.entity} {target_id} was not merged: {len(new)} new record(s) created instead"
        )
    other = [r for r in flow.syncable_rows if r.target not in tgt_over and r.source not in src_over]
    if other:
        row = other[0]
        expected = get_path(bench.record_for(flow, "source", src, seed + 1, src_over), row.source)
        _expect(
            bench,
            {**case, "source": row.source, "target": row.target, "direction": "forward"},
            tgt,
            target_id,
            row.target,
            expected,
            "merging",
        )
    return source_id, target_id


def check_match(bench: Bench, case: dict[str, Any]) -> None:
    flow, src, tgt = _flow(bench, case)
    head = f"{where(bench, case)} [match {case['source']} == {case['target']}, {case['check']}]"
    _check_match_links(bench, case, flow, src, tgt, head, near_miss=case["check"] == "near-miss")


CHECKS = {"mapping": check_mapping, "link": check_link, "match": check_match}
