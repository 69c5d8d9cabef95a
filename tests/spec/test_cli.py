"""``talkqa model`` and ``talkqa lint`` on small crafted documents."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from talkqa.cli import main
from tests.spec.docwriter import small_document

ROWS = (("firstName", "FirstName", '"string"'), ("age", "Age", '"integer"'))


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- model ---------------------------------------------------------------------------------------

DOC_KEYS = {"path", "title", "source_system", "target_system", "generated", "flows", "diagnostics"}
FLOW_KEYS = {
    "title", "line", "source_entity", "target_entity", "policy", "two_way", "condition", "match", "mappings",
}  # fmt: skip
MAPPING_KEYS = {"source", "target", "line", "type", "condition"}


def test_model_json_has_the_stable_keys(tmp_path: Path) -> None:
    cond_rows = (*ROWS, ("id", "ssn (Dependant on having NO in country)", "N/A"))
    path = write(tmp_path, "alpha-beta.rst", small_document(rows=cond_rows) + "\nStray text.\n")
    result = run("model", "--json", str(path))
    assert result.exit_code == 0, result.output
    whole = json.loads(result.stdout)
    assert whole["schema"] == "talkqa-model/1"
    data = whole["documents"]
    assert isinstance(data, list) and len(data) == 1
    (doc,) = data
    assert doc.keys() >= DOC_KEYS
    assert doc["path"] == str(path)
    assert doc["title"] == "Alpha to Beta Dataflow"
    assert doc["source_system"] == {"name": "Alpha", "slug": "alpha"}
    assert doc["target_system"] == {"name": "Beta", "slug": "beta"}
    assert doc["generated"] == "2024-01-01 00:00:00"
    (flow,) = doc["flows"]
    assert flow.keys() >= FLOW_KEYS
    assert {k: flow[k] for k in FLOW_KEYS - {"mappings"}} == {
        "title": "Alpha Contacts to Beta Persons",
        "line": 12,
        "source_entity": "Contacts",
        "target_entity": "Persons",
        "policy": "always",
        "two_way": False,
        "condition": None,
        "match": [],
    }
    for m in flow["mappings"]:
        assert m.keys() >= MAPPING_KEYS
    assert [(m["source"], m["target"], m["line"], m["type"]) for m in flow["mappings"]] == [
        ("firstName", "FirstName", 24, "string"),
        ("age", "Age", 27, "integer"),
        ("id", "ssn", 30, "unknown"),
    ]
    assert flow["mappings"][0]["condition"] is None
    cond = flow["mappings"][2]["condition"]
    assert cond["side"] == "target"
    assert cond["clauses"] == [{"value": "NO", "path": "country"}]
    (diag,) = doc["diagnostics"]
    assert set(diag) == {"severity", "line", "code", "message"}
    assert (diag["severity"], diag["line"], diag["code"]) == ("warning", 34, "unrecognised-sentence")


def test_model_json_match_rules(tmp_path: Path) -> None:
    text = small_document(rows=ROWS).replace(
        "Every Alpha Contacts will be synchronized with a Beta Persons.\n",
        "Before any synchronization can take place, a link between a Alpha Contacts and a Beta Persons must be "
        "established.\n\n"
        "A Alpha Contacts will merge with a Beta Persons if one of the following property combinations match:\n\n"
        ".. list-table::\n   :header-rows: 1\n\n"
        "   * - Alpha Contacts Property\n     - Beta Persons Property\n   * - email\n     - mail\n",
    )
    path = write(tmp_path, "alpha-beta.rst", text)
    result = run("model", "--json", str(path))
    assert result.exit_code == 0, result.output
    (flow,) = json.loads(result.stdout)["documents"][0]["flows"]
    assert flow["policy"] == "link_required"
    assert flow["match"] == [{"source": "email", "target": "mail", "line": 23}]
    assert [m["line"] for m in flow["mappings"]] == [34, 37]


def test_model_folder_means_every_rst(tmp_path: Path) -> None:
    write(tmp_path, "beta-gamma.rst", small_document("Beta", "Gamma", ROWS))
    write(tmp_path, "alpha-beta.rst", small_document(rows=ROWS))
    write(tmp_path, "notes.txt", "not a document")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "zeta-eta.rst", small_document("Zeta", "Eta", ROWS))
    result = run("model", "--json", str(tmp_path))
    assert result.exit_code == 0, result.output
    titles = [d["title"] for d in json.loads(result.stdout)["documents"]]
    assert titles == ["Alpha to Beta Dataflow", "Beta to Gamma Dataflow"]


def test_model_human_output(tmp_path: Path) -> None:
    path = write(tmp_path, "alpha-beta.rst", small_document(rows=ROWS))
    result = run("model", str(path))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(f"{path}: Alpha to Beta Dataflow\n")
    assert "source Alpha [alpha] -> target Beta [beta]" in out
    assert "1 flows, 2 rows" in out
    assert re.search(r"line 12: Contacts -> Persons \[always, one-way\]", out)
    assert "line 24: firstName <-> FirstName : string" in out
    assert "line 27: age <-> Age : integer" in out
    assert result.stderr == ""


def test_model_requires_a_path() -> None:
    result = run("model")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


# -- lint ----------------------------------------------------------------------------------------


def _spelled(text: str) -> str:
    heading = "PowerOffice GO Contacts to HubSpot Persons"
    return text.replace(f"{heading}\n", "Poweroffice Go Contacts to HubSpot Persons\n", 1)


LINT_CASES: dict[str, tuple[str, str, int, str]] = {
    # code: (file name, text, line, message fragment)
    "fan-in": (
        "alpha-beta.rst",
        small_document(rows=(("a", "X", '"string"'), ("b", "X", '"string"'))),
        24,
        "X is fed by 2 source properties (a, b)",
    ),
    "fan-out": (
        "alpha-beta.rst",
        small_document(rows=(("a", "X", '"string"'), ("a", "Y", '"string"'))),
        24,
        "a feeds 2 target properties (X, Y)",
    ),
    "duplicate-row": (
        "alpha-beta.rst",
        small_document(rows=(("c", "Z", '"string"'), ("a", "X", '"string"'), ("a", "X", '"string"'))),
        27,
        "a -> X appears 2 times",
    ),
    "empty-table": ("alpha-beta.rst", small_document(), 12, "no synchronized properties"),
    "unknown-type": ("alpha-beta.rst", small_document(rows=(("a", "X", "N/A"),)), 24, "N/A cannot be checked"),
    "malformed-type": ("alpha-beta.rst", small_document(rows=(("a", "X", '"strin"'),)), 24, "is not a known type"),
    "conditional-row": (
        "alpha-beta.rst",
        small_document(rows=(*ROWS, ("id", "ssn (Dependant on having NO in country)", '"string"'))),
        30,
        "synchronized only dependant on having NO in country",
    ),
    "system-spelling": (
        "powerofficego-hubspot.rst",
        _spelled(small_document("PowerOffice GO", "HubSpot", ROWS)),
        12,
        "'PowerOffice GO', 'Poweroffice Go'",
    ),
    "blank-system-name": ("alpha-beta.rst", small_document("Alpha", "", ROWS), 2, "slug 'beta'"),
    "unrecognised-sentence": (
        "alpha-beta.rst",
        small_document(rows=ROWS).replace("Beta Persons.\n", "Beta Persons. Bogus words here.\n", 1),
        14,
        "Bogus words here.",
    ),
}


@pytest.mark.parametrize("code", sorted(LINT_CASES))
def test_each_lint_code(tmp_path: Path, code: str) -> None:
    name, text, line, fragment = LINT_CASES[code]
    path = write(tmp_path, name, text)
    result = run("lint", str(path))
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    findings, summary = out[:-1], out[-1]
    pattern = re.compile(rf"^{re.escape(str(path))}:(\d+): (warning|error|info): ([a-z-]+): (.+)$")
    parsed = [pattern.match(f) for f in findings]
    assert all(parsed), findings
    assert [(int(m.group(1)), m.group(2), m.group(3)) for m in parsed if m] == [(line, "warning", code)]
    assert fragment in findings[0]
    assert summary == f"1 documents, 0 unreadable, 0 errors, 1 warnings, 0 notes ({code}=1)"
    strict = run("lint", "--strict", str(path))
    assert strict.exit_code == 1
    assert strict.stdout == result.stdout


def test_lint_clean_document_exits_zero_even_when_strict(tmp_path: Path) -> None:
    path = write(tmp_path, "alpha-beta.rst", small_document(rows=ROWS))
    for args in (["lint"], ["lint", "--strict"]):
        result = run(*args, str(path))
        assert result.exit_code == 0, result.output
        assert result.stdout == "1 documents, 0 unreadable, 0 errors, 0 warnings, 0 notes\n"


def test_lint_notes_only_show_with_verbose_and_do_not_fail_strict(tmp_path: Path) -> None:
    text = small_document(rows=ROWS).replace("Introduction\n------------\n", "Introduction.\n------------\n")
    path = write(tmp_path, "alpha-beta.rst", text)
    result = run("lint", "--strict", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == "1 documents, 0 unreadable, 0 errors, 0 warnings, 1 notes (short-underline=1)\n"
    verbose = run("lint", "-v", str(path))
    (note, _) = verbose.stdout.splitlines()
    assert re.fullmatch(rf"{re.escape(str(path))}:(7|8): info: short-underline: .+", note)


def test_lint_summary_counts_each_code_over_several_documents(tmp_path: Path) -> None:
    write(tmp_path, "alpha-beta.rst", small_document(rows=(("a", "X", "N/A"), ("b", "X", "N/A"))))
    write(tmp_path, "beta-gamma.rst", small_document("Beta", "Gamma", rows=(("a", "X", "N/A"),)))
    write(tmp_path, "gamma-delta.rst", small_document("Gamma", "Delta"))
    result = run("lint", str(tmp_path))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[-1] == (
        "3 documents, 0 unreadable, 0 errors, 5 warnings, 0 notes (empty-table=1, fan-in=1, unknown-type=3)"
    )
    assert len(lines) == 6
    assert lines[:3] == [
        f"{tmp_path / 'alpha-beta.rst'}:24: warning: fan-in: X is fed by 2 source properties (a, b) "
        "in flow 'Alpha Contacts to Beta Persons'",
        f"{tmp_path / 'alpha-beta.rst'}:24: warning: unknown-type: a -> X: data type N/A cannot be checked",
        f"{tmp_path / 'alpha-beta.rst'}:27: warning: unknown-type: b -> X: data type N/A cannot be checked",
    ]
    assert lines[3].startswith(f"{tmp_path / 'beta-gamma.rst'}:24: warning: unknown-type: ")
    assert lines[4].startswith(f"{tmp_path / 'gamma-delta.rst'}:12: warning: empty-table: ")
    assert run("lint", "--strict", str(tmp_path)).exit_code == 1
