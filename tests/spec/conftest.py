"""Fixtures for the spec tests: small hand-written documents and the shared corpus.

The ``--corpus`` option itself is registered in ``tests/conftest.py`` (pytest reads
``pytest_addoption`` only from initial conftests, and ``tests/spec`` is not one when pytest
runs from the repository root).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS_ENV = "TALKQA_CORPUS"


def preamble(source: str = "Alpha", target: str = "Beta") -> str:
    """Lines 1-11 of a document; the first flow title goes on line 12."""
    title = f"{source} to {target} Dataflow"
    bar = "=" * len(title)
    return (
        f"{bar}\n{title}\n{bar}\n\nGenerated: 2024-01-01 00:00:00\n\nIntroduction\n------------\n\n"
        f"This technical document provides a detailed overview of the Sesam Talk data flow from {source} to {target}.\n"
        "\n"
    )


def corpus_dir(config: pytest.Config) -> Path | None:
    """--corpus, else $TALKQA_CORPUS, else ../shared/corpus beside the repository when it exists."""
    given = config.getoption("corpus", default=None) or os.environ.get(CORPUS_ENV)
    if given:
        return Path(given)
    default = REPO.parent / "shared" / "corpus"
    return default if default.is_dir() else None
