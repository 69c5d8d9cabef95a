"""The parser over the shared corpus of real documents (read in place; nothing is copied).

The corpus is ``--corpus``, else ``$TALKQA_CORPUS``, else ``../shared/corpus`` beside the
repository. One test per document, so each document is parsed once per session and the work
spreads over xdist workers. Row counts and lines are checked against the raw text, read
independently of docutils: every ``* -`` line of every list-table, less its header rows.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.lint import lint
from generator.model import Document, Policy
from generator.parser import parse_file
from tests.spec.conftest import CORPUS_ENV, corpus_dir

pytestmark = pytest.mark.corpus

#: The parser's diagnostics the real documents are known to produce.
PARSER_CODES = {"repeated-title", "no-flows", "short-underline", "blank-system-name", "unrecognised-sentence"}
#: What lint adds on top of them.
LINT_CODES = PARSER_CODES | {
    "fan-in", "fan-out", "unknown-type", "malformed-type", "conditional-row", "conditional-flow", "duplicate-row",
    "empty-table", "system-spelling",
}  # fmt: skip

_HEADER_ROWS = re.compile(r"^\s+:header-rows:\s*(\d+)\s*$")
_ROW = re.compile(r"^(\s*)\* - ?(.*)$")


def _skip_reason(config: pytest.Config) -> str | None:
    folder = corpus_dir(config)
    if folder is None:
        return f"no corpus: set {CORPUS_ENV} (or pass --corpus) to a folder of dataflow documents"
    if not folder.is_dir() or not any(folder.glob("*.rst")):
        return f"no *.rst documents in {folder} (from --corpus / {CORPUS_ENV})"
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "corpus_file" not in metafunc.fixturenames:
        return
    reason = _skip_reason(metafunc.config)
    if reason:
        metafunc.parametrize("corpus_file", [pytest.param(None, marks=pytest.mark.skip(reason=reason))], ids=["absent"])
        return
    folder = corpus_dir(metafunc.config)
    assert folder is not None
    files = sorted(folder.glob("*.rst"))
    metafunc.parametrize("corpus_file", files, ids=[f.stem for f in files])


def data_rows(text: str) -> list[tuple[int, str]]:
    """(line, first cell) of every data row of every list-table, from the raw text."""
    lines = text.splitlines()
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != ".. list-table::":
            i += 1
            continue
        header_rows = 0
        rows: list[tuple[int, str]] = []
        i += 1
        # The directive's block: blank or indented lines.
        while i < len(lines) and (not lines[i].strip() or lines[i][0] in " \t"):
            if m := _HEADER_ROWS.match(lines[i]):
                header_rows = int(m.group(1))
            elif m := _ROW.match(lines[i]):
                rows.append((i + 1, m.group(2)))
            i += 1
        out += rows[header_rows:]
    return out


def _space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_document(corpus_file: Path) -> None:
    doc: Document = parse_file(corpus_file)
    text = corpus_file.read_bytes().decode("utf-8-sig")
    raw_lines = text.splitlines()

    assert doc.title.endswith(" Dataflow")
    assert doc.source_system.slug == corpus_file.stem.split("-")[0]
    assert doc.target_system.slug == corpus_file.stem.split("-")[1]

    # Rows accounted for: every data row of every list-table is a mapping or a match rule, at its line.
    expected = data_rows(text)
    got = sorted(
        [(r.line, r.source) for f in doc.flows for r in f.match]
        + [(m.line, m.source) for f in doc.flows for m in f.mappings]
    )
    assert doc.row_count == len(expected)
    assert [line for line, _ in got] == [line for line, _ in expected]
    for (line, source), (_, cell) in zip(got, expected, strict=True):
        assert raw_lines[line - 1].lstrip().startswith("* -"), (line, raw_lines[line - 1])
        assert _space(cell).startswith(source), (line, cell, source)

    for flow in doc.flows:
        assert raw_lines[flow.line - 1].strip() != ""
        assert set(raw_lines[flow.line].strip()) == {"-"}, (flow.line, flow.title)
        assert _space(raw_lines[flow.line - 1]) == flow.title
        assert flow.policy is not Policy.UNKNOWN, flow.title
        assert flow.source_entity and flow.target_entity

    unexpected = [d for d in doc.diagnostics if d.code not in PARSER_CODES]
    assert not unexpected
    assert {d.code for d in lint(doc)} <= LINT_CODES


def test_later_powerofficego_exact_version(request: pytest.FixtureRequest) -> None:
    reason = _skip_reason(request.config)
    if reason:
        pytest.skip(reason)
    folder = corpus_dir(request.config)
    assert folder is not None
    path = folder / "powerofficego-exact.rst"
    if not path.exists():
        pytest.skip(f"{path} is not in this corpus")
    doc = parse_file(path)
    assert doc.title == "PowerOffice GO to Exact Online Dataflow"
    assert (doc.source_system.name, doc.source_system.slug) == ("PowerOffice GO", "powerofficego")
    assert (doc.target_system.name, doc.target_system.slug) == ("Exact Online", "exact")
    assert doc.generated == "2024-11-13 00:00:00"
    assert len(doc.flows) == 25
    first = doc.flows[0]
    assert (first.title, first.line) == ("PowerOffice GO Departments to Exact Online Departments", 12)
    assert (first.source_entity, first.target_entity) == ("Departments", "Departments")
    assert first.policy is Policy.LINK_REQUIRED
    assert first.two_way is True
    assert [(r.source, r.target, r.line) for r in first.match] == [("Code", "Code", 23)]
    assert [(m.source, m.target, m.type, m.line) for m in first.mappings] == [("Code", "Code", "string", 36)]
    product = doc.flows[1]
    assert product.line == 41
    assert (product.source_system_name, product.source_entity) == ("Powerofficego", "Product")
    assert (product.target_system_name, product.target_entity) == ("Exact Online", "Items")
    human = doc.flows[4]
    assert human.line == 104
    assert (human.source_entity, human.source_qualifiers) == ("Customers", ("human data",))
    assert [d.code for d in lint(doc)].count("system-spelling") == 1
