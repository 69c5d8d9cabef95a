"""Spec defects: what a QA engineer should know about a document before trusting its checklist.

The parser already reports what it could not read (unrecognised sentences, blank system
names, RST quirks); :func:`lint` adds the checks that need the whole model.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from generator.model import Diagnostic, Document, Flow, Severity
from generator.parser import slugify

#: Every code lint can report, with its severity. docs/reference.md lists them.
CODES: dict[str, Severity] = {
    "blank-system-name": Severity.WARNING,
    "system-spelling": Severity.WARNING,
    "fan-in": Severity.WARNING,
    "fan-out": Severity.WARNING,
    "unknown-type": Severity.WARNING,
    "malformed-type": Severity.WARNING,
    "conditional-row": Severity.WARNING,
    "conditional-flow": Severity.INFO,
    "duplicate-row": Severity.WARNING,
    "empty-table": Severity.WARNING,
    "unrecognised-sentence": Severity.WARNING,
    "no-policy": Severity.WARNING,
    "no-generated": Severity.WARNING,
    "table-without-intro": Severity.WARNING,
    "system-name-mismatch": Severity.WARNING,
    "rst-warning": Severity.WARNING,
    "short-underline": Severity.INFO,
    "repeated-title": Severity.INFO,
    "no-flows": Severity.INFO,
}


def lint(doc: Document) -> list[Diagnostic]:
    """The parser's diagnostics plus the model-level checks, sorted by line."""
    out = list(doc.diagnostics)
    out += _spellings(doc)
    for flow in doc.flows:
        out += _flow_checks(flow)
    return sorted(out, key=lambda d: (d.line, d.code, d.message))


def _spellings(doc: Document) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for side, ref in (("source", doc.source_system), ("target", doc.target_system)):
        seen: dict[str, int] = {}
        if ref.name:
            seen[ref.name] = 1
        for flow in doc.flows:
            name = flow.source_system_name if side == "source" else flow.target_system_name
            if name and name not in seen:
                seen[name] = flow.line
        spellings = [n for n in seen if slugify(n) == slugify(ref.name) or not ref.name]
        if len(spellings) > 1:
            first_other = min(line for n, line in seen.items() if n != spellings[0])
            out.append(
                Diagnostic(
                    Severity.WARNING,
                    first_other,
                    "system-spelling",
                    f"the {side} system is spelled {len(spellings)} ways: " + ", ".join(repr(s) for s in spellings),
                )
            )
    return out


def _flow_checks(flow: Flow) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    where = f"in flow {flow.title!r}"
    if not flow.mappings:
        out.append(Diagnostic(Severity.WARNING, flow.line, "empty-table", f"no synchronized properties {where}"))
    if flow.policy == "conditional":
        out.append(
            Diagnostic(Severity.INFO, flow.line, "conditional-flow", f"flow synchronizes only when: {flow.condition}")
        )
    by_target: dict[str, list[int]] = defaultdict(list)
    by_source: dict[str, list[int]] = defaultdict(list)
    pairs = Counter((m.source, m.target) for m in flow.mappings)
    reported_dupes: set[tuple[str, str]] = set()
    for m in flow.mappings:
        by_target[m.target].append(m.line)
        by_source[m.source].append(m.line)
        if m.type == "unknown":
            out.append(
                Diagnostic(
                    Severity.WARNING,
                    m.line,
                    "unknown-type",
                    f"{m.source} -> {m.target}: data type {m.raw_type or '(blank)'} cannot be checked",
                )
            )
        elif m.type == "other":
            out.append(
                Diagnostic(
                    Severity.WARNING,
                    m.line,
                    "malformed-type",
                    f"{m.source} -> {m.target}: data type {m.raw_type!r} is not a known type",
                )
            )
        if m.condition:
            out.append(
                Diagnostic(
                    Severity.WARNING,
                    m.line,
                    "conditional-row",
                    f"{m.source} -> {m.target}: synchronized only {m.condition.text[0].lower()}{m.condition.text[1:]}",
                )
            )
        key = (m.source, m.target)
        if pairs[key] > 1 and key not in reported_dupes and not m.condition:
            reported_dupes.add(key)
            out.append(
                Diagnostic(
                    Severity.WARNING,
                    m.line,
                    "duplicate-row",
                    f"{m.source} -> {m.target} appears {pairs[key]} times {where}",
                )
            )
    direction = "; the reverse direction is ambiguous" if flow.two_way else ""
    for target, lines in by_target.items():
        sources = sorted({m.source for m in flow.mappings if m.target == target})
        if len(sources) > 1:
            out.append(
                Diagnostic(
                    Severity.WARNING,
                    lines[0],
                    "fan-in",
                    f"{target} is fed by {len(sources)} source properties ({', '.join(sources)}) {where}",
                )
            )
    for source, lines in by_source.items():
        targets = sorted({m.target for m in flow.mappings if m.source == source})
        if len(targets) > 1:
            out.append(
                Diagnostic(
                    Severity.WARNING,
                    lines[0],
                    "fan-out",
                    f"{source} feeds {len(targets)} target properties ({', '.join(targets)}) {where}{direction}",
                )
            )
    return out
