"""Identifier rows under a condition ("id (Dependant on having VALUE in PATH) -> X"): an id cannot be
edited, so the check links a pair with the condition held and not held and reads X; it never crashes by
editing the id (issue 9: "the check could not run: ValueError: ... 'id' is assigned by the system"). With
the condition on the target side, the sync applies the row once the target comes to hold it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.cases import mapping_cases
from generator.model import Document
from generator.parser import parse_text
from talkqa.runtime.backends import SimulatorsBackend
from talkqa.runtime.checks import check_mapping
from talkqa.sync.engine import SyncEngine
from talkqa.sync.state import SyncState
from talkqa.testing.memory import IdentifiedMemoryResource, MemoryResource

DOC = """\
==========================
Acme to Zeta Dataflow
==========================

Generated: 2024-01-01 00:00:00

Acme Person to Zeta Contact
---------------------------
Every Acme Person will be synchronized with a Zeta Contact.

Once a link between a Acme Person and a Zeta Contact is established, it will keep in sync between the two \
systems, regardless of where it is edited.

The following properties are synchronized between a Acme Person and a Zeta Contact:

.. list-table::
   :header-rows: 1

   * - Acme Person Property
     - Zeta Contact Property
     - Zeta Data Type
   * - name
     - Name
     - "string"
   * - id (Dependant on having gold in tier)
     - MemberRef
     - "string"
   * - id
     - PartnerRef (Dependant on having partner in Kind)
     - "string"
"""


@pytest.fixture(scope="module")
def document() -> Document:
    return parse_text(DOC, "acme-zeta.rst")


@pytest.fixture(scope="module")
def backend(document: Document) -> Iterator[SimulatorsBackend]:
    made = SimulatorsBackend("reference", [document])
    yield made
    made.close()


@pytest.mark.parametrize("target", ["MemberRef", "PartnerRef"])
def test_a_conditional_identifier_row_is_checked_held_and_not_held(
        document: Document, backend: SimulatorsBackend, tmp_path: Path, target: str) -> None:
    case = next(c for c in mapping_cases(document) if c["target"] == target and c["direction"] == "forward")
    bench = backend.bench(document, tmp_path / target)
    try:
        check_mapping(bench, case)  # before: ValueError (the id edited), then the target side never synced
    finally:
        bench.close()


def test_its_reverse_is_not_checked_with_the_reason(document: Document, backend: SimulatorsBackend,
                                                    tmp_path: Path) -> None:
    case = next(c for c in mapping_cases(document) if c["target"] == "MemberRef" and c["direction"] == "reverse")
    assert case["skip"] == "conditional row: the document states when it applies for edits from the source only"


def test_the_sync_applies_a_target_side_condition_once_the_target_holds_it(document: Document) -> None:
    resources: dict[tuple[str, str], MemoryResource] = {}

    def resolve(slug: str, label: str) -> MemoryResource:
        return resources.setdefault((slug, label), IdentifiedMemoryResource(slug, label, prefix=slug[0]))

    state = SyncState()
    source = resolve("acme", "Person")
    person = source.put({"name": "Ann"})
    SyncEngine(document, resolve, state).run_once()
    contact = resolve("zeta", "Contact")
    (target_id,) = contact.records
    assert "PartnerRef" not in contact.records[target_id]  # the condition does not hold yet
    contact.edit(target_id, "Kind", "other")
    SyncEngine(document, resolve, state).run_once()
    assert "PartnerRef" not in contact.records[target_id]
    contact.edit(target_id, "Kind", "partner")
    SyncEngine(document, resolve, state).run_once()
    assert contact.records[target_id]["PartnerRef"] == person
    writes = contact.writes
    SyncEngine(document, resolve, state).run_once()
    assert contact.writes == writes


