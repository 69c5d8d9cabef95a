"""Spreading a check over CI machines: documents into N balanced shards, and shards' results into one.

* :func:`assign` splits the generated modules (one per document) into N shards by weight, the
  longest first onto the lightest shard (LPT), ties broken by name: every machine computes the same
  split from the same inputs, and every document is in exactly one shard.
* A module's weight is its test time in an earlier results JSON (``--durations``) when it has one,
  else its size (the number of rows it checks, roughly).
* :func:`merge` joins results JSONs (:mod:`talkqa.runtime.results`) into one, which the checklist,
  the HTML report and JUnit read as if one machine had run everything.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from talkqa.runtime.results import SCHEMA

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` -> ``(2, 3)``; ValueError with the reason otherwise."""
    m = _SHARD.match(text or "")
    if not m:
        raise ValueError(f"--shard must be K/N (e.g. 2/3), not {text!r}")
    k, n = int(m.group(1)), int(m.group(2))
    if not 1 <= k <= n:
        raise ValueError(f"--shard {text}: K must be between 1 and N")
    return k, n


def durations_by_module(run: Mapping[str, Any]) -> dict[str, float]:
    """Seconds per module file name (``test_x.py``) in a results JSON."""
    out: dict[str, float] = defaultdict(float)
    for e in run.get("outcomes", []):
        module = str(e.get("nodeid", "")).split("::", 1)[0]
        out[Path(module).name] += float(e.get("duration") or 0.0)
    return dict(out)


def assign(modules: Sequence[Path], n: int, durations: Mapping[str, float] | None = None) -> list[list[Path]]:
    """``modules`` into ``n`` shards of about equal weight (each module in exactly one)."""
    known = durations or {}

    def weight(module: Path) -> float:
        if module.name in known:
            return known[module.name]
        try:
            return float(module.stat().st_size) / 10_000  # ~ a second per 10 kB of module, for unknown ones
        except OSError:
            return 1.0

    shards: list[list[Path]] = [[] for _ in range(n)]
    load = [0.0] * n
    for module in sorted(modules, key=lambda m: (-weight(m), m.name)):
        lightest = min(range(n), key=lambda i: (load[i], i))
        shards[lightest].append(module)
        load[lightest] += weight(module)
    return [sorted(s) for s in shards]


def merge(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One results JSON from several (shards of one check). A test in two of them keeps its worst
    outcome; the settings are the first run's."""
    order = {"failed": 0, "pending": 1, "passed": 2, "skipped": 3}
    outcomes: dict[str, dict[str, Any]] = {}
    documents: dict[str, Any] = {}
    findings: list[Any] = []
    for run in runs:
        for e in run.get("outcomes", []):
            have = outcomes.get(e["nodeid"])
            if have is None or order.get(e["outcome"], 9) < order.get(have["outcome"], 9):
                outcomes[e["nodeid"]] = e
        for doc in run.get("documents", []):
            documents.setdefault(doc["path"], doc)
        for f in run.get("findings", []):
            if f not in findings:
                findings.append(f)
    first = next((r for r in runs if r.get("outcomes")), runs[0] if runs else {})
    return {
        "schema": SCHEMA,
        "talkqa": first.get("talkqa"),
        "settings": first.get("settings", {}),
        "documents": [documents[k] for k in sorted(documents)],
        "outcomes": sorted(outcomes.values(), key=lambda e: (e["document"], e["line"], e["nodeid"])),
        "findings": sorted(findings, key=lambda f: (f["document"], f["line"], f["message"])),
    }
