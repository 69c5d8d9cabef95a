"""Every generation test gets its own empty generation cache (``TALKQA_CACHE_DIR``)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("TALKQA_CACHE_DIR", str(folder))
    return folder
