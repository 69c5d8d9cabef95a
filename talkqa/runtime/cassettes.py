"""Cassette settings for generated suites: where cassettes live, how requests match, what is scrubbed.

* One small cassette per test, under ``cassettes/<module>/`` beside the generated modules.
* Requests match on method, path and query only: replays point at ``.invalid`` hosts, and
  bodies carry values a fuzz test changes.
* Secrets never reach a cassette: see :mod:`talkqa.runtime.scrub`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from talkqa.runtime.scrub import scrub_request, scrub_response

MATCH_ON = ("method", "path", "query")


def vcr_settings() -> dict[str, Any]:
    return {
        "match_on": MATCH_ON,
        "decode_compressed_response": True,
        "before_record_request": scrub_request,
        "before_record_response": scrub_response,
        "filter_headers": ["authorization", "cookie", "set-cookie", "ocp-apim-subscription-key"],
    }


def cassette_dir(request: pytest.FixtureRequest) -> str:
    module = Path(request.node.fspath)
    return str(module.parent / "cassettes" / module.stem)


def unplayed(cassette: Any) -> list[str]:
    """``METHOD path`` of every recorded interaction the run did not play."""
    return [f"{r.method} {r.path}" for i, r in enumerate(cassette.requests) if not cassette.play_counts[i]]
