"""Spec text never becomes code: any text in any field renders to a module that compiles and carries
that text exactly, as data. Two routes: a hand-built model straight into ``render``, and RST text
through the parser."""

from __future__ import annotations

import ast
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.errors import SpecError
from generator.model import (
    Condition,
    ConditionClause,
    Diagnostic,
    Document,
    Flow,
    Mapping,
    MatchRule,
    Policy,
    Severity,
    SystemRef,
)
from generator.parser import parse_text
from generator.render import render
from tests.generate.helpers import document, module_namespace

NASTY = (
    '"', "'", '"""', "'''", "\\", "\\n", "\\x00", "\n", "\r\n", "\r", "{{ DOCUMENT }}", "{{", "}}", "{% raw %}",
    "{% endraw %}", "{%- if x %}", "{#", "#}", "#", "# noqa", "\u2028", "\u2029", "\x85", "\x0c", "\x1b[31m", "\t",
    "é", "Ω", "🙂", "\u200b", "\ufeff", "'); import os; os.system('echo pwned') #", '"""; raise SystemExit #',
    "\\'", '\\"', "f'{x}'", "${x}", "*", "`x`", "|x|", "- ", "* -", "..", "::",
)  # fmt: skip
ANY_CHAR = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
TEXT = st.lists(st.one_of(st.sampled_from(NASTY), st.text(ANY_CHAR, max_size=12)), max_size=4).map("".join)
NONEMPTY = st.one_of(st.sampled_from(NASTY), TEXT.filter(bool))

#: The module's top level, exactly: nothing else may appear, whatever the spec says.
HEAD = ["Import", "ImportFrom", "Assign:DOCUMENT", "Assign:CASES", "Assign:pytestmark"]


def expected_shape(cases: dict[str, list[Any]]) -> list[str]:
    """One test function per kind of case the document has (none for a kind without cases)."""
    return HEAD + [f"FunctionDef:test_{kind}" for kind in ("mapping", "link", "match", "fuzz") if cases[kind]]


def shape(source: str) -> list[str]:
    out = []
    for node in ast.parse(source).body:
        kind = type(node).__name__
        if isinstance(node, ast.Assign):
            kind += ":" + ",".join(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.FunctionDef):
            kind += ":" + node.name
        out.append(kind)
    return out


@st.composite
def documents(draw: st.DrawFn) -> Document:
    lines = iter(range(1, 10**6))
    flows = []
    for _ in range(draw(st.integers(1, 3))):
        mappings = []
        for _ in range(draw(st.integers(0, 3))):
            condition = None
            if draw(st.booleans()):
                clauses = tuple(ConditionClause(draw(TEXT), draw(TEXT)) for _ in range(draw(st.integers(0, 2))))
                condition = Condition(draw(NONEMPTY), draw(st.sampled_from(["source", "target"])), clauses)
            mappings.append(
                Mapping(
                    source=draw(TEXT), target=draw(TEXT),
                    type=draw(st.sampled_from(["string", "integer", "float", "boolean", "list", "unknown", "other"])),
                    raw_type=draw(TEXT), line=next(lines), condition=condition,
                )
            )  # fmt: skip
        flows.append(
            Flow(
                title=draw(TEXT), line=next(lines), source_entity=draw(TEXT), target_entity=draw(TEXT),
                source_qualifiers=tuple(draw(st.lists(TEXT, max_size=2))),
                target_qualifiers=tuple(draw(st.lists(TEXT, max_size=2))),
                source_system_name=draw(TEXT), target_system_name=draw(TEXT),
                policy=draw(st.sampled_from(list(Policy))), two_way=draw(st.booleans()),
                condition=draw(st.none() | TEXT),
                created_if_connected=draw(st.none() | st.lists(TEXT, max_size=2).map(tuple)),
                match=tuple(MatchRule(draw(TEXT), draw(TEXT), next(lines)) for _ in range(draw(st.integers(0, 2)))),
                mappings=tuple(mappings),
            )
        )  # fmt: skip
    return Document(
        path=draw(TEXT.map(lambda s: f"spec/{s}.rst")), title=draw(TEXT),
        source_system=SystemRef(draw(TEXT), draw(TEXT)), target_system=SystemRef(draw(TEXT), draw(TEXT)),
        generated=draw(st.none() | TEXT), content_hash=draw(st.text("0123456789abcdef", min_size=64, max_size=64)),
        flows=tuple(flows),
        diagnostics=tuple(
            Diagnostic(draw(st.sampled_from(list(Severity))), next(lines), draw(TEXT), draw(TEXT))
            for _ in range(draw(st.integers(0, 2)))
        ),
    )  # fmt: skip


def expected_json(doc: Document) -> dict[str, Any]:
    """The model as data, built here field by field (the ``Generated:`` stamp is not carried)."""

    def mapping(m: Mapping) -> dict[str, Any]:
        cond = m.condition
        return {
            "source": m.source, "target": m.target, "type": m.type, "raw_type": m.raw_type, "line": m.line,
            "condition": None if cond is None else {
                "text": cond.text, "side": cond.side,
                "clauses": [{"value": c.value, "path": c.path} for c in cond.clauses],
            },
        }  # fmt: skip

    return {
        "path": doc.path, "title": doc.title,
        "source_system": {"name": doc.source_system.name, "slug": doc.source_system.slug},
        "target_system": {"name": doc.target_system.name, "slug": doc.target_system.slug},
        "generated": None, "content_hash": doc.content_hash,
        "flows": [
            {
                "title": f.title, "line": f.line, "source_system_name": f.source_system_name,
                "target_system_name": f.target_system_name, "source_entity": f.source_entity,
                "source_qualifiers": list(f.source_qualifiers), "target_entity": f.target_entity,
                "target_qualifiers": list(f.target_qualifiers), "policy": str(f.policy), "two_way": f.two_way,
                "condition": f.condition,
                "created_if_connected": None if f.created_if_connected is None else list(f.created_if_connected),
                "match": [{"source": r.source, "target": r.target, "line": r.line} for r in f.match],
                "mappings": [mapping(m) for m in f.mappings],
            }
            for f in doc.flows
        ],
        "diagnostics": [
            {"severity": str(d.severity), "line": d.line, "code": d.code, "message": d.message} for d in doc.diagnostics
        ],
    }  # fmt: skip


def assert_cases_carry_the_model(doc: Document, cases: dict[str, list[dict[str, Any]]]) -> None:
    rows = {(i, m.line): (f, m) for i, f in enumerate(doc.flows) for m in (*f.mappings, *f.match)}
    for kind, group in cases.items():
        for case in group:
            flow = doc.flows[case["flow"]]
            assert case["document"] == doc.path
            assert case["flow_title"] == flow.title
            assert case["condition"] == flow.condition
            assert case["policy"] == str(flow.policy)
            if kind == "link":
                assert case["line"] == flow.line
                continue
            _, row = rows[(case["flow"], case["line"])]
            assert (case["source"], case["target"]) == (row.source, row.target)
    total = sum(len(f.mappings) * (2 if f.two_way else 1) for f in doc.flows)
    assert len(cases["mapping"]) == total
    assert len(cases["match"]) == 2 * sum(len(f.match) for f in doc.flows)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents())
def test_any_text_in_the_model_is_carried_as_data(doc: Document) -> None:
    source = render(doc)
    compile(source, "<generated>", "exec")
    header = source.splitlines()[:3]
    assert all(line.startswith("# ") for line in header) and source.splitlines()[3] == "import pytest"
    ns = module_namespace(source)
    assert shape(source) == expected_shape(ns["CASES"])
    assert ns["DOCUMENT"] == expected_json(doc)
    assert_cases_carry_the_model(doc, ns["CASES"])


ONE_LINE = st.lists(
    st.one_of(st.sampled_from([n for n in NASTY if "\n" not in n and "\r" not in n]), st.text(ANY_CHAR, max_size=10)),
    min_size=1, max_size=4,
).map(lambda parts: " ".join("".join(parts).split()) or "x")  # fmt: skip


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=ONE_LINE, target=ONE_LINE,
    rows=st.lists(st.tuples(ONE_LINE, ONE_LINE, ONE_LINE), min_size=1, max_size=4),
    match=st.lists(st.tuples(ONE_LINE, ONE_LINE), max_size=2), generated=ONE_LINE,
)  # fmt: skip
def test_any_text_in_a_document_is_carried_as_data(
    source: str, target: str, rows: list[tuple[str, str, str]], match: list[tuple[str, str]], generated: str
) -> None:
    text = document(source, target, tuple(rows), match=tuple(match), generated=generated)
    try:
        doc = parse_text(text, "spec/fuzzed.rst")
    except SpecError:
        return  # bad input is reported as such; nothing to render
    source_code = render(doc)
    compile(source_code, "<generated>", "exec")
    ns = module_namespace(source_code)
    assert shape(source_code) == expected_shape(ns["CASES"])
    assert ns["DOCUMENT"] == expected_json(doc)
    assert_cases_carry_the_model(doc, ns["CASES"])
