"""A pytest plugin for the recording test: after each talkqa test, write every secret the simulators
know (the fake keys, the client secret, and every access/refresh token and code in their admin state)
to ``$TALKQA_LEAKPROBE`` as JSON. Loaded with ``-p tests.generate.leakprobe`` in a subprocess."""

from __future__ import annotations

import dataclasses
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
    path = os.environ["TALKQA_LEAKPROBE"]
    seen: dict[str, Any] = {"keys": {}, "tokens": []}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            seen = json.load(f)
    tokens: set[str] = set(seen["tokens"])
    for slug, handle in talkqa_backend.systems._handles.items():
        for tenant, sim in getattr(handle, "_sims", {}).items():
            for name, value in dataclasses.asdict(sim.keys).items():
                if isinstance(value, str):
                    seen["keys"][f"{slug}{tenant}.{name}"] = value
            tokens |= {t for t in _tokens(sim.state["auth"]) if len(t) >= 16}
        store = getattr(handle, "store", None)  # the generic system's tenants
        if store is not None:
            for (system, tenant), creds in store._credentials.items():
                for name, value in dataclasses.asdict(creds).items():
                    seen["keys"][f"{system}/{tenant}.{name}"] = value
    seen["tokens"] = sorted(tokens)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(seen, f)
