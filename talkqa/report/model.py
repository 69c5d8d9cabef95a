"""What the checklist report shows, computed from the results JSON, independent of HTML.

* :func:`parse_failure` reads a result's message (``talkqa.runtime.results``) into the parts a
  QA engineer wants at a glance: the headline (document:line, flow, property, direction), the
  expected and actual values, Hypothesis' minimal failing value and the reproduce command.
* :func:`row_state` folds the results of one table row (forward, reverse, fuzz ...) into one state.
* :func:`flow_summaries` counts, per flow, the rows conforming in each direction and the link checks.
"""
from __future__ import annotations

import re
import textwrap
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from talkqa.shell import quote

Entry = dict[str, Any]

#: Worst first: a row's state is the worst state of its results.
STATES = ("failed", "pending", "passed", "skipped")
#: A table row that no result names.
NOT_RUN = "not-run"
SYMBOL = {"passed": "✓", "failed": "✗", "pending": "?", "skipped": "–", NOT_RUN: "·"}
WORD = {
    "passed": "conforms",
    "failed": "does not conform",
    "pending": "pending",
    "skipped": "not checkable automatically",
    NOT_RUN: "not run",
}
ROW_KINDS = ("mapping", "fuzz", "match")
FLOW_KINDS = ("link", "match")

_EXCEPTION_PREFIX = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Za-z_]\w*(?:Error|Failure|Exception|Failed): ")
_EXPECTED = (
    re.compile(r"should (?:write|be)\s+(?:\S+ = )?(?P<v>.+?)$"),
    re.compile(r"the sync read (?P<v>.+?)(?: but wrote no value for .*)?$"),
    re.compile(r"^sent (?P<v>.+)$"),
    re.compile(r"expected (?P<v>.+?)(?:, found .*)?$"),
)
_ACTUAL = (
    (re.compile(r"but it (?:wrote|is) (?P<v>.+)$"), None),
    (re.compile(r"^and wrote (?P<v>.+)$"), None),
    (re.compile(r"^the (?:source|target) holds (?P<v>.+)$"), None),
    (re.compile(r"but it sent no value for it"), "no value sent"),
    (re.compile(r"but wrote no value for (?P<v>.+)$"), "no value written"),
    (re.compile(r"expected .+?, (?P<v>found .+)$"), None),
)
_MINIMAL_START = re.compile(r"^(?:Failing test case|Falsifying example|Failing explicit example): (?P<rest>.*)$")
_HYPOTHESIS_BLOB = re.compile(r"(@reproduce_failure\([^)]*\))")


@dataclass
class Failure:
    """The readable parts of one result's message (all optional but ``headline``)."""

    headline: str
    details: list[str] = field(default_factory=list)
    expected: str | None = None
    actual: str | None = None
    minimal: str | None = None
    reproduce: str | None = None
    hypothesis: str | None = None


def parse_failure(message: str, nodeid: str | None = None) -> Failure:
    """Split a failure message into headline, expected/actual, minimal failing value and reproduce.

    When the message carries no ``reproduce:`` line (a Hypothesis failure), the command is
    derived from ``nodeid``.
    """
    lines = [ln.rstrip() for ln in textwrap.dedent(message or "").strip("\n").splitlines()]
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        return Failure(headline="(no message)", reproduce=_pytest_command(nodeid))
    headline = _EXCEPTION_PREFIX.sub("", lines[0].strip())
    out = Failure(headline=headline)
    minimal: list[str] | None = None
    depth = 0
    for raw in lines[1:]:
        text = raw.strip()
        if minimal is not None and (depth > 0 or not minimal):
            minimal.append(text)
            depth += text.count("(") - text.count(")")
            if depth <= 0:
                out.minimal = _minimal_value(minimal)
            continue
        if m := _MINIMAL_START.match(text):
            minimal = [m.group("rest")]
            depth = m.group("rest").count("(") - m.group("rest").count(")")
            if depth <= 0:
                out.minimal = _minimal_value(minimal)
            continue
        if text.startswith(("reproduce:", "re-record:")):
            out.reproduce = text.split(":", 1)[1].strip()
            continue
        if m := _HYPOTHESIS_BLOB.search(text):
            out.hypothesis = m.group(1)
            continue
        out.details.append(text)
        if out.expected is None:
            for pattern in _EXPECTED:
                if m := pattern.search(text):
                    out.expected = m.group("v")
                    break
        if out.actual is None:
            for pattern, fixed in _ACTUAL:
                if m := pattern.search(text):
                    out.actual = fixed or m.group("v")
                    break
    if out.reproduce is None:
        out.reproduce = _pytest_command(nodeid)
    return out


def _minimal_value(lines: list[str]) -> str:
    """``survives(`` / ``value='x',`` / ``)`` -> ``value='x'``; a one-line call keeps its arguments."""
    text = " ".join(ln.strip() for ln in lines if ln.strip())
    m = re.match(r"^\w+\((?P<args>.*)\)$", text)
    args = m.group("args") if m else text
    return args.strip().rstrip(",").strip()


def _pytest_command(nodeid: str | None) -> str | None:
    return f"pytest {quote(nodeid)}" if nodeid else None


def worst(states: Iterable[str]) -> str:
    """The state of a group of results: failed > pending > passed > skipped; none at all is not run."""
    present = set(states)
    for state in STATES:
        if state in present:
            return state
    return NOT_RUN


def check_label(entry: Entry) -> str:
    """A short name for one result within its row: ``forward``, ``reverse``, ``fuzz →`` ..."""
    kind, direction = entry.get("kind", ""), entry.get("direction", "")
    if kind == "fuzz":
        arrow = {"forward": "→", "reverse": "←"}.get(direction, direction)
        return f"fuzz {arrow}"
    if kind in ("link", "match"):
        case = entry.get("case_id", "")
        m = re.search(r"\[([^\[\]]+)\]$", case)
        return m.group(1) if m else case or kind
    return direction or kind


def check_order(entry: Entry) -> tuple[int, str]:
    order = {("mapping", "forward"): 0, ("mapping", "reverse"): 1, ("fuzz", "forward"): 2, ("fuzz", "reverse"): 3}
    return order.get((entry.get("kind", ""), entry.get("direction", "")), 9), entry.get("case_id", "")


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
    """One summary per (document, flow), in document order."""
    by_flow: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for e in entries:
        by_flow[(e["document"], e["flow"])].append(e)
    out = []
    for (document, flow), items in by_flow.items():
        cells: dict[str, Cell] = {}
        for label, kinds, direction in COLUMNS:
            group = [e for e in items if e["kind"] in kinds and (direction is None or e["direction"] == direction)]
            counts: dict[str, int] = defaultdict(int)
            for e in group:
                counts[e["outcome"]] += 1
            cells[label] = Cell(total=len(group), counts=dict(counts))
        line = min((e["line"] for e in items if e["kind"] in FLOW_KINDS), default=min(e["line"] for e in items))
        out.append(FlowSummary(document=document, flow=flow, line=line, cells=cells, entries=items))
    out.sort(key=lambda s: (s.document, s.line))
    return out


def totals(entries: Sequence[Entry]) -> dict[str, int]:
    counts = {state: 0 for state in STATES}
    for e in entries:
        counts[e["outcome"]] = counts.get(e["outcome"], 0) + 1
    return counts
