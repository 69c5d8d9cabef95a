"""Fixtures for the bad-input tests: a private generation cache, documents, the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty generation cache (never the repository's)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("TALKQA_CACHE_DIR", str(folder))
    return folder
