"""Render a dataflow model in the vendor's exact format, and say what the parser must read back.

The writer is the test oracle for the round-trip property: it lays out the text line by line
(title with ``===`` over/underline, ``Generated:``, the Introduction, one ``---`` section per
flow with the policy sentences, the match table, the two-way sentence and the mapping table)
and records, while writing, the 1-based line of every flow title and every table row. The
expected model is built from the spec and those recorded lines only; nothing here calls the
parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from generator.model import Condition, ConditionClause, Flow, Mapping, MatchRule, Policy

#: The vendor's quoted type cells and what they mean (an oracle independent of the parser's table).
TYPE_CELLS: dict[str, str] = {
    '"string"': "string",
    '"integer"': "integer",
    '"float"': "float",
    '"boolean"': "boolean",
    '"list"': "list",
    "N/A": "unknown",
    '"datetime-format","%Y-%m-%dT%H:%M:%S","_."]': "other",
}

INTRO_TEXT = (
    "This technical document provides a detailed overview of the Sesam Talk data flow from {a} to {b}. "
    "It serves as a QA checklist for testing purposes and is the intellectual property of Sesam.io AS. "
    "The content contains confidential information regulated under an NDA agreement, and sharing or "
    "distributing it without written permission is prohibited."
)


def slug(name: str) -> str:
    """The test's own slug rule: lower-case letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class RowSpec:
    source: str
    target: str
    type_cell: str
    #: ("source" | "target", ((value, path), ...)) or None
    condition: tuple[str, tuple[tuple[str, str], ...]] | None = None


@dataclass(frozen=True)
class FlowSpec:
    source_entity: str
    target_entity: str
    policy: str  # always | merge_or_create | link_required | when | free
    source_qualifiers: tuple[str, ...] = ()
    target_qualifiers: tuple[str, ...] = ()
    #: For "when": the predicate after "When a <A> <a> "; for "free": the whole free-text clause.
    condition: str | None = None
    created_from: tuple[str, ...] | None = None
    two_way: bool = True
    match: tuple[tuple[str, str], ...] = ()
    rows: tuple[RowSpec, ...] = ()


@dataclass(frozen=True)
class DocSpec:
    source: str  # system name as the document writes it ("" = blank)
    target: str
    source_slug: str  # the file name's slugs: <source_slug>-<target_slug>.rst
    target_slug: str
    generated: str = "2024-08-29 10:35:42"
    intro_dot: bool = False  # "Introduction." over a 12-dash underline (too short)
    flows: tuple[FlowSpec, ...] = ()

    @property
    def file_name(self) -> str:
        return f"{self.source_slug}-{self.target_slug}.rst"


@dataclass
class Rendered:
    text: str
    title: str
    flows: tuple[Flow, ...]
    #: (code, line) of every diagnostic the parser must report, sorted.
    diagnostics: list[tuple[str, int]] = field(default_factory=list)


def _label(entity: str, qualifiers: tuple[str, ...]) -> str:
    return " ".join([entity, *(f"({q})" for q in qualifiers)])


def _condition_cell(path: str, condition: tuple[str, tuple[tuple[str, str], ...]]) -> tuple[str, Condition]:
    side, clauses = condition
    text = "".join(f"Dependant on having {v} in {p}" for v, p in clauses)
    return (
        f"{path} ({text})",
        Condition(text=space(text), side=side, clauses=tuple(ConditionClause(value=v, path=p) for v, p in clauses)),
    )


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, *lines: str) -> int:
        """Append lines; return the 1-based number of the first one."""
        first = len(self.lines) + 1
        self.lines.extend(lines)
        return first

    @property
    def next(self) -> int:
        return len(self.lines) + 1


def render(spec: DocSpec, newline: str = "\n") -> Rendered:
    """The document text for ``spec`` and the model the parser must read from it."""
    out = _Lines()
    a, b = spec.source, spec.target
    title = f"{a} to {b} Dataflow"
    out.add("=" * len(title), title, "=" * len(title), "", f"Generated: {spec.generated}", "")
    diagnostics: list[tuple[str, int]] = []
    if not a:
        diagnostics.append(("blank-system-name", 2))
    if not b:
        diagnostics.append(("blank-system-name", 2))
    if spec.intro_dot:
        line = out.add("Introduction.", "-" * len("Introduction"))
        diagnostics.append(("short-underline", line + 1))
    else:
        out.add("Introduction", "-" * len("Introduction"))
    out.add("", INTRO_TEXT.format(a=a, b=b), "")

    seen_titles: set[str] = set()
    flows: list[Flow] = []
    for f in spec.flows:
        la = f"{a} {_label(f.source_entity, f.source_qualifiers)}"
        lb = f"{b} {_label(f.target_entity, f.target_qualifiers)}"
        heading = f"{la} to {lb}"
        title_line = out.add(heading, "-" * len(heading))
        key = space(heading).lower()
        if key in seen_titles:
            diagnostics.append(("repeated-title", title_line + 1))
        seen_titles.add(key)

        condition: str | None = None
        if f.policy in ("always", "merge_or_create"):
            out.add(f"Every {la} will be synchronized with a {lb}.")
            if f.policy == "merge_or_create":
                out.add(
                    "",
                    f"If a matching {lb} already exists, the {la} will be merged with the existing one.",
                    f"If no matching {lb} is found, a new {lb} will be created.",
                )
            policy = Policy(f.policy)
        elif f.policy == "link_required":
            out.add(f"Before any synchronization can take place, a link between a {la} and a {lb} must be established.")
            policy = Policy.LINK_REQUIRED
        elif f.policy == "when":
            clause = f"When a {la} {f.condition}"
            out.add(f"{clause}, it  will be synchronized with a {lb}.")
            condition = space(clause)
            policy = Policy.CONDITIONAL
        elif f.policy == "free":
            assert f.condition
            out.add(f"{f.condition}, it  will be synchronized with a {lb}.")
            condition = space(f.condition)
            policy = Policy.CONDITIONAL
        else:  # pragma: no cover - a bad spec
            raise ValueError(f.policy)
        if f.created_from is not None:
            items = list(f.created_from)
            listed = items[0] if len(items) == 1 else ", ".join(items[:-1]) + ", or " + items[-1]
            out.add(
                "",
                f"A new {lb} will be created from a {la} if it is connected to a {listed} "
                f"that is synchronized into {b}.",
            )

        match: list[MatchRule] = []
        if f.match:
            out.add(
                "",
                f"A {la} will merge with a {lb} if one of the following property combinations match:",
                "",
                ".. list-table::",
                "   :header-rows: 1",
                "",
                f"   * - {la} Property",
                f"     - {lb} Property",
            )
            for s, t in f.match:
                line = out.add(f"   * - {s}", f"     - {t}")
                match.append(MatchRule(source=s, target=t, line=line))
        if f.two_way:
            out.add(
                "",
                f"Once a link between a {la} and a {lb} is established, it will keep in sync between the two "
                "systems, regardless of where it is edited.",
            )
        out.add(
            "",
            f"The following properties are synchronized between a {la} and a {lb}:",
            "",
            ".. list-table::",
            "   :header-rows: 1",
            "",
            f"   * - {la} Property",
            f"     - {lb} Property",
            f"     - {b} Data Type",
        )
        mappings: list[Mapping] = []
        for r in f.rows:
            src_cell, tgt_cell, cond = r.source, r.target, None
            if r.condition is not None and r.condition[0] == "source":
                src_cell, cond = _condition_cell(r.source, r.condition)
            elif r.condition is not None:
                tgt_cell, cond = _condition_cell(r.target, r.condition)
            line = out.add(f"   * - {src_cell}", f"     - {tgt_cell}", f"     - {r.type_cell}")
            mappings.append(
                Mapping(
                    source=r.source,
                    target=r.target,
                    type=TYPE_CELLS[r.type_cell],
                    raw_type=r.type_cell,
                    line=line,
                    condition=cond,
                )
            )
        out.add("", "")
        flows.append(
            Flow(
                title=space(heading),
                line=title_line,
                source_entity=f.source_entity,
                target_entity=f.target_entity,
                source_qualifiers=f.source_qualifiers,
                target_qualifiers=f.target_qualifiers,
                source_system_name=a,
                target_system_name=b,
                policy=policy,
                two_way=f.two_way,
                condition=condition,
                created_if_connected=f.created_from,
                match=tuple(match),
                mappings=tuple(mappings),
            )
        )
    if not spec.flows:
        diagnostics.append(("no-flows", 2))
    return Rendered(
        text=newline.join(out.lines) + newline,
        title=space(title),
        flows=tuple(flows),
        diagnostics=sorted(diagnostics, key=lambda d: (d[1], d[0])),
    )


def small_document(source: str = "Alpha", target: str = "Beta", rows: tuple[tuple[str, str, str], ...] = ()) -> str:
    """A hand-laid document with one "Contacts to Persons" flow; title line 12, first row line 24.

    Lines: 1-3 title, 5 Generated, 7-8 Introduction, 10 intro text, 12-13 flow title, 14 policy,
    16 mapping intro, 18 directive, 21-23 header row, 24.. data rows (three lines each).
    """
    title = f"{source} to {target} Dataflow"
    heading = f"{source} Contacts to {target} Persons"
    text = (
        f"{'=' * len(title)}\n{title}\n{'=' * len(title)}\n\nGenerated: 2024-01-01 00:00:00\n\n"
        "Introduction\n------------\n\n"
        f"This technical document provides a detailed overview of the Sesam Talk data flow from {source} to {target}.\n"
        "\n"
        f"{heading}\n{'-' * len(heading)}\n"
        f"Every {source} Contacts will be synchronized with a {target} Persons.\n\n"
        f"The following properties are synchronized between a {source} Contacts and a {target} Persons:\n\n"
        ".. list-table::\n   :header-rows: 1\n\n"
        f"   * - {source} Contacts Property\n     - {target} Persons Property\n     - {target} Data Type\n"
    )
    for s, t, ty in rows:
        text += f"   * - {s}\n     - {t}\n     - {ty}\n"
    return text
