"""The reference sync: does, for each flow of a document, what the document says.

Nothing here knows a system, an entity or a property of any particular document: the
flows come from the model, the resources from a resolver keyed by system slug and the
spec's entity label, and every value goes through the connectors' codecs.

Rules (docs/sync.md, "How it decides"):

* **Links.** ``always`` creates a target for every source record; ``merge_or_create`` links
  an unlinked target found by the match rules (any one rule whose values are equal and
  non-empty), and creates only when none is found; ``link_required`` links through the
  match rules and never creates; a "created from ... if it is connected to" list needs
  connection data no connector exposes, so such a flow links only (unmatched records are
  skipped, with that reason). ``conditional`` flows ask a predicate registered under the
  condition's exact text and are skipped, with that reason, when none exists.
* **Values.** A target property fed by several rows (fan-in) takes the first row, in
  document order, whose source value is not empty. ``Flow.reverse_rows`` (the model) names
  the rows that carry target edits back; a target edit on any other row is reset to the
  source's value.
* **Conflicts.** When both sides changed the same property since the last sync, the
  source (the side the document syncs *from*) wins; the target's value goes to the
  conflict log, never silently lost.
* **No echo.** Per-side fingerprints of the last synchronized values tell a real edit from
  the sync's own write; a cycle with no edits writes nothing.
* **Crash safety.** A create is recorded as an intent (with a deterministic external
  reference) before the remote call; a later run finds the record by that reference
  instead of creating it twice.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from generator.model import Document, Flow, Policy
from generator.model import Mapping as Row
from talkqa.connectors.base import Change, ConnectorError, Page, Record, ResourceConnector
from talkqa.connectors.codecs import flatten, get_path, set_path
from talkqa.sync.coerce import NotConvertible, coerce
from talkqa.sync.memory_state import MemoryState
from talkqa.sync.predicates import Predicate as RowPredicate
from talkqa.sync.predicates import row_condition
from talkqa.sync.state import ENCODE_TEXT as _ENCODE_TEXT
from talkqa.sync.state import SyncState, decode_value, encode_value

Resolver = Callable[[str, str], ResourceConnector]
Predicate = Callable[[Record], bool]  # a conditional flow's condition over the source record

SOURCE = "source"
TARGET = "target"


def flow_key(document: Document, index: int, flow: Flow) -> str:
    """A flow's links' stable name in the sync state (survives regenerated timestamps). Flows of one
    document between the same two entities (a repeated section) share their links: a record is
    linked once, whichever of them links it, and each applies its own rows."""
    return (f"{Path(document.path).stem}:{document.system_key('source')}/{flow.source_label}"
            f"->{document.system_key('target')}/{flow.target_label}")


def watermark_key(document: Document, index: int, flow: Flow) -> str:
    """Where one flow keeps its change watermarks (each flow reads every change itself)."""
    return f"{flow_key(document, index, flow)}#{index}"


def related_flows(
    document: Document, start: int, resources: Callable[[Flow], Iterable[Hashable]]
) -> frozenset[int]:
    """The flows a check of flow ``start`` can observe: ``start``, every flow that reads or writes a
    resource (an entity's records, as ``resources`` names them) of a flow already included, and so on
    until nothing is added (the transitive closure).

    A flow left out shares no resource with any flow included, so in a cycle it reads nothing the check
    arranged or any included flow wrote, and it writes nothing any included flow or the check reads: it
    cannot change what the check sees. ``resources`` must be conservative: two names for records that
    may overlap (one API behind two entity labels) must share a resource.
    """
    named = [frozenset(resources(flow)) for flow in document.flows]
    chosen = {start}
    seen = set(named[start])
    grew = True
    while grew:
        grew = False
        for index, names in enumerate(named):
            if index not in chosen and names & seen:
                chosen.add(index)
                seen |= names
                grew = True
    return frozenset(chosen)


def external_ref(key: str, source_id: str) -> str:
    """The deterministic reference a created target carries back to its origin."""
    return "tq-" + hashlib.sha256(f"{key}\x00{source_id}".encode()).hexdigest()[:24]


def _empty(value: Any) -> bool:
    return value is None or value == ""


def _fp(value: Any) -> str:
    """The fingerprint of a value; an empty string and a missing value are the same, and so are a date
    or a number and its text (what the sync writes into a field of another kind)."""
    if type(value) is str:  # the common case first (what encode_value does with text)
        return _ENCODE_TEXT(value) if value else "null"
    if _empty(value):
        value = None
    elif isinstance(value, date):
        value = value.isoformat()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    return encode_value(value)


@dataclass
class Summary:
    """What one sync cycle did."""

    created: int = 0
    updated: int = 0
    linked: int = 0
    unchanged: int = 0
    conflicts: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return self.created + self.updated

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "linked": self.linked,
            "unchanged": self.unchanged,
            "conflicts": self.conflicts,
            "skipped": dict(self.skipped),
            "errors": list(self.errors),
        }


class SyncEngine:
    """Runs sync cycles for every flow of one document (or, given ``flows``, for those flows only: the
    harness passes :func:`related_flows` of the flow a check is about; ``talkqa sync`` runs them all)."""

    def __init__(
        self,
        document: Document,
        resolve: Resolver,
        state: SyncState | MemoryState,
        *,
        predicates: Mapping[str, Predicate] | None = None,
        flows: Collection[int] | None = None,
    ) -> None:
        self.document = document
        self.resolve = resolve
        self.state = state
        self.predicates = dict(predicates or {})
        self.flows = frozenset(range(len(document.flows)) if flows is None else flows)
        self._keys, self._wm_keys = _keys_of(document)
        self._pages: dict[tuple[int, str | None], tuple[ResourceConnector, Page]] = {}
        self._plans: dict[tuple[int, str | None, str | None], _Plan] = {}

    def run_once(self) -> Summary:
        summary = Summary()
        self._pages.clear()
        keys = self._keys
        linked_pairs: set[str] = set()
        for index, flow in enumerate(self.document.flows):
            if index not in self.flows:
                continue
            before = summary.created + summary.linked
            self.sync_flow(index, flow, summary)
            if summary.created + summary.linked > before:
                linked_pairs.add(keys[index])
        # sections between the same two entities share links: one that ran before another linked a
        # pair applies its rows now, so one cycle leaves the pair in sync
        for index, flow in enumerate(self.document.flows):
            if index in self.flows and keys[index] in linked_pairs and keys.count(keys[index]) > 1:
                self.sync_flow(index, flow, summary)
        self._pages.clear()
        return summary

    # -- reading each entity once a cycle ---------------------------------------------------------

    def changed_since(self, connector: ResourceConnector, watermark: str | None) -> Page:
        """``connector.changed_since(watermark)``, read once per cycle: flows reading the same entity from
        the same watermark share the answer until something is written to that entity."""
        key = (id(connector), watermark)
        entry = self._pages.get(key)
        if entry is None or entry[0] is not connector:  # the connector is kept, so its id is not reused
            entry = self._pages[key] = (connector, connector.changed_since(watermark))
        return entry[1]

    def wrote(self, connector: ResourceConnector) -> None:
        """Something was written through ``connector``: its listings are stale."""
        ident = id(connector)
        for key in [k for k in self._pages if k[0] == ident]:
            del self._pages[key]

    # -- one flow ------------------------------------------------------------------------------

    def sync_flow(self, index: int, flow: Flow, summary: Summary) -> None:
        reason = self._unsupported(flow)
        if reason:
            summary.skipped[f"{flow.title}: {reason}"] += 1
            return
        try:
            src = self.resolve(self.document.system_key("source"), flow.source_label)
            tgt = self.resolve(self.document.system_key("target"), flow.target_label)
        except LookupError as exc:
            summary.skipped[f"{flow.title}: {exc}"] += 1
            return
        _FlowRun(self, index, flow, src, tgt, summary).run()

    def plan(self, index: int, flow: Flow, src: ResourceConnector, tgt: ResourceConnector) -> _Plan:
        key = (index, getattr(src, "id_path", None), getattr(tgt, "id_path", None))
        found = self._plans.get(key)
        if found is None:
            cached = _PLANS.get(id(self.document))
            if cached is None or cached[0] is not self.document:
                if len(_PLANS) > 64:
                    _PLANS.clear()
                cached = _PLANS[id(self.document)] = (self.document, {})
            found = cached[1].get(key)
            if found is None:
                found = cached[1][key] = _Plan.of(self, index, flow, src, tgt)
            self._plans[key] = found
        return found

    def _unsupported(self, flow: Flow) -> str | None:
        if flow.policy is Policy.UNKNOWN:
            return "the document states no link policy"
        if flow.policy is Policy.CONDITIONAL and (flow.condition or "") not in self.predicates:
            return f"no predicate registered for the condition {flow.condition!r}"
        return None


def _keys_of(document: Document) -> tuple[list[str], list[str]]:
    """Every flow's :func:`flow_key` and :func:`watermark_key`, made once per document object."""
    cached = _KEYS.get(id(document))
    if cached is None or cached[0] is not document:
        if len(_KEYS) > 64:
            _KEYS.clear()
        keys = [flow_key(document, i, f) for i, f in enumerate(document.flows)]
        cached = _KEYS[id(document)] = (document, keys, [f"{k}#{i}" for i, k in enumerate(keys)])
    return cached[1], cached[2]


_KEYS: dict[int, tuple[Document, list[str], list[str]]] = {}

#: plans by document (a sync engine is made per check; the document object lives for the test)
_PLANS: dict[int, tuple[Document, dict[tuple[int, str | None, str | None], _Plan]]] = {}


@dataclass
class _Plan:
    """What a flow's run needs that does not change between cycles (made once per flow and connectors)."""

    key: str
    wm_key: str
    target_resource: str
    src_id: str | None
    tgt_id: str | None
    row_conditions: dict[int, tuple[str, RowPredicate]]
    writeback: list[Row]
    targets: dict[str, list[Row]]
    reverse: dict[str, Row]
    ref_mapped: bool  # the document maps the field the target keeps the sync's external reference in

    @classmethod
    def of(cls, engine: SyncEngine, index: int, flow: Flow, src: ResourceConnector, tgt: ResourceConnector) -> _Plan:
        # identifiers are assigned by each system: a row into the target's identifier is not written
        # forward; in a two-way flow the sync writes the target's id back into the source property
        # instead. A row from the source's identifier carries it forward and never back.
        src_id = getattr(src, "id_path", None)
        tgt_id = getattr(tgt, "id_path", None)
        # conditional rows ("Dependant on having VALUE in PATH") apply while their side's record holds it
        row_conditions: dict[int, tuple[str, RowPredicate]] = {}
        for r in flow.synced_mappings:
            cond = row_condition(r.condition) if r.condition is not None else None
            if cond is not None:
                row_conditions[r.line] = (r.condition.side, cond)  # type: ignore[union-attr]
        def read_only(connector: ResourceConnector, path: str) -> bool:
            """Assigned by the system, or not a field the connector knows (so it cannot write or read it)."""
            spec = connector.fields.get(path)
            if spec is None:
                return bool(connector.fields)
            return spec.read_only

        # a field the system assigns (read-only) is never written: not forward into it, not back from it
        rows = [
            r for r in flow.synced_mappings
            if (r.condition is None or r.line in row_conditions) and not (tgt_id and r.target == tgt_id)
            and not read_only(tgt, r.target)
        ]
        writeback = [
            r for r in flow.syncable_rows
            if flow.two_way and tgt_id and r.target == tgt_id and r.source != src_id
        ]
        targets: dict[str, list[Row]] = {}
        for row in rows:
            targets.setdefault(row.target, []).append(row)
        reverse = {
            row.target: row for row in flow.reverse_rows
            if row.source != src_id and not (tgt_id and row.target == tgt_id) and not read_only(src, row.source)
        }
        ref_field = getattr(tgt, "external_ref_field", None)
        return cls(engine._keys[index], engine._wm_keys[index], f"{engine.document.system_key('target')}:"
                   f"{flow.target_label}", src_id, tgt_id, row_conditions, writeback, targets, reverse,
                   bool(ref_field) and ref_field in targets)


class _FlowRun:
    """State of one flow during one cycle."""

    def __init__(
        self,
        engine: SyncEngine,
        index: int,
        flow: Flow,
        src: ResourceConnector,
        tgt: ResourceConnector,
        summary: Summary,
    ) -> None:
        self.engine = engine
        self.state = engine.state
        self.flow = flow
        self.src = src
        self.tgt = tgt
        self.summary = summary
        plan = engine.plan(index, flow, src, tgt)
        self.key = plan.key
        self.wm_key = plan.wm_key
        self.target_resource = plan.target_resource
        self.predicate = engine.predicates.get(flow.condition or "") if flow.policy is Policy.CONDITIONAL else None
        self._index: dict[int, dict[str, list[str]]] | None = None
        self._targets: dict[str, Record] = {}
        self.src_id, self.tgt_id = plan.src_id, plan.tgt_id
        self.row_conditions = plan.row_conditions
        self.writeback = plan.writeback
        self.targets = {k: list(v) for k, v in plan.targets.items()}  # copies: a mutant may change its own
        self.reverse = dict(plan.reverse)
        self.ref_mapped = plan.ref_mapped

    def run(self) -> None:
        failed = False
        try:
            src_mark = self.state.watermark(self.wm_key, SOURCE)
            tgt_mark = self.state.watermark(self.wm_key, TARGET) if self.flow.two_way else None
            src_page = self.engine.changed_since(self.src, src_mark)
            tgt_page = self.engine.changed_since(self.tgt, tgt_mark) if self.flow.two_way else None
        except ConnectorError as exc:
            self.summary.errors.append(f"{self.flow.title}: reading changes: {exc}")
            return
        tgt_changed = {c.id: c.record for c in tgt_page.changes} if tgt_page else {}
        done_targets: set[str] = set()
        for change in src_page.changes:
            try:
                target_id = self._source_change(change, tgt_changed)
            except ConnectorError as exc:
                failed = True
                self.summary.errors.append(f"{self.flow.title}: source record {change.id}: {exc}")
                continue
            if target_id:
                done_targets.add(target_id)
        for target_id, record in tgt_changed.items():
            if target_id in done_targets:
                continue
            link = self.state.link_for_target(self.target_resource, target_id)
            if link is None or link.flow != self.key:
                continue  # not linked, or linked by another flow: its origin is elsewhere
            try:
                # a link this flow has not synced yet (made by another flow of the same two entities):
                # read the source too, so its values win instead of the target's gaps
                src_rec = None if self._knows(link.source_id) else self.src.get(link.source_id)
                self._reconcile(link.source_id, target_id, src_rec, record)
            except ConnectorError as exc:
                failed = True
                self.summary.errors.append(f"{self.flow.title}: target record {target_id}: {exc}")
        moved = src_page.watermark != src_mark or (tgt_page is not None and tgt_page.watermark != tgt_mark)
        if not failed and moved:
            with self.state.transaction():
                self.state.set_watermark(self.wm_key, SOURCE, src_page.watermark)
                if tgt_page is not None:
                    self.state.set_watermark(self.wm_key, TARGET, tgt_page.watermark)

    def _knows(self, source_id: str) -> bool:
        """Whether this flow has synced the linked pair before (it has fingerprints of its rows)."""
        paths = {r.source for rows in self.targets.values() for r in rows}
        return paths <= set(self.state.fingerprints(self.key, SOURCE, source_id))

    def _source_change(self, change: Change, tgt_changed: dict[str, Record]) -> str | None:
        if self.predicate is not None and not self.predicate(change.record):
            self.summary.skipped[f"{self.flow.title}: condition not met"] += 1
            return None
        link = self.state.link_for_source(self.key, change.id)
        if link is None:
            return self._establish(change)
        self._reconcile(change.id, link.target_id, change.record, tgt_changed.get(link.target_id))
        return link.target_id

    # -- establishing links --------------------------------------------------------------------

    def _establish(self, change: Change) -> str | None:
        policy = self.flow.policy
        if policy in (Policy.MERGE_OR_CREATE, Policy.LINK_REQUIRED):
            match = self._find_match(change.record)
            if match is not None:
                self._merge(change, match)
                return match
            if policy is Policy.LINK_REQUIRED:
                reason = "no matching target record (the flow requires a link)"
                if self.flow.created_if_connected:
                    reason += "; creation depends on connections to " + ", ".join(self.flow.created_if_connected)
                self.summary.skipped[f"{self.flow.title}: {reason}"] += 1
                return None
        return self._create(change)

    def _forward_values(self, record: Record, target: Record | None = None) -> dict[str, Any]:
        """Target path -> value from ``record``: the first non-empty source among the rows feeding it (the
        fan-in rule), of the rows that apply (a conditional row applies while its side holds its value;
        a target path no row applies to is left out)."""
        out: dict[str, Any] = {}
        for path, rows in self.targets.items():
            value, applies = None, False
            for row in rows:
                cond = self.row_conditions.get(row.line)
                if cond is not None:
                    side, predicate = cond
                    if not predicate(record if side == SOURCE else target):
                        continue
                applies = True
                value = get_path(record, row.source)
                if not _empty(value):
                    break
            if applies:
                out[path] = value
        return out

    def _applies(self, row: Row, source: Record | None, target: Record | None) -> bool:
        """Whether ``row`` applies to this pair: it has no condition, or its side's record holds it."""
        cond = self.row_conditions.get(row.line)
        if cond is None:
            return True
        side, predicate = cond
        return predicate(source if side == SOURCE else target)

    @property
    def _target_conditions(self) -> bool:
        return any(side == TARGET for side, _ in self.row_conditions.values())

    def _create(self, change: Change) -> str:
        ref = self.state.intent(self.key, change.id)
        # where the document maps the target's reference field, its value is the document's: no reference
        # is written there, so none is looked for (docs/sync.md, "Crash safety")
        target_id = self.tgt.find_by_external_ref(ref) if ref and not self.ref_mapped else None
        values = self._forward_values(change.record)
        if target_id is None:
            ref = ref or external_ref(self.key, change.id)
            self.state.add_intent(self.key, change.id, ref)  # committed before the remote call
            body: Record = {}
            for path, value in values.items():
                if not _empty(value):
                    set_path(body, path, value)
            body = self._coerced(body, self.tgt)
            complete = getattr(self.tgt, "complete_for_create", None)
            if complete is not None:  # what the target requires on create but the document does not map
                body = complete(body)
            self.engine.wrote(self.tgt)
            target_id = self.tgt.create(body, external_ref=None if self.ref_mapped else ref)
            self.summary.created += 1
        else:
            self.summary.linked += 1
        with self.state.transaction():
            self.state.add_link(self.key, change.id, self.target_resource, target_id)
            self.state.clear_intent(self.key, change.id)
            self._remember(change.id, target_id, change.record, values)
        self._write_back(change.id, change.record, target_id, values)
        return target_id

    def _write_back(self, source_id: str, source: Record, target_id: str, target_values: dict[str, Any]) -> None:
        """Rows into the target's identifier: the source property learns the linked target's id. Where that
        property also feeds target fields (``customer.id -> customerId`` beside ``customer.id -> id``), they
        are written now too, so the link is complete in one run (a second run has nothing to do).
        ``target_values``: the target's values the link was remembered with."""
        changes: Record = {}
        for row in self.writeback:
            spec = self.src.fields.get(row.source)
            value: Any = target_id
            if spec is not None and spec.kind == "integer":
                try:
                    value = int(target_id)
                except ValueError:
                    continue
            if _match_key(get_path(source, row.source)) != _match_key(value):
                set_path(changes, row.source, value)
        changes = self._coerced(changes, self.src)
        if not changes:
            return
        self.engine.wrote(self.src)
        self.src.update(source_id, changes)
        self.summary.updated += 1
        after = _overlay(source, changes)
        carried = {path: value for path, value in self._forward_values(after).items()
                   if path in target_values and _fp(value) != _fp(target_values[path])}
        to_target: Record = {}
        for path, value in carried.items():
            set_path(to_target, path, value)
        written = flatten(self._write(source_id, target_id, {}, to_target))
        with self.state.transaction():
            self._remember(source_id, target_id, after,
                           {**target_values, **{p: v for p, v in carried.items() if p in written}})

    def _find_match(self, record: Record) -> str | None:
        if self._index is None:
            self._index = {i: {} for i in range(len(self.flow.match))}
            for change in self.tgt.iter_all():
                self._targets[change.id] = change.record
                for i, rule in enumerate(self.flow.match):
                    value = get_path(change.record, rule.target)
                    if not _empty(value):
                        self._index[i].setdefault(_match_key(value), []).append(change.id)
        for i, rule in enumerate(self.flow.match):
            value = get_path(record, rule.source)
            if _empty(value):
                continue
            for target_id in sorted(self._index[i].get(_match_key(value), [])):
                if self.state.link_for_target(self.target_resource, target_id) is None:
                    return target_id
        return None

    def _merge(self, change: Change, target_id: str) -> None:
        """Link an existing target: source values win; empty source properties take the target's."""
        target = self._targets.get(target_id) or self.tgt.get(target_id)
        to_target: Record = {}
        to_source: Record = {}
        forward = self._forward_values(change.record)
        for path, value in forward.items():
            current = get_path(target, path)
            if not _empty(value) and _fp(value) != _fp(current):
                set_path(to_target, path, value)
            elif _empty(value) and not _empty(current) and path in self.reverse:
                set_path(to_source, self.reverse[path].source, current)
        self._write(change.id, target_id, to_source, to_target)
        source_after = _overlay(change.record, to_source)
        target_after = _overlay(target, to_target)
        with self.state.transaction():
            self.state.add_link(self.key, change.id, self.target_resource, target_id)
            self._remember(change.id, target_id, source_after, _values(target_after, self.targets))
        self.summary.linked += 1
        self._write_back(change.id, source_after, target_id, _values(target_after, self.targets))

    # -- keeping linked records in sync ---------------------------------------------------------

    def _reconcile(self, source_id: str, target_id: str, src_rec: Record | None, tgt_rec: Record | None) -> None:
        src_fp = self.state.fingerprints(self.key, SOURCE, source_id)
        tgt_fp = self.state.fingerprints(self.key, TARGET, target_id)
        to_target: Record = {}
        to_source: Record = {}
        conflicts: list[tuple[str, Any, Any]] = []
        if tgt_rec is None and src_rec is not None and self._target_conditions:
            tgt_rec_for_conditions: Record | None = self.tgt.get(target_id)
        else:
            tgt_rec_for_conditions = tgt_rec
        forward = self._forward_values(src_rec, tgt_rec_for_conditions) if src_rec is not None else {}
        # a row whose condition is on the target side applies once the target comes to hold it: the values
        # the source last had (or has) are what it carries then, though the source did not change
        now_applying: dict[str, Any] | None = None
        followed: set[str] = set()  # targets following an edit carried back this run (fan-out)
        for target, rows in self.targets.items():
            src_changed = src_rec is not None and any(
                _fp(get_path(src_rec, r.source)) != src_fp.get(r.source) for r in rows
            )
            tgt_value = get_path(tgt_rec, target) if tgt_rec is not None else None
            # a target property never synced (no fingerprint) has no edit to carry back: only a change
            # from a value the sync knew is an edit
            tgt_changed = tgt_rec is not None and target in tgt_fp and _fp(tgt_value) != tgt_fp[target]
            if src_changed and target in forward:
                desired = forward[target]
                if tgt_changed and _fp(desired) != _fp(tgt_value):
                    conflicts.append((target, desired, tgt_value))
                    set_path(to_target, target, desired)
                elif _fp(desired) != (_fp(tgt_value) if tgt_changed else tgt_fp.get(target)):
                    set_path(to_target, target, desired)
            elif tgt_changed and not src_changed:
                governing = self.reverse.get(target)
                if governing is not None:
                    if _fp(tgt_value) == src_fp.get(governing.source):
                        continue  # the sides already agree (e.g. our own write whose answer was lost)
                    set_path(to_source, governing.source, tgt_value)
                    # fan-out: the source's other targets follow, through the rows that apply (a conditional
                    # row whose condition does not hold carries nothing)
                    source_now = src_rec if src_rec is not None else _known(src_fp)
                    for other in self.targets:
                        if other != target and any(r.source == governing.source
                                                   and self._applies(r, source_now, tgt_rec)
                                                   for r in self.targets[other]):
                            set_path(to_target, other, tgt_value)
                            followed.add(other)
                elif src_fp:  # not a reverse row: reset it to what the source says
                    reset = self._forward_values(_known(src_fp), tgt_rec)
                    if target in reset:
                        set_path(to_target, target, reset[target])
            elif tgt_rec is not None and not tgt_changed and target not in followed and any(
                    self.row_conditions.get(r.line, (SOURCE,))[0] == TARGET for r in rows):
                if now_applying is None:
                    now_applying = self._forward_values(src_rec if src_rec is not None else _known(src_fp), tgt_rec)
                desired = now_applying.get(target)
                if not _empty(desired) and _fp(desired) != _fp(tgt_value):
                    set_path(to_target, target, desired)
        if not to_target and not to_source and not conflicts:
            if src_rec is not None or tgt_rec is not None:
                self.summary.unchanged += 1
            self._refresh(source_id, target_id, src_rec, tgt_rec, src_fp, tgt_fp)
            return
        self._write(source_id, target_id, to_source, to_target)
        source_after = _overlay(src_rec, to_source) if src_rec is not None else _overlay(_known(src_fp), to_source)
        target_after = _overlay(tgt_rec, to_target) if tgt_rec is not None else _overlay(_known(tgt_fp), to_target)
        with self.state.transaction():
            for target, desired, lost in conflicts:
                self.state.log_conflict(self.key, source_id, target_id, target, (SOURCE, desired), (TARGET, lost))
            self._remember(source_id, target_id, source_after, _values(target_after, self.targets))
        self.summary.conflicts += len(conflicts)

    def _refresh(
        self,
        source_id: str,
        target_id: str,
        src_rec: Record | None,
        tgt_rec: Record | None,
        src_fp: dict[str, str],
        tgt_fp: dict[str, str],
    ) -> None:
        """Nothing to write, but the fingerprints may lag (e.g. an edit already in agreement)."""
        stale = (
            src_rec is not None
            and any(
                _fp(get_path(src_rec, r.source)) != src_fp.get(r.source) for rows in self.targets.values() for r in rows
            )
        ) or (tgt_rec is not None and any(_fp(get_path(tgt_rec, t)) != tgt_fp.get(t) for t in self.targets))
        if stale:
            with self.state.transaction():
                self._remember(
                    source_id,
                    target_id,
                    src_rec if src_rec is not None else _known(src_fp),
                    _values(tgt_rec, self.targets)
                    if tgt_rec is not None
                    else {p: decode_value(v) for p, v in tgt_fp.items()},
                )

    def _write(self, source_id: str, target_id: str, to_source: Record, to_target: Record) -> Record:
        """Write both sides' changes in the connectors' kinds; returns what was written to the target."""
        to_target = self._coerced(to_target, self.tgt)
        to_source = self._coerced(to_source, self.src)
        if to_target:
            self.engine.wrote(self.tgt)
            self.tgt.update(target_id, to_target)
            self.summary.updated += 1
        if to_source:
            self.engine.wrote(self.src)
            self.src.update(source_id, to_source)
            self.summary.updated += 1
        return to_target

    def _coerced(self, changes: Record, connector: ResourceConnector) -> Record:
        """``changes`` in the kinds of ``connector``'s fields; values with no such form are left out."""
        out: Record = {}
        known = connector.fields
        for path, value in flatten(changes).items():
            spec = known.get(path)
            if known and (spec is None or spec.read_only):
                why = "assigned by the system" if spec is not None else "not a field the connector knows"
                self.summary.skipped[f"{self.flow.title}: {connector.entity}.{path}: {why}"] += 1
                continue
            try:
                set_path(out, path, coerce(value, spec))
            except NotConvertible as exc:
                self.summary.skipped[f"{self.flow.title}: {connector.entity}.{path}: {exc}"] += 1
        return out

    def _remember(self, source_id: str, target_id: str, source: Record, target_values: dict[str, Any]) -> None:
        self.state.set_fingerprints(self.key, SOURCE, source_id, {
            row.source: _fp(get_path(source, row.source)) for rows in self.targets.values() for row in rows})
        self.state.set_fingerprints(self.key, TARGET, target_id, {
            path: _fp(target_values[path]) for path in self.targets if path in target_values})


def _match_key(value: Any) -> str:
    """Match-rule equality: as the fingerprint, except that a number and its decimal text are equal
    (an identifier is ``7`` on one side and ``"7"`` on the other)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    return encode_value(value)


def _values(record: Record, targets: Mapping[str, Any]) -> dict[str, Any]:
    return {path: get_path(record, path) for path in targets}


def _known(fingerprints: dict[str, str]) -> Record:
    out: Record = {}
    for path, value in fingerprints.items():
        set_path(out, path, decode_value(value))
    return out


def _overlay(record: Record, changes: Record) -> Record:
    """``record`` with ``changes`` (nested) applied; neither input is modified."""
    out = _deep_copy(record)
    _apply(out, changes)
    return out


def _deep_copy(record: Record) -> Record:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in record.items()}


def _apply(into: Record, changes: Record) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _apply(into[key], value)
        else:
            into[key] = _deep_copy(value) if isinstance(value, dict) else value
