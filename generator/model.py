"""The typed mapping model of a dataflow document.

Everything here is frozen and built only by :mod:`generator.parser`. ``to_json``
gives the stable JSON form that ``talkqa model --json`` prints (documented in the
docs/reference.md); the generated suites carry the same data as Python literals.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from typing import Any


class Policy(StrEnum):
    """How records of the two entities get linked (the documents' wording decides)."""

    ALWAYS = "always"
    MERGE_OR_CREATE = "merge_or_create"
    LINK_REQUIRED = "link_required"
    CONDITIONAL = "conditional"
    UNKNOWN = "unknown"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


#: Declared data types as the documents write them (after removing quotes).
NORMALISED_TYPES = {
    "string": "string",
    "str": "string",
    "integer": "integer",
    "int": "integer",
    "float": "float",
    "decimal": "float",
    "number": "float",
    "boolean": "boolean",
    "bool": "boolean",
    "list": "list",
    "array": "list",
    "n/a": "unknown",
    "": "unknown",
}


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    line: int
    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"severity": str(self.severity), "line": self.line, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class SystemRef:
    """A system as the document names it, plus a stable slug (``powerofficego``)."""

    name: str
    slug: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "slug": self.slug}


@dataclass(frozen=True)
class ConditionClause:
    """One "Dependant on having VALUE in PATH" clause."""

    value: str
    path: str


@dataclass(frozen=True)
class Condition:
    """The "(Dependant on having X in Y)" annotation of a row, on the source or target side."""

    text: str
    side: str  # "source" | "target"
    clauses: tuple[ConditionClause, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "side": self.side,
            "clauses": [{"value": c.value, "path": c.path} for c in self.clauses],
        }


@dataclass(frozen=True)
class Mapping:
    """One row of a flow's property table: ``source`` <-> ``target`` with a declared type."""

    source: str
    target: str
    type: str  # string | integer | float | boolean | list | unknown | other
    raw_type: str
    line: int
    condition: Condition | None = None

    @property
    def checkable_type(self) -> bool:
        return self.type in {"string", "integer", "float", "boolean"}

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "type": self.type,
            "raw_type": self.raw_type,
            "line": self.line,
            "condition": self.condition.to_json() if self.condition else None,
        }


@dataclass(frozen=True)
class MatchRule:
    """One row of a "property combinations match" table."""

    source: str
    target: str
    line: int

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "line": self.line}


@dataclass(frozen=True)
class Flow:
    """One section: entity A of the source system synchronized with entity B of the target."""

    title: str
    line: int
    source_entity: str
    target_entity: str
    source_qualifiers: tuple[str, ...] = ()
    target_qualifiers: tuple[str, ...] = ()
    source_system_name: str = ""
    target_system_name: str = ""
    policy: Policy = Policy.UNKNOWN
    two_way: bool = False
    condition: str | None = None
    created_if_connected: tuple[str, ...] | None = None
    match: tuple[MatchRule, ...] = ()
    mappings: tuple[Mapping, ...] = ()
    #: the rows the sync applies to this section's links when it shares them with other sections between
    #: the same two entities (set by :class:`Document`, see :func:`share_rows`; empty: its own rows); not
    #: part of the section, its JSON or its equality
    shared_rows: tuple[Mapping, ...] = field(default=(), compare=False, repr=False)

    @property
    def synced_mappings(self) -> tuple[Mapping, ...]:
        """The rows the sync applies to this section's links, conditional ones included, in document order:
        its own, and those of the other sections between the same two entities it shares links with."""
        return self.shared_rows or self.mappings

    @cached_property
    def syncable_rows(self) -> tuple[Mapping, ...]:
        """Rows the sync applies: those without a condition annotation (document order), shared rows of
        the other sections between the same two entities included."""
        return tuple(m for m in self.synced_mappings if m.condition is None)

    @cached_property
    def reverse_rows(self) -> tuple[Mapping, ...]:
        """The rows that carry a target-side edit back to the source (two-way flows only).

        Rule (fan-in and fan-out): among the syncable rows, in document order, a row governs
        the reverse direction when it is the first row for its target property *and* the first
        row for its source property. A target fed by several sources (fan-in) sends edits back to
        its first source only; a source feeding several targets (fan-out) takes edits from its
        first target only, and the sync resets the other targets to the source's value.
        """
        if not self.two_way:
            return ()
        seen_targets: set[str] = set()
        seen_sources: set[str] = set()
        out = []
        for m in self.syncable_rows:
            if m.target not in seen_targets and m.source not in seen_sources:
                out.append(m)
            seen_targets.add(m.target)
            seen_sources.add(m.source)
        return tuple(out)

    def governs_reverse(self, mapping: Mapping) -> bool:
        return mapping in self.reverse_rows

    @cached_property
    def source_label(self) -> str:
        """The entity with its qualifiers, as a registry key: ``Customers (human data)``."""
        return " ".join([self.source_entity, *(f"({q})" for q in self.source_qualifiers)])

    @cached_property
    def target_label(self) -> str:
        return " ".join([self.target_entity, *(f"({q})" for q in self.target_qualifiers)])

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "line": self.line,
            "source_system_name": self.source_system_name,
            "target_system_name": self.target_system_name,
            "source_entity": self.source_entity,
            "source_qualifiers": list(self.source_qualifiers),
            "target_entity": self.target_entity,
            "target_qualifiers": list(self.target_qualifiers),
            "policy": str(self.policy),
            "two_way": self.two_way,
            "condition": self.condition,
            "created_if_connected": (
                list(self.created_if_connected) if self.created_if_connected is not None else None
            ),
            "match": [m.to_json() for m in self.match],
            "mappings": [m.to_json() for m in self.mappings],
        }


#: link policies whose sections share links, and so rows, with the other sections between the same entities
SHARING = frozenset({Policy.ALWAYS, Policy.MERGE_OR_CREATE, Policy.LINK_REQUIRED})


def share_rows(flows: tuple[Flow, ...]) -> tuple[Flow, ...]:
    """Sections between the same two entities (a repeated section) share their links: a record is linked
    once, whichever of them links it. So the rows of those that have rows act on every such link as one
    section's rows, in document order: a target property fed by rows of two sections follows the fan-in
    rule (the first non-empty source), and edits of it go back through the first row for it
    (``Flow.reverse_rows``). A row two sections both state counts once, where it first appears (each
    section keeps its own copy, so its checks find it). Conditional sections, and sections without rows
    (they only link; the others fill the records in), keep their own rows."""
    groups: dict[tuple[str, str], list[int]] = {}
    for index, flow in enumerate(flows):
        if flow.policy in SHARING and flow.mappings:
            groups.setdefault((flow.source_label, flow.target_label), []).append(index)
    out = list(flows)
    for members in groups.values():
        if len(members) < 2:
            continue
        first: dict[tuple[str, str, Condition | None], Mapping] = {}
        for m in sorted((m for i in members for m in flows[i].mappings), key=lambda m: m.line):
            first.setdefault((m.source, m.target, m.condition), m)
        for index in members:
            own = {(m.source, m.target, m.condition): m for m in flows[index].mappings}
            rows = tuple(own.get(key, m) for key, m in first.items())
            out[index] = replace(flows[index], shared_rows=rows)
    return tuple(out)


@dataclass(frozen=True)
class Document:
    """A parsed dataflow document."""

    path: str
    title: str
    source_system: SystemRef
    target_system: SystemRef
    generated: str | None
    content_hash: str
    flows: tuple[Flow, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "flows", share_rows(self.flows))

    @property
    def row_count(self) -> int:
        return sum(len(f.mappings) + len(f.match) for f in self.flows)

    def system_key(self, side: str) -> str:
        """The system of one side as the runtime addresses it: its slug, except that when both sides
        are the same system the target side is a second, independent tenant (``hubspot#target``)."""
        if side == "source":
            return self.source_system.slug
        if self.target_system.slug == self.source_system.slug:
            return f"{self.target_system.slug}#target"
        return self.target_system.slug

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "title": self.title,
            "source_system": self.source_system.to_json(),
            "target_system": self.target_system.to_json(),
            "generated": self.generated,
            "content_hash": self.content_hash,
            "flows": [f.to_json() for f in self.flows],
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }


def normalise_type(raw: str) -> str:
    """``"string"`` -> ``string``; ``N/A`` -> ``unknown``; anything else -> ``other``."""
    key = raw.strip().strip('"').strip().lower()
    return NORMALISED_TYPES.get(key, "other")


def document_from_json(data: dict[str, Any]) -> Document:
    """The inverse of :meth:`Document.to_json` (the generated suites carry the JSON form)."""

    def condition(raw: dict[str, Any] | None) -> Condition | None:
        if raw is None:
            return None
        clauses = tuple(ConditionClause(c["value"], c["path"]) for c in raw["clauses"])
        return Condition(text=raw["text"], side=raw["side"], clauses=clauses)

    flows = tuple(
        Flow(
            title=f["title"],
            line=f["line"],
            source_entity=f["source_entity"],
            target_entity=f["target_entity"],
            source_qualifiers=tuple(f.get("source_qualifiers", ())),
            source_system_name=f.get("source_system_name", ""),
            target_system_name=f.get("target_system_name", ""),
            target_qualifiers=tuple(f.get("target_qualifiers", ())),
            policy=Policy(f["policy"]),
            two_way=f["two_way"],
            condition=f["condition"],
            created_if_connected=(
                tuple(f["created_if_connected"]) if f.get("created_if_connected") is not None else None
            ),
            match=tuple(MatchRule(r["source"], r["target"], r["line"]) for r in f["match"]),
            mappings=tuple(
                Mapping(
                    source=m["source"],
                    target=m["target"],
                    type=m["type"],
                    raw_type=m.get("raw_type", m["type"]),
                    line=m["line"],
                    condition=condition(m.get("condition")),
                )
                for m in f["mappings"]
            ),
        )
        for f in data["flows"]
    )
    return Document(
        path=data["path"],
        title=data["title"],
        source_system=SystemRef(**data["source_system"]),
        target_system=SystemRef(**data["target_system"]),
        generated=data.get("generated"),
        content_hash=data.get("content_hash", ""),
        flows=flows,
        diagnostics=tuple(
            Diagnostic(Severity(d["severity"]), d["line"], d["code"], d["message"]) for d in data.get("diagnostics", ())
        ),
    )
