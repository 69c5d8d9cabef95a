"""v1 contact persons live on company contacts only: the connector does not ask person parties."""

from __future__ import annotations

from talkqa.connectors.registry import Connections, connector_for
from tests.connectors.conftest import Sims


def test_person_suppliers_are_not_asked_for_contact_persons(conns: Connections, fresh: Sims) -> None:
    company = fresh.po.admin.seed("suppliers", {"IsPerson": False, "Name": "Company AS"})
    person = fresh.po.admin.seed("suppliers", {"IsPerson": True, "FirstName": "Ola", "LastName": "Hansen"})
    fresh.po.admin.seed("contactpersons", {"partyId": company["Id"], "firstName": "Kari", "lastName": "Nordmann"})
    connector = connector_for("powerofficego", "Contactperson", conns.endpoints, connections=conns)
    names = [c.record["firstName"] for c in connector.iter_all()]
    asked = {r["path"] for r in fresh.po.admin.requests() if r["path"].endswith("/Contact/")}
    assert names == ["Kari"]
    assert f"/v1/Supplier/{company['Id']}/Contact/" in asked
    assert f"/v1/Supplier/{person['Id']}/Contact/" not in asked


def test_without_the_person_flag_every_party_is_asked(conns: Connections, fresh: Sims) -> None:
    fresh.po.admin.settings(v1_party_is_person=False)
    person = fresh.po.admin.seed("suppliers", {"IsPerson": True, "FirstName": "Ola", "LastName": "Hansen"})
    connector = connector_for("powerofficego", "Contactperson", conns.endpoints, connections=conns)
    assert list(connector.iter_all()) == []
    asked = {r["path"] for r in fresh.po.admin.requests()}
    assert f"/v1/Supplier/{person['Id']}/Contact/" in asked
