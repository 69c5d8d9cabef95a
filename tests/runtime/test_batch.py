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

from talkqa.runtime.batch import SHRINK_CANDIDATES, shrink_candidates
from talkqa.runtime.results import load

REPO = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize("mutant", [None, "drop-property", "swap-values", "duplicate"])
def test_batch_and_per_test_give_the_same_verdict_per_check(tmp_path: Path, mutant: str | None) -> None:
    batched, out = _run(tmp_path, "on", mutant, "-m", "mapping")
    single, _ = _run(tmp_path, "off", mutant, "-m", "mapping")
    assert batched == single
    assert re.search(r"in 1 batch\(es\) that judged 28 check\(s\)", out), out
    assert ("failed" in batched.values()) == (mutant is not None)


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
         "--talkqa-backend=simulators", f"--talkqa-sut={command}", "-m", "mapping"],
        capture_output=True, text=True, timeout=900, env={**os.environ, "CI": "true"}, cwd=REPO,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    runs = re.search(r"system under test: (\d+) run\(s\), (\d+) of them in 1 batch", done.stdout)
    assert runs and runs.group(1) == runs.group(2) == "2", done.stdout[-2000:]  # 28 checks, 2 runs
    calls = re.search(r"API calls answered by the simulators .*: exact (\d+), powerofficego (\d+)", done.stdout)
    assert calls and int(calls.group(1)) > 0 and int(calls.group(2)) > 0, done.stdout[-2000:]


@given(st.text(min_size=1, max_size=80))
def test_shrink_candidates_are_simpler_values_of_the_same_kind(value: str) -> None:
    candidates = shrink_candidates(value)
    assert len(candidates) <= SHRINK_CANDIDATES
    assert len(set(candidates)) == len(candidates)
    for c in candidates:
        assert isinstance(c, str) and c and c != value and len(c) <= len(value)
