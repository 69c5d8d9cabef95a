"""Flow checks beyond one value per row: clearing, collateral damage, case- and whitespace-only edits.

Each is a link check of a flow (``generator.cases.LINK_CHECKS``) that walks the flow's *editable rows*:
unconditional, not an identifier, a field both connectors know and may write, of compatible kinds, and
the only row feeding its target and the only target of its source (a fan-in or fan-out row's value
depends on its siblings, so "this edit arrives unchanged" is not its rule). Every row is named in a
failure; rows a check cannot try are set aside with their reason, and a flow with no row left raises
:class:`Unsupported` with every reason. Nothing names a system, entity or property: the rows come from
the model, what a field accepts from the connectors' :class:`FieldSpec`.

Live (simulators, sandbox) a check reads both records back; replayed it checks what the sync *sent*.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from generator.model import Flow, Policy
from generator.model import Mapping as Row
from talkqa.connectors.base import ConnectorError, Record, ResourceConnector
from talkqa.connectors.codecs import flatten, get_path, set_path
from talkqa.runtime.bench import Bench
from talkqa.runtime.checks import (
    ChecklistFailure,
    SameValues,
    Unsupported,
    _domain,
    _expect,
    _fresh_value,
    _plain,
    bench_update,
    governing_row,
    id_path,
    linked_pair,
    linked_target,
    same,
    where,
)
from talkqa.runtime.values import Domain, example

SOURCE, TARGET = "source", "target"


@dataclass(frozen=True)
class Editable:
    """A row a teeth check edits, with the values both of its fields accept."""

    row: Row
    domain: Domain
    back: bool  # a two-way flow carries edits of its target back through this row
    source_clearable: str | None  # why the source field cannot be emptied (None: it can)
    target_clearable: str | None


def _why_not_clearable(connector: ResourceConnector, path: str) -> str | None:
    spec = connector.fields.get(path)
    if spec is None:
        return f"the {connector.system} {connector.entity} connector has no field {path!r}"
    if spec.required_on_create:
        return f"{connector.entity}.{path} is required"
    if not spec.nullable:
        return f"{connector.entity}.{path} cannot be empty"
    if spec.kind == "boolean":
        return f"{connector.entity}.{path} is a boolean (no empty value)"
    return None


def editable_rows(bench: Bench, flow: Flow, src: ResourceConnector,
                  tgt: ResourceConnector) -> tuple[list[Editable], list[str]]:
    """The rows a teeth check can edit one at a time, and why each other row is set aside."""
    rows = list(flow.syncable_rows)
    out: list[Editable] = []
    skipped: list[str] = []
    for row in rows:
        label = f"line {row.line} ({row.source} -> {row.target})"
        why = None
        if row.condition is not None:
            why = "a conditional row"
        elif row.source == id_path(src) or row.target == id_path(tgt):
            why = "an identifier row"
        elif not (_plain(src, row.source) and _plain(tgt, row.target)):
            why = "a field a connector lacks or cannot write"
        elif sum(r.target == row.target for r in rows) > 1:
            why = "fan-in: another row feeds the same target"
        elif sum(r.source == row.source for r in rows) > 1:
            why = "fan-out: the source feeds another target too"
        if why is None:
            try:
                domain = _domain(src, tgt, row, bench, flow)
            except Unsupported as exc:
                why = str(exc)
        if why is not None:
            skipped.append(f"{label}: {why}")
            continue
        governing = governing_row(flow, row.target)
        out.append(Editable(
            row, domain, flow.two_way and governing is row,
            _why_not_clearable(src, row.source) or bench.why_not_emptied(SOURCE, flow.source_label, row.source),
            _why_not_clearable(tgt, row.target),  # emptied there, it goes back to the source: the line above
        ))
    return out, skipped


def _row_case(case: dict[str, Any], row: Row, direction: str) -> dict[str, Any]:
    return {**case, "source": row.source, "target": row.target, "direction": direction, "line": row.line}


def _none_left(check: str, skipped: list[str]) -> Unsupported:
    """Why a flow check cannot apply: one first line that is the same for every flow (the checklist groups
    reasons by it), then why each row was set aside, a line each (results JSON, JUnit, ``-rs``)."""
    if not skipped:
        return Unsupported(f"{check}: no row of this flow can be tried (the flow has no row)")
    return Unsupported(f"{check}: no row of this flow can be tried (every row is set aside: why, below)\n"
                       + "\n".join(f"  {why}" for why in skipped))


def _edit(connector: ResourceConnector, record_id: str, path: str, value: Any, what: str) -> str | None:
    """Arrange an edit as a user would make it; why the system refused it (None: accepted)."""
    try:
        bench_update(connector, record_id, path, value)
    except ConnectorError as exc:
        return str(Unsupported(f"the {connector.system} {connector.entity} system refuses {what} of {path!r} "
                               f"({exc})"))
    return None


def _step(bench: Bench, case: dict[str, Any], row: Row, direction: str, edited: ResourceConnector,
          edited_id: str, other: ResourceConnector, other_id: str, value: Any, what: str) -> str | None:
    """Edit one side of ``row`` to ``value``, sync, and expect ``value`` on the other side; why the
    edit could not be arranged (None: it was, and it arrived)."""
    mine, theirs = (row.source, row.target) if direction == "forward" else (row.target, row.source)
    mark = len(bench.writes)
    refused = _edit(edited, edited_id, mine, value, what)
    if refused:
        return refused
    bench.sync()
    _expect(bench, _row_case(case, row, direction), other, other_id, theirs, value,
            f"{what} {edited.entity}.{mine} ({value!r})", mark)
    return None


@dataclass
class Split:
    """A flow check in parts, each trying one row (or one row in one direction) on its own, so that batch
    mode (:mod:`talkqa.runtime.batch`) can run every part on records of its own in the same runs.

    ``arrange(bench)`` makes the records a part works on; ``parts[i](bench, arranged)`` checks one row on
    them (raising the check's failure) and returns notes; ``finish(notes)`` raises what the notes of
    every part say together (or nothing: the check conforms). Per test, :func:`run_split` arranges once
    and runs the parts one after the other on the same records, as the check always did."""

    arrange: Callable[[Bench], Any]
    parts: list[Callable[[Bench, Any], Any]]
    finish: Callable[[list[Any]], None]


def run_split(bench: Bench, split: Split) -> None:
    """One check, per test: arrange once, every part in order on those records, then finish."""
    arranged = split.arrange(bench)
    split.finish([part(bench, arranged) for part in split.parts])


def _linked_ids(case: dict[str, Any], flow: Flow, src: ResourceConnector, tgt: ResourceConnector,
                seed: int) -> Callable[[Bench], tuple[str, str]]:
    def arrange(bench: Bench) -> tuple[str, str]:
        source_id, target_id, _created = linked_pair(bench, case, flow, src, tgt, seed)
        return source_id, target_id

    return arrange


# -- clears-both-ways -------------------------------------------------------------------------------


def clearing_split(bench: Bench, case: dict[str, Any], flow: Flow, src: ResourceConnector,
                   tgt: ResourceConnector) -> Split:
    """A value emptied on one side is emptied on the other: forward for every editable row both of
    whose fields can be empty, and back through the rows that carry target edits back."""
    rows, skipped = editable_rows(bench, flow, src, tgt)
    chosen = []
    for e in rows:
        why = e.source_clearable or e.target_clearable
        if why:
            skipped.append(f"line {e.row.line} ({e.row.source} -> {e.row.target}): {why}")
        else:
            chosen.append(e)
    if not chosen:
        raise _none_left("clearing", skipped)
    seed = case["line"] * 10 + 4

    def part(e: Editable) -> Callable[[Bench, Any], tuple[bool, list[str]]]:
        def clear(bench: Bench, ids: tuple[str, str]) -> tuple[bool, list[str]]:
            """Whether the row was tried, and why a step of it was refused."""
            source_id, target_id = ids
            row = e.row
            refused = _step(bench, case, row, "forward", src, source_id, tgt, target_id, None, "emptying")
            if refused:
                return False, [f"line {row.line}: {refused}"]
            notes = []
            value = _fresh_value(e.domain, seed + row.line, None)
            if e.back:
                # a value back from the target, then emptied there: the source is emptied too
                _step(bench, case, row, "reverse", tgt, target_id, src, source_id, value, "editing")
                refused = _step(bench, case, row, "reverse", tgt, target_id, src, source_id, None, "emptying")
                if refused:
                    notes.append(f"line {row.line} [reverse]: {refused}")
            # the row holds a value again, so a later row's check starts from a complete record
            _step(bench, case, row, "forward", src, source_id, tgt, target_id,
                  _fresh_value(e.domain, seed + row.line + 1, value), "editing")
            return True, notes

        return clear

    def finish(results: list[tuple[bool, list[str]]]) -> None:
        if not any(tried for tried, _notes in results):
            raise _none_left("clearing", skipped + [n for _tried, notes in results for n in notes])

    return Split(_linked_ids(case, flow, src, tgt, seed), [part(e) for e in chosen], finish)


def check_clearing(bench: Bench, case: dict[str, Any], flow: Flow, src: ResourceConnector,
                   tgt: ResourceConnector) -> None:
    run_split(bench, clearing_split(bench, case, flow, src, tgt))


# -- case-and-whitespace ----------------------------------------------------------------------------


def _variants(domain: Domain, base: Any) -> list[tuple[Any, str]]:
    """Edits that change only case or only whitespace of ``base``, as the field's kind allows."""
    out: list[tuple[Any, str]] = []
    if domain.kind in ("string", "email") and isinstance(base, str) and base.swapcase() != base:
        out.append((base.swapcase(), "a case-only edit of"))
    if domain.kind == "string" and isinstance(base, str):
        spaced = base + " "
        if domain.max_length is None or len(spaced) <= domain.max_length:
            out.append((spaced, "a whitespace-only edit of"))
    return out


def case_split(bench: Bench, case: dict[str, Any], flow: Flow, src: ResourceConnector,
               tgt: ResourceConnector) -> Split:
    """An edit that changes only the case (text and e-mail) or only the whitespace (free text) of a
    value is an edit: it arrives, forward and back through the rows that carry target edits back."""
    rows, skipped = editable_rows(bench, flow, src, tgt)
    seed = case["line"] * 10 + 6
    chosen = []
    for e in rows:
        base = _fresh_value(e.domain, seed + e.row.line, None)
        if _variants(e.domain, base):
            chosen.append((e, base))
        else:
            skipped.append(f"line {e.row.line} ({e.row.source} -> {e.row.target}): a {e.domain.kind} field has "
                           "no case- or whitespace-only edit")
    if not chosen:
        raise _none_left("case and whitespace", skipped)

    def part(e: Editable, base: Any, direction: str) -> Callable[[Bench, Any], None]:
        def edits(bench: Bench, ids: tuple[str, str]) -> None:
            source_id, target_id = ids
            edited, edited_id, other, other_id = ((src, source_id, tgt, target_id) if direction == "forward"
                                                  else (tgt, target_id, src, source_id))
            refused = _step(bench, case, e.row, direction, edited, edited_id, other, other_id, base, "editing")
            if refused:
                raise Unsupported(refused)
            for value, what in _variants(e.domain, base):
                refused = _step(bench, case, e.row, direction, edited, edited_id, other, other_id, value, what)
                if refused:
                    raise Unsupported(refused)

        return edits

    parts = [part(e, base, direction) for e, base in chosen
             for direction in ("forward", "reverse")[: 1 + e.back]]
    return Split(_linked_ids(case, flow, src, tgt, seed), parts, lambda _notes: None)


def check_case_and_whitespace(bench: Bench, case: dict[str, Any], flow: Flow, src: ResourceConnector,
                              tgt: ResourceConnector) -> None:
    run_split(bench, case_split(bench, case, flow, src, tgt))


# -- no-collateral-damage ---------------------------------------------------------------------------


def _comparable(connector: ResourceConnector) -> list[str]:
    """The paths of a record a sync could damage: every field the connector may write."""
    return sorted(p for p, spec in connector.fields.items() if not spec.read_only)


def _unowned(bench: Bench, flow: Flow, connector: ResourceConnector, side: str) -> list[str]:
    """Fields of one side no row of the flow maps (nor its conditions read, nor the link reference)."""
    mapped = {r.source if side == SOURCE else r.target for r in flow.synced_mappings}
    for r in flow.synced_mappings:
        if r.condition is not None:
            mapped |= {c.path for c in r.condition.clauses}
    condition = bench.flow_predicate(flow)
    if condition is not None and condition.path:
        mapped.add(condition.path)
    mapped.add(getattr(connector, "external_ref_field", None) or "")
    return [p for p in _comparable(connector) if p not in mapped]


def _assigned(connector: ResourceConnector, path: str) -> bool:
    """A field the system assigns (read-only), other than the identifier (which an edit does not move)."""
    spec = connector.fields.get(path)
    return spec is not None and spec.read_only and path != id_path(connector)


def _snapshot(connector: ResourceConnector, record_id: str) -> dict[str, Any]:
    flat = flatten(connector.get(record_id))
    return {p: flat.get(p) for p in _comparable(connector)}


def _damage(bench: Bench, since: int, sides: list[tuple[ResourceConnector, str, dict[str, Any], set[str]]],
            ) -> list[str]:
    """What the sync changed, beyond ``allowed`` paths, in the writes since ``since`` (and, live, in the
    records read back)."""
    found = []
    for connector, record_id, before, allowed in sides:
        for w in bench.writes[since:]:
            if (w.system, w.entity, w.record_id) != (connector.system, connector.entity, record_id):
                continue
            for path, value in w.values.items():
                if path not in allowed and path in before and not same(value, before[path]):
                    found.append(f"the sync wrote {connector.system} {connector.entity}.{path} = {value!r} "
                                 f"(it was {before[path]!r})")
        now = _snapshot(connector, record_id)  # replayed too, so recordings and replays ask the same
        if bench.live:
            for path, value in now.items():
                if path not in allowed and not same(value, before.get(path)):
                    found.append(f"{connector.system} {connector.entity}.{path} is {value!r} "
                                 f"(it was {before.get(path)!r})")
    return list(dict.fromkeys(found))


def collateral_split(bench: Bench, case: dict[str, Any], flow: Flow, src: ResourceConnector,
                     tgt: ResourceConnector) -> Split:
    """After an edit of one row is synced, nothing else of either record changed: every other mapped
    property, and the fields no row of the flow maps (filled before the edit), on both sides."""
    rows, skipped = editable_rows(bench, flow, src, tgt)
    if not rows:
        raise _none_left("collateral damage", skipped)
    seed = case["line"] * 10 + 8
    head = f"{where(bench, case)} [{case['check']}]: {case['statement']}"
    # a row from a field its system assigns (a stamp of the last write) carries whatever the system assigns
    # anew when any field of the record is edited: its other side may change with every edit
    stamped = {SOURCE: {r.source for r in flow.synced_mappings if _assigned(tgt, r.target)},
               TARGET: {r.target for r in flow.synced_mappings if _assigned(src, r.source)}}

    def arrange(bench: Bench) -> tuple[str, str, dict[tuple[str, str], set[str]], dict[str, dict[str, Any]]]:
        source_id, target_id, _created = linked_pair(bench, case, flow, src, tgt, seed)
        # the target was made by the sync: fill what it does not own, as a user of that system would
        fill: Record = {}
        for i, path in enumerate(_unowned(bench, flow, tgt, TARGET)):
            spec = tgt.fields[path]
            domain = bench.value_domain(TARGET, flow.target_label, path, spec)
            if domain is not None and spec.kind != "boolean":
                set_path(fill, path, example(domain, seed * 100 + 60 + i))
        if fill:
            try:
                tgt.update(target_id, fill)
            except ConnectorError as exc:
                raise Unsupported(f"collateral damage: the {tgt.system} {tgt.entity} system refuses values for the "
                                  f"fields no row maps ({exc})") from None
        # what each system itself derives from a field (a name made of first and last name): learnt by
        # editing each row's field on both sides to one value, as a user would, before the sync settles
        derived: dict[tuple[str, str], set[str]] = {}
        for e in rows:
            value = _fresh_value(e.domain, seed + 3 * e.row.line, None)
            for side, connector, record_id, path in ((SOURCE, src, source_id, e.row.source),
                                                      (TARGET, tgt, target_id, e.row.target)):
                was = _snapshot(connector, record_id)
                if _edit(connector, record_id, path, value, "an edit"):
                    continue
                now = _snapshot(connector, record_id)
                derived[(side, path)] = {p for p in now if p != path and not same(now[p], was.get(p))}
        bench.sync()  # settle: whatever the sync does after an arrange is not the edit under test
        before = {SOURCE: _snapshot(src, source_id), TARGET: _snapshot(tgt, target_id)}
        return source_id, target_id, derived, before

    def part(e: Editable) -> Callable[[Bench, Any], None]:
        def edits(bench: Bench, arranged: tuple[str, str, dict[tuple[str, str], set[str]],
                                                dict[str, dict[str, Any]]]) -> None:
            source_id, target_id, derived, before = arranged
            row = e.row
            steps = [("forward", src, source_id, row.source)]
            if e.back:
                steps.append(("reverse", tgt, target_id, row.target))
            for direction, edited, edited_id, path in steps:
                side = SOURCE if direction == "forward" else TARGET
                value = _fresh_value(e.domain, seed + row.line + (direction == "reverse"), before[side].get(path))
                mark = len(bench.writes)
                other, other_id = (tgt, target_id) if direction == "forward" else (src, source_id)
                refused = _step(bench, case, row, direction, edited, edited_id, other, other_id, value, "editing")
                if refused:
                    raise Unsupported(refused)
                # the edit may also reach what other rows (conditional ones too) carry from the same source
                # field or into the same target field: a fan-out or fan-in the document states
                siblings = [r for r in flow.synced_mappings if r is not row and (r.source == row.source
                                                                                 or r.target == row.target)]
                allowed = {SOURCE: {row.source, *derived.get((SOURCE, row.source), ()), *(r.source for r in siblings),
                                    *stamped[SOURCE]},
                           TARGET: {row.target, *derived.get((TARGET, row.target), ()), *(r.target for r in siblings),
                                    *stamped[TARGET]}}
                damage = _damage(bench, mark, [(src, source_id, before[SOURCE], allowed[SOURCE]),
                                               (tgt, target_id, before[TARGET], allowed[TARGET])])
                if damage:
                    raise ChecklistFailure(
                        f"{head}\n  after editing {edited.entity}.{path} (line {row.line}, {direction}) and syncing,"
                        " other values changed:\n  " + "\n  ".join(damage[:8])
                    )
                before[SOURCE][row.source] = value
                before[TARGET][row.target] = value
                for side, connector, record_id in ((SOURCE, src, source_id), (TARGET, tgt, target_id)):
                    now = _snapshot(connector, record_id)  # what the systems derived from the edit is the new normal
                    mine = row.source if side == SOURCE else row.target
                    before[side].update({p: now[p] for p in derived.get((side, mine), ())})

        return edits

    return Split(arrange, [part(e) for e in rows], lambda _notes: None)


def check_collateral(bench: Bench, case: dict[str, Any], flow: Flow, src: ResourceConnector,
                     tgt: ResourceConnector) -> None:
    run_split(bench, collateral_split(bench, case, flow, src, tgt))


# -- sparse-records ---------------------------------------------------------------------------------


def _prefix(path: str) -> str | None:
    """The nested object a path reaches into (``MailAddress`` of ``MailAddress.City``), if any."""
    head, dot, _ = path.partition(".")
    return head if dot else None


def _not_optional(bench: Bench, flow: Flow, connector: ResourceConnector, prefix: str) -> str | None:
    """Why a record's nested object ``prefix`` is not one it may lack (None: it may)."""
    inside = [p for p, spec in connector.fields.items() if _prefix(p) == prefix and not spec.read_only]
    if len(inside) == len([p for p, spec in connector.fields.items() if not spec.read_only]):
        return f"{connector.entity}.{prefix} holds every field of the record: it is the record, not an optional object"
    required = [p for p in inside if connector.fields[p].required_on_create]
    if required:
        return f"{connector.entity}.{prefix} holds the required {required[0]}"
    condition = bench.flow_predicate(flow)
    if condition is not None and condition.path and _prefix(condition.path) == prefix:
        return f"{connector.entity}.{prefix} holds {condition.path}, which the flow's condition reads"
    return None


def sparse_split(bench: Bench, case: dict[str, Any], flow: Flow, src: ResourceConnector,
                 tgt: ResourceConnector) -> Split:
    """A record without an optional nested object (a supplier with no mail address), then edited through
    a row that reaches into it: the edit arrives, forward and (through the row that carries target edits
    back) in reverse, where the sync must make the nested object. Each part makes its own records."""
    if flow.policy is Policy.LINK_REQUIRED:
        raise Unsupported("sparse records: the flow creates nothing, and a record without a nested object cannot "
                          "be arranged to match through the match rules in general")
    rows, skipped = editable_rows(bench, flow, src, tgt)
    nested = [e for e in rows if _prefix(e.row.source) or _prefix(e.row.target)]
    skipped += [f"line {e.row.line} ({e.row.source} -> {e.row.target}): no nested object on either side"
                for e in rows if e not in nested]
    if not nested:
        raise _none_left("sparse records", skipped)
    seed = case["line"] * 10 + 5

    def part(e: Editable, over: dict[str, Any], sprefix: str | None, tprefix: str | None,
             n: int) -> Callable[[Bench, Any], None]:
        def edit(bench: Bench, _arranged: Any) -> None:
            row = e.row
            direction, edited, other = ("forward", src, tgt) if n == 0 else ("reverse", tgt, src)
            record = bench.record_for(flow, SOURCE, src, seed + 2 * row.line + n, over)
            if sprefix:
                record.pop(sprefix, None)
            before = bench.ids(tgt)
            try:
                source_id = bench.create(src, record)
            except ConnectorError as exc:
                raise Unsupported(f"sparse records: the {src.system} {src.entity} system refuses a record without "
                                  f"{sprefix or ', '.join(over)} ({exc})") from None
            bench.sync()
            target_id = linked_target(bench, tgt, before, f"{where(bench, case)}: creating a record without "
                                      f"{sprefix or tprefix}")
            edited_id, other_id = (source_id, target_id) if direction == "forward" else (target_id, source_id)
            value = _fresh_value(e.domain, seed + 3 * row.line + n, None)
            refused = _step(bench, case, row, direction, edited, edited_id, other, other_id, value,
                            f"editing, on records without {' or '.join(p for p in (sprefix, tprefix) if p)},")
            if refused:
                raise Unsupported(refused)

        return edit

    parts = []
    for e in nested:
        row = e.row
        # the source without its nested object; the rows into the target's nested object empty, so the
        # target is created without it
        over: dict[str, Any] = {}
        sprefix, tprefix = _prefix(row.source), _prefix(row.target)
        why = (sprefix and _not_optional(bench, flow, src, sprefix)) or (
            tprefix and _not_optional(bench, flow, tgt, tprefix)) or None
        if tprefix:
            for r in flow.syncable_rows:
                if _prefix(r.target) == tprefix and (sprefix is None or _prefix(r.source) != sprefix):
                    spec = src.fields.get(r.source)
                    if spec is not None and spec.read_only:  # an id the system assigns: always there
                        why = why or (f"line {r.line} fills {tprefix} from {src.entity}.{r.source}, which the "
                                      "system assigns: the object is never absent")
                        continue
                    why = why or _why_not_clearable(src, r.source) or bench.why_not_emptied(
                        SOURCE, flow.source_label, r.source)
                    over[r.source] = None
        if why:
            skipped.append(f"line {row.line} ({row.source} -> {row.target}): {why}")
            continue
        parts += [part(e, over, sprefix, tprefix, n) for n in range(1 + e.back)]

    def finish(_notes: list[Any]) -> None:
        if not parts:
            raise _none_left("sparse records", skipped)

    return Split(lambda _bench: None, parts, finish)


def check_sparse(bench: Bench, case: dict[str, Any], flow: Flow, src: ResourceConnector,
                 tgt: ResourceConnector) -> None:
    run_split(bench, sparse_split(bench, case, flow, src, tgt))


# -- every-record-once -----------------------------------------------------------------------------

#: At most this many records per side: more than two pages of a system with larger pages is not tried.
VOLUME_CAP = 250

#: Kinds whose examples differ for every seed, so each record can be told apart by its value.
DISTINCT_KINDS = ("string", "email", "phone", "integer", "float", "date")


def page_size(connector: Any) -> int | None:
    """How many records a listing of ``connector``'s system returns per page, when the connector says."""
    for holder in (connector, getattr(connector, "profile", None)):
        size = getattr(holder, "page_size", None)
        if isinstance(size, int) and size > 0:
            return size
    return None


def volume(src: ResourceConnector, tgt: ResourceConnector) -> int:
    """More records than two pages of either system (or :class:`Unsupported` saying why not)."""
    sizes = []
    for connector in (src, tgt):
        size = page_size(connector)
        if size is None:
            raise Unsupported(f"volume: the {connector.system} {connector.entity} connector states no page size "
                              "(page_size), so how many records make more than two pages is not known")
        if 2 * size + 1 > VOLUME_CAP:
            raise Unsupported(f"volume: two pages of {connector.system} {connector.entity} are {2 * size} records, "
                              f"more than the {VOLUME_CAP} this check creates (give the connector a smaller "
                              "page_size for the run)")
        sizes.append(size)
    return 2 * max(sizes) + 1


def _tally(bench: Bench, since: int, connector: ResourceConnector, path: str) -> tuple[dict[str, int], list[Any]]:
    """Writes of the sync since ``since`` to ``connector``'s records: how many per record, and the values
    of ``path`` created."""
    per: dict[str, int] = {}
    made: dict[str, Any] = {}  # record id -> the value of ``path`` it was created with
    completed: set[str] = set()  # records created in this window whose first update completes the create
    for w in bench.writes[since:]:
        if (w.system, w.entity) != (connector.system, connector.entity) or w.record_id is None:
            continue
        if w.op != "create" and w.record_id in made and w.record_id not in completed:
            # a create followed by one update in the same sync (a repeated section of the document fills
            # in its rows after its sibling created the record) is one write of that record
            completed.add(w.record_id)
            if path in w.values:
                made[w.record_id] = w.values[path]
            continue
        per[w.record_id] = per.get(w.record_id, 0) + 1
        if w.op == "create":
            made[w.record_id] = w.values.get(path)
    return per, list(made.values())


def _holding(bench: Bench, connector: ResourceConnector, ids: set[str], path: str) -> list[Any]:
    """The values of ``path`` in those records, as listed."""
    return [get_path(c.record, path) for c in connector.iter_all() if c.id in ids]


def _same_values(got: list[Any], wanted: list[Any]) -> tuple[list[Any], list[Any]]:
    """What ``wanted`` holds that ``got`` lacks, and what ``got`` holds twice or unasked."""
    left = SameValues(got)
    missed = [value for value in wanted if not left.take(value)]
    return missed, left.values()


def volume_values(domain: Domain, n: int, seed: int, previous: list[Any]) -> list[Any]:
    """``n`` distinct values of ``domain`` for one round of ``every-record-once``, none equal to any value of
    the previous round (an edit to the value a record already holds is no edit: the sync rightly writes
    nothing). :class:`Unsupported` when the domain has too few values (dates repeat)."""
    out: list[Any] = []
    taken = SameValues(previous)
    k = 0
    while len(out) < n:
        if k > 100 * n:
            raise Unsupported(f"volume: a {domain.kind} field cannot tell {n} records apart from their previous "
                              "values")
        v = example(domain, seed + k)
        k += 1
        if v not in taken:
            out.append(v)
            taken.add(v)
    return out


def check_volume(bench: Bench, case: dict[str, Any], flow: Flow, src: ResourceConnector,
                 tgt: ResourceConnector) -> None:
    """More records than two pages of each system: every one is created once on the other side, none
    twice and none missed; an edit of every one arrives once, forward and (two-way) back."""
    if getattr(bench, "sandbox", False):
        raise Unsupported("volume: not run against a sandbox: more than two pages of records per system would "
                          "cost hundreds of API calls of its budget (run it on the simulators)")
    rows, skipped = editable_rows(bench, flow, src, tgt)
    tagged = [e for e in rows if e.domain.kind in DISTINCT_KINDS]
    if not tagged:
        raise _none_left("volume", skipped + [f"line {e.row.line}: a {e.domain.kind} field cannot tell "
                                              f"{VOLUME_CAP} records apart" for e in rows])
    e = tagged[0]
    row = e.row
    n = volume(src, tgt)
    seed = case["line"] * 10 + 9
    head = f"{where(bench, case)} [{case['check']}]: {case['statement']}"

    held_now: list[Any] = []  # the previous round's values: an edit to the value a record holds is no edit

    def values(round_: int) -> list[Any]:
        held_now[:] = volume_values(e.domain, n, seed * 1000 + round_ * 10_000, held_now)
        return list(held_now)

    before = bench.ids(tgt)
    first = values(0)
    sources = [bench.create(src, bench.record_for(flow, "source", src, seed + i, {row.source: v}))
               for i, v in enumerate(first)]
    mark = len(bench.writes)
    bench.sync()
    new = bench.ids(tgt) - before
    per, made = _tally(bench, mark, tgt, row.target)
    twice = sorted(t for t, k in per.items() if k > 1)
    if len(new) != n or twice:
        raise ChecklistFailure(f"{head}\n  {n} new {src.entity} records (two pages of each system and one more) "
                               f"gave {len(new)} new {tgt.entity} records" + (f"; written more than once in "
                                                                             f"one sync: {twice[:5]}" if twice else ""))
    held = _holding(bench, tgt, new, row.target)  # replayed too, so recordings and replays ask the same
    missed, extra = _same_values(held if bench.live else made, first)
    if missed or extra:
        raise ChecklistFailure(f"{head}\n  after the first sync, {tgt.entity}.{row.target} lacks {len(missed)} of the "
                               f"{n} values (e.g. {missed[:3]!r}) and holds {len(extra)} others (e.g. {extra[:3]!r})")
    steps = [("forward", src, set(sources), row.source, tgt, new, row.target)]
    if e.back:
        steps.append(("reverse", tgt, new, row.target, src, set(sources), row.source))
    for round_, (direction, edited, edited_ids, mine, other, other_ids, theirs) in enumerate(steps, start=1):
        wanted = values(round_)
        for record_id, v in zip(sorted(edited_ids), wanted, strict=True):
            bench_update(edited, record_id, mine, v)
        mark = len(bench.writes)
        bench.sync()
        per, _made = _tally(bench, mark, other, theirs)
        twice = sorted(t for t, k in per.items() if k > 1)
        untouched = sorted(other_ids - set(per))
        if twice or untouched:
            raise ChecklistFailure(f"{head}\n  after editing {mine} of all {n} {edited.entity} records ({direction}), "
                                   f"the sync wrote {len(untouched)} of their {other.entity} records not at all "
                                   f"(e.g. {untouched[:3]}) and {len(twice)} more than once (e.g. {twice[:3]})")
        held = _holding(bench, other, other_ids, theirs)  # replayed too (recorded the same)
        if bench.live:
            missed, extra = _same_values(held, wanted)
            if missed or extra:
                raise ChecklistFailure(f"{head}\n  after editing {mine} of all {n} {edited.entity} records "
                                       f"({direction}), {other.entity}.{theirs} lacks {len(missed)} of the values "
                                       f"(e.g. {missed[:3]!r})")


# -- conflicting-edits ------------------------------------------------------------------------------

def check_conflict(bench: Bench, case: dict[str, Any], flow: Flow, src: ResourceConnector,
                   tgt: ResourceConnector) -> None:
    """Both sides edit the same property between two syncs: afterwards both records hold the same
    value (nothing diverges or is lost without a winner), it is the expected winner's edit, and the
    losing edit is reported where the sync's reports can be read (:func:`_check_reported`)."""
    if not flow.two_way:
        raise Unsupported("conflicting edits: a one-way flow carries no target edit back, so both sides "
                          "editing is not a conflict it resolves")
    rows, skipped = editable_rows(bench, flow, src, tgt)
    chosen = [e for e in rows if e.back]
    # two conflicting edits differ from each other and from the value both sides hold: three values
    two_valued = [e for e in chosen if e.domain.kind == "boolean"]
    chosen = [e for e in chosen if e not in two_valued]
    if not chosen:
        raise _none_left("conflicting edits", [
            *skipped, *(f"line {e.row.line} ({e.row.source} -> {e.row.target}): a boolean field has no two edits "
                        "that differ from each other and from the value both sides hold" for e in two_valued),
            "no editable row carries target edits back"])
    e, row = chosen[0], chosen[0].row
    seed = case["line"] * 10 + 6
    source_id, target_id, created = linked_pair(bench, case, flow, src, tgt, seed)
    base = get_path(created, row.source)
    mine = _fresh_value(e.domain, seed + 1, base)
    theirs = _fresh_value(e.domain, seed + 2, mine)
    if same(theirs, base):
        theirs = _fresh_value(e.domain, seed + 3, mine)
    if same(theirs, base):
        raise Unsupported(f"conflicting edits: a {e.domain.kind} field offers no second edit that differs from "
                          "the value both sides hold")
    # the source first, then the target: the target's edit is the newest
    refused = (_edit(src, source_id, row.source, mine, "editing")
               or _edit(tgt, target_id, row.target, theirs, "editing"))
    if refused:
        raise Unsupported(f"conflicting edits: {refused}")
    mark = len(bench.writes)
    bench.sync()
    bench.sync()  # a sync may settle a conflict over two cycles
    winner = getattr(bench, "conflict_winner", "source")
    expected = {"source": mine, "target": theirs, "newest": theirs}.get(winner)
    head = (f"{where(bench, case)}: {row.source} -> {row.target}: both sides edited between two syncs "
            f"({src.entity}.{row.source} = {mine!r}, then {tgt.entity}.{row.target} = {theirs!r})")
    # read both, live and replayed alike (a replay asks what its recording holds, in the same order)
    held_source = get_path(src.get(source_id), row.source)
    held_target = get_path(tgt.get(target_id), row.target)
    if not bench.live:  # replayed: judge what the sync sent to the losing side
        loser, loser_id, path = (tgt, target_id, row.target) if winner == "source" else (src, source_id, row.source)
        to_loser = (loser.system, loser.entity, loser_id)
        sent = [w.values[path] for w in bench.writes[mark:]  # what the two syncs sent it, the last
                if (w.system, w.entity, w.record_id) == to_loser and path in w.values][-1:]
        if expected is not None and not (sent and same(sent[0], expected)):
            raise ChecklistFailure(f"{head}\n  the {winner} side should win (setting conflict-winner = {winner!r}), "
                                   f"but the sync sent {loser.entity}.{path} "
                                   f"{repr(sent[0]) if sent else 'no value'}", expected=expected,
                                   actual=sent[0] if sent else None)
        if expected is not None:
            _check_reported(bench, head, row, expected, mine, theirs)
        return
    if not same(held_source, held_target):
        raise ChecklistFailure(f"{head}\n  after two syncs the records disagree: the source holds {held_source!r}, "
                               f"the target {held_target!r} (neither edit won: the records diverged)",
                               expected=expected if expected is not None else mine, actual=held_target)
    if expected is None:  # any winner, as long as it is one of the two edits
        if not (same(held_source, mine) or same(held_source, theirs)):
            raise ChecklistFailure(f"{head}\n  after two syncs both hold {held_source!r}: neither side's edit",
                                   expected=mine, actual=held_source)
        _check_reported(bench, head, row, held_source, mine, theirs)
        return
    if not same(held_source, expected):
        lost = theirs if winner == "source" else mine
        raise ChecklistFailure(f"{head}\n  the {winner} side should win (setting conflict-winner = {winner!r}), "
                               f"but both hold {held_source!r}: the edit {lost!r} won instead", expected=expected,
                               actual=held_source)
    _check_reported(bench, head, row, held_source, mine, theirs)


def _check_reported(bench: Bench, head: str, row: Row, kept: Any, mine: Any, theirs: Any) -> None:
    """The losing edit is reported, where the system under test lets its reports be read (the reference
    sync's conflict log): an entry for the row's target property that kept ``kept`` and lost the other
    edit. An external sync's reports cannot be read; the check then proves the records agree only."""
    log = getattr(bench.sut, "conflict_log", None)
    if not callable(log):
        return
    lost = theirs if same(kept, mine) else mine
    entries = [c for c in log() if c.property == row.target]
    if not any(same(c.lost_value, lost) and same(c.kept_value, kept) for c in entries):
        seen = "; ".join(f"kept {c.kept_side} {c.kept_value!r}, lost {c.lost_side} {c.lost_value!r}"
                         for c in entries) or "no entry for this property"
        raise ChecklistFailure(f"{head}\n  the losing edit {lost!r} was not reported: the sync's conflict log "
                               f"has {seen} (an edit lost silently)", expected=lost, actual=None)


#: The flow checks made of parts (:class:`Split`): batch mode runs each part on records of its own.
SPLITS: dict[str, Callable[[Bench, dict[str, Any], Flow, ResourceConnector, ResourceConnector], Split]] = {
    "clears-both-ways": clearing_split,
    "no-collateral-damage": collateral_split,
    "case-and-whitespace-edits": case_split,
    "sparse-records": sparse_split,
}

TEETH: dict[str, Callable[[Bench, dict[str, Any], Flow, ResourceConnector, ResourceConnector], None]] = {
    "conflicting-edits": check_conflict,
    "clears-both-ways": check_clearing,
    "no-collateral-damage": check_collateral,
    "case-and-whitespace-edits": check_case_and_whitespace,
    "every-record-once": check_volume,
    "sparse-records": check_sparse,
}
