"""A row into the field a connector keeps the sync's external reference in (Exact's ``Notes``, the generic
system's profile ref field) carries the document's value: the document owns that field, so the reference
sync writes no reference there (it gives up finding a lost create by it: docs/sync.md, "Crash safety")."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.cases import fuzz_cases, mapping_cases
from talkqa.runtime.backends import SimulatorsBackend
from talkqa.runtime.checks import check_mapping
from talkqa.runtime.fuzz import one_example
from talkqa.systems.generic.profile import Profile
from tests.spec.docwriter import FlowSpec, RowSpec
from tests.systems.helpers import document

REF = Profile().ref_field  # the default profile's (the generic system serves Zenith with it)
DOCS = {
    "Notes": document("Acme", "Exact", FlowSpec("Person", "Contacts", "always", rows=(
        RowSpec("name", "LastName", '"string"'), RowSpec("remark", "Notes", '"string"')))),
    REF: document("Acme", "Zenith", FlowSpec("Person", "Contact", "always", rows=(
        RowSpec("name", "FullName", '"string"'), RowSpec("remark", REF, '"string"')))),
}


@pytest.mark.parametrize("target", list(DOCS))
def test_a_row_into_the_reference_field_carries_the_documents_value(target: str, tmp_path: Path) -> None:
    doc = DOCS[target]
    backend = SimulatorsBackend("reference", [doc])
    try:
        for case in mapping_cases(doc):
            if case["target"] == target:
                bench = backend.bench(doc, tmp_path / f"mapping-{case['direction']}")
                try:
                    check_mapping(bench, case)
                finally:
                    bench.close()
        (case,) = [c for c in fuzz_cases(doc) if c["target"] == target and c["direction"] == "forward"]
        for n, value in enumerate(["", "a remark", "tq-0123456789abcdef01234567"]):
            bench = backend.bench(doc, tmp_path / f"fuzz-{n}", flow=case["flow"])
            try:
                one_example(bench, case, value)
            finally:
                bench.close()
    finally:
        backend.close()
