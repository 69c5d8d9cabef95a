"""Match-rule and merge checks of a generated suite (the seed document has no match rules): a
crafted merge_or_create document, generated and run live against the simulators."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from talkqa.runtime.results import load

ROOT = Path(__file__).resolve().parents[2]
TALKQA = Path(sys.executable).with_name("talkqa")

DOC = """\
================================================
Powerofficego to Exact Online Dataflow
================================================

Generated: 2024-01-01 00:00:00

Introduction
------------

This technical document provides a detailed overview of the Sesam Talk data flow from Powerofficego to Exact Online.

Powerofficego Contactperson to Exact Online Contacts
----------------------------------------------------
Every Powerofficego Contactperson will be synchronized with a Exact Online Contacts. If a matching Exact Online \
Contacts already exists, the Powerofficego Contactperson will be merged with the existing one. If no matching \
Exact Online Contacts is found, a new Exact Online Contacts will be created.

A Powerofficego Contactperson will merge with a Exact Online Contacts if one of the following property \
combinations match:

.. list-table::
   :header-rows: 1

   * - Powerofficego Contactperson Property
     - Exact Online Contacts Property
   * - emailAddress
     - Email

Once a link between a Powerofficego Contactperson and a Exact Online Contacts is established, it will keep in \
sync between the two systems, regardless of where it is edited.

The following properties are synchronized between a Powerofficego Contactperson and a Exact Online Contacts:

.. list-table::
   :header-rows: 1

   * - Powerofficego Contactperson Property
     - Exact Online Contacts Property
     - Exact Online Data Type
   * - city
     - City
     - "string"
   * - firstName
     - FirstName
     - "string"
   * - lastName
     - LastName
     - "string"
   * - emailAddress
     - Email
     - "string"
"""

NO_MATCHING = """\
import talkqa.sync.engine as e
e._FlowRun._find_match = lambda self, record: None
"""


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("match")
    (base / "spec").mkdir()
    (base / "spec" / "powerofficego-exact.rst").write_text(DOC)
    done = subprocess.run([str(TALKQA), "generate", "spec", "--out", "suite"], cwd=base, capture_output=True,
                          text=True, env={**os.environ, "TALKQA_CACHE_DIR": str(base / "cache")})
    assert done.returncode == 0, done.stderr
    (base / "no_matching.py").write_text(NO_MATCHING)
    return base


def run(base: Path, *extra: str) -> list[dict]:
    results = base / f"results-{len(extra)}.json"
    subprocess.run(
        [sys.executable, "-m", "pytest", "suite", "-p", "no:cacheprovider", "-q", "--talkqa-backend=simulators",
         "-m", "not fuzz", f"--talkqa-results={results}", *extra],
        cwd=base, capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(base)},
    )
    return load(results)


def test_match_and_merge_checks_pass_against_the_reference_sync(suite: Path) -> None:
    entries = {e["case_id"]: e["outcome"] for e in run(suite)}
    assert entries["Contactperson.emailAddress->Contacts.Email[links]"] == "passed"
    assert entries["Contactperson.emailAddress->Contacts.Email[near-miss]"] == "passed"
    assert entries["Contactperson->Contacts[merges-existing]"] == "passed"
    assert entries["Contactperson->Contacts[creates-when-no-match]"] == "passed"
    # PowerOffice pages by 5,000: more than two pages is more than every-record-once creates (its reason)
    assert entries.pop("Contactperson->Contacts[every-record-once]") == "skipped"
    assert entries.pop("Contactperson->Contacts[sparse-records]") == "skipped"  # no nested object in any row
    assert set(entries.values()) == {"passed"}


def test_a_sync_that_never_matches_fails_the_match_checks(suite: Path) -> None:
    entries = {e["case_id"]: e["outcome"] for e in run(suite, "-p", "no_matching")}
    assert entries["Contactperson.emailAddress->Contacts.Email[links]"] == "failed"
    assert entries["Contactperson->Contacts[merges-existing]"] == "failed"
    # a near-miss still gets a new record, and a record with no counterpart is still created
    assert entries["Contactperson.emailAddress->Contacts.Email[near-miss]"] == "passed"
    assert entries["Contactperson->Contacts[creates-when-no-match]"] == "passed"
