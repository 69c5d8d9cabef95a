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


@pytest.mark.parametrize("faults", [
    [{"kind": "server_error", "status": 503, "count": 5, "method": "POST"}],  # not applied, five times over
    [{"kind": "lost_response", "count": 1, "method": "POST"}],  # applied, but the client never heard
    [{"kind": "server_error", "status": 503, "count": 2, "method": "POST"},
     {"kind": "lost_response", "count": 1, "method": "POST"}],
])
def test_arranging_creates_each_record_exactly_once_whatever_the_create_is_answered(
        faults: list[dict[str, object]], tmp_path: Path) -> None:
    """talkqa's own creates (arranging a check's records) carry no external reference; when one's outcome
    is unknown, the record is looked up by its content: found, it was applied; not found, it is sent again."""
    from talkqa.runtime.backends import SimulatorsBackend
    from tests.runtime.test_teeth import GENERIC

    class Faulty(SimulatorsBackend):
        def before_test(self) -> None:
            super().before_test()
            self.systems.inject_faults(faults)  # as --talkqa-faults does: before the test's first request

    backend = Faulty("reference", [GENERIC])
    try:
        bench = backend.bench(GENERIC, tmp_path / "arrange")
        try:
            flow = GENERIC.flows[0]
            src, _tgt = bench.pair(flow)
            made = [bench.create(src, bench.record_for(flow, "source", src, 7000 + i)) for i in range(3)]
            assert sum(backend.systems.faults_fired().values()) == sum(int(f["count"]) for f in faults)
            listed = sorted(c.id for c in src.iter_all())
            assert listed == sorted(made) and len(set(made)) == 3
            for i, record_id in enumerate(made):
                assert src.get(record_id)["name"] == bench.record_for(flow, "source", src, 7000 + i)["name"]
        finally:
            bench.close()
    finally:
        backend.close()
