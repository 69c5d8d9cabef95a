"""What the checklist report shows, computed from the results JSON, independent of HTML.

Verdicts come from the one summariser (:mod:`talkqa.verdicts`); a failure's parts (expected,
actual, minimal value, reproduce command) from its record (:func:`talkqa.verdicts.failure_of`).
Here: the report's columns per flow (:func:`flow_summaries`) and its words.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from talkqa import verdicts
from talkqa.verdicts import NOT_RUN, STATES, SYMBOL, check_order, worst

__all__ = ["NOT_RUN", "STATES", "SYMBOL", "WORD", "check_label", "check_order", "flow_summaries", "totals", "worst"]

Entry = dict[str, Any]

WORD = {
    "passed": "conforms",
    "failed": "does not conform",
    "pending": "pending",
    "skipped": "not checkable automatically",
    NOT_RUN: "not run",
}
ROW_KINDS = ("mapping", "fuzz", "match")
FLOW_KINDS = ("link", "match")


def check_label(entry: Entry) -> str:
    """A short name for one result within its row: ``forward``, ``reverse``, ``fuzz →``, a link check's name."""
    label = verdicts.check_label(entry)
    if entry.get("kind") in ("link", "match") and not entry.get("check"):
        m = re.search(r"\[([^\[\]]+)\]$", label)  # results of older versions name the check in the case id
        return m.group(1) if m else label
    return label


# -- per flow ----------------------------------------------------------------------------------------

#: The summary's columns: (label, kinds, direction or None for any).
COLUMNS: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    ("Forward", ("mapping",), "forward"),
    ("Reverse", ("mapping",), "reverse"),
    ("Fuzz →", ("fuzz",), "forward"),
    ("Fuzz ←", ("fuzz",), "reverse"),
    ("Link policy", ("link", "match"), None),
)


@dataclass
class Cell:
    """One summary cell: results of one column of one flow."""

    total: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def conforming(self) -> int:
        return self.counts.get("passed", 0)

    @property
    def checked(self) -> int:
        return self.counts.get("passed", 0) + self.counts.get("failed", 0)

    @property
    def state(self) -> str:
        return worst(s for s, n in self.counts.items() if n)


@dataclass
class FlowSummary:
    document: str
    flow: str
    line: int
    cells: dict[str, Cell]
    entries: list[Entry]

    @property
    def state(self) -> str:
        return worst(e["outcome"] for e in self.entries)


def flow_summaries(entries: Sequence[Entry]) -> list[FlowSummary]:
    """One summary per (document, flow), in document order (the flows of :func:`talkqa.verdicts.summarise`)."""
    out = []
    for fv in verdicts.summarise(entries).flows:
        document, flow, items = fv.document, fv.flow, fv.entries()
        cells: dict[str, Cell] = {}
        for label, kinds, direction in COLUMNS:
            group = [e for e in items if e["kind"] in kinds and (direction is None or e["direction"] == direction)]
            counts: dict[str, int] = defaultdict(int)
            for e in group:
                counts[e["outcome"]] += 1
            cells[label] = Cell(total=len(group), counts=dict(counts))
        out.append(FlowSummary(document=document, flow=flow, line=fv.line, cells=cells, entries=items))
    return out


def totals(entries: Sequence[Entry]) -> dict[str, int]:
    counts = verdicts.summarise(entries).check_counts()
    return {state: counts[state] for state in STATES}
