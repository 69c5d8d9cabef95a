"""A pytest plugin for the recording test: after each talkqa test, write every secret the simulators
know (the fake keys, the client secret, and every access/refresh token and code in their admin state)
to ``$TALKQA_LEAKPROBE`` as JSON. Loaded with ``-p tests.generate.leakprobe`` in a subprocess."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest


def _tokens(state: Any) -> list[str]:
    out: list[str] = []
    if isinstance(state, dict):
        for key, value in state.items():
            out.append(str(key))
            out += _tokens(value)
    return out


@pytest.fixture(autouse=True)
def leakprobe(talkqa_backend: Any) -> Iterator[None]:
    yield
    sims = talkqa_backend.sims
    path = os.environ["TALKQA_LEAKPROBE"]
    seen: dict[str, Any] = {"keys": {}, "tokens": []}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            seen = json.load(f)
    creds = sims.credentials
    seen["keys"] = {
        **seen["keys"],
        **{f"poweroffice.{k}": v for k, v in creds["poweroffice"].items()},
        "exact.client_secret": creds["exact"]["client_secret"],
        "exact.client_id": creds["exact"]["client_id"],
        "exact.refresh_token": creds["exact"]["refresh_token"],
    }
    auth = {"exact": sims.exact.state["auth"], "poweroffice": sims.poweroffice.state["auth"]}
    seen["tokens"] = sorted(set(seen["tokens"]) | {t for t in _tokens(auth) if len(t) >= 16})
    with open(path, "w", encoding="utf-8") as f:
        json.dump(seen, f)
