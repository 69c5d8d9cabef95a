"""``--talkqa-faults``: the checklist on simulators that misbehave (issue 11, point 7)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from talkqa.runtime.faults import PROFILES, faults_of
from talkqa.simulators.faults import Fault

REPO = Path(__file__).resolve().parents[2]


def test_every_profile_is_a_list_of_valid_simulator_faults() -> None:
    for name in PROFILES:
        for fault in faults_of(name):
            Fault.from_dict(fault)  # raises on an unknown kind or a bad probability
    assert faults_of("transient") is not faults_of("transient")  # fresh dicts: fired counts are per run


@pytest.mark.parametrize("profile", ["transient", "hostile"])
def test_the_reference_sync_conforms_while_the_simulators_misbehave(profile: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(REPO / "generated_tests"), "-p", "no:randomly", "-q",
         f"--talkqa-faults={profile}", "-m", "not fuzz"],
        capture_output=True, text=True, timeout=900, cwd=REPO, env={**os.environ, "CI": "true"},
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "(live on the simulators)" in done.stdout  # faults imply the simulators, cassettes or not
    fired = re.search(rf"faults \({profile}\) answered requests: exact (\d+), powerofficego (\d+)", done.stdout)
    assert fired and int(fired.group(1)) > 0 and int(fired.group(2)) > 0, done.stdout[-2000:]


def test_faults_on_cassettes_are_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(REPO / "generated_tests"), "-p", "no:randomly", "-q",
         "--talkqa-faults=transient", "--talkqa-backend=cassettes"],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert done.returncode == 4 and "--talkqa-faults runs on the simulators only" in done.stdout + done.stderr
