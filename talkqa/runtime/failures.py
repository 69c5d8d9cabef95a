"""What a check reports, as data: a failure record and a finding, carried unchanged from the check
to the terminal, the results JSON, JUnit and the HTML report (nothing downstream parses text).

* :class:`ChecklistFailure` is what a check raises when a row is not honoured; it may carry the
  expected and actual values and the kind of failure.
* :class:`Failure` is the record built from it once the test ends (with the row, the direction,
  Hypothesis' minimal failing value and the command that reproduces it).
* :class:`Finding` is something a QA engineer should know about a row that conforms (a length
  one side cannot hold, ...): shown against its document line, never as a Python warning.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: The kinds of failure, worst news first.
KINDS = {
    "value": "the row's value did not arrive as the document says",
    "link": "records were not created or linked as the flow's policy says",
    "requests-changed": "the sync's requests differ from the recording (re-record, or a behaviour change)",
    "pending": "no recording yet and --talkqa-strict",
    "sync-failed": "the system under test itself reported a failure (an external command exited non-zero)",
    "error": "the check itself could not run to a verdict (an exception)",
}

_MISSING: Any = object()


class _Nothing:
    """The actual value when the sync sent or wrote nothing at all (not even null)."""

    def __repr__(self) -> str:
        return "(no value sent)"


NOTHING_SENT: Any = _Nothing()


class Unsupported(Exception):
    """This case cannot be checked here (the message says why): a skip with that reason."""


class ChecklistFailure(AssertionError):
    """A row of the document is not honoured.

    ``expected`` and ``actual`` are the values (shown with ``repr``); ``kind`` is one of :data:`KINDS`.
    """

    def __init__(self, message: str, *, expected: Any = _MISSING, actual: Any = _MISSING, kind: str = "value") -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual
        self.kind = kind
        #: the value of the Hypothesis example that raised it (set by the fuzz runner)
        self.example: Any = _MISSING
        self.reproduce: str | None = None

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def values(self) -> dict[str, str | None]:
        """``expected``, ``actual`` and ``minimal`` as ``repr`` text (None when not known)."""
        return {
            "expected": None if self.expected is _MISSING else repr(self.expected),
            "actual": None if self.actual is _MISSING else repr(self.actual),
            "minimal": None if self.example is _MISSING else repr(self.example),
        }


@dataclass
class Failure:
    """One check that does not conform, as every output shows it."""

    kind: str
    document: str
    line: int
    flow: str
    row: str
    direction: str
    message: str
    expected: str | None = None
    actual: str | None = None
    minimal: str | None = None
    reproduce: str | None = None
    hypothesis: str | None = None  # Hypothesis' @reproduce_failure blob, when it printed one

    @property
    def headline(self) -> str:
        lines = [ln for ln in self.message.strip().splitlines() if ln.strip()]
        return lines[0].strip() if lines else f"{self.document}:{self.line}: {self.row} [{self.direction}]"

    @property
    def details(self) -> list[str]:
        return [ln.strip() for ln in self.message.strip().splitlines()[1:] if ln.strip()]

    def render(self, indent: str = "  ") -> str:
        """The failure as a QA engineer reads it: the message, the minimal value and how to reproduce."""
        out = [self.headline, *(indent + d for d in self.details)]
        if self.minimal is not None:
            out.append(f"{indent}smallest failing value: {self.minimal}")
        if self.hypothesis:
            out.append(f"{indent}hypothesis: {self.hypothesis}")
        if self.reproduce:
            out.append(f"{indent}reproduce: {self.reproduce}")
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Failure:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        known.setdefault("kind", "error")
        for key in ("document", "flow", "row", "direction", "message"):
            known.setdefault(key, "")
        known.setdefault("line", 0)
        return cls(**known)


@dataclass(frozen=True)
class Finding:
    """Something a QA engineer should know about a row that conforms, against its document line."""

    document: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.document}:{self.line}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


#: The ``user_properties`` keys that carry a finding or a failure from a test to its report
#: (JSON text, so they travel from pytest-xdist workers as they are).
FINDING_KEY = "talkqa_finding"
FAILURE_KEY = "talkqa_failure"


def report_finding(item: Any, finding: Finding) -> None:
    """Attach ``finding`` to the test ``item`` (a pytest item); the results and the summary show it."""
    import json

    entry = (FINDING_KEY, json.dumps(finding.to_json(), ensure_ascii=False))
    if entry not in item.user_properties:
        item.user_properties.append(entry)
