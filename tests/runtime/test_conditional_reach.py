"""A value arranged for a source field respects every field it can reach, conditional rows included:
a conditional row carries it whenever its condition holds (issue 9: freshteam-exact.rst, a Freshteam phone
number reaching Exact's BusinessMobile only through a conditional row was arranged as plain text, and
Exact refused it as no phone number)."""

from __future__ import annotations

from pathlib import Path

from generator.cases import mapping_cases
from talkqa.runtime.backends import SimulatorsBackend
from talkqa.runtime.checks import check_mapping
from tests.spec.docwriter import FlowSpec, RowSpec
from tests.systems.helpers import document

DOC = document("Acme", "Exact", FlowSpec("Person", "Contacts", "always", rows=(
    RowSpec("name", "LastName", '"string"'),
    RowSpec("phone", "BusinessMobile", '"string"', ("source", (("work", "kind"),))),
)))  # acme-exact.rst: the file name names the systems: acme (generic), exact (the plugin)


def test_a_value_reaching_a_phone_field_through_a_conditional_row_is_a_phone_number(tmp_path: Path) -> None:
    document = DOC
    backend = SimulatorsBackend("reference", [document])
    try:
        case = next(c for c in mapping_cases(document) if c["source"] == "phone" and c["direction"] == "forward")
        bench = backend.bench(document, tmp_path / "phone")
        try:
            check_mapping(bench, case)  # before: the sync failed: BusinessMobile '...' is not a valid phone number
        finally:
            bench.close()
    finally:
        backend.close()
