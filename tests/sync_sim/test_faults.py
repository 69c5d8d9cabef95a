"""Crash safety of the reference sync over HTTP: lost responses and 5xx bursts injected by the
simulators' fault plans never leave a duplicate Exact contact behind, and the next run finishes the job."""

from __future__ import annotations

from pathlib import Path

from tests.sync_sim.docs import CONTACTPERSON_ROWS, flow, write
from tests.sync_sim.harness import CONTACTPERSON, SUPPLIER, Harness

CONTACTS = "/crm/Contacts$"


def faults_fired(entries: list[dict], kind: str) -> list[dict]:
    return [e for e in entries if e["fault"] == kind]


def test_lost_response_on_the_exact_create_leaves_exactly_one_contact(h: Harness) -> None:
    ann = h.contact_person(firstName="Ann", lastName="Aas")
    h.ex.fault("lost_response", method="POST", path=CONTACTS)
    mark = h.mark()
    summary = h.sync()
    requests = h.requests_since(mark)
    [lost] = faults_fired(requests, "lost_response")
    assert (lost["method"], lost["status"]) == ("POST", 201)  # the server did create it
    assert summary.created == 1
    assert list(h.exact_contacts()) == [h.target_of(CONTACTPERSON, ann)]
    mark = h.mark()
    assert h.sync().writes == 0
    assert h.writes_since(mark) == [] and len(h.exact_contacts()) == 1


def test_an_intent_left_by_a_failed_run_is_resolved_by_the_next_run_without_a_duplicate(
    h: Harness, tmp_path: Path
) -> None:
    # one way: the run reads no Exact listing, so the first Exact GET is the look-up by external ref
    h.use(write(tmp_path / "doc", flow("Contactperson", "Contacts", CONTACTPERSON_ROWS, two_way=False)))
    ann = h.contact_person(firstName="Ann", lastName="Aas", city="Oslo")
    h.ex.fault("lost_response", method="POST", path=CONTACTS)
    h.ex.fault("server_error", method="GET", path=CONTACTS, status=503, count=6)  # the look-up fails too
    first = h.sync(errors=True)
    assert len(first.errors) == 1 and "external ref" in first.errors[0]
    assert first.created == 0
    [made] = h.exact_contacts().values()  # created on the server, unknown to the sync
    assert h.state.link_for_source(h.key(0), ann) is None
    assert h.state.intent(h.key(0), ann) == made["Notes"]

    second = h.sync()
    assert (second.created, second.linked) == (0, 1)
    assert list(h.exact_contacts()) == [made["ID"]] == [h.target_of(0, ann)]
    assert h.state.intent(h.key(0), ann) is None
    mark = h.mark()
    assert h.sync().writes == 0
    assert h.writes_since(mark) == []


def test_a_short_5xx_burst_on_the_exact_create_is_retried_safely_in_the_same_run(h: Harness) -> None:
    siv = h.supplier(IsPerson=True, FirstName="Siv", LastName="Sand")
    h.ex.fault("server_error", method="POST", path=CONTACTS, status=502, count=2)
    mark = h.mark()
    summary = h.sync()
    posts = [r for r in h.requests_since(mark) if r["method"] == "POST" and r["path"].endswith("/crm/Contacts")]
    assert [p["status"] for p in posts] == [502, 502, 201]
    assert summary.created == 1
    assert list(h.exact_contacts()) == [h.target_of(SUPPLIER, siv)]


def test_a_long_5xx_burst_fails_the_record_and_the_next_run_creates_it_once(h: Harness) -> None:
    ann = h.contact_person(firstName="Ann", lastName="Aas")
    bob = h.contact_person(firstName="Bob", lastName="Berg")
    h.ex.fault("server_error", method="POST", path=CONTACTS, status=500, count=3)
    first = h.sync(errors=True)
    assert len(first.errors) == 1 and first.created == 1  # Ann failed three times; Bob went through
    assert len(h.exact_contacts()) == 1
    second = h.sync()
    assert second.created == 1
    contacts = h.exact_contacts()
    assert sorted(contacts) == sorted([h.target_of(CONTACTPERSON, ann), h.target_of(CONTACTPERSON, bob)])
    assert sorted(c["FirstName"] for c in contacts.values()) == ["Ann", "Bob"]
    mark = h.mark()
    assert h.sync().writes == 0
    assert h.writes_since(mark) == []


def test_5xx_bursts_on_listings_are_retried(h: Harness) -> None:
    h.contact_person(firstName="Ann", lastName="Aas")
    h.supplier(IsPerson=True, FirstName="Siv", LastName="Sand")
    h.po.fault("server_error", method="GET", path="^/v2/Suppliers$", status=503, count=3)
    h.po.fault("server_error", method="GET", path="/Contact/$", status=500, count=2)
    h.ex.fault("server_error", method="GET", path=CONTACTS, status=504, count=2)
    summary = h.sync()
    assert summary.created == 2
    assert len(h.exact_contacts()) == 2
    assert sum(f["fired"] for f in h.po.faults() + h.ex.faults()) == 7


def test_lost_responses_on_reverse_updates_are_harmless(h: Harness) -> None:
    ann = h.contact_person(firstName="Ann", lastName="Aas")
    siv = h.supplier(IsPerson=True, FirstName="Siv", LastName="Sand")
    h.sync()
    h.exact().update(h.target_of(CONTACTPERSON, ann), {"LastName": "Aasen"})
    h.exact().update(h.target_of(SUPPLIER, siv), {"LastName": "Strand"})
    h.po.fault("lost_response", method="POST", path="/Contact/$")
    h.po.fault("lost_response", method="PATCH", path="^/v2/Suppliers/")
    h.sync()
    assert h.raw_contact_person(ann)["lastName"] == "Aasen"
    assert h.raw_supplier(siv)["LastName"] == "Strand"
    assert [f["fired"] for f in h.po.faults()] == [1, 1]
    assert len(h.po.state()["contactpersons"]) == 1  # the v1 POST with an id updated, never created
    mark = h.mark()
    assert h.sync().writes == 0
    assert h.writes_since(mark) == []
