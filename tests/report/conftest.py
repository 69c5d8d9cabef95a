"""Fixtures for the report tests: a small document with known row lines, and a real suite run.

``real_run`` runs the generated suite of ``spec/powerofficego-exact.rst`` (cassette replay, a
subset of its rows) with :mod:`tests.report.break_sync` loaded, so the ``Email`` rows fail in the
forward direction (mapping and fuzz) while the others conform; it writes the results JSON and
the report from it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from talkqa.runtime.failures import Failure
from talkqa.runtime.results import load

REPO = Path(__file__).resolve().parents[2]

#: The rows the real run selects (``-k``): two conforming rows, two broken ones, one flow's link checks.
REAL_SELECTION = "Email or city or Contactperson-"
#: Lines of spec/powerofficego-exact.rst: the Email rows (broken) and the city rows (conforming).
BROKEN_LINES = (32, 66)
CONFORMING_LINES = (26, 75)
#: The line of the seed's first flow (its link checks are selected by ``Contactperson-``).
SEED_FLOW_LINE = 12

SMALL_DOC = """\
=======================
Alpha to Beta Dataflow
=======================

Generated: 2024-01-01 00:00:00

Introduction
------------

Some words.

Alpha Person to Beta Contact
----------------------------
Every Alpha Person will be synchronized with a Beta Contact.

.. list-table::
   :header-rows: 1

   * - Alpha Person Property
     - Beta Contact Property
     - Beta Data Type
   * - name
     - Name
     - "string"
   * - email
     - Email
     - "string"
   * - phone
     - Phone
     - "string"
   * - fax
     - Fax
     - "string"
   * - born
     - BirthDate
     - "datetime"
"""
#: Line of each data row of SMALL_DOC, and of the flow title.
SMALL_ROWS = {"name": 22, "email": 25, "phone": 28, "fax": 31, "born": 34}
SMALL_FLOW_LINE = 12
SMALL_FLOW = "Alpha Person to Beta Contact"

_HEAD = "docs/alpha-beta.rst:25: Alpha Person to Beta Contact: email -> Email [forward]"
#: Failure records as the plugin writes them into the results JSON (talkqa.runtime.failures.Failure).
MAPPING_FAILURE = Failure(
    kind="value", document="docs/alpha-beta.rst", line=25, flow=SMALL_FLOW, row="email -> Email",
    direction="forward",
    message=f"{_HEAD}\n  after editing Person.email, the sync should write Contact.Email = 'tq8240@example.com'\n"
            "  but it wrote 'TQ8240@EXAMPLE.COM!'",
    expected="'tq8240@example.com'", actual="'TQ8240@EXAMPLE.COM!'",
    reproduce="pytest 'generated_tests/test_alpha_beta.py::test_mapping[Person.email->Contact.Email[forward]]' "
              "-p no:randomly --talkqa-backend=cassettes",
).to_json()

FUZZ_FAILURE = Failure(
    kind="value", document="docs/alpha-beta.rst", line=25, flow=SMALL_FLOW, row="email -> Email",
    direction="forward", message=f"{_HEAD}\n  the sync read '0@example.no'\n  and wrote '0@EXAMPLE.NO!'",
    expected="'0@example.no'", actual="'0@EXAMPLE.NO!'", minimal="'0@example.no'",
    reproduce="pytest 'generated_tests/t.py::test_fuzz[a->b[forward]]' -p no:randomly --talkqa-backend=cassettes "
              "--talkqa-fuzz-profile=ci",
    hypothesis="@reproduce_failure('6.170.17', b'AIEwQQA=')",
).to_json()


def entry(line: int, kind: str, direction: str, outcome: str, message: str | dict[str, Any] = "", case: str = "row",
          document: str = "docs/alpha-beta.rst", flow: str = SMALL_FLOW) -> dict[str, Any]:
    """A result entry; ``message`` may be a failure record (its message becomes the entry's)."""
    case_id = f"{case}[{direction}]" if kind in ("mapping", "fuzz") else f"Person->Contact[{case}]"
    failure = message if isinstance(message, dict) else None
    if failure is not None:
        message = failure["message"]
    return {
        "failure": failure,
        "nodeid": f"generated_tests/test_alpha_beta.py::test_{kind}[{case_id}]",
        "document": document, "line": line, "flow": flow, "kind": kind, "direction": direction,
        "case_id": case_id, "outcome": outcome, "message": message, "duration": 0.01,
    }


def small_entries() -> list[dict[str, Any]]:
    """name conforms; email fails forward (mapping and fuzz); phone pending; fax skipped; born not run."""
    r = SMALL_ROWS
    return [
        entry(r["name"], "mapping", "forward", "passed", case="name"),
        entry(r["name"], "mapping", "reverse", "passed", case="name"),
        entry(r["name"], "fuzz", "forward", "passed", case="name"),
        entry(r["email"], "mapping", "forward", "failed", MAPPING_FAILURE, case="email"),
        entry(r["email"], "mapping", "reverse", "passed", case="email"),
        entry(r["email"], "fuzz", "forward", "failed", FUZZ_FAILURE, case="email"),
        entry(r["phone"], "mapping", "forward", "pending", "no recorded HTTP answers this request", case="phone"),
        entry(r["phone"], "mapping", "reverse", "passed", case="phone"),
        entry(r["fax"], "mapping", "forward", "skipped", "the Beta Contact connector has no field 'Fax'", case="fax"),
        entry(SMALL_FLOW_LINE, "link", "forward", "passed", case="creates-one-per-source"),
        entry(SMALL_FLOW_LINE, "link", "forward", "failed",
              "talkqa.runtime.checks.ChecklistFailure: docs/alpha-beta.rst:12: Alpha Person to Beta Contact "
              "[Person->Contact[second-sync-no-change]]\n  the second sync changed ['Email']\n"
              "  reproduce: pytest 'x::test_link[y]'", case="second-sync-no-change"),
        entry(999, "mapping", "forward", "failed", "somewhere else", case="ghost"),
    ]


@pytest.fixture
def small_doc(tmp_path: Path) -> tuple[Path, Path]:
    """(root, results json): docs/alpha-beta.rst under root, and results naming it relatively."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "alpha-beta.rst").write_text(SMALL_DOC, encoding="utf-8")
    results = tmp_path / "results.json"
    results.write_text(json.dumps(small_entries()), encoding="utf-8")
    return tmp_path, results


@dataclass
class RealRun:
    results: Path
    report: Path
    entries: list[dict[str, Any]]


@pytest.fixture(scope="session")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> RealRun:
    from talkqa.report import write_report

    out = tmp_path_factory.mktemp("real-run")
    results = out / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "PYTEST_CURRENT"))}
    env["CI"] = "true"  # the derandomized fuzz profile
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "generated_tests", "-p", "tests.report.break_sync",
         "-p", "no:cacheprovider", "-p", "no:randomly", "-q", "--no-header",
         "-k", REAL_SELECTION, f"--talkqa-results={results}"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=540,
    )
    assert results.exists(), f"the suite wrote no results (exit {proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr}"
    assert proc.returncode == 1, f"expected failures from break_sync, exit {proc.returncode}:\n{proc.stdout[-3000:]}"
    report = write_report(results, out / "report.html", root=REPO)
    return RealRun(results=results, report=report, entries=load(results))
