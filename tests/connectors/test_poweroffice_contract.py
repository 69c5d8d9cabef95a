"""PowerOffice Go v1 (Contactperson) and v2 (Suppliers person) connectors against the simulator."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from talkqa.connectors.auth import PowerOfficeAuth
from talkqa.connectors.base import NotFound, ValidationFailed
from talkqa.connectors.codecs import flatten
from talkqa.connectors.poweroffice import ContactPersonV1Connector, SupplierPersonV2Connector
from talkqa.connectors.registry import Connections, connector_for

from .conftest import Sims, endpoints_for


def v1(conns: Connections, **opts: Any) -> ContactPersonV1Connector:
    c = connector_for("powerofficego", "Contactperson", conns.endpoints, connections=conns, **opts)
    assert isinstance(c, ContactPersonV1Connector)
    return c


def v2(conns: Connections, **opts: Any) -> SupplierPersonV2Connector:
    c = connector_for("powerofficego", "Suppliers (human data)", conns.endpoints, connections=conns, **opts)
    assert isinstance(c, SupplierPersonV2Connector)
    return c


def log(sims: Sims, fragment: str = "") -> list[dict[str, Any]]:
    return [r for r in sims.po.admin.requests() if fragment in r["path"]]


def parties(sims: Sims) -> tuple[int, int, int]:
    c1 = sims.po.admin.seed("customers", {"name": "Cust One"})["id"]
    c2 = sims.po.admin.seed("customers", {"name": "Cust Two"})["id"]
    s1 = sims.po.admin.seed("suppliers", {"Name": "Supplier AS"})["Id"]
    return c1, c2, s1


def person(sims: Sims, party: int, i: int, **extra: Any) -> str:
    rec = sims.po.admin.seed("contactpersons", {"partyId": party, "firstName": f"F{i}", "lastName": f"L{i}",
                                                "dateOfBirth": "1980-02-29T00:00:00", **extra})
    sims.clock.advance(0.01)
    return str(rec["id"])


# ----- v1 ---------------------------------------------------------------------------------------

def test_v1_lists_contacts_of_customers_and_suppliers_with_opaque_ids(conns: Connections, fresh: Sims) -> None:
    c1, c2, s1 = parties(fresh)
    a, b, s = person(fresh, c1, 1), person(fresh, c2, 2), person(fresh, s1, 3, city="Oslo")
    changes = {ch.id: ch for ch in v1(conns).iter_all()}
    assert set(changes) == {f"Customer/{c1}/{a}", f"Customer/{c2}/{b}", f"Supplier/{s1}/{s}"}
    rec = changes[f"Supplier/{s1}/{s}"].record
    assert rec["dateOfBirth"] == date(1980, 2, 29) and rec["city"] == "Oslo" and rec["firstName"] == "F3"


def test_v1_pages_with_skip_and_top(conns: Connections, fresh: Sims) -> None:
    c1, _, _ = parties(fresh)
    for i in range(5):
        person(fresh, c1, i)
    assert len(list(v1(conns, page_size=2).iter_all())) == 5
    pages = log(fresh, f"/Customer/{c1}/Contact")
    assert len(pages) == 3 and "%24skip=4" in pages[-1]["query"]


def test_v1_changed_since_uses_the_lastchanged_filter(conns: Connections, fresh: Sims) -> None:
    c1, _, s1 = parties(fresh)
    ids = [person(fresh, c1, 1), person(fresh, s1, 2)]
    c = v1(conns)
    first = c.changed_since(None)
    assert len(first.changes) == 2
    assert c.changed_since(first.watermark).changes == []
    fresh.clock.advance(3)
    c.update(f"Supplier/{s1}/{ids[1]}", {"phoneNumber": "+4712345678"})
    later = c.changed_since(first.watermark)
    assert [ch.id for ch in later.changes] == [f"Supplier/{s1}/{ids[1]}"]
    assert "LastChanged+gt+DateTime" in log(fresh, "/Contact")[-1]["query"]


def test_v1_update_keeps_unmentioned_fields(conns: Connections, fresh: Sims) -> None:
    c1, _, _ = parties(fresh)
    cid = person(fresh, c1, 1, address1="Storgata 1", zipCode="0150", emailAddress="f1@example.com")
    rid = f"Customer/{c1}/{cid}"
    assert fresh.po.admin.settings()["v1_post_update"] == "replace"
    v1(conns).update(rid, {"city": "Oslo"})
    stored = fresh.po.admin.state()["contactpersons"][cid]
    assert stored["city"] == "Oslo"
    assert (stored["address1"], stored["zipCode"], stored["emailAddress"]) == ("Storgata 1", "0150", "f1@example.com")
    assert stored["dateOfBirth"] == "1980-02-29T00:00:00"


def test_v1_create_needs_a_parent(conns: Connections, fresh: Sims, tmp_path: Path) -> None:
    c1, _, s1 = parties(fresh)
    with pytest.raises(ValueError, match="needs a parent"):
        v1(conns).create({"firstName": "A", "lastName": "B"})
    rid = v1(conns).create({"firstName": "A", "lastName": "B", "dateOfBirth": date(1999, 12, 31)},
                           external_ref="x-1", parent=f"Supplier:{s1}")
    assert rid.startswith(f"Supplier/{s1}/")
    got = v1(conns).get(rid)
    assert got["dateOfBirth"] == date(1999, 12, 31) and got["externalCode"] == "x-1"
    ep = endpoints_for(fresh, tmp_path / "t.json", v1_parent=f"Customer:{c1}")
    with Connections(ep, clock=fresh.clock) as other:
        assert v1(other).create({"firstName": "C", "lastName": "D"}).startswith(f"Customer/{c1}/")


def test_v1_success_false_and_not_found(conns: Connections, fresh: Sims) -> None:
    c1, _, _ = parties(fresh)
    c = v1(conns, default_parent=f"Customer:{c1}")
    with pytest.raises(ValidationFailed, match="lastName is required"):
        c.create({"firstName": "OnlyFirst"})
    with pytest.raises(ValidationFailed, match="emailAddress"):
        c.create({"firstName": "A", "lastName": "B", "emailAddress": "not-an-email"})
    with pytest.raises(NotFound, match="not found"):
        c.get(f"Customer/{c1}/999999")
    with pytest.raises(NotFound):
        c.get("garbage")


def test_v1_find_by_external_ref(conns: Connections, fresh: Sims) -> None:
    c1, _, s1 = parties(fresh)
    person(fresh, c1, 1, externalCode="other")
    rid = v1(conns).create({"firstName": "A", "lastName": "B"}, external_ref="mine", parent=f"Supplier:{s1}")
    assert v1(conns).find_by_external_ref("mine") == rid
    assert v1(conns).find_by_external_ref("absent") is None


def test_poweroffice_token_is_cached_and_renewed_before_expiry(conns: Connections, fresh: Sims) -> None:
    c1, _, _ = parties(fresh)
    person(fresh, c1, 1)
    c = v1(conns)
    list(c.iter_all())
    list(c.iter_all())
    auth = conns.client("powerofficego").auth
    assert isinstance(auth, PowerOfficeAuth) and auth.tokens_fetched == 1
    fresh.clock.advance(1150)  # within the 60 s margin of the 1200 s lifetime
    list(c.iter_all())
    assert auth.tokens_fetched == 2
    assert not [r for r in log(fresh) if r["status"] == 401]


def test_poweroffice_token_lost_on_the_server_is_fetched_again_after_a_401(conns: Connections, fresh: Sims) -> None:
    c1, _, _ = parties(fresh)
    person(fresh, c1, 1)
    c = v1(conns)
    list(c.iter_all())
    fresh.po.state["auth"]["tokens"].clear()  # the server forgot every token
    assert len(list(c.iter_all())) == 1
    assert [r["status"] for r in log(fresh, "/v1/")].count(401) == 1


# ----- v2 ---------------------------------------------------------------------------------------

def supplier(sims: Sims, i: int, person: bool = True, **extra: Any) -> str:
    rec: dict[str, Any] = {"IsPerson": person, "FirstName": f"F{i}", "LastName": f"L{i}", **extra}
    if not person:
        rec = {"IsPerson": False, "Name": f"Company {i}", **extra}
    out = sims.po.admin.seed("suppliers", rec)
    sims.clock.advance(0.01)
    return str(out["Id"])


def test_v2_lists_only_persons_across_pages(conns: Connections, fresh: Sims) -> None:
    persons = [supplier(fresh, i) for i in range(7)]
    supplier(fresh, 99, person=False)
    got = [ch.id for ch in v2(conns, page_size=3).iter_all()]
    assert sorted(got) == sorted(persons)
    assert len(log(fresh, "/v2/Suppliers")) == 3  # 8 suppliers, 3 a page


def test_v2_empty_is_204(conns: Connections, fresh: Sims) -> None:
    assert v2(conns).changed_since(None).changes == []
    assert list(v2(conns, scan_addresses=False).iter_all()) == []
    assert {r["status"] for r in log(fresh, "/v2/Suppliers")} == {204}


def test_v2_create_sets_isperson_and_adds_the_address(conns: Connections, fresh: Sims) -> None:
    c = v2(conns)
    record = {"FirstName": "Kari", "LastName": "Nordmann", "EmailAddress": "kari@example.no",
              "PhoneNumber": "+4791234567", "DateOfBirth": date(2003, 7, 15),
              "MailAddress": {"City": "Bergen", "CountryCode": "NO"}}
    sid = c.create(record, external_ref="ext-9")
    stored = fresh.po.admin.state()["suppliers"][sid]
    assert stored["IsPerson"] is True and stored["ExternalImportReference"] == "ext-9"
    assert stored["DateOfBirth"] == "2003-07-15"
    got = flatten(c.get(sid))
    assert {k: got[k] for k in flatten(record)} == flatten(record)
    patch = [r for r in log(fresh) if r["method"] == "PATCH"]
    assert len(patch) == 1  # no ZipCode: created first, address added by JSON Patch
    assert c.find_by_external_ref("ext-9") == sid and c.find_by_external_ref("nope") is None


def test_v2_update_by_json_patch_and_address_only_edits_are_detected(conns: Connections, fresh: Sims) -> None:
    ids = [supplier(fresh, i, MailAddress={"City": "Oslo", "ZipCode": "0150"}) for i in range(3)]
    c = v2(conns)
    mark = c.changed_since(None).watermark
    fresh.clock.advance(2)
    c.update(ids[1], {"MailAddress": {"City": "Tromsø"}})  # address only: supplier timestamp unchanged
    stored = fresh.po.admin.state()["suppliers"][ids[1]]
    assert stored["MailAddress"]["City"] == "Tromsø" and stored["MailAddress"]["ZipCode"] == "0150"
    assert [ch.id for ch in c.changed_since(mark).changes] == [ids[1]]
    # the server filter alone misses it: that is why the connector scans
    assert v2(conns, scan_addresses=False).changed_since(mark).changes == []
    fresh.clock.advance(2)
    c.update(ids[2], {"PhoneNumber": "+4700000000", "LastName": "Ny"})
    page = c.changed_since(mark)
    assert sorted(ch.id for ch in page.changes) == sorted(ids[1:])
    assert c.changed_since(page.watermark).changes == []


def test_v2_errors(conns: Connections, fresh: Sims) -> None:
    company = supplier(fresh, 1, person=False)
    c = v2(conns)
    with pytest.raises(NotFound, match="not a person"):
        c.get(company)
    with pytest.raises(NotFound, match="404"):
        c.get("424242")
    with pytest.raises(ValidationFailed, match="EmailAddress"):
        c.create({"FirstName": "A", "LastName": "B", "EmailAddress": "nope"})
    sid = c.create({"FirstName": "A", "LastName": "B"}, external_ref="dup")
    with pytest.raises(ValidationFailed, match="already in use"):
        c.create({"FirstName": "C", "LastName": "D"}, external_ref="dup")
    with pytest.raises(ValidationFailed, match="CountryCode"):
        c.update(sid, {"MailAddress": {"CountryCode": "ZZ"}})


def test_v2_rate_limit_429_is_recovered_after_retry_after(fresh: Sims, tmp_path: Path) -> None:
    for i in range(4):
        supplier(fresh, i)
    ep = endpoints_for(fresh, tmp_path / "t.json", rate_limits=False)
    with Connections(ep, clock=fresh.clock) as conns:
        fresh.po.admin.fault("rate_limit_burst", count=2, path="/v2/Suppliers")
        assert len(list(v2(conns, page_size=2).iter_all())) == 4
    entries = log(fresh, "/v2/Suppliers")
    assert [r["status"] for r in entries] == [429, 429, 200, 200]
    assert entries[1]["time"] - entries[0]["time"] >= 1.0 and entries[2]["time"] - entries[1]["time"] >= 1.0


def test_v2_client_side_limiter_never_triggers_a_429(conns: Connections, fresh: Sims) -> None:
    for i in range(30):
        supplier(fresh, i)
    start = fresh.clock.now()
    assert len(list(v2(conns, page_size=1).iter_all())) == 30
    assert fresh.clock.now() - start >= 2.0  # 31 calls at 10 a second
    assert not [r for r in log(fresh) if r["status"] == 429]


@pytest.mark.parametrize(("field", "message"), [
    ("client_key", "Client integration not found"),  # OAuth error body, HTTP 400
    ("subscription_key", "invalid subscription key"),  # APIM body, HTTP 401
])
def test_bad_keys_raise_auth_failed(fresh: Sims, tmp_path: Path, field: str, message: str) -> None:
    import dataclasses

    from talkqa.connectors.base import AuthFailed
    from talkqa.connectors.secret import Secret

    ep = endpoints_for(fresh, tmp_path / "t.json")
    bad = dataclasses.replace(ep, poweroffice=dataclasses.replace(ep.poweroffice, **{field: Secret("wrong-key-123")}))
    with Connections(bad, clock=fresh.clock) as conns, pytest.raises(AuthFailed, match=message) as info:
        v2(conns).get("1")
    assert "powerofficego: POST /OAuth/Token" in str(info.value) and "wrong-key-123" not in str(info.value)


@pytest.mark.parametrize("lag", [0.0, 5.0])
def test_v1_watermark_lag_catches_a_change_made_during_the_listing(
    conns: Connections, fresh: Sims, monkeypatch: pytest.MonkeyPatch, lag: float
) -> None:
    c1, _, _ = parties(fresh)
    a = person(fresh, c1, 1)
    c = v1(conns, watermark_lag=lag)
    writer = v1(conns)
    original = c._parents
    late: dict[str, str] = {}

    def parents_then_race(kind: str) -> list[int]:
        found = original(kind)
        if kind == "Customer" and not late:  # while the poll runs: a new parent with a contact,
            fresh.clock.advance(1)  # then a later edit under a parent the poll is about to read
            p2 = fresh.po.admin.seed("customers", {"name": "Late"})["id"]
            late["id"] = f"Customer/{p2}/{person(fresh, p2, 2)}"
            fresh.clock.advance(1)
            writer.update(f"Customer/{c1}/{a}", {"city": "Oslo"})
        return found

    monkeypatch.setattr(c, "_parents", parents_then_race)
    first = c.changed_since(None)
    assert late["id"] not in {ch.id for ch in first.changes}  # listed too late for this poll
    second = c.changed_since(first.watermark)
    seen = {ch.id for ch in second.changes}
    if lag:
        assert late["id"] in seen  # the capped watermark hands it out now (and A again: a duplicate)
    else:
        assert late["id"] not in seen  # the race the lag exists for: lost with lag 0
