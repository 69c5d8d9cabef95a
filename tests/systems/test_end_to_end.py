"""End to end on systems no plugin serves: two documents written here (``acme-zenith.rst`` with nested
paths, an identifier row, an integer and a boolean row; ``acme-acme.rst``, one system on both sides),
generated with ``talkqa generate`` and run with pytest on the simulators, as a QA engineer would. The
reference sync passes every checkable row; a sync broken to drop one property fails on that row only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from talkqa.runtime.results import load
from tests.spec.docwriter import DocSpec, FlowSpec, RowSpec, render
from tests.systems.helpers import generated_suite

ROWS = (
    RowSpec("id", "PersonId", '"string"'),
    RowSpec("name", "FullName", '"string"'),
    RowSpec("address.city", "Location.City", '"string"'),
    RowSpec("address.zip", "Location.Postal.Code", '"string"'),
    RowSpec("age", "Age", '"integer"'),
    RowSpec("active", "IsActive", '"boolean"'),
)
ZENITH = DocSpec("Acme", "Zenith", "acme", "zenith", flows=(FlowSpec("Person", "Contact", "always", rows=ROWS),))
SAME = DocSpec("Acme", "Acme", "acme", "acme", flows=(FlowSpec("Person", "Person", "always", rows=(
    RowSpec("name", "name", '"string"'),
    RowSpec("address.city", "address.city", '"string"'),
    RowSpec("age", "age", '"integer"'),
)),))
DROPPED = "Location.Postal.Code"
ZIP_LINE = next(m.line for m in render(ZENITH).flows[0].mappings if m.target == DROPPED)

BROKEN = f"""\
import talkqa.sync.engine as engine

_forward_values = engine._FlowRun._forward_values


def forward_values(self, record, *rest):
    return {{k: v for k, v in _forward_values(self, record, *rest).items() if k != {DROPPED!r}}}


engine._FlowRun._forward_values = forward_values
"""


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two documents in ``spec/`` and their generated suite in ``gen/``, made by the command."""
    root = generated_suite(tmp_path_factory.mktemp("e2e"), ZENITH, SAME, files={"drop_zip.py": BROKEN})
    assert {p.name for p in (root / "gen").glob("test_*.py")} == {"test_acme_zenith.py", "test_acme_acme.py"}
    return root


def run(root: Path, name: str, *plugins: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    results = root / f"{name}.json"
    argv = [sys.executable, "-m", "pytest", "gen", "-q", "-p", "no:cacheprovider", "--talkqa-backend=simulators",
            f"--talkqa-results={results}"]
    for plugin in plugins:
        argv += ["-p", plugin]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TALKQA_", "PYTEST_"))}
    env |= {"CI": "true", "PYTHONPATH": os.pathsep.join([str(root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=300, env=env)
    return done, load(results) if results.exists() else []


Run = tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]


@pytest.fixture(scope="module")
def good(suite: Path) -> Run:
    return run(suite, "good")


def rows_checked(entries: list[dict[str, Any]], document: str) -> set[tuple[int, str]]:
    return {(e["line"], e["direction"]) for e in entries
            if e["document"] == document and e["kind"] == "mapping" and e["outcome"] == "passed"}


def test_the_reference_sync_passes_every_row_of_both_documents(good: Run) -> None:
    done, entries = good
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert entries and {e["outcome"] for e in entries} <= {"passed", "skipped"}
    for spec in (ZENITH, SAME):
        lines = {m.line for m in render(spec).flows[0].mappings}
        document = f"spec/{spec.file_name}"
        assert rows_checked(entries, document) == {(line, d) for line in lines for d in ("forward", "reverse")}
        links = {e["case_id"] for e in entries if e["document"] == document and e["kind"] == "link"}
        assert len(links) == 3 + 6  # and the checks beyond one value per row (docs/generated-suite.md)
        assert all(e["outcome"] == "passed" for e in entries if e["kind"] == "link" and "sparse" not in e["case_id"])
    skipped = [e for e in entries if e["outcome"] == "skipped" and "[sparse-records]" not in e["case_id"]]
    assert all("no nested object on either side" in e["message"] for e in entries
               if "[sparse-records]" in e["case_id"] and e["outcome"] == "skipped")
    assert {(e["document"], e["kind"], e["case_id"].split("[")[0]) for e in skipped} == {
        ("spec/acme-zenith.rst", "fuzz", "Person.id->Contact.PersonId"),
        ("spec/acme-zenith.rst", "fuzz", "Person.id<-Contact.PersonId"),
    }  # an identifier is assigned by its system: not fuzzed
    assert "talkqa checklist" in done.stdout


def test_a_sync_that_drops_one_property_fails_on_that_row_only(suite: Path, good: Run) -> None:
    done, entries = run(suite, "broken", "drop_zip")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    failed = [e for e in entries if e["outcome"] == "failed"]
    assert failed
    # the flow's checks beyond one value per row edit every row too: they fail, naming the row
    flow_checks = [e for e in failed if e["kind"] == "link"]
    assert all(f"spec/acme-zenith.rst:{ZIP_LINE}" in e["message"] for e in flow_checks), flow_checks
    failed = [e for e in failed if e["kind"] != "link"]
    assert {(e["document"], e["line"]) for e in failed} == {("spec/acme-zenith.rst", ZIP_LINE)}
    assert {(e["kind"], e["direction"]) for e in failed} >= {("mapping", "forward")}
    before = {e["nodeid"]: e["outcome"] for e in good[1]}
    after = {e["nodeid"]: e["outcome"] for e in entries}
    assert before.keys() == after.keys()
    assert {n for n in after if after[n] != before[n]} == {e["nodeid"] for e in failed + flow_checks}
    assert f"spec/acme-zenith.rst:{ZIP_LINE}" in done.stdout and DROPPED in done.stdout
