"""``talkqa mutate``: the kill table and exit status on tiny runs of the seed suite (``-k``), the
baseline gate, and how a mutant run is judged against the baseline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from talkqa.cli import main
from talkqa.commands import mutate as mutate_module
from talkqa.commands.mutate import judge, table

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "spec" / "powerofficego-exact.rst"
# the seed document's first flow and its first row (a text row) and its date row, by the case ids' words
FIRST_ROW = "test_mapping and Contactperson and city"
DATE_ROW = "test_mapping and Contactperson and dateOfBirth"


@pytest.fixture
def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the seed suite's cassettes; the command generates the modules beside them."""
    out = tmp_path / "generated"
    shutil.copytree(ROOT / "generated_tests" / "cassettes", out / "cassettes")
    monkeypatch.chdir(ROOT)  # documents are named relative to the repository, as in the cassettes
    return out


def mutate(out: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["mutate", str(SEED.relative_to(ROOT)), "--out", str(out), *args])


def test_a_killed_mutant_is_reported_with_its_rows_and_exit_0(suite: Path):
    result = mutate(suite, "--only", "drop-property", "-k", FIRST_ROW)
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if ln.startswith("drop-property"))
    assert "killed" in line and "yes: rows 26" in line
    assert "(63: no passing test to flag it)" in line  # the other flow's first row: outside -k
    assert "spec/powerofficego-exact.rst:26 Contactperson.city->Contacts.City [fwd rev]" in result.output
    assert "1/1 mutants killed" in result.output


def test_a_surviving_mutant_exits_1_and_json_says_why(suite: Path):
    # lowercasing cannot change a date: on the date row alone the mutant is equivalent
    result = mutate(suite, "--only", "lowercase", "-k", DATE_ROW, "--json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.output[result.output.index("{") :])
    assert data["baseline_passed"] == 2
    (verdict,) = data["mutants"]
    assert verdict["mutant"] == "lowercase" and verdict["result"] == "survived" and verdict["failed"] == 0


def test_a_row_specific_mutant_is_killed_by_its_own_row_only(suite: Path):
    both = "test_mapping and Contactperson and (city or dateOfBirth)"
    result = mutate(suite, "--only", "drop-property@29", "-k", both)
    assert result.exit_code == 0, result.output
    assert "yes: rows 29" in result.output
    assert ":29 Contactperson.dateOfBirth->Contacts.BirthDate [fwd rev]" in result.output
    assert ":26 " not in result.output


def test_bad_arguments_and_an_empty_baseline_exit_2(suite: Path):
    assert mutate(suite, "--only", "no-such-mutant").exit_code == 2
    assert mutate(suite, "--only", "drop-property@9999").exit_code == 2
    empty = mutate(suite, "--only", "trim", "-k", "no_test_has_this_name")
    assert empty.exit_code == 2 and "no test passed in the baseline" in empty.output


def test_a_failing_baseline_stops_before_any_mutant(suite: Path, monkeypatch: pytest.MonkeyPatch):
    runs: list[str | None] = []

    def fake_run(modules: Any, spec: str | None, work: Any, extra: Any, log: Any,
                 settings: tuple[str, ...] = ()) -> tuple[int, list[dict]]:
        runs.append(spec)
        return 1, [entry("a", "failed", message="ChecklistFailure: x should be 1")]

    monkeypatch.setattr(mutate_module, "run_suite", fake_run)
    result = mutate(suite, "--only", "trim")
    assert result.exit_code == 2
    assert "baseline" in result.output and "x should be 1" in result.output
    assert runs == [None]


def entry(name: str, outcome: str, line: int = 10, kind: str = "mapping", message: str = "") -> dict[str, Any]:
    return {"nodeid": name, "document": "d.rst", "line": line, "flow": "F", "kind": kind, "direction": "forward",
            "case_id": f"A.x->B.x[{name}]", "outcome": outcome, "message": message}


def test_judge_counts_tests_that_passed_before_and_fail_now():
    baseline = [entry("a", "passed"), entry("b", "passed", line=20), entry("c", "skipped"), entry("d", "passed")]
    mutant = [entry("a", "failed", message="E1\nmore"), {**entry("b", "failed", line=20), "divergence": True},
              entry("c", "failed"), entry("d", "passed")]
    v = judge("drop-property@10", baseline, mutant, ["d.rst:10"], 3.0)
    assert v.result == "killed" and [k["nodeid"] for k in v.killers] == ["a", "b"]
    assert v.killers[0]["message"] == "E1" and v.unrecorded == 1
    assert v.on_target  # row 20 only diverged from the recording (*): not an assertion on another row
    off = judge("drop-property@10", baseline, [entry("a", "failed"), entry("b", "failed", line=20)], ["d.rst:10"], 1)
    assert off.on_target is False and off.extra_rows == ["d.rst:20"]
    survived = judge("trim", baseline, [entry(n, "passed") for n in "abd"], [], 1)
    assert survived.result == "survived" and survived.on_target is None
    crashed = judge("trim", baseline, None, [], 1, "pytest exited 4")
    assert crashed.result == "error"
    text = "\n".join(table([v, off, survived, crashed]))
    assert "yes: rows 10" in text and "no: also 20" in text and "error: pytest exited 4" in text


def test_a_mutant_aimed_at_a_flow_check_is_on_target_when_that_check_fails_by_its_assertion():
    def link(name: str, outcome: str, check: str, **more: Any) -> dict[str, Any]:
        return {**entry(name, outcome, line=5, kind="link"), "case_id": f"A->B[{check}]", **more}

    baseline = [link("c1", "passed", "clears-both-ways"), link("c2", "passed", "edit-keeps-link"),
                entry("m", "passed")]
    hit = judge("ignore-clearing", baseline, [link("c1", "failed", "clears-both-ways"), entry("m", "failed")], [], 1)
    assert hit.expected_checks == ["clears-both-ways"] and hit.on_target is True
    other = judge("ignore-clearing", baseline, [link("c2", "failed", "edit-keeps-link")], [], 1)
    assert other.result == "killed" and other.on_target is False and other.missed_checks == ["clears-both-ways"]
    replayed = judge("ignore-clearing", baseline, [link("c1", "failed", "clears-both-ways", divergence=True)], [], 1)
    assert replayed.on_target is False  # a replay divergence flags the requests, not the check's assertion
    survived = judge("ignore-clearing", baseline, [link("c1", "passed", "clears-both-ways")], [], 1)
    assert survived.on_target is None
    text = "\n".join(table([hit, other, survived]))
    assert "yes: clears-both-ways" in text and "no: missed clears-both-ways" in text
    assert "no: clears-both-ways passed" in text
    # the check never ran in the baseline: nothing to be on target with
    assert judge("ignore-clearing", [entry("m", "passed")], [entry("m", "failed")], [], 1).on_target is None


def test_a_mutant_whose_checks_cannot_be_tried_here_is_not_applicable_not_a_survivor():
    # first-page-only is aimed at every-record-once; where that check was set aside in the baseline (a
    # system paging by thousands), nothing can kill it: n/a with the reason, and no exit 1 for it
    baseline = [entry("m", "passed"), {**entry("v", "skipped", kind="link"), "case_id": "A->B[every-record-once]"}]
    v = judge("first-page-only", baseline, [entry("m", "passed"), entry("v", "skipped", kind="link")], [], 1)
    assert v.result == "n/a" and "every-record-once passed nowhere in the baseline" in v.message
    assert "not applicable: every-record-once" in "\n".join(table([v]))
    # killed anyway (by another test) is still killed; a mutant with no aimed checks still survives
    assert judge("first-page-only", baseline, [entry("m", "failed")], [], 1).result == "killed"
    assert judge("trim", baseline, [entry("m", "passed")], [], 1).result == "survived"


def test_per_mutant_settings_are_known_to_the_catalogue():
    from talkqa.mutants.catalogue import CATALOGUE

    assert CATALOGUE["skip-on-429"].settings == ("--talkqa-faults=transient",)
    assert CATALOGUE["skip-on-429"].patch is not None
    assert all(not m.settings for name, m in CATALOGUE.items() if name not in ("skip-on-429", "conflict-target-wins"))
