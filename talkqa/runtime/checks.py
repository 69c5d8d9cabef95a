"""The checks behind each generated test: arrange, sync, assert, per checklist case.

Each check raises :class:`ChecklistFailure` with a message a QA engineer can act on: the
document and line, the flow, the property and direction, expected and actual values.
Cases that cannot be checked raise :class:`Unsupported` (the plugin turns it into a skip
with the reason).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Hashable, Iterable
from typing import Any

from generator.model import Flow, MatchRule, Policy
from generator.model import Mapping as Row
from talkqa.connectors.base import FieldSpec, Record, ResourceConnector
from talkqa.connectors.codecs import get_path
from talkqa.runtime.bench import Bench
from talkqa.runtime.failures import NOTHING_SENT, ChecklistFailure, Unsupported
from talkqa.runtime.values import Domain, clearable, example, incompatibility, join
from talkqa.sync import predicates

__all__ = ["CHECKS", "ChecklistFailure", "Unsupported"]


def same(a: Any, b: Any) -> bool:
    """Canonical equality, with an empty string and a missing value the same, and a date or a number
    equal to its text (what a sync writes into a text field)."""
    for number, text in ((a, b), (b, a)):  # a number read back from a text field: compare as numbers
        if isinstance(number, int | float) and not isinstance(number, bool) and isinstance(text, str):
            try:
                return float(text) == float(number)
            except ValueError:
                return False
    a, b = _canonical(a), _canonical(b)
    return a == b


def _canonical(value: Any) -> Any:
    if value == "":
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return value


def same_bucket(value: Any) -> Hashable | None:
    """A key that values :func:`same` to ``value`` share (equal keys do not make values the same; unequal
    keys make them differ). None: ``value`` has no key (it may be the same as anything)."""
    if value is None:
        return ("text", None)
    if isinstance(value, bool):
        return ("other", value)
    if isinstance(value, int | float | str):
        try:
            number = float(value)  # a number's text is the same as the number
        except (ValueError, OverflowError):
            return ("text", _canonical(value)) if isinstance(value, str) else None
        return None if number != number else ("number", number)  # NaN: equal to nothing, yet "nan" == "nan"
    if isinstance(value, dt.date):
        return ("text", value.isoformat())
    return None


class SameValues:
    """A bag of values to look up with :func:`same`, visiting only those that share a :func:`same_bucket`
    (with thousands of values a linear scan per lookup is the cost of a check)."""

    def __init__(self, values: Iterable[Any] = ()) -> None:
        self._buckets: dict[Hashable, list[tuple[int, Any]]] = {}
        self._keyless: list[tuple[int, Any]] = []
        self._added = 0
        for value in values:
            self.add(value)

    def add(self, value: Any) -> None:
        key = same_bucket(value)
        (self._keyless if key is None else self._buckets.setdefault(key, [])).append((self._added, value))
        self._added += 1

    def _candidates(self, value: Any) -> list[list[tuple[int, Any]]]:
        key = same_bucket(value)
        if key is None:
            return [*self._buckets.values(), self._keyless]
        return [self._buckets.get(key, []), self._keyless]

    def __contains__(self, value: Any) -> bool:
        return any(same(v, value) for group in self._candidates(value) for _, v in group)

    def take(self, value: Any) -> bool:
        """Remove the earliest added value that is the same as ``value``; whether there was one."""
        # each group is in the order values were added: its first match is its earliest
        hits = []
        for group in self._candidates(value):
            i = next((i for i, (_, v) in enumerate(group) if same(v, value)), None)
            if i is not None:
                hits.append((group[i][0], group, i))
        if not hits:
            return False
        _, group, i = min(hits, key=lambda hit: hit[0])
        group.pop(i)
        return True

    def values(self) -> list[Any]:
        """What is left, in the order it was added."""
        return [v for _, v in sorted((item for group in (*self._buckets.values(), self._keyless) for item in group),
                                     key=lambda item: item[0])]


def where(bench: Bench, case: dict[str, Any]) -> str:
    return f"{case['document']}:{case['line']}: {case['flow_title']}"


def _row(flow: Flow, case: dict[str, Any]) -> Row:
    for m in flow.mappings:
        if m.line == case["line"] and m.source == case["source"] and m.target == case["target"]:
            return m
    raise Unsupported(f"row at line {case['line']} is not in the document model")


def _flow(bench: Bench, case: dict[str, Any]) -> tuple[Flow, ResourceConnector, ResourceConnector]:
    flow = bench.document.flows[case["flow"]]
    condition = bench.flow_predicate(flow)
    if flow.policy is Policy.CONDITIONAL and condition is None:
        raise Unsupported(f"conditional flow: no predicate registered for {flow.condition!r} (add one to the "
                          "system's profile, docs/systems.md)")
    try:
        src, tgt = bench.pair(flow)
    except LookupError as exc:
        raise Unsupported(f"no connector: {exc}") from None
    if condition is not None and condition.path:
        spec = src.fields.get(condition.path)
        if spec is None or spec.read_only:
            raise Unsupported(f"conditional flow: the {src.system} {src.entity} connector has no writable field "
                              f"{condition.path!r} to make {flow.condition!r} hold (set the field in the system's "
                              "profile, [conventions])")
    return flow, src, tgt


def _domain(src: ResourceConnector, tgt: ResourceConnector, row: Row, bench: Bench | None = None,
            flow: Flow | None = None) -> Domain:
    """Values both fields of ``row`` accept (and, given the bench, every other field of the document they
    flow into)."""
    sfield, tfield = src.fields.get(row.source), tgt.fields.get(row.target)
    if sfield is None:
        raise Unsupported(f"the {src.system} {src.entity} connector has no field {row.source!r}")
    if tfield is None:
        raise Unsupported(f"the {tgt.system} {tgt.entity} connector has no field {row.target!r}")
    why = incompatibility(sfield, tfield)
    if why:
        raise Unsupported(why)
    empty_ok = clearable(sfield) and clearable(tfield)
    if bench is None or flow is None:
        return dataclasses.replace(Domain.of(sfield, tfield), empty_ok=empty_ok)
    a = bench.value_domain("source", flow.source_label, row.source, sfield)
    b = bench.value_domain("target", flow.target_label, row.target, tfield)
    if a is None or b is None:
        raise Unsupported("type change: another row of the document carries this property into a field of "
                          "another kind, so no value survives every flow it reaches")
    joined = join([FieldSpec(row.source, a.kind, a.max_length), FieldSpec(row.target, b.kind, b.max_length)])
    # empty only when every field the value reaches from the source may be empty (another flow from the source
    # entity may carry it into a required field); a target record has one origin, so an emptied target value
    # reaches other flows only through its source
    return dataclasses.replace(joined, empty_ok=empty_ok and a.empty_ok)


def _fresh_value(domain: Domain, seed: int, avoid: Any) -> Any:
    for k in range(1, 50):
        value = example(domain, seed + 7919 * k)
        if not same(value, avoid):
            return value
    raise Unsupported(f"cannot find a second valid value for a {domain.kind} field")


def _no_creating_sibling(bench: Bench, flow: Flow) -> None:
    """"Nothing is created" cannot be seen when another section of the document, between the same two
    entities, creates a counterpart for every record."""
    for other in bench.document.flows:
        same_pair = (other.source_label, other.target_label) == (flow.source_label, flow.target_label)
        if other is not flow and same_pair and other.policy in (Policy.ALWAYS, Policy.MERGE_OR_CREATE):
            raise Unsupported(
                f"another section between the same entities (line {other.line}) creates a {other.target_entity} "
                f"for every {other.source_entity}, so 'nothing is created' cannot hold for the document"
            )


def linked_target(bench: Bench, tgt: ResourceConnector, before: set[str], what: str) -> str:
    new = sorted(bench.ids(tgt) - before)
    if len(new) != 1:
        raise ChecklistFailure(f"{what}: expected exactly 1 new {tgt.entity} record after the sync, found {len(new)}")
    return new[0]


def _expect(
    bench: Bench, case: dict[str, Any], system: ResourceConnector, record_id: str, path: str, expected: Any,
    action: str, since: int | None = None,
) -> None:
    """The record holds ``expected`` at ``path``: read back when live; from what the sync sent when replayed
    (only the writes from ``since``, the step under test, when given: an earlier write, such as the
    create's, is never quoted as the step's)."""
    head = f"{where(bench, case)}: {case['source']} -> {case['target']} [{case['direction']}]"
    actual = bench.read(system, record_id, path)  # replayed too, so recordings and replays ask the same
    if bench.live:
        if not same(actual, expected):
            raise ChecklistFailure(
                f"{head}\n  after {action}, {system.entity}.{path} should be {expected!r}\n  but it is {actual!r}",
                expected=expected, actual=actual,
            )
        return
    sent = bench.sut_wrote(system.system, system.entity, record_id, path)
    earlier: list[Any] = []
    if since is not None:
        step = [w.values[path] for w in bench.writes[since:] if (w.system, w.entity, w.record_id) ==
                (system.system, system.entity, record_id) and path in w.values]
        earlier, sent = sent[: len(sent) - len(step)], step
    if not sent or not same(sent[-1], expected):
        wanted = f"{head}\n  after {action}, the sync should write {system.entity}.{path} = {expected!r}\n"
        if sent:
            raise ChecklistFailure(f"{wanted}  but it wrote {sent[-1]!r}", expected=expected, actual=sent[-1])
        before = f" (its last write of it, before this step, was {earlier[-1]!r})" if earlier else ""
        raise ChecklistFailure(f"{wanted}  but it sent no value for it{before}", expected=expected,
                               actual=NOTHING_SENT)


# -- mapping rows -----------------------------------------------------------------------------------

IDENTIFIER_BACK = "identifier row: ids are assigned by each system, so there is no edit to carry back"


def pinning_row(flow: Flow, tgt: ResourceConnector, row: Row) -> Row | None:
    """The row of the two-way flow that writes the target's id into ``row``'s source property
    (``customer.id -> id`` beside ``customer.id -> customerId``), if any: that property then holds an id,
    so an edit of ``row``'s target has no way back into it."""
    target_id = id_path(tgt)
    if not flow.two_way or target_id is None or row.target == target_id:
        return None
    return next((other for other in flow.syncable_rows if other.source == row.source and other.target == target_id),
                None)


def not_pinned(flow: Flow, tgt: ResourceConnector, row: Row) -> None:
    """Raise :class:`Unsupported` for the reverse of a row whose source property holds the target's id."""
    other = pinning_row(flow, tgt, row)
    if other is not None:
        raise Unsupported(f"identifier row: line {other.line} writes the target's id into {row.source}, so an edit "
                          f"of {row.target} cannot be carried back into it")


def id_path(connector: ResourceConnector) -> str | None:
    """The path of the record's own identifier (assigned by the system), if the connector exposes it."""
    return getattr(connector, "id_path", None)


def same_id(a: Any, b: Any) -> bool:
    """Identifiers compare as text: ``7`` on one side is ``"7"`` on the other."""
    return a is not None and b is not None and str(a) == str(b)


def linked_pair(
    bench: Bench, case: dict[str, Any], flow: Flow, src: ResourceConnector, tgt: ResourceConnector, seed: int,
    overrides: dict[str, Any] | None = None,
) -> tuple[str, str, Record]:
    """A source record and its linked target, arranged as the flow's policy requires (a matching target
    first when the flow requires a link); also the source record as it was created."""
    if flow.policy is Policy.LINK_REQUIRED:
        head = f"{where(bench, case)}: linking a pair through the match rules"
        source_id, target_id, created = _check_match_links(bench, case, flow, src, tgt, head, near_miss=False,
                                                           overrides=overrides)
        return source_id, target_id, created
    before = bench.ids(tgt)
    created = bench.record_for(flow, "source", src, seed, overrides)
    source_id = bench.create(src, created)
    bench.sync()
    target_id = linked_target(bench, tgt, before, f"{where(bench, case)}: creating the linked record")
    return source_id, target_id, created


def _switched_off(bench: Bench, case: dict[str, Any], flow: Flow, src: ResourceConnector,
                  tgt: ResourceConnector) -> bool:
    """A flow the document switches off ("This removes all ... for now"): nothing reaches the target."""
    condition = bench.flow_predicate(flow)
    if condition is None or not condition.never:
        return False
    _no_creating_sibling(bench, flow)
    before = bench.ids(tgt)
    bench.create(src, bench.record_for(flow, "source", src, case["line"] * 10 + 9))
    bench.sync()
    new = bench.ids(tgt) - before
    if new:
        raise ChecklistFailure(f"{where(bench, case)}: the document switches this flow off ({flow.condition!r})\n"
                               f"  but a {src.entity} produced {len(new)} new {tgt.entity} record(s)")
    return True


def check_mapping(bench: Bench, case: dict[str, Any]) -> None:
    flow, src, tgt = _flow(bench, case)
    if _switched_off(bench, case, flow, src, tgt):
        return
    row = _row(flow, case)
    if row.condition is not None:
        _check_conditional_row(bench, case, flow, src, tgt, row)
        return
    if row.source == id_path(src) or row.target == id_path(tgt):
        _check_identifier_row(bench, case, flow, src, tgt, row)
        return
    if case["direction"] == "reverse":
        not_pinned(flow, tgt, row)
    _writable(src, tgt, row, case["direction"])
    domain = _domain(src, tgt, row, bench, flow)
    seed = case["line"] * 10
    # fan-in: a target fed by several rows takes the first non-empty source (document order), so the
    # rows before this one start empty, and this row's edit is the one that must arrive
    overrides = _emptied_earlier(src, flow, row) if case["direction"] == "forward" else None
    source_id, target_id, created = linked_pair(bench, case, flow, src, tgt, seed, overrides)
    baseline = get_path(created, row.source)
    value = _fresh_value(domain, seed + 1, baseline)
    governing = governing_row(flow, row.target)
    mark = len(bench.writes)
    if case["direction"] == "forward":
        bench_update(src, source_id, row.source, value)
        bench.sync()
        _expect(bench, case, tgt, target_id, row.target, value, f"editing {src.entity}.{row.source}", mark)
    elif case["governs_reverse"]:
        bench_update(tgt, target_id, row.target, value)
        bench.sync()
        _expect(bench, case, src, source_id, row.source, value, f"editing {tgt.entity}.{row.target}", mark)
    elif governing is not None and governing.source != id_path(src):
        # another row (the first for this target and for its source) carries the edit back
        bench_update(tgt, target_id, row.target, value)
        bench.sync()
        _expect(bench, {**case, "source": governing.source, "line": case["line"]}, src, source_id, governing.source,
                value, f"editing {tgt.entity}.{row.target} (carried back by line {governing.line}, the row that "
                "carries edits of it back)", mark)
    else:
        bench_update(tgt, target_id, row.target, value)
        bench.sync()
        first = flow_first_source(flow, row.target)
        forward = source_id if first == id_path(src) else get_path(created, first)  # the first row may carry the id
        _expect(
            bench,
            case,
            tgt,
            target_id,
            row.target,
            forward,
            f"editing {tgt.entity}.{row.target} (not the row that carries edits back: reset to the source)",
            mark,
        )


def _writable(src: ResourceConnector, tgt: ResourceConnector, row: Row, direction: str) -> None:
    """A check edits one side and the sync writes the other: a field the system assigns (read-only) can be
    neither, so such a row is not checkable by an edit."""
    for side, path in ((tgt, row.target), (src, row.source)):
        spec = side.fields.get(path)
        if spec is not None and spec.read_only:
            raise Unsupported(f"read-only field: the {side.system} {side.entity} field {path!r} is assigned by the "
                              "system, so no edit of it can be synchronized")


def _check_conditional_row(
    bench: Bench, case: dict[str, Any], flow: Flow, src: ResourceConnector, tgt: ResourceConnector, row: Row
) -> None:
    """"Dependant on having VALUE in PATH": the row syncs while PATH holds VALUE, and not otherwise."""
    assert row.condition is not None
    condition = predicates.row_condition(row.condition)
    if condition is None:
        raise Unsupported("conditional row: the document leaves its value or path blank (or names several), "
                          "so when it applies is not stated")
    if case["direction"] != "forward":
        raise Unsupported("conditional row: the document states when it applies from the source only")
    side = row.condition.side
    holder = src if side == "source" else tgt
    spec = holder.fields.get(condition.path)
    if spec is None or spec.read_only:
        raise Unsupported(f"conditional row: the {holder.system} {holder.entity} connector has no field "
                          f"{condition.path!r} to hold {condition.equals!r}")
    if row.source == id_path(src) or row.target == id_path(tgt):
        _check_conditional_identifier_row(bench, case, flow, src, tgt, row, condition)
        return
    domain = _domain(src, tgt, row, bench, flow)
    for holds, seed in ((True, case["line"] * 10), (False, case["line"] * 10 + 5)):
        value_at_path = condition.holding() if holds else condition.failing()
        over: dict[str, Any] = _emptied_earlier(src, flow, row)  # fan-in: earlier sources start empty
        if side == "source":
            over[condition.path] = value_at_path
        try:
            source_id, target_id, created = linked_pair(bench, case, flow, src, tgt, seed, over or None)
        except ValueError as exc:
            raise Unsupported(f"conditional row: {condition.path} cannot hold {value_at_path!r} ({exc})") from None
        if side == "target":
            bench_update(tgt, target_id, condition.path, value_at_path)
            bench.sync()
        before = bench.read(tgt, target_id, row.target)
        mark = len(bench.writes)
        value = _fresh_value(domain, seed + 1, get_path(created, row.source))
        bench_update(src, source_id, row.source, value)
        bench.sync()
        state = "holds" if holds else "does not hold"
        if holds:
            _expect(bench, case, tgt, target_id, row.target, value,
                    f"editing {src.entity}.{row.source} while {condition.path} = {value_at_path!r} ({state})", mark)
        else:
            after = bench.read(tgt, target_id, row.target)
            sent = [w.values[row.target] for w in bench.writes[mark:]
                    if w.entity == tgt.entity and w.record_id == target_id and row.target in w.values]
            if sent and not bench.live:
                after = sent[-1]
            if not same(after, before):
                raise ChecklistFailure(
                    f"{where(bench, case)}: {row.source} -> {row.target} [forward]\n  with {condition.path} = "
                    f"{value_at_path!r} the condition {row.condition.text!r} does not hold, so the row must not "
                    f"sync\n  but {tgt.entity}.{row.target} changed from {before!r} to {after!r}")


CONDITIONAL_ID_BACK = ("conditional row: the target's id is written back into the source only through rows without a "
                       "condition")


def _check_conditional_identifier_row(
    bench: Bench, case: dict[str, Any], flow: Flow, src: ResourceConnector, tgt: ResourceConnector, row: Row,
    condition: predicates.Predicate,
) -> None:
    """``id -> X`` under a condition: an id cannot be edited, so with the condition held the linked target's
    X holds the source record's id, and with it not held X never receives it."""
    assert row.condition is not None
    if row.target == id_path(tgt):
        raise Unsupported(CONDITIONAL_ID_BACK)
    spec = tgt.fields.get(row.target)
    if spec is None or spec.read_only:
        why = "has no field" if spec is None else "cannot write the field"
        raise Unsupported(f"the {tgt.system} {tgt.entity} connector {why} {row.target!r}")
    side = row.condition.side
    for holds, seed in ((True, case["line"] * 10), (False, case["line"] * 10 + 5)):
        value_at_path = condition.holding() if holds else condition.failing()
        over = {condition.path: value_at_path} if side == "source" else None
        try:
            source_id, target_id, _created = linked_pair(bench, case, flow, src, tgt, seed, over)
            if side == "target":
                bench_update(tgt, target_id, condition.path, value_at_path)
                bench.sync()
        except ValueError as exc:
            raise Unsupported(f"conditional row: {condition.path} cannot hold {value_at_path!r} ({exc})") from None
        state = "holds" if holds else "does not hold"
        action = f"linking with {condition.path} = {value_at_path!r} ({state})"
        if holds:
            _expect(bench, case, tgt, target_id, row.target, source_id, action)
            continue
        actual = bench.read(tgt, target_id, row.target)
        sent = bench.sut_wrote(tgt.system, tgt.entity, target_id, row.target)
        if same_id(sent[-1] if sent and not bench.live else actual, source_id):
            raise ChecklistFailure(
                f"{where(bench, case)}: {row.source} -> {row.target} [forward]\n  with {condition.path} = "
                f"{value_at_path!r} the condition {row.condition.text!r} does not hold, so the row must not sync\n"
                f"  but {tgt.entity}.{row.target} holds the source's id {source_id!r}")


def _check_identifier_row(
    bench: Bench, case: dict[str, Any], flow: Flow, src: ResourceConnector, tgt: ResourceConnector, row: Row
) -> None:
    """Rows that name a record's own identifier (docs/systems.md, "Identifier rows"):

    * ``id -> id``: the two records are one identity: a source record gets exactly one linked target;
    * ``id -> X``: the target's X holds the source record's id (and an edit of X is reset to it);
    * ``X -> id``: in a two-way flow the source's X learns the linked target's id.
    """
    src_is_id, tgt_is_id = row.source == id_path(src), row.target == id_path(tgt)
    direction = case["direction"]
    for is_id, connector, path in ((src_is_id, src, row.source), (tgt_is_id, tgt, row.target)):
        spec = connector.fields.get(path)
        if not is_id and (spec is None or spec.read_only):
            why = "has no field" if spec is None else "cannot write the field"
            raise Unsupported(f"the {connector.system} {connector.entity} connector {why} {path!r}")
    if tgt_is_id and not src_is_id and not flow.two_way:
        raise Unsupported("identifier row: the target's id is assigned by the target system and a one-way "
                          "flow carries nothing back")
    if direction == "reverse" and (tgt_is_id or not flow.two_way):
        raise Unsupported(IDENTIFIER_BACK)
    overrides: dict[str, Any] | None = None
    if src_is_id and not tgt_is_id:
        governing = governing_row(flow, row.target)
        if direction == "reverse" and governing is not None and governing.line != row.line:
            raise Unsupported(f"{NOT_CARRYING_BACK}: line {governing.line} carries edits of {row.target} back")
        # fan-in: the rows before this one feed X when not empty, so they start empty and the id arrives
        overrides = _emptied_earlier(src, flow, row) if direction == "forward" else None
    if tgt_is_id and not src_is_id:
        other = _other_id_writer(bench, flow, row)
        if other is not None:
            raise Unsupported(f"another section (line {other.line}) also writes its target's id into {row.source}: "
                              "the source holds one record's id, not both")
    seed = case["line"] * 10
    source_id, target_id, _created = linked_pair(bench, case, flow, src, tgt, seed, overrides or None)
    head = f"{where(bench, case)}: {case['source']} -> {case['target']} [{direction}]"
    if src_is_id and tgt_is_id:
        return  # the link itself: linked_pair found exactly one linked target
    if tgt_is_id:
        actual = bench.read(src, source_id, row.source)
        if bench.live and not same_id(actual, target_id):
            raise ChecklistFailure(f"{head}\n  after linking, {src.entity}.{row.source} should hold the linked "
                                   f"{tgt.entity}'s id {target_id!r}\n  but it is {actual!r}")
        if not bench.live:
            sent = bench.sut_wrote(src.system, src.entity, source_id, row.source)
            if not sent or not same_id(sent[-1], target_id):
                raise ChecklistFailure(f"{head}\n  after linking, the sync should write {src.entity}.{row.source} "
                                       f"= {target_id!r}\n  but it wrote {sent[-1]!r}" if sent else
                                       f"{head}\n  after linking, the sync should write {src.entity}.{row.source} "
                                       f"= {target_id!r}\n  but it sent no value for it")
        return
    # id -> X
    if direction == "reverse":
        tfield = tgt.fields.get(row.target)
        kind = tfield.kind if tfield is not None else "string"
        fresh = _fresh_value(Domain(kind if kind in ("integer", "string") else "string", None), seed + 1, source_id)
        bench_update(tgt, target_id, row.target, fresh)
        bench.sync()
        action = f"editing {tgt.entity}.{row.target} (an id cannot change: reset to the source's id)"
    else:
        action = "linking"
    actual = bench.read(tgt, target_id, row.target)
    if bench.live:
        if not same_id(actual, source_id):
            raise ChecklistFailure(f"{head}\n  after {action}, {tgt.entity}.{row.target} should hold the source's "
                                   f"id {source_id!r}\n  but it is {actual!r}")
        return
    sent = bench.sut_wrote(tgt.system, tgt.entity, target_id, row.target)
    if not sent or not same_id(sent[-1], source_id):
        raise ChecklistFailure(f"{head}\n  after {action}, the sync should write {tgt.entity}.{row.target} = "
                               f"{source_id!r}\n  but it " + (f"wrote {sent[-1]!r}" if sent else "sent no value"))


#: how a reverse case that another row carries back is set aside (the wording the generator uses too)
NOT_CARRYING_BACK = "not the row that carries edits back (fan-in/fan-out rule)"


def _other_id_writer(bench: Bench, flow: Flow, row: Row) -> Row | None:
    """A row of another two-way section from the same source entity that writes *its* target's id into
    ``row.source`` too (``subscription_id -> id`` in two sections to two entities)."""
    mine = bench.pair(flow)[1]
    for other_flow in bench.document.flows:
        if other_flow is flow or not other_flow.two_way or other_flow.source_label != flow.source_label:
            continue
        other_tgt = bench.pair(other_flow)[1]
        if other_flow.target_label == flow.target_label and other_tgt.system == mine.system:
            continue  # the same entity: the sections share their links, so their ids are one
        for other in other_flow.syncable_rows:
            if other.source == row.source and other.target == id_path(other_tgt):
                return other
    return None


def _emptied_earlier(src: ResourceConnector, flow: Flow, row: Row) -> dict[str, Any]:
    """Overrides that empty the fan-in rows before ``row``; a row behind a field the system fills
    (read-only) cannot be the one whose value arrives."""
    earlier = earlier_sources(flow, row)
    for path in earlier:
        if not _plain(src, path):
            raise Unsupported(f"fan-in: an earlier row feeds {row.target} from {path!r}, which the "
                              f"{src.system} {src.entity} connector cannot empty, so this row's value never "
                              "arrives")
    return dict.fromkeys(earlier)


def earlier_sources(flow: Flow, row: Row) -> list[str]:
    """Sources of the rows before ``row`` that feed the same target (fan-in), in document order."""
    out = []
    for other in flow.synced_mappings:  # conditional rows too: the sync applies them while they hold
        if other is row or (other.line == row.line and other.source == row.source):
            break
        if other.target == row.target and other.source != row.source:
            out.append(other.source)
    return out


def forward_value(flow: Flow, source: Record, target: str) -> Any:
    """What the sync writes to ``target`` from ``source``: the first non-empty source of the rows that
    feed it, in document order (the fan-in rule)."""
    value = None
    for row in flow.syncable_rows:
        if row.target == target:
            value = get_path(source, row.source)
            if value not in (None, ""):
                return value
    return value


def governing_row(flow: Flow, target: str) -> Row | None:
    """The row that carries edits of ``target`` back to the source, if any (``Flow.reverse_rows``)."""
    return next((r for r in flow.reverse_rows if r.target == target), None)


def flow_first_source(flow: Flow, target: str) -> str:
    return next(m.source for m in flow.syncable_rows if m.target == target)


def bench_update(connector: ResourceConnector, record_id: str, path: str, value: Any) -> None:
    from talkqa.connectors.codecs import set_path

    connector.update(record_id, set_path({}, path, value))


# -- link policy ------------------------------------------------------------------------------------


def check_link(bench: Bench, case: dict[str, Any]) -> None:
    flow, src, tgt = _flow(bench, case)
    if _switched_off(bench, case, flow, src, tgt):
        return
    check = case["check"]
    from talkqa.runtime.teeth import TEETH

    if check in TEETH:
        TEETH[check](bench, case, flow, src, tgt)
        return
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
    if check == "skips-when-condition-fails":
        _no_creating_sibling(bench, flow)
        condition = bench.flow_predicate(flow)
        assert condition is not None
        bench.create(src, bench.record_for(flow, "source", src, seed, {condition.path: condition.failing()}))
        bench.sync()
        new = bench.ids(tgt) - before
        if new:
            raise ChecklistFailure(f"{head}\n  a {src.entity} with {condition.path} = {condition.failing()!r} "
                                   f"(the condition does not hold) produced {len(new)} new {tgt.entity} record(s)")
        return
    if check == "no-create-without-match":
        _no_creating_sibling(bench, flow)
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
        source_id, target_id, _created = _check_match_links(bench, case, flow, src, tgt, head, near_miss=False)
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
        rows = [r for r in flow.syncable_rows if r.source != id_path(src) and r.target != id_path(tgt)]
        if not rows:
            raise Unsupported("the flow synchronizes only identifiers: no property to edit")
        # an edit shows on the target through the first row feeding it (fan-in): a later row's edit does not
        # arrive while an earlier source holds a value, e.g. the source's id
        carrying = [r for r in rows if flow_first_source(flow, r.target) == r.source]
        if not carrying:
            raise Unsupported(f"fan-in: every editable row feeds a target an earlier row feeds first (line "
                              f"{rows[0].line}: {rows[0].target}), so no edit of one shows on the target")
        row = carrying[0]
        domain = _domain(src, tgt, row, bench, flow)
        value = _fresh_value(domain, seed + 5, get_path(src.get(source_id), row.source))
        mark = len(bench.writes)
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
            mark,
        )
        return
    raise Unsupported(f"no check named {check!r}")


# -- match rules ------------------------------------------------------------------------------------


def _rule_for(case: dict[str, Any], flow: Flow, src: ResourceConnector, tgt: ResourceConnector) -> MatchRule:
    """The case's match rule; for link checks the flow's first rule on properties (not identifiers)."""
    if case["kind"] == "match":
        rules = [r for r in flow.match if r.line == case["line"]]
    else:
        rules = sorted(flow.match, key=lambda r: (r.source == id_path(src)) + (r.target == id_path(tgt)))[:1]
    if not rules:
        raise Unsupported("the flow has no match rule")
    return rules[0]


def _check_match_links(
    bench: Bench,
    case: dict[str, Any],
    flow: Flow,
    src: ResourceConnector,
    tgt: ResourceConnector,
    head: str,
    *,
    near_miss: bool,
    overrides: dict[str, Any] | None = None,
) -> tuple[str, str, Record]:
    """Arrange a target and a source that match (or nearly match) by one rule, sync, check; the linked
    pair and the source record as created. A rule on an identifier takes the id the system assigned."""
    seed = case["line"] * 10 + 7
    rule = _rule_for(case, flow, src, tgt)
    src_id_rule, tgt_id_rule = rule.source == id_path(src), rule.target == id_path(tgt)
    sfield, tfield = src.fields.get(rule.source), tgt.fields.get(rule.target)
    if sfield is None or tfield is None:
        raise Unsupported(f"no connector field for the match rule {rule.source} == {rule.target}")
    if src_id_rule and tgt_id_rule and near_miss:
        raise Unsupported("identifier match rule: identifiers are assigned by each system and cannot be arranged "
                          "to nearly match")
    if src_id_rule and not tgt_id_rule:  # id == X: the source first, then a target holding its id
        before = bench.ids(tgt)
        created = bench.record_for(flow, "source", src, seed + 1)
        source_id = bench.create(src, created)
        value: Any = _typed_id(tfield, source_id, near_miss)
        target_id = bench.create(tgt, bench.record_for(flow, "target", tgt, seed, {rule.target: value}))
        before |= {target_id}  # the arranged target is no new record of the sync's
    else:
        if tgt_id_rule:
            target_id = bench.create(tgt, bench.record_for(flow, "target", tgt, seed))
            src_over = {} if src_id_rule else {rule.source: _typed_id(sfield, target_id, near_miss)}
        else:
            domain = _match_domain(bench, flow, rule, sfield, tfield)
            value = example(domain, case["line"] * 10 + 11)
            target_id = bench.create(tgt, bench.record_for(flow, "target", tgt, seed, {rule.target: value}))
            src_over = {rule.source: _fresh_value(domain, seed, value) if near_miss else value}
        before = bench.ids(tgt)
        created = bench.record_for(flow, "source", src, seed + 1, {**(overrides or {}), **src_over})
        source_id = bench.create(src, created)
        if src_id_rule and tgt_id_rule and not same_id(source_id, target_id):
            raise Unsupported(f"identifier match rule: cannot arrange records with equal ids in these systems "
                              f"(source {source_id}, target {target_id})")
    bench.sync()
    new = bench.ids(tgt) - before
    if near_miss:
        if flow.policy is Policy.MERGE_OR_CREATE and len(new) != 1:
            raise ChecklistFailure(f"{head}\n  a near-miss should get a new record, found {len(new)} new")
        if flow.policy is not Policy.MERGE_OR_CREATE and new:
            raise ChecklistFailure(f"{head}\n  a near-miss created {len(new)} records")
        return source_id, target_id, created
    if new:
        raise ChecklistFailure(
            f"{head}\n  the existing {tgt.entity} {target_id} was not merged: {len(new)} new record(s) created instead"
        )
    matched = {rule.source, rule.target}
    other = [r for r in flow.syncable_rows if r.target not in matched and r.source not in matched
             and r.source != id_path(src) and r.target != id_path(tgt)
             and _plain(src, r.source) and _plain(tgt, r.target)]
    other = [r for r in other if forward_value(flow, created, r.target) not in (None, "")]
    if other:
        # the row the test is about when the merge carries it (so a row that did not carry fails its own
        # tests, and each row's tests check its own value), else the first
        own = [r for r in other if (r.line, r.source, r.target) == (case.get("line"), case.get("source"),
                                                                      case.get("target"))]
        row = own[0] if own else other[0]
        expected = forward_value(flow, created, row.target)
        _expect(
            bench,
            {**case, "line": row.line, "source": row.source, "target": row.target, "direction": "forward"},
            tgt,
            target_id,
            row.target,
            expected,
            "merging",  # the row it checks is named by its own line (the test may be another row's)
        )
    return source_id, target_id, created


def _match_domain(bench: Bench, flow: Flow, rule: MatchRule, sfield: FieldSpec, tfield: FieldSpec) -> Domain:
    """Values a match rule's two fields both hold, arranged on both records: each field's own constraints
    joined with every field of the document the value flows on into (another flow may carry the source's
    property into a field of a narrower kind, such as an e-mail address)."""
    if incompatibility(sfield, tfield) is not None:
        return Domain.of(sfield, tfield)  # as before: the rule's own two fields decide
    a = bench.value_domain("source", flow.source_label, rule.source, sfield)
    b = bench.value_domain("target", flow.target_label, rule.target, tfield)
    if a is None or b is None:
        raise Unsupported("type change: another row of the document carries this property into a field of "
                          "another kind, so no value survives every flow it reaches")
    return join([FieldSpec(rule.source, a.kind, a.max_length), FieldSpec(rule.target, b.kind, b.max_length)])


def _plain(connector: ResourceConnector, path: str) -> bool:
    """A field the connector knows and may write."""
    spec = connector.fields.get(path)
    return spec is not None and not spec.read_only


def _typed_id(spec: FieldSpec, record_id: str, near_miss: bool) -> Any:
    """A record's id as the other side's field holds it; for a near-miss, a valid value that differs."""
    text = f"{record_id}9" if near_miss else record_id
    if spec.kind in ("integer", "float"):
        try:
            return int(text)
        except ValueError:
            raise Unsupported(f"the id {record_id!r} does not fit the {spec.kind} field {spec.path}") from None
    return text


def check_match(bench: Bench, case: dict[str, Any]) -> None:
    flow, src, tgt = _flow(bench, case)
    if case["check"] == "near-miss" and flow.policy is not Policy.MERGE_OR_CREATE:
        _no_creating_sibling(bench, flow)
    head = f"{where(bench, case)} [match {case['source']} == {case['target']}, {case['check']}]"
    _check_match_links(bench, case, flow, src, tgt, head, near_miss=case["check"] == "near-miss")


CHECKS = {"mapping": check_mapping, "link": check_link, "match": check_match}
