"""Small crafted PowerOffice Go -> Exact documents: a one-way flow and a merge-or-create flow."""

from __future__ import annotations

from pathlib import Path

from tests.sync_sim.docs import CONTACTPERSON_ROWS, flow, write
from tests.sync_sim.harness import Harness

SUPPLIER_ROWS = [("FirstName", "FirstName"), ("LastName", "LastName"), ("MailAddress.City", "City")]


def test_one_way_flow_carries_source_edits_but_never_target_edits_back(h: Harness, tmp_path: Path) -> None:
    h.use(write(tmp_path, flow("Contactperson", "Contacts", CONTACTPERSON_ROWS, two_way=False)))
    ann = h.contact_person(firstName="Ann", lastName="Aas", city="Oslo")
    h.sync()
    contact_id = h.target_of(0, ann)
    h.exact().update(contact_id, {"City": "Narvik"})
    mark = h.mark()
    h.sync()
    assert h.writes_since(mark) == []
    assert h.raw_contact_person(ann)["city"] == "Oslo"
    assert not any("crm/Contacts" in r["path"] for r in h.requests_since(mark))  # the target is not even read
    h.v1().update(ann, {"firstName": "Anna"})
    h.sync()
    assert (h.raw_exact(contact_id)["FirstName"], h.raw_exact(contact_id)["City"]) == ("Anna", "Narvik")


def test_merge_or_create_links_the_matching_exact_contact_instead_of_creating(h: Harness, tmp_path: Path) -> None:
    h.use(write(tmp_path, flow("Suppliers person", "Contacts", SUPPLIER_ROWS, match=[("EmailAddress", "Email")])))
    existing = h.ex.seed("contacts", {"FirstName": "S.", "LastName": "Sand", "Email": "siv@example.com",
                                      "City": "Narvik"})["ID"]
    other = h.ex.seed("contacts", {"FirstName": "Unrelated", "LastName": "Person", "Email": "x@example.com"})["ID"]
    siv = h.supplier(IsPerson=True, FirstName="Siv", LastName="Sand", EmailAddress="siv@example.com")
    new = h.supplier(IsPerson=True, FirstName="Nye", LastName="Navn", EmailAddress="nye@example.com")
    summary = h.sync()
    assert (summary.linked, summary.created) == (1, 1)
    assert h.target_of(0, siv) == existing
    assert len(h.exact_contacts()) == 3 and h.target_of(0, new) not in (existing, other)
    merged = h.raw_exact(existing)
    assert (merged["FirstName"], merged["LastName"], merged["City"]) == ("Siv", "Sand", "Narvik")  # source wins
    assert h.raw_supplier(siv)["MailAddress"]["City"] == "Narvik"  # an empty source value takes the target's
    assert h.raw_exact(other)["FirstName"] == "Unrelated"
    mark = h.mark()
    assert h.sync().writes == 0
    assert h.writes_since(mark) == []


def test_a_row_into_the_field_exact_keeps_the_sync_reference_in_carries_the_documents_value(
    h: Harness, tmp_path: Path,
) -> None:
    """The connector keeps the sync's external reference in ``Notes``; a document that maps ``Notes`` owns
    it: the value arrives, and no reference overwrites it (nor an empty value)."""
    h.use(write(tmp_path, flow("Contactperson", "Contacts", [*CONTACTPERSON_ROWS, ("emailAddress", "Notes")])))
    ann = h.contact_person(firstName="Ann", lastName="Aas", emailAddress="ann@example.com")
    bo = h.contact_person(firstName="Bo", lastName="Berg")
    h.sync()
    assert h.raw_exact(h.target_of(0, ann))["Notes"] == "ann@example.com"
    assert h.raw_exact(h.target_of(0, bo))["Notes"] in (None, "")
    h.v1().update(ann, {"emailAddress": "ann@example.org"})
    h.sync()
    assert h.raw_exact(h.target_of(0, ann))["Notes"] == "ann@example.org"
    mark = h.mark()
    assert h.sync().writes == 0 and h.writes_since(mark) == []
