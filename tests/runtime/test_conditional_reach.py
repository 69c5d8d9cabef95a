"""A value arranged for a source field respects every field it can reach, conditional rows included:
a conditional row carries it whenever its condition holds (issue 9: freshteam-exact.rst, a Freshteam phone
number reaching Exact's BusinessMobile only through a conditional row was arranged as plain text, and
Exact refused it as no phone number)."""

from __future__ import annotations

from pathlib import Path

from generator.cases import mapping_cases
from generator.parser import parse_text
from talkqa.runtime.backends import SimulatorsBackend
from talkqa.runtime.checks import check_mapping

A, B = "Acme Person", "Exact Contacts"
DOC = (
    "==========================\nAcme to Exact Dataflow\n==========================\n\n"
    f"Generated: 2024-01-01 00:00:00\n\n{A} to {B}\n{'-' * len(f'{A} to {B}')}\n"
    f"Every {A} will be synchronized with a {B}.\n\nOnce a link between a {A} and a {B} is established, "
    "it will keep in sync between the two systems, regardless of where it is edited.\n\n"
    f"The following properties are synchronized between a {A} and a {B}:\n\n.. list-table::\n"
    f"   :header-rows: 1\n\n   * - {A} Property\n     - {B} Property\n     - Exact Data Type\n"
    "   * - name\n     - LastName\n     - \"string\"\n"
    "   * - phone (Dependant on having work in kind)\n     - BusinessMobile\n     - \"string\"\n"
)


def test_a_value_reaching_a_phone_field_through_a_conditional_row_is_a_phone_number(tmp_path: Path) -> None:
    document = parse_text(DOC, "acme-exact.rst")  # the file name names the systems: acme (generic), exact
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
