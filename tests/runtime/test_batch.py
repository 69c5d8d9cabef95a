"""Batch mode (issue 14): the same verdict per check as one check at a time, from a few runs."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talkqa.mutants.catalogue import CATALOGUE
from talkqa.runtime.batch import SHRINK_CANDIDATES, shrink_candidates
from talkqa.runtime.results import load

REPO = Path(__file__).resolve().parents[2]
#: What a run of the plugin prints about the system under test's runs (talkqa/runtime/plugin.py).
COST = r"system under test: (\d+) run\(s\), (\d+) of them in 1 batch\(es\) that judged (\d+) check"


def _run(tmp_path: Path, batch: str, mutant: str | None, *extra: str) -> tuple[dict[str, str], str]:
    results = tmp_path / f"{batch}-{mutant}.json"
    env = {**os.environ, "CI": "true"}
    if mutant:
        env["TALKQA_MUTANT"] = mutant
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(REPO / "generated_tests"), "-p", "no:randomly", "-p",
         "talkqa.mutants.plugin", "--talkqa-backend=simulators", f"--talkqa-batch={batch}",
         "--talkqa-fuzz-profile=ci", f"--talkqa-results={results}", "-q", *extra],
        capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path,
    )
    return {e["nodeid"]: e["outcome"] for e in load(results)}, done.stdout


#: Mutants that distort values only on fuzz-sized inputs: the checks without fuzz cannot tell (the fuzz test
#: below compares the batch and per test under one of them).
FUZZ_ONLY = ("trim", "truncate", "lose-non-ascii")
#: A batch holds hundreds of records in one run, more than a page of a system: a sync that loses the changes
#: beyond the first page fails some batch check that per test (a few records) cannot see. Batch mode is
#: then redder than per test, never greener.
MORE_THAN_A_PAGE = ("first-page-only",)
MUTANTS = [None, *(name for name in CATALOGUE if name not in FUZZ_ONLY)]


@pytest.mark.parametrize("mutant", MUTANTS)
def test_batch_and_per_test_give_the_same_verdict_per_check(tmp_path: Path, mutant: str | None) -> None:
    """The whole checklist without fuzz (mapping rows, link-policy and flow checks) on the reference sync
    and under each mutant of the catalogue: the same verdict per check, batched or one at a time."""
    settings = CATALOGUE[mutant].settings if mutant else ()  # as talkqa mutate runs it (skip-on-429: faults)
    batched, out = _run(tmp_path, "on", mutant, "-m", "not fuzz", *settings)
    single, _ = _run(tmp_path, "off", mutant, "-m", "not fuzz", *settings)
    assert set(batched) == set(single) and len(single) == 46
    if any(s.startswith("--talkqa-faults") for s in settings):
        # faults land where the simulators' seeded random puts them, request by request, and a batch makes
        # other requests than per test: both kill the mutant, not necessarily on the same checks
        assert "failed" in batched.values() and "failed" in single.values()
    elif mutant in MORE_THAN_A_PAGE:
        assert {k for k, v in single.items() if v == "failed"} <= {k for k, v in batched.items() if v == "failed"}
    else:
        assert batched == single, {k: (batched[k], single[k]) for k in single if batched[k] != single[k]}
    judged = re.search(COST, out)
    assert judged, out[-2000:]
    if mutant is None:  # conforming: every check judged by the batch, in a few runs
        assert judged.group(3) == "46" and int(judged.group(2)) <= 6, out[-2000:]
        assert set(batched.values()) == {"passed", "skipped"}


def test_the_catalogue_names_the_mutants_this_file_sets_apart() -> None:
    assert set(FUZZ_ONLY + MORE_THAN_A_PAGE) <= set(CATALOGUE)


def test_fuzz_verdicts_agree_and_the_batch_reports_a_shrunk_value(tmp_path: Path) -> None:
    row = "Contactperson and city"
    batched, out = _run(tmp_path, "on", "truncate", "-m", "fuzz", "-k", row)
    single, single_out = _run(tmp_path, "off", "truncate", "-m", "fuzz", "-k", row)
    assert batched == single and set(batched.values()) == {"failed"}
    # the batch's smallest failing value was shrunk by extra batches, within the bound, and says so
    assert "smallest failing value of the batch after shrinking with" in out, out
    shrunk = [ln for ln in out.splitlines() if "smallest failing value:" in ln]
    per_test = [ln for ln in single_out.splitlines() if "smallest failing value:" in ln]
    assert shrunk and per_test and max(map(len, shrunk)) <= max(map(len, per_test)) + 40


def test_an_external_sync_runs_a_few_times_for_the_whole_checklist(tmp_path: Path) -> None:
    command = f'command:sh -c "exec {sys.executable} -m talkqa sync \\"$TALKQA_DOCUMENT\\" --once"'
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(REPO / "generated_tests"), "-p", "no:randomly", "-q",
         "--talkqa-backend=simulators", f"--talkqa-sut={command}", "-m", "not fuzz"],
        capture_output=True, text=True, timeout=900, env={**os.environ, "CI": "true"}, cwd=REPO,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    runs = re.search(COST, done.stdout)
    assert runs, done.stdout[-2000:]
    # 46 checks (mapping rows, link-policy and flow checks), every one judged by the batch, in 5 runs
    assert runs.group(1) == runs.group(2) == "5" and runs.group(3) == "46", done.stdout[-2000:]
    calls = re.search(r"API calls answered by the simulators .*: exact (\d+), powerofficego (\d+)", done.stdout)
    assert calls and int(calls.group(1)) > 0 and int(calls.group(2)) > 0, done.stdout[-2000:]


@given(st.text(min_size=1, max_size=80))
def test_shrink_candidates_are_simpler_values_of_the_same_kind(value: str) -> None:
    candidates = shrink_candidates(value)
    assert len(candidates) <= SHRINK_CANDIDATES
    assert len(set(candidates)) == len(candidates)
    for c in candidates:
        assert isinstance(c, str) and c and c != value and len(c) <= len(value)
