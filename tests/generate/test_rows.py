"""No row of a document is ever absent from its generated module, and a row that cannot run says why."""

from __future__ import annotations

import re

import pytest

from generator.model import Condition, ConditionClause, Document, Flow, Mapping, MatchRule, Policy, SystemRef
from generator.parser import parse_text
from generator.render import render
from tests.generate.helpers import REPO, assert_every_row_has_cases, document, module_namespace

EVERY_KIND = (
    ("firstName", "FirstName", '"string"'),
    ("age", "Age", '"integer"'),
    ("rate", "Rate", '"float"'),
    ("active", "Active", '"boolean"'),
    ("tags", "Tags", '"list"'),
    ("notes", "Notes", "N/A"),
    ("born", "Born", '"datetime-format","%Y-%m-%dT%H:%M:%S","_."]'),
    ("ssn (Dependant on having NO in country)", "Ssn", '"string"'),
    ("city", "City", '"string"'),
    ("city", "Town", '"string"'),  # fan-out: the reverse of the second is not the governing row
)


def rst_row_lines(text: str) -> list[int]:
    """1-based lines of the data rows of the last list-table (the mapping table), read from the raw text."""
    lines = text.splitlines()
    start = max(i for i, ln in enumerate(lines) if ln.strip() == ".. list-table::")
    rows = [i + 1 for i, ln in enumerate(lines) if i > start and re.match(r"^\s+\* - ", ln)]
    return rows[1:]  # less the header row


@pytest.mark.parametrize("two_way", [True, False], ids=["two-way", "one-way"])
def test_every_row_of_a_document_has_its_cases(two_way: bool) -> None:
    text = document("Alpha", "Beta", EVERY_KIND, two_way=two_way, match=(("email", "Email"), ("phone", "Phone")))
    ns = module_namespace(render(parse_text(text, "spec/alpha-beta.rst")))
    document_data, cases = ns["DOCUMENT"], ns["CASES"]
    # the rows, read from the raw text: every one is in the module's model with its line
    (flow,) = document_data["flows"]
    assert [m["line"] for m in flow["mappings"]] == rst_row_lines(text)
    assert len(flow["match"]) == 2
    assert_every_row_has_cases(document_data, cases)
    directions = 2 if two_way else 1
    assert len(cases["mapping"]) == len(EVERY_KIND) * directions
    assert len(cases["fuzz"]) == 4 * directions  # firstName, ssn, city->City, city->Town
    assert len(cases["match"]) == 4
    skipped = {c["source"]: c["skip"] for c in cases["mapping"] if c["direction"] == "forward" and c["skip"]}
    assert sorted(skipped) == ["born"]  # a type talkqa does not know; N/A and list rows are checked
    if two_way:
        fuzz_skip = {c["target"]: c["skip"] for c in cases["fuzz"] if c["direction"] == "reverse"}
        assert fuzz_skip["City"] is None and "fan-in/fan-out" in fuzz_skip["Town"]


def test_skip_reasons_reach_the_pytest_params() -> None:
    text = document("Alpha", "Beta", EVERY_KIND)
    ns = module_namespace(render(parse_text(text, "spec/alpha-beta.rst")))
    (parametrize,) = [m for m in ns["test_mapping"].pytestmark if m.name == "parametrize"]
    params = parametrize.args[1]
    assert len(params) == len(ns["CASES"]["mapping"])
    for param, case in zip(params, ns["CASES"]["mapping"], strict=True):
        assert param.id == case["id"]
        skips = [m.kwargs["reason"] for m in param.marks if m.name == "skip"]
        if case["skip"]:
            assert skips == [f"spec/alpha-beta.rst:{case['line']}: {case['skip']}"]
        else:
            assert skips == []


def _flow(index: int, policy: Policy, two_way: bool) -> Flow:
    base = 100 * (index + 1)
    return Flow(
        title=f"A E{index} to B F{index}",
        line=base,
        source_entity=f"E{index}",
        target_entity=f"F{index}",
        policy=policy,
        two_way=two_way,
        condition="When a E is active" if policy is Policy.CONDITIONAL else None,
        match=(MatchRule("mail", "Mail", base + 1),) if policy is not Policy.ALWAYS else (),
        mappings=(
            Mapping("name", "Name", "string", '"string"', base + 2),
            Mapping("n", "N", "integer", '"integer"', base + 3),
            Mapping("x", "X", "unknown", "", base + 4),
            Mapping("y", "Y", "other", "weird", base + 5),
            Mapping(
                "z", "Z", "string", '"string"', base + 6,
                Condition("Dependant on having NO in c", "source", (ConditionClause("NO", "c"),)),
            ),
        ),
    )  # fmt: skip


def test_every_policy_and_the_flow_without_one() -> None:
    flows = tuple(_flow(i, p, two_way=i % 2 == 0) for i, p in enumerate(Policy))
    doc = Document(
        path="spec/a-b.rst", title="A to B Dataflow", source_system=SystemRef("A", "a"),
        target_system=SystemRef("B", "b"), generated=None, content_hash="0" * 64, flows=flows,
    )  # fmt: skip
    ns = module_namespace(render(doc))
    assert_every_row_has_cases(ns["DOCUMENT"], ns["CASES"])
    link_flows = {c["flow"] for c in ns["CASES"]["link"]}
    assert link_flows == set(range(len(flows)))


def test_a_document_without_flows_still_renders_a_collectable_module() -> None:
    doc = Document(
        path="spec/a-b.rst", title="A to B Dataflow", source_system=SystemRef("A", "a"),
        target_system=SystemRef("B", "b"), generated=None, content_hash="0" * 64,
    )  # fmt: skip
    ns = module_namespace(render(doc))
    assert ns["CASES"] == {"mapping": [], "link": [], "match": [], "fuzz": []}


def test_the_seed_module_holds_every_row_of_the_seed_document() -> None:
    text = (REPO / "spec" / "powerofficego-exact.rst").read_text(encoding="utf-8")
    ns = module_namespace((REPO / "generated_tests" / "test_powerofficego_exact.py").read_text(encoding="utf-8"))
    document_data = ns["DOCUMENT"]
    lines = [m["line"] for f in document_data["flows"] for m in [*f["mappings"], *f["match"]]]
    raw = [i + 1 for i, ln in enumerate(text.splitlines()) if re.match(r"^\s+\* - ", ln)]
    headers = sum(1 for ln in text.splitlines() if ln.strip() == ".. list-table::")
    assert len(lines) == len(raw) - headers and set(lines) <= set(raw)
    assert_every_row_has_cases(document_data, ns["CASES"])
