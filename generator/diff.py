"""Compare two versions of a dataflow document at the level of the checklist.

Pure: two :class:`Document` values in, a :class:`DocumentDiff` out. What counts is what a tester
checks: the document title, each flow's entities (with qualifiers), policy, two-way flag,
condition, "created from" list, match rules, and each row's source, target, type and condition.
The ``Generated:`` stamp, file paths, line numbers, diagnostics and the order of flows are not
compared (lines are reported, never compared). The order of rows is: in a two-way flow it decides
which row carries edits back, so the rows both versions have, in another order, are
``rows_reordered``.

Identity
    A flow is identified by its entity labels, ``Contactperson -> Contacts`` (entity plus
    qualifiers on each side). The system names in flow titles are not part of it: a rename of
    a system shows once, as ``title_changed`` of the document. When several flows share a label
    (the corpus repeats titles), they pair up greedily: identical content first, then most rows
    in common, then nearest in order of appearance.

Renames
    Flows left unpaired are paired as *renamed* when one of these holds, tried best-first:

    1. same entities, other qualifiers (``Customers (human data)`` -> ``Customers (person data)``);
    2. same rows under another title: at least one row (source, target) in common, the common rows
       are at least half the rows of the smaller flow, and the labels share a word on the source
       or the target side;
    3. same slot: both documents have the same number of flows, the two flows sit at the same
       index, and the labels share a word.

    Among candidates the order is: rule 1, then more rows in common, then more shared words,
    then nearer index. Anything still unpaired is ``flow_removed`` / ``flow_added``.

Rows
    A row is identified by (source, target) within its flow. Identical rows pair first, then rows
    with the same key, then a leftover old and new row with the same source pair as
    ``target_changed`` (not removed + added). Paired rows report ``type_changed`` (normalised
    type; the raw cell when both are ``other``) and ``row_condition_changed``. A removed row
    reports its type in ``old``, an added row in ``new``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from generator.model import Condition, Document, Flow, Mapping, MatchRule

SCHEMA_VERSION = 1


class ChangeKind(StrEnum):
    """Every kind of change; the order here is the order of the report within a flow."""

    DOCUMENT_ADDED = "document_added"
    DOCUMENT_REMOVED = "document_removed"
    TITLE_CHANGED = "title_changed"
    FLOW_ADDED = "flow_added"
    FLOW_REMOVED = "flow_removed"
    FLOW_RENAMED = "flow_renamed"
    POLICY_CHANGED = "policy_changed"
    TWO_WAY_CHANGED = "two_way_changed"
    FLOW_CONDITION_CHANGED = "flow_condition_changed"
    CREATED_FROM_CHANGED = "created_from_changed"
    MATCH_RULE_REMOVED = "match_rule_removed"
    MATCH_RULE_ADDED = "match_rule_added"
    ROW_REMOVED = "row_removed"
    ROW_ADDED = "row_added"
    TARGET_CHANGED = "target_changed"
    TYPE_CHANGED = "type_changed"
    ROW_CONDITION_CHANGED = "row_condition_changed"
    ROWS_REORDERED = "rows_reordered"


_KIND_ORDER = {k: i for i, k in enumerate(ChangeKind)}


@dataclass(frozen=True)
class Change:
    """One change. ``old``/``new`` are the values before and after (strings, ``None`` = absent).

    ``source``/``target`` name the row or match rule (for ``target_changed``, ``target`` is the
    old target and ``new`` the new one). Lines are 1-based, in the old and the new document.
    """

    kind: ChangeKind
    old_line: int | None = None
    new_line: int | None = None
    source: str | None = None
    target: str | None = None
    old: str | None = None
    new: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "old_line": self.old_line,
            "new_line": self.new_line,
            "source": self.source,
            "target": self.target,
            "old": self.old,
            "new": self.new,
        }


@dataclass(frozen=True)
class FlowRef:
    """A flow as the report names it."""

    label: str  # "Contactperson -> Contacts"
    title: str
    line: int
    rows: int
    match_rules: int

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "title": self.title,
            "line": self.line,
            "rows": self.rows,
            "match_rules": self.match_rules,
        }


@dataclass(frozen=True)
class FlowDiff:
    """The changes of one flow; ``old``/``new`` is ``None`` for an added/removed flow."""

    old: FlowRef | None
    new: FlowRef | None
    changes: tuple[Change, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "old": self.old.to_json() if self.old else None,
            "new": self.new.to_json() if self.new else None,
            "changes": [c.to_json() for c in self.changes],
        }


@dataclass(frozen=True)
class DocumentDiff:
    """The changes of one document (a pair of files, or a file only on one side)."""

    name: str
    old_path: str | None
    new_path: str | None
    changes: tuple[Change, ...] = ()  # document level: added, removed, title
    flows: tuple[FlowDiff, ...] = ()  # only flows with changes

    @property
    def status(self) -> str:
        if self.old_path is None:
            return "added"
        if self.new_path is None:
            return "removed"
        return "changed" if self.changed else "unchanged"

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.flows)

    @property
    def all_changes(self) -> tuple[Change, ...]:
        return self.changes + tuple(c for f in self.flows for c in f.changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "old": self.old_path,
            "new": self.new_path,
            "status": self.status,
            "changes": [c.to_json() for c in self.changes],
            "flows": [f.to_json() for f in self.flows],
        }


def label(flow: Flow) -> str:
    return f"{flow.source_label} -> {flow.target_label}"


def flow_ref(flow: Flow) -> FlowRef:
    return FlowRef(label(flow), flow.title, flow.line, len(flow.mappings), len(flow.match))


def document_added(doc: Document, name: str, title_line: int | None = None) -> DocumentDiff:
    change = Change(ChangeKind.DOCUMENT_ADDED, new_line=title_line, new=doc.title)
    return DocumentDiff(name, None, doc.path, (change,))


def document_removed(doc: Document, name: str, title_line: int | None = None) -> DocumentDiff:
    change = Change(ChangeKind.DOCUMENT_REMOVED, old_line=title_line, old=doc.title)
    return DocumentDiff(name, doc.path, None, (change,))


def diff_documents(
    old: Document,
    new: Document,
    name: str | None = None,
    old_title_line: int | None = None,
    new_title_line: int | None = None,
) -> DocumentDiff:
    """The checklist changes from ``old`` to ``new`` (title lines are only reported, if given)."""
    changes: list[Change] = []
    if old.title != new.title:
        changes.append(Change(ChangeKind.TITLE_CHANGED, old_title_line, new_title_line, old=old.title, new=new.title))
    pairs, removed, added = _pair_flows(old.flows, new.flows)
    flows: list[FlowDiff] = []
    for i, j in pairs:
        o, n = old.flows[i], new.flows[j]
        fc = _diff_flow(o, n)
        if fc:
            flows.append(FlowDiff(flow_ref(o), flow_ref(n), tuple(fc)))
    for i in removed:
        o = old.flows[i]
        flows.append(FlowDiff(flow_ref(o), None, (Change(ChangeKind.FLOW_REMOVED, o.line, None, old=label(o)),)))
    for j in added:
        n = new.flows[j]
        flows.append(FlowDiff(None, flow_ref(n), (Change(ChangeKind.FLOW_ADDED, None, n.line, new=label(n)),)))
    flows.sort(key=lambda f: (0, f.old.line) if f.old else (1, f.new.line if f.new else 0))
    return DocumentDiff(name or new.path, old.path, new.path, tuple(changes), tuple(flows))


# -- pairing flows -------------------------------------------------------------------------------


def _key(flow: Flow) -> tuple[str, str]:
    return flow.source_label, flow.target_label


def _row_keys(flow: Flow) -> Counter[tuple[str, str]]:
    return Counter((m.source, m.target) for m in flow.mappings)


def _shared_rows(a: Flow, b: Flow) -> int:
    return sum((_row_keys(a) & _row_keys(b)).values())


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _affinity(a: Flow, b: Flow) -> int:
    return len(_words(a.source_label) & _words(b.source_label)) + len(_words(a.target_label) & _words(b.target_label))


def _content(flow: Flow) -> tuple[Any, ...]:
    """What the diff compares in a flow (its checklist content; no lines, no title text)."""
    rows = sorted((m.source, m.target, _type(m), _condition(m.condition) or "") for m in flow.mappings)
    return (
        _key(flow),
        str(flow.policy),
        flow.two_way,
        flow.condition,
        flow.created_if_connected,
        sorted((r.source, r.target) for r in flow.match),
        rows,
    )


_T = TypeVar("_T")


def _greedy(candidates: list[tuple[tuple[Any, ...], int, int]]) -> list[tuple[int, int]]:
    """Take (rank, i, j) best rank first (smallest), each i and each j at most once."""
    used_i: set[int] = set()
    used_j: set[int] = set()
    out = []
    for _, i, j in sorted(candidates):
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            out.append((i, j))
    return out


def _pair_flows(old: Sequence[Flow], new: Sequence[Flow]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """(pairs of indexes, unpaired old indexes, unpaired new indexes)."""
    old_rank = _ranks(old)
    new_rank = _ranks(new)
    same_label = []
    for i, o in enumerate(old):
        for j, n in enumerate(new):
            if _key(o) == _key(n):
                rank = (_content(o) != _content(n), -_shared_rows(o, n), abs(old_rank[i] - new_rank[j]), i, j)
                same_label.append((rank, i, j))
    pairs = _greedy(same_label)
    left_old = [i for i in range(len(old)) if i not in {p[0] for p in pairs}]
    left_new = [j for j in range(len(new)) if j not in {p[1] for p in pairs}]
    renames = []
    for i in left_old:
        for j in left_new:
            rank = _rename_rank(old[i], new[j], i, j, same_count=len(old) == len(new))
            if rank is not None:
                renames.append((rank, i, j))
    pairs += _greedy(renames)
    paired_old = {p[0] for p in pairs}
    paired_new = {p[1] for p in pairs}
    return (
        sorted(pairs),
        [i for i in range(len(old)) if i not in paired_old],
        [j for j in range(len(new)) if j not in paired_new],
    )


def _ranks(flows: Sequence[Flow]) -> list[int]:
    """Each flow's occurrence number among the flows with its label (0 for the first)."""
    seen: Counter[tuple[str, str]] = Counter()
    out = []
    for f in flows:
        out.append(seen[_key(f)])
        seen[_key(f)] += 1
    return out


def _rename_rank(o: Flow, n: Flow, i: int, j: int, same_count: bool) -> tuple[int, ...] | None:
    """The rank of ``o`` renamed to ``n`` (smaller is better), or None when no rule allows it."""
    same_entities = (o.source_entity.lower(), o.target_entity.lower()) == (
        n.source_entity.lower(),
        n.target_entity.lower(),
    )
    shared = _shared_rows(o, n)
    affinity = _affinity(o, n)
    similar_rows = shared >= 1 and 2 * shared >= min(len(o.mappings), len(n.mappings)) and affinity >= 1
    same_slot = same_count and i == j and affinity >= 1
    if not (same_entities or similar_rows or same_slot):
        return None
    return (0 if same_entities else 1, -shared, -affinity, abs(i - j), i, j)


# -- one flow ------------------------------------------------------------------------------------


def _type(m: Mapping) -> str:
    return m.raw_type if m.type == "other" else m.type


def _condition(c: Condition | None) -> str | None:
    if c is None:
        return None
    return f"{c.side}: {c.text}"


def _way(two_way: bool) -> str:
    return "two-way" if two_way else "one-way"


def _created(items: tuple[str, ...] | None) -> str | None:
    return None if items is None else ", ".join(items)


def _diff_flow(o: Flow, n: Flow) -> list[Change]:
    out: list[Change] = []
    if _key(o) != _key(n):
        out.append(Change(ChangeKind.FLOW_RENAMED, o.line, n.line, old=label(o), new=label(n)))
    attributes: list[tuple[ChangeKind, str | None, str | None]] = [
        (ChangeKind.POLICY_CHANGED, str(o.policy), str(n.policy)),
        (ChangeKind.TWO_WAY_CHANGED, _way(o.two_way), _way(n.two_way)),
        (ChangeKind.FLOW_CONDITION_CHANGED, o.condition, n.condition),
        (ChangeKind.CREATED_FROM_CHANGED, _created(o.created_if_connected), _created(n.created_if_connected)),
    ]
    out += [Change(kind, o.line, n.line, old=a, new=b) for kind, a, b in attributes if a != b]
    out += _diff_match(o.match, n.match)
    out += _diff_rows(o.mappings, n.mappings)
    return sorted(out, key=lambda c: (_KIND_ORDER[c.kind], c.old_line or 0, c.new_line or 0))


def _diff_match(old: Sequence[MatchRule], new: Sequence[MatchRule]) -> list[Change]:
    pairs = _pair_in_order(old, new, lambda a, b: (a.source, a.target) == (b.source, b.target))
    paired_old = {p[0] for p in pairs}
    paired_new = {p[1] for p in pairs}
    out = [
        Change(ChangeKind.MATCH_RULE_REMOVED, r.line, None, r.source, r.target)
        for i, r in enumerate(old)
        if i not in paired_old
    ]
    out += [
        Change(ChangeKind.MATCH_RULE_ADDED, None, r.line, r.source, r.target)
        for j, r in enumerate(new)
        if j not in paired_new
    ]
    return out


def _pair_in_order(
    old: Sequence[_T], new: Sequence[_T], same: Callable[[_T, _T], bool], taken: set[tuple[int, int]] | None = None
) -> list[tuple[int, int]]:
    """Pair each old item with the first unpaired new item ``same`` accepts (document order)."""
    used_i = {p[0] for p in taken or ()}
    used_j = {p[1] for p in taken or ()}
    out = []
    for i, a in enumerate(old):
        if i in used_i:
            continue
        for j, b in enumerate(new):
            if j not in used_j and same(a, b):
                used_i.add(i)
                used_j.add(j)
                out.append((i, j))
                break
    return out


def _diff_rows(old: Sequence[Mapping], new: Sequence[Mapping]) -> list[Change]:
    def identical(a: Mapping, b: Mapping) -> bool:
        return (a.source, a.target, _type(a), a.condition) == (b.source, b.target, _type(b), b.condition)

    pairs: set[tuple[int, int]] = set()
    for same in (
        identical,
        lambda a, b: (a.source, a.target) == (b.source, b.target),
        lambda a, b: a.source == b.source,
    ):
        pairs |= set(_pair_in_order(old, new, same, pairs))
    out: list[Change] = []
    reordered = _reordered(sorted(pairs), old, new)
    if reordered:
        out.append(reordered)
    for i, j in sorted(pairs):
        a, b = old[i], new[j]
        if a.target != b.target:
            out.append(Change(ChangeKind.TARGET_CHANGED, a.line, b.line, a.source, a.target, a.target, b.target))
        if _type(a) != _type(b):
            out.append(Change(ChangeKind.TYPE_CHANGED, a.line, b.line, b.source, b.target, _type(a), _type(b)))
        if a.condition != b.condition:
            out.append(
                Change(
                    ChangeKind.ROW_CONDITION_CHANGED,
                    a.line,
                    b.line,
                    b.source,
                    b.target,
                    _condition(a.condition),
                    _condition(b.condition),
                )
            )
    paired_old = {p[0] for p in pairs}
    paired_new = {p[1] for p in pairs}
    out += [
        Change(ChangeKind.ROW_REMOVED, m.line, None, m.source, m.target, old=_type(m))
        for i, m in enumerate(old)
        if i not in paired_old
    ]
    out += [
        Change(ChangeKind.ROW_ADDED, None, m.line, m.source, m.target, new=_type(m))
        for j, m in enumerate(new)
        if j not in paired_new
    ]
    return out


def _reordered(pairs: list[tuple[int, int]], old: Sequence[Mapping], new: Sequence[Mapping]) -> Change | None:
    """The first row (in old order) of those both versions have whose rank among them moved."""
    by_new = sorted(pairs, key=lambda p: p[1])
    for (i, j), other in zip(pairs, by_new, strict=True):
        if (i, j) != other:
            a = old[i]
            return Change(ChangeKind.ROWS_REORDERED, a.line, new[j].line, a.source, a.target)
    return None


def summary(diffs: Sequence[DocumentDiff]) -> dict[str, Any]:
    """Counts for the report footer and the JSON ``summary``."""
    kinds = Counter(str(c.kind) for d in diffs for c in d.all_changes)
    return {
        "documents": len(diffs),
        "changed_documents": sum(d.changed for d in diffs),
        "changes": sum(kinds.values()),
        "by_kind": dict(sorted(kinds.items())),
    }


def to_json(diffs: Sequence[DocumentDiff], old: str, new: str) -> dict[str, Any]:
    """The ``talkqa diff --json`` object (schema in docs/diff.md)."""
    return {
        "schema": SCHEMA_VERSION,
        "old": old,
        "new": new,
        "changed": any(d.changed for d in diffs),
        "documents": [d.to_json() for d in diffs],
        "summary": summary(diffs),
    }
