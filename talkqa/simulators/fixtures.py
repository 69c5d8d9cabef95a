"""pytest fixtures: import them into a conftest (``from talkqa.simulators.fixtures import *``).

``talkqa_simulators`` starts both simulators once per session (per xdist worker: each worker gets its
own servers on free ports) with a shared FakeClock and rate limits on; ``simulators`` hands the same
servers to a test after resetting them.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from talkqa.clock import FakeClock
from talkqa.simulators.launcher import Simulators, start_simulators

__all__ = ["simulators", "talkqa_simulators"]


@pytest.fixture(scope="session")
def talkqa_simulators() -> Iterator[Simulators]:
    sims = start_simulators(clock=FakeClock(), rate_limits=True)
    try:
        yield sims
    finally:
        sims.stop()


@pytest.fixture
def simulators(talkqa_simulators: Simulators) -> Simulators:
    talkqa_simulators.reset()
    return talkqa_simulators
