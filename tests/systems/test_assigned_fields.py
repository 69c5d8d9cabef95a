"""A row may name the field a generic system stamps every write with (its profile's ``modified_field``,
``updated_at`` by default): the system assigns it, so it is read-only, as an identifier is. Before, the
arranged records carried a value for it, the simulator refused every create ("is read-only"), and every
check of the flow errored. Now the rows through it are skipped with that reason and every other check
of the flow runs and passes (the generated suite, run by pytest on the simulators)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from talkqa.runtime.results import load
from talkqa.systems.generic.profile import Profile
from tests.spec.docwriter import DocSpec, FlowSpec, RowSpec
from tests.systems.helpers import generated_suite

STAMP = Profile().modified_field
DOC = DocSpec("Acme", "Zenith", "acme", "zenith", flows=(FlowSpec("Person", "Contact", "always", rows=(
    RowSpec("name", "FullName", '"string"'),
    RowSpec("city", "Town", '"string"'),
    RowSpec("changed", STAMP, '"string"'),  # into the target's stamp
    RowSpec(STAMP, "Stamp", '"string"'),  # from the source's stamp
)),))


def test_rows_through_the_stamp_field_are_skipped_as_read_only_and_the_rest_of_the_flow_passes(
    tmp_path: Path,
) -> None:
    generated_suite(tmp_path, DOC)
    results = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TALKQA_", "PYTEST_"))} | {"CI": "true"}
    done = subprocess.run([sys.executable, "-m", "pytest", "gen", "-q", "-p", "no:cacheprovider",
                           "--talkqa-backend=simulators", f"--talkqa-results={results}"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    entries = load(results)
    assert done.returncode == 0, done.stdout[-3000:]
    assert {e["outcome"] for e in entries} <= {"passed", "skipped"}
    stamped = [e for e in entries if e["kind"] in ("mapping", "fuzz") and STAMP in e["case_id"]]
    assert len(stamped) == 8  # two rows, two directions, mapping and fuzz
    assert all(e["outcome"] == "skipped" and "read-only" in e["reason"] and STAMP in e["reason"] for e in stamped)
    passed = {e["case_id"] for e in entries if e["kind"] == "mapping" and e["outcome"] == "passed"}
    assert passed == {f"Person.{s}{arrow}Contact.{t}[{d}]" for s, t in (("name", "FullName"), ("city", "Town"))
                      for arrow, d in (("->", "forward"), ("<-", "reverse"))}
    assert any(e["kind"] == "link" and e["outcome"] == "passed" for e in entries)
