"""Shared fixtures: the session simulators (reset per test) and small authenticated HTTP clients."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sim_clients import ExactClient, PowerOfficeClient

from talkqa.simulators.fixtures import simulators, talkqa_simulators
from talkqa.simulators.launcher import Simulators

__all__ = ["simulators", "talkqa_simulators"]


@pytest.fixture
def po(simulators: Simulators) -> Iterator[PowerOfficeClient]:
    client = PowerOfficeClient(simulators)
    yield client
    client.http.close()


@pytest.fixture
def exact(simulators: Simulators) -> Iterator[ExactClient]:
    client = ExactClient(simulators)
    yield client
    client.http.close()
