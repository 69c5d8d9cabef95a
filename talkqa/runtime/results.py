"""The checklist outcome of a run: one entry per generated test, read from pytest's reports.

Built from ``user_properties`` of each report, so it works the same under pytest-xdist
(reports travel from the workers to the controller, items do not). Written as JSON with
``--talkqa-results PATH`` (what ``talkqa check`` reads) and shown as a compact matrix per
flow in the terminal summary.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: Words of the plugin's message for a replay that asked what its recording does not hold.
DIVERGENCE = "request its recording does not hold"

SYMBOL = {"passed": "✓", "failed": "✗", "skipped": "–", "pending": "?"}


@dataclass
class Outcome:
    nodeid: str
    document: str
    line: int
    flow: str
    kind: str
    direction: str
    case_id: str
    outcome: str  # passed | failed | skipped | pending
    message: str = ""
    duration: float = 0.0
    divergence: bool = False  # failed in replay by asking what the recording does not hold
    backend: str = ""  # where its HTTP went: cassettes (replayed), simulators, sandbox


@dataclass
class Results:
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def add(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        if "document" not in props:
            return
        outcome = self.outcomes.get(report.nodeid)
        state = report.outcome
        message = ""
        divergence = False
        if report.failed:
            message = _short(report)
            divergence = DIVERGENCE in message
        elif report.skipped:
            message = _skip_reason(report)
            if message.startswith("pending:"):
                state = "pending"
        if outcome is None:
            outcome = Outcome(
                nodeid=report.nodeid,
                document=props["document"],
                line=int(props["line"]),
                flow=props["flow"],
                kind=props["kind"],
                direction=props["direction"],
                case_id=props.get("case_id", report.nodeid),
                outcome=state,
                message=message,
                divergence=divergence,
                backend=props.get("backend", ""),
            )
            self.outcomes[report.nodeid] = outcome
        elif (report.when == "call" or state in ("failed", "pending")) and outcome.outcome != "failed":
            outcome.outcome, outcome.message = state, message or outcome.message
            outcome.divergence = divergence
        outcome.duration += report.duration

    def write(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        data = [asdict(o) for o in sorted(self.outcomes.values(), key=lambda o: (o.document, o.line, o.nodeid))]
        Path(path).write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for o in self.outcomes.values():
            out[o.outcome] += 1
        return dict(out)

    def matrix(self) -> list[str]:
        """Per document and flow: one line per row with forward / reverse / fuzz, then link checks."""
        lines: list[str] = []
        by_flow: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
        for o in self.outcomes.values():
            by_flow[(o.document, o.flow)].append(o)
        for (document, flow), items in sorted(by_flow.items(), key=lambda kv: (kv[0][0], min(o.line for o in kv[1]))):
            counts = defaultdict(int)
            for o in items:
                counts[o.outcome] += 1
            lines.append(
                f"{document} · {flow}: "
                + ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
            )
            rows: dict[tuple[int, str], dict[str, str]] = defaultdict(dict)
            for o in items:
                if o.kind in ("mapping", "fuzz"):
                    label = o.case_id.split("[", 1)[0].replace("<-", "->")
                    column = o.direction if o.kind == "mapping" else f"fuzz-{o.direction}"
                    rows[(o.line, label)][column] = SYMBOL[o.outcome]
            if rows:
                lines.append(f"    {'line':>5}  {'fwd':^3} {'rev':^3} {'fz→':^3} {'fz←':^3}  row")
                for (line, label), cells in sorted(rows.items()):
                    c = [cells.get(k, " ") for k in ("forward", "reverse", "fuzz-forward", "fuzz-reverse")]
                    lines.append(f"    {line:>5}  {c[0]:^3} {c[1]:^3} {c[2]:^3} {c[3]:^3}  {label}")
            checks = [o for o in items if o.kind in ("link", "match")]
            if checks:
                lines.append(
                    "    links/matches: "
                    + " ".join(f"{SYMBOL[o.outcome]}{o.case_id.rsplit('[', 1)[-1].rstrip(']')}" for o in checks)
                )
        return lines


def _short(report: pytest.TestReport) -> str:
    """The failure's message lines (pytest's ``E`` lines), or the tail of the report."""
    text = report.longreprtext or ""
    errors = [line[4:] if line.startswith("E   ") else line[1:].strip() for line in text.splitlines()
              if line.startswith("E ")]
    return ("\n".join(errors) if errors else "\n".join(text.splitlines()[-12:]))[:4000]


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


def load(path: str | Path) -> list[dict[str, Any]]:
    return json.loads(Path(path).read_text(encoding="utf-8"))
