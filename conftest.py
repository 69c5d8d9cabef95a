"""Root pytest configuration: options for the project's own tests, and Hypothesis profiles.

Generated suites (generated_tests/) bring their own conftest and the talkqa plugin; nothing
here is needed to run them elsewhere.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "talkqa-ci", settings.get_profile("ci"), max_examples=50, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("talkqa-dev", deadline=None, max_examples=100)
_DEFAULT = "talkqa-ci" if os.environ.get("CI") else "talkqa-dev"
settings.load_profile(os.environ.get("TALKQA_HYPOTHESIS_PROFILE") or _DEFAULT)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--corpus",
        default=None,
        help="folder of real dataflow documents for the corpus tests (default: $TALKQA_CORPUS, else ../shared/corpus)",
    )
