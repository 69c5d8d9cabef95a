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
    """A PowerOffice client; rate limits are off (the rate-limit tests switch them on)."""
    simulators.poweroffice.admin.settings(rate_limits=False)
    client = PowerOfficeClient(simulators)
    yield client
    client.http.close()


@pytest.fixture
def exact(simulators: Simulators) -> Iterator[ExactClient]:
    """An Exact client with a valid access token; rate limits are off (the rate-limit tests switch them on)."""
    simulators.exact.admin.settings(rate_limits=False)
    client = ExactClient(simulators)
    yield client
    client.http.close()
