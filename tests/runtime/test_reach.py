"""Arranged values respect every field they reach: a value arranged for one flow travels on through the
document's other flows from the same entity, so it must be one every field it reaches accepts, and it is
emptied only where every such field may be empty (issue 9: flows into PowerOffice Go Customers whose
source property also becomes a v1 contact person's e-mail address, a required first name)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.cases import link_cases, match_cases
from generator.model import Document
from generator.parser import parse_text
from talkqa.runtime.backends import SimulatorsBackend
from talkqa.runtime.checks import Unsupported, check_link, check_match

DOC = """\
=====================================
Ledger to PowerOffice GO Dataflow
=====================================

Generated: 2024-01-01 00:00:00

Ledger Customer to PowerOffice GO Customers
-------------------------------------------
Before any synchronization can take place, a link between a Ledger Customer and a PowerOffice GO Customers \
must be established.

A Ledger Customer will merge with a PowerOffice GO Customers if one of the following property combinations match:

.. list-table::
   :header-rows: 1

   * - Ledger Customer Property
     - PowerOffice GO Customers Property
   * - email
     - EmailAddress

Once a link between a Ledger Customer and a PowerOffice GO Customers is established, it will keep in sync \
between the two systems, regardless of where it is edited.

The following properties are synchronized between a Ledger Customer and a PowerOffice GO Customers:

.. list-table::
   :header-rows: 1

   * - Ledger Customer Property
     - PowerOffice GO Customers Property
     - PowerOffice GO Data Type
   * - email
     - EmailAddress
     - "string"
   * - firstName
     - FirstName
     - "string"

Ledger Customer to PowerOffice GO Contactperson
-----------------------------------------------
Every Ledger Customer will be synchronized with a PowerOffice GO Contactperson.

Once a link between a Ledger Customer and a PowerOffice GO Contactperson is established, it will keep in sync \
between the two systems, regardless of where it is edited.

The following properties are synchronized between a Ledger Customer and a PowerOffice GO Contactperson:

.. list-table::
   :header-rows: 1

   * - Ledger Customer Property
     - PowerOffice GO Contactperson Property
     - PowerOffice GO Data Type
   * - email
     - emailAddress
     - "string"
   * - firstName
     - firstName
     - "string"
   * - lastName
     - lastName
     - "string"
"""


@pytest.fixture(scope="module")
def document() -> Document:
    return parse_text(DOC, "ledger-powerofficego.rst")


@pytest.fixture(scope="module")
def backend(document: Document) -> Iterator[SimulatorsBackend]:
    made = SimulatorsBackend("reference", [document])
    yield made
    made.close()


def test_a_match_value_is_one_every_field_it_reaches_accepts(document: Document, backend: SimulatorsBackend,
                                                            tmp_path: Path) -> None:
    """The match rule email == EmailAddress joins two text fields, but the Customer's email also becomes
    the contact person's e-mail address (an e-mail field): the arranged value must be an e-mail address,
    or the sync fails creating the contact person and the match check fails for the arrange's fault."""
    case = next(c for c in match_cases(document) if c["check"] == "links" and c["flow"] == 0)
    bench = backend.bench(document, tmp_path / "links")
    try:
        check_match(bench, case)  # before the fix: "emailAddress 'Tq...' is not a valid email address"
        contacts = bench.resolve(document.system_key("target"), "Contactperson")
        emails = [contacts.get(c.id).get("emailAddress") for c in contacts.iter_all()]
    finally:
        bench.close()
    assert emails and all(isinstance(e, str) and "@" in e for e in emails)


def test_clearing_sets_aside_a_value_another_flow_requires(document: Document, backend: SimulatorsBackend,
                                                         tmp_path: Path) -> None:
    """Emptying the Customer's firstName cannot reach its contact person (a required first name): the row is
    set aside with that reason, and the email row (optional everywhere) is still cleared both ways."""
    case = next(c for c in link_cases(document) if c["check"] == "clears-both-ways" and c["flow"] == 0)
    bench = backend.bench(document, tmp_path / "clear")
    try:
        check_link(bench, case)  # the email row conforms; before the fix the sync failed on the first name
    finally:
        bench.close()
    only_first = parse_text(DOC.replace('''   * - email
     - EmailAddress
     - "string"
   * - firstName''', '''   * - firstName'''), "ledger-powerofficego.rst")
    case = next(c for c in link_cases(only_first) if c["check"] == "clears-both-ways" and c["flow"] == 0)
    other = SimulatorsBackend("reference", [only_first])
    try:
        bench = other.bench(only_first, tmp_path / "clear-first")
        try:
            with pytest.raises(Unsupported) as why:
                check_link(bench, case)
        finally:
            bench.close()
    finally:
        other.close()
    assert "firstName -> FirstName): Contactperson.firstName is required" in str(why.value)


def test_fuzzing_draws_empty_values_only_where_every_reached_field_may_be_empty(
        document: Document, backend: SimulatorsBackend, tmp_path: Path) -> None:
    """The fuzz domain of a row: its kind joins every field the value reaches, and it draws empty values
    only when each of them may be empty."""
    from talkqa.runtime.checks import _domain

    flow = document.flows[0]
    bench = backend.bench(document, tmp_path / "domain")
    try:
        src, tgt = bench.pair(flow)
        domains = {row.source: _domain(src, tgt, row, bench, flow) for row in flow.mappings}
    finally:
        bench.close()
    assert domains["email"].kind == "email" and domains["email"].empty_ok
    assert domains["firstName"].kind == "string" and not domains["firstName"].empty_ok
