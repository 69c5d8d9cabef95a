"""Command-line options for the project's tests (pytest reads them only from the root conftest)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--corpus",
        default=None,
        help="folder of real dataflow documents for the corpus tests (default: $TALKQA_CORPUS, else ../shared/corpus)",
    )
