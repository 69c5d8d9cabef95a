"""The checklist outcome of a run: one entry per generated test, read from pytest's reports.

Built from ``user_properties`` of each report, so it works the same under pytest-xdist
(reports travel from the workers to the controller, items do not). A failure arrives as the
data record the plugin built from the check's exception (:class:`talkqa.runtime.failures.Failure`),
a finding as a :class:`~talkqa.runtime.failures.Finding`: nothing here parses text.

Written as JSON with ``--talkqa-results PATH`` (what ``talkqa check`` and ``talkqa report`` read),
versioned by :data:`SCHEMA` (docs/reference.md#results-json).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from talkqa.runtime.failures import FAILURE_KEY, FINDING_KEY

#: The results JSON's schema version (bumped on any change a reader must know about).
SCHEMA = "talkqa-results/2"

#: Words of the plugin's message for a replay that asked what its recording does not hold.
DIVERGENCE = "request its recording does not hold"
#: The property that carries a skip's or pending's reason without its location.
REASON_KEY = "talkqa_reason"


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
    row: str = ""  # the row as the checklist names it (``Entity.prop -> Entity.prop``); flow checks: ""
    check: str = ""  # a flow check's name (``edit-keeps-link`` ...); rows: ""
    reason: str = ""  # why it was skipped or is pending, without its location
    failure: dict[str, Any] | None = None  # the Failure record when it does not conform


@dataclass
class Results:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> rows (see document_rows)
    settings: dict[str, Any] = field(default_factory=dict)

    def add(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        if "document" not in props:
            return
        for key, value in report.user_properties:
            if key == FINDING_KEY:
                finding = json.loads(value)
                if finding not in self.findings:
                    self.findings.append(finding)
        outcome = self.outcomes.get(report.nodeid)
        state = report.outcome
        message = ""
        reason = ""
        failure = None
        divergence = False
        if report.failed:
            failure = json.loads(props[FAILURE_KEY]) if FAILURE_KEY in props else None
            message = failure["message"] if failure else _short(report)
            divergence = bool(failure and failure.get("kind") == "requests-changed") or DIVERGENCE in message
            if failure and failure.get("kind") == "pending":
                state = "failed"
        elif report.skipped:
            message = _skip_reason(report)
            # a skip mark's reason starts with its location (talkqa/runtime/suite.py): grouped without it
            reason = props.get(REASON_KEY) or message.removeprefix(f"{props['document']}:{props['line']}: ")
            if message.startswith("pending:"):
                state = "pending"
        if outcome is None:
            case_id = props.get("case_id", report.nodeid)
            outcome = Outcome(
                nodeid=report.nodeid,
                document=props["document"],
                line=int(props["line"]),
                flow=props["flow"],
                kind=props["kind"],
                direction=props["direction"],
                case_id=case_id,
                outcome=state,
                message=message,
                divergence=divergence,
                backend=props.get("backend", ""),
                row=props.get("row", ""),
                check=props.get("check", ""),
                reason=reason,
                failure=failure,
            )
            self.outcomes[report.nodeid] = outcome
        elif (report.when == "call" or state in ("failed", "pending")) and outcome.outcome != "failed":
            outcome.outcome, outcome.message = state, message or outcome.message
            outcome.divergence = divergence
            outcome.reason = reason or outcome.reason
            outcome.failure = failure or outcome.failure
        outcome.duration += report.duration

    def entries(self) -> list[dict[str, Any]]:
        return [asdict(o) for o in sorted(self.outcomes.values(), key=lambda o: (o.document, o.line, o.nodeid))]

    def as_json(self) -> dict[str, Any]:
        from importlib.metadata import version

        return {
            "schema": SCHEMA,
            "talkqa": version("talkqa"),
            "settings": self.settings,
            "documents": [self.documents[k] for k in sorted(self.documents)],
            "outcomes": self.entries(),
            "findings": sorted(self.findings, key=lambda f: (f["document"], f["line"], f["message"])),
        }

    def write(self, path: str | Path) -> None:
        from talkqa.files import atomic_write

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(self.as_json(), indent=1, ensure_ascii=False), fsync=False)

    def summary(self) -> Any:
        from talkqa.verdicts import summarise_run

        return summarise_run(self.as_json())


def document_rows(document: dict[str, Any]) -> dict[str, Any]:
    """The rows of a generated module's ``DOCUMENT``, as the results JSON lists them."""
    flows = []
    for flow in document.get("flows", []):
        rows = [{"line": m["line"], "label": f"{flow['source_entity']}.{m['source']} -> "
                                              f"{flow['target_entity']}.{m['target']}"}
                for m in flow.get("mappings", [])]
        rows += [{"line": r["line"], "label": f"match {flow['source_entity']}.{r['source']} == "
                                               f"{flow['target_entity']}.{r['target']}"}
                 for r in flow.get("match", [])]
        flows.append({"title": flow["title"], "line": flow["line"], "rows": rows})
    return {"path": document["path"], "flows": flows}


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


def load_run(path: str | Path) -> dict[str, Any]:
    """A results JSON as written by :meth:`Results.write` (a bare list, as older versions wrote, is
    read as its outcomes)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, list):
        return {"schema": None, "outcomes": data}
    return data


def load(path: str | Path) -> list[dict[str, Any]]:
    """The outcomes (one entry per test) of a results JSON."""
    return load_run(path)["outcomes"]
