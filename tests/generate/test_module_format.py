"""A generated module carries each fact of the document once, and still gives every case its full data.

The facts are made distinctive here (a flow title that appears in no test id, row lines), so that
counting them in the module's text shows how often they are carried; before generator version 3
each case repeated its flow's title, condition and line.
"""

from __future__ import annotations

import re
from pathlib import Path

from generator.parser import parse_text
from generator.render import render
from tests.generate.helpers import document, module_namespace, run_generate

TITLE_WORD = "Zqxflowtitle"  # the flow title is "<source> Contacts to <target> Persons"
ROWS = (
    ("firstName", "FirstName", '"string"'),
    ("lastName", "LastName", '"string"'),
    ("age", "Age", '"integer"'),
    ("born", "Born", '"datetime-format","%Y-%m-%dT%H:%M:%S","_."]'),
)


def test_each_fact_of_the_document_is_carried_once() -> None:
    text = document(TITLE_WORD, "Beta", ROWS, two_way=True, match=(("email", "Email"),))
    module = render(parse_text(text, "spec/alpha-beta.rst"))
    ns = module_namespace(module)
    cases = ns["CASES"]
    assert sum(len(group) for group in cases.values()) > 10  # many cases share the flow and its rows
    title = ns["DOCUMENT"]["flows"][0]["title"]
    assert TITLE_WORD in title
    # the title is in the model once; test ids name entities, not the title
    assert module.count(f"{TITLE_WORD} Contacts to Beta Persons") == 1
    lines = len(ROWS) + 1 + 1 + len(ns["DOCUMENT"]["diagnostics"])  # the rows, the match rule, the flow, notes
    assert module.count('"line": ') == lines  # no case repeats a line
    # yet every case has its full data, read from the row it names
    for case in [*cases["mapping"], *cases["fuzz"]]:
        row = ns["DOCUMENT"]["flows"][case["flow"]]["mappings"][case["row"]]
        assert (case["line"], case["source"], case["target"], case["type"]) == (
            row["line"], row["source"], row["target"], row["type"])  # fmt: skip
        assert case["flow_title"] == title and case["document"] == "spec/alpha-beta.rst"
    (link,) = [c for c in cases["link"] if c["check"] == "edit-keeps-link"]
    assert link["statement"] == "an edit keeps the existing link" and link["line"] == ns["DOCUMENT"]["flows"][0]["line"]


def test_the_header_names_the_generator_version_and_another_version_is_stale(tmp_path: Path) -> None:
    spec = tmp_path / "spec"
    spec.mkdir()
    (spec / "alpha-beta.rst").write_text(document("Alpha", "Beta", ROWS), encoding="utf-8")
    out = tmp_path / "suite"
    assert run_generate(str(spec), "--out", str(out)).exit_code == 0
    module = out / "test_alpha_beta.py"
    text = module.read_text(encoding="utf-8")
    (version,) = re.findall(r"^# talkqa-generator: (\d+)$", text, re.MULTILINE)
    assert int(version) >= 3
    module.write_text(text.replace(f"# talkqa-generator: {version}", "# talkqa-generator: 2"), encoding="utf-8")
    check = run_generate(str(spec), "--out", str(out), "--check")
    assert check.exit_code == 1 and "test_alpha_beta.py" in check.output
