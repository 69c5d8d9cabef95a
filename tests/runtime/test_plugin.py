"""The runtime plugin as a QA engineer meets it: pending rows, orphaned cassettes, replay gaps,
and an external system under test, run on a copy of the committed generated suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from talkqa.runtime.results import load

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "generated_tests"
MODULE = "test_powerofficego_exact"
CITY_FORWARD = "test_mapping[Contactperson.city--Contacts.City[forward]].json"


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """A private copy of the generated suite (module, conftest, cassettes)."""
    out = tmp_path / "suite"
    shutil.copytree(SUITE, out, ignore=shutil.ignore_patterns("__pycache__"))
    return out


def run(suite: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "pytest", str(suite), "-p", "no:cacheprovider", "-p", "no:randomly", "-q", *args]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_a_row_without_cassette_is_pending_and_fails_only_with_strict(suite: Path) -> None:
    (suite / "cassettes" / MODULE / CITY_FORWARD).unlink()
    loose = run(suite, "-m", "mapping", "-k", "city", "-rs")
    assert loose.returncode == 0, loose.stdout
    assert "pending: spec/powerofficego-exact.rst:26: Contactperson.city->Contacts.City[forward]" in loose.stdout
    assert "talkqa record spec/powerofficego-exact.rst" in loose.stdout
    strict = run(suite, "-m", "mapping", "-k", "city", "--talkqa-strict")
    assert strict.returncode == 1
    assert "1 failed" in strict.stdout


def test_a_cassette_whose_row_is_gone_is_listed_as_orphaned(suite: Path) -> None:
    folder = suite / "cassettes" / MODULE
    shutil.copy(folder / CITY_FORWARD, folder / "test_mapping[Gone.row--Contacts.Nothing[forward]].json")
    done = run(suite, "-m", "mapping", "-k", "city")
    assert "orphaned cassettes (their rows are gone from the documents): 1" in done.stdout
    assert "test_mapping[Gone.row--Contacts.Nothing[forward]].json" in done.stdout


def test_replay_fails_when_the_sync_skips_a_recorded_write(suite: Path, tmp_path: Path) -> None:
    # a plugin that breaks the reference sync: it never writes City (forward values lose it)
    (tmp_path / "drop_city.py").write_text(
        "import talkqa.sync.engine as e\n"
        "orig = e._FlowRun._forward_values\n"
        "def patched(self, record, *rest):\n"
        "    out = orig(self, record, *rest)\n"
        "    return {k: (None if k == 'City' else v) for k, v in out.items()}\n"
        "e._FlowRun._forward_values = patched\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(suite), "-p", "no:cacheprovider", "-p", "drop_city", "-q",
         "-m", "mapping and forward", "-k", "City"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**__import__("os").environ, "PYTHONPATH": str(tmp_path)},
    )
    assert done.returncode == 1, done.stdout
    assert "spec/powerofficego-exact.rst:26" in done.stdout
    assert "Contacts.City" in done.stdout


def test_an_external_sync_command_is_checked_black_box(suite: Path, tmp_path: Path) -> None:
    talkqa = Path(sys.executable).with_name("talkqa")
    good = run(suite, "-m", "mapping and forward", "-k", "Contactperson and city", "--talkqa-backend=simulators",
               f"--talkqa-sut=command:{talkqa} sync spec/powerofficego-exact.rst --once")
    assert good.returncode == 0, good.stdout[-3000:]
    assert "1 passed" in good.stdout
    idle = run(suite, "-m", "mapping and forward", "-k", "Contactperson and city", "--talkqa-backend=simulators",
               "--talkqa-sut=command:true")
    assert idle.returncode == 1
    # batch mode (the default for a command): no new record carries the source record's values
    assert "creating the linked record: none of the 0 new Contacts records after the sync carries" in idle.stdout


def test_parallel_and_serial_runs_give_the_same_checklist(suite: Path, tmp_path: Path) -> None:

    outcomes = {}
    for workers in ("0", "2"):
        path = tmp_path / f"results-{workers}.json"
        done = run(suite, "-m", "not fuzz", "-n", workers, f"--talkqa-results={path}")
        assert done.returncode == 0, done.stdout[-2000:]
        assert "talkqa checklist" in done.stdout  # the merged matrix is printed under xdist too
        outcomes[workers] = {(e["nodeid"], e["outcome"], e["line"]) for e in load(path)}
    assert outcomes["0"] == outcomes["2"]
    assert len(outcomes["0"]) == 34 + 12  # the seed's 2 flows × 6 checks beyond one value per row


def test_a_sync_that_never_carries_edits_back_fails_the_checklist(suite: Path, tmp_path: Path) -> None:
    """One-way only: replayed reverse tests diverge from their recordings; that is a failure
    (not 'pending'), so `talkqa check` fails too."""
    import os

    results = tmp_path / "r.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(suite), "-p", "no:cacheprovider", "-p", "talkqa.mutants.plugin", "-q",
         "-m", "mapping and reverse", "-k", "Contactperson", f"--talkqa-results={results}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "TALKQA_MUTANT": "one-way"},
    )
    assert done.returncode == 1
    entries = load(results)
    assert len(entries) == 7
    assert {e["outcome"] for e in entries} == {"failed"}
    assert all(e["divergence"] for e in entries)
