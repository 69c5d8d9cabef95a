"""Fuzzing a row (placeholder until the cassette-aware harness lands)."""

from __future__ import annotations

from typing import Any

from talkqa.runtime.checks import Unsupported


def run_fuzz(request: Any, backend: Any, document: Any, case: dict[str, Any], tmp_path: Any) -> None:
    raise Unsupported("fuzzing is not wired yet")
