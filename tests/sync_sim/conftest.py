"""Fixtures for sync scenarios over real HTTP: both simulators (one pair per pytest-xdist worker) on
127.0.0.1 with a shared :class:`~talkqa.clock.TickingClock`, reset before every test.

Rate limits are off on both sides (they have their own tests); nothing sleeps for real.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from talkqa.clock import TickingClock
from talkqa.simulators.launcher import Simulators, start_simulators
from tests.sync_sim.harness import Harness


@pytest.fixture(scope="session")
def sims() -> Iterator[Simulators]:
    launcher = start_simulators(clock=TickingClock(), rate_limits=False, seed=11)
    try:
        yield launcher
    finally:
        launcher.stop()


@pytest.fixture
def h(sims: Simulators, tmp_path: Path) -> Iterator[Harness]:
    """A harness on the seed document, with empty simulators and a fresh state file."""
    sims.reset()
    harness = Harness(sims, tmp_path)
    try:
        yield harness
    finally:
        harness.close()
