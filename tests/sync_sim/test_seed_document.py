"""The reference sync against both simulators over HTTP, driven by the seed document
``spec/powerofficego-exact.rst`` (v1 contact persons and v2 person suppliers both feed Exact Contacts).

Expected values are literals of the vendors' wire formats (e.g. Exact ``/Date(ms)/``), read back
through the simulators' admin channel; nothing is computed by the code under test.
"""

from __future__ import annotations

from datetime import date

from tests.sync_sim.harness import CONTACTPERSON, SUPPLIER, Harness

ANN = {
    "firstName": "Ann",
    "lastName": "Aas",
    "emailAddress": "ann@example.com",
    "phoneNumber": "+4712345678",
    "city": "Oslo",
    "residenceCountryCode": "NO",
    "dateOfBirth": "1980-02-29T00:00:00",
}
SIV = {
    "IsPerson": True,
    "FirstName": "Siv",
    "LastName": "Sand",
    "EmailAddress": "siv@example.com",
    "PhoneNumber": "+4798765432",
    "DateOfBirth": "1971-12-31",
    "MailAddress": {"City": "Bergen", "CountryCode": "SE", "ZipCode": "5003"},
}
MAPPED_EXACT = ("FirstName", "LastName", "Email", "Phone", "City", "Country", "BirthDate")


def mapped(contact: dict) -> dict:
    return {k: contact.get(k) for k in MAPPED_EXACT}


# ----- always: one Exact contact per source record -----------------------------------------------------


def test_always_creates_one_exact_contact_per_contact_person_and_per_person_supplier(h: Harness) -> None:
    ann = h.contact_person(**ANN)
    bob = h.contact_person(firstName="Bob", lastName="Berg")
    siv = h.supplier(**SIV)
    summary = h.sync()
    assert summary.created == 3
    contacts = h.exact_contacts()
    assert len(contacts) == 3
    assert mapped(contacts[h.target_of(CONTACTPERSON, ann)]) == {
        "FirstName": "Ann",
        "LastName": "Aas",
        "Email": "ann@example.com",
        "Phone": "+4712345678",
        "City": "Oslo",
        "Country": "NO",
        "BirthDate": "/Date(320630400000)/",  # 1980-02-29T00:00:00Z
    }
    assert mapped(contacts[h.target_of(CONTACTPERSON, bob)])["LastName"] == "Berg"
    assert mapped(contacts[h.target_of(SUPPLIER, siv)]) == {
        "FirstName": "Siv",
        "LastName": "Sand",
        "Email": "siv@example.com",
        "Phone": "+4798765432",
        "City": "Bergen",
        "Country": "SE",
        "BirthDate": "/Date(62985600000)/",  # 1971-12-31T00:00:00Z
    }


def test_suppliers_that_are_not_persons_are_not_synced(h: Harness) -> None:
    h.supplier(Name="Leverandør AS", EmailAddress="post@leverandor.example", MailAddress={"City": "Oslo"})
    h.supplier(IsPerson=False, Name="Other AS", FirstName="Not", LastName="Aperson")
    siv = h.supplier(**SIV)
    summary = h.sync()
    assert summary.created == 1
    assert list(h.exact_contacts()) == [h.target_of(SUPPLIER, siv)]
    assert [link.source_id for link in h.state.links()] == [siv]


def test_exact_contacts_nobody_created_stay_unlinked_and_are_not_copied_back(h: Harness) -> None:
    h.ex.seed("contacts", {"FirstName": "Only", "LastName": "InExact", "City": "Tromsø"})
    mark = h.mark()
    h.sync()
    assert h.state.links() == []
    assert h.writes_since(mark) == []
    assert [c["lastName"] for c in h.po.state()["contactpersons"].values()] == []


# ----- both directions, nested paths, dates -----------------------------------------------------------


def test_forward_edits_of_a_contact_person_reach_exact_and_do_not_echo(h: Harness) -> None:
    ann = h.contact_person(**ANN)
    h.sync()
    h.v1().update(ann, {"city": "Trondheim", "dateOfBirth": date(1981, 3, 1), "phoneNumber": "+4711111111"})
    mark = h.mark()
    summary = h.sync()
    assert summary.updated == 1
    contact = h.raw_exact(h.target_of(CONTACTPERSON, ann))
    assert (contact["City"], contact["BirthDate"], contact["Phone"]) == (
        "Trondheim",
        "/Date(352252800000)/",  # 1981-03-01
        "+4711111111",
    )
    writes = h.writes_since(mark)
    assert [(w["system"], w["method"]) for w in writes] == [("exact", "PUT")]
    mark = h.mark()
    assert h.sync().writes == 0
    assert h.writes_since(mark) == []


def test_reverse_edits_of_an_exact_contact_reach_the_contact_person_with_dates_as_dates(h: Harness) -> None:
    ann = h.contact_person(**ANN)
    h.sync()
    h.exact().update(h.target_of(CONTACTPERSON, ann), {"City": "Bodø", "BirthDate": date(1990, 12, 31)})
    mark = h.mark()
    h.sync()
    raw = h.raw_contact_person(ann)
    assert (raw["city"], raw["dateOfBirth"]) == ("Bodø", "1990-12-31T00:00:00")
    assert (raw["firstName"], raw["emailAddress"]) == ("Ann", "ann@example.com")  # the rest kept
    assert [(w["system"], w["method"]) for w in h.writes_since(mark)] == [("powerofficego", "POST")]
    mark = h.mark()
    assert h.sync().writes == 0
    assert h.writes_since(mark) == []


def test_forward_edit_of_the_supplier_mail_address_city_reaches_exact(h: Harness) -> None:
    siv = h.supplier(**SIV)
    h.sync()
    h.v2().update(siv, {"MailAddress": {"City": "Stavanger"}, "DateOfBirth": date(1972, 1, 1)})
    h.sync()
    contact = h.raw_exact(h.target_of(SUPPLIER, siv))
    assert (contact["City"], contact["BirthDate"]) == ("Stavanger", "/Date(63072000000)/")  # 1972-01-01


def test_reverse_edit_of_city_and_birth_date_reaches_the_supplier_nested(h: Harness) -> None:
    siv = h.supplier(**SIV)
    h.sync()
    h.exact().update(h.target_of(SUPPLIER, siv), {"City": "Ålesund", "BirthDate": date(2000, 1, 31)})
    mark = h.mark()
    h.sync()
    raw = h.raw_supplier(siv)
    assert raw["MailAddress"]["City"] == "Ålesund"
    assert raw["MailAddress"]["ZipCode"] == "5003"  # the rest of the address is kept
    assert raw["DateOfBirth"] == "2000-01-31"
    writes = h.writes_since(mark)
    assert [(w["system"], w["method"], w["path"]) for w in writes] == [
        ("powerofficego", "PATCH", f"/v2/Suppliers/{siv}")
    ]
    mark = h.mark()
    assert h.sync().writes == 0
    assert h.writes_since(mark) == []


def test_reverse_city_edit_gives_a_supplier_without_mail_address_one(h: Harness) -> None:
    siv = h.supplier(IsPerson=True, FirstName="No", LastName="Address", MailAddress=None)
    assert h.raw_supplier(siv)["MailAddress"] is None
    h.sync()
    contact_id = h.target_of(SUPPLIER, siv)
    assert h.raw_exact(contact_id)["City"] is None
    h.exact().update(contact_id, {"City": "Molde"})
    h.sync()
    assert h.raw_supplier(siv)["MailAddress"]["City"] == "Molde"
    mark = h.mark()
    assert h.sync().writes == 0
    assert h.writes_since(mark) == []


def test_reverse_city_edit_fills_a_supplier_address_with_no_values_yet(h: Harness) -> None:
    siv = h.supplier(IsPerson=True, FirstName="Empty", LastName="Address")
    assert h.raw_supplier(siv)["MailAddress"]["City"] is None
    h.sync()
    h.exact().update(h.target_of(SUPPLIER, siv), {"City": "Hamar", "Country": "DK"})
    h.sync()
    address = h.raw_supplier(siv)["MailAddress"]
    assert (address["City"], address["CountryCode"]) == ("Hamar", "DK")


def test_an_address_only_supplier_edit_does_not_bump_the_supplier_yet_syncs(h: Harness) -> None:
    siv = h.supplier(**SIV)
    h.sync()
    before = h.raw_supplier(siv)["LastChangedDateTimeOffset"]
    h.v2().update(siv, {"MailAddress": {"City": "Kristiansand"}})
    after = h.raw_supplier(siv)
    assert after["MailAddress"]["City"] == "Kristiansand"
    assert after["LastChangedDateTimeOffset"] == before  # the premise: only the address's stamp moved
    assert after["MailAddress"]["LastChangedDateTimeOffset"] > before
    summary = h.sync()
    assert summary.updated == 1
    assert h.raw_exact(h.target_of(SUPPLIER, siv))["City"] == "Kristiansand"


# ----- two origins feeding one Exact resource ----------------------------------------------------------


def test_each_exact_contact_has_exactly_one_origin_and_reverse_edits_go_only_there(h: Harness) -> None:
    ann = h.contact_person(**ANN)
    siv = h.supplier(**SIV)
    h.sync()
    links = h.state.links()
    assert sorted((link.flow, link.source_id) for link in links) == sorted(
        [(h.key(CONTACTPERSON), ann), (h.key(SUPPLIER), siv)]
    )
    targets = [link.target_id for link in links]
    assert len(set(targets)) == 2 and set(targets) == set(h.exact_contacts())

    ann_before, siv_before = h.raw_contact_person(ann), h.raw_supplier(siv)
    h.exact().update(h.target_of(SUPPLIER, siv), {"LastName": "Strand"})
    mark = h.mark()
    h.sync()
    assert h.raw_supplier(siv)["LastName"] == "Strand"
    assert h.raw_contact_person(ann) == ann_before
    assert [(w["method"], w["path"]) for w in h.writes_since(mark)] == [("PATCH", f"/v2/Suppliers/{siv}")]

    h.exact().update(h.target_of(CONTACTPERSON, ann), {"LastName": "Aasen"})
    mark = h.mark()
    h.sync()
    assert h.raw_contact_person(ann)["lastName"] == "Aasen"
    assert h.raw_supplier(siv)["LastName"] == "Strand" and h.raw_supplier(siv)["FirstName"] == siv_before["FirstName"]
    writes = h.writes_since(mark)
    assert [(w["method"], w["path"]) for w in writes] == [("POST", f"/v1/Customer/{h.parent}/Contact/")]


# ----- conflicts ------------------------------------------------------------------------------------


def test_conflict_source_wins_and_the_target_value_is_in_the_conflict_log(h: Harness) -> None:
    ann = h.contact_person(**ANN)
    h.sync()
    contact_id = h.target_of(CONTACTPERSON, ann)
    h.v1().update(ann, {"firstName": "Anna"})
    h.exact().update(contact_id, {"FirstName": "Annie", "Phone": "+4722222222"})
    summary = h.sync()
    assert summary.conflicts == 1
    assert h.raw_exact(contact_id)["FirstName"] == "Anna"
    assert h.raw_contact_person(ann)["firstName"] == "Anna"
    # the non-conflicting target edit still goes back to the source
    assert h.raw_contact_person(ann)["phoneNumber"] == "+4722222222"
    [entry] = h.state.conflicts()
    assert (entry.flow, entry.source_id, entry.target_id, entry.property) == (
        h.key(CONTACTPERSON),
        ann,
        contact_id,
        "FirstName",
    )
    assert (entry.kept_side, entry.kept_value, entry.lost_side, entry.lost_value) == (
        "source",
        "Anna",
        "target",
        "Annie",
    )
    mark = h.mark()
    assert h.sync().writes == 0
    assert h.writes_since(mark) == []
    assert len(h.state.conflicts()) == 1


def test_both_sides_editing_to_the_same_value_is_no_conflict(h: Harness) -> None:
    siv = h.supplier(**SIV)
    h.sync()
    contact_id = h.target_of(SUPPLIER, siv)
    h.v2().update(siv, {"PhoneNumber": "+4733333333"})
    h.exact().update(contact_id, {"Phone": "+4733333333"})
    mark = h.mark()
    summary = h.sync()
    assert summary.conflicts == 0 and h.state.conflicts() == []
    assert h.writes_since(mark) == []


# ----- echo suppression and idempotence -------------------------------------------------------------


def test_a_second_cycle_without_edits_writes_nothing(h: Harness) -> None:
    for i in range(4):
        h.contact_person(firstName=f"P{i}", lastName="Person", city="Oslo", dateOfBirth="1999-09-09T00:00:00")
        h.supplier(IsPerson=True, FirstName=f"S{i}", LastName="Supplier", MailAddress={"City": "Bergen"})
    mark = h.mark()
    assert h.sync().created == 8
    assert len(h.writes_since(mark)) == 8  # one POST per created contact, nothing else
    mark = h.mark()
    summary = h.sync()
    assert (summary.created, summary.updated, summary.conflicts) == (0, 0, 0)
    assert h.writes_since(mark) == []
    assert len(h.exact_contacts()) == 8


def test_the_sync_own_writes_do_not_come_back_as_edits(h: Harness) -> None:
    ann = h.contact_person(**ANN)
    siv = h.supplier(**SIV)
    h.sync()
    h.exact().update(h.target_of(CONTACTPERSON, ann), {"Email": "ann.aas@example.com"})
    h.v2().update(siv, {"EmailAddress": "siv.sand@example.com"})
    h.sync()
    # the v1 POST and the Exact PUT of that cycle are stamped after the watermarks: seen, recognized
    for _ in range(2):
        mark = h.mark()
        summary = h.sync()
        assert summary.writes == 0
        assert h.writes_since(mark) == []
    assert h.raw_contact_person(ann)["emailAddress"] == "ann.aas@example.com"
    assert h.raw_exact(h.target_of(SUPPLIER, siv))["Email"] == "siv.sand@example.com"
