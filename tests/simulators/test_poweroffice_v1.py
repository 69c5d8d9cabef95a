"""PowerOffice Go token endpoint and v1 contact persons over HTTP."""
from __future__ import annotations

import httpx
from sim_clients import PowerOfficeClient

from talkqa.simulators.launcher import Simulators

PERSON = {"firstName": "Kari", "lastName": "Nordmann", "emailAddress": "kari@example.no", "phoneNumber": "+4711111111",
          "city": "Oslo", "residenceCountryCode": "NO", "dateOfBirth": "1980-02-29T00:00:00"}


def _customer(simulators: Simulators, name: str = "Acme AS") -> int:
    return simulators.poweroffice.admin.seed("customers", {"name": name})["id"]


def _contacts(parent: int, kind: str = "Customer") -> str:
    return f"/v1/{kind}/{parent}/Contact/"


def _assert_v1_failure(r: httpx.Response, status: int = 200) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["success"] is False
    assert {"errorLogReference", "summary", "exception"} <= set(body["validation"])


def test_token_endpoint_paths_and_errors(simulators: Simulators) -> None:
    creds = simulators.credentials["poweroffice"]
    auth = (creds["application_key"], creds["client_key"])
    with httpx.Client(base_url=simulators.poweroffice.url) as http:
        for path in ("/OAuth/Token", "/oauth/token", "/Demo/OAuth/Token", "/demo/oauth/Token"):
            r = http.post(path, data={"grant_type": "client_credentials"}, auth=auth)
            assert r.status_code == 200, path
            assert r.json()["token_type"] == "bearer" and r.json()["expires_in"] == 1200
        r = http.post("/OAuth/Token", data={"grant_type": "client_credentials"}, auth=(creds["application_key"], "x"))
        assert r.status_code == 400 and r.json()["error"] == "invalid_client"
        assert r.json()["error_description"].startswith("Client integration not found.")
        r = http.post("/OAuth/Token", data={"grant_type": "password"}, auth=auth)
        assert r.status_code == 400


def test_token_expires_after_token_lifetime(po: PowerOfficeClient, simulators: Simulators) -> None:
    parent = _customer(simulators)
    assert po.request("GET", _contacts(parent)).status_code == 200
    simulators.clock.sleep(1199)
    assert po.request("GET", "/v2/Suppliers").status_code == 204
    simulators.clock.sleep(1)
    _assert_v1_failure(po.request("GET", _contacts(parent)), 401)
    assert po.request("GET", "/v2/Suppliers").status_code == 401


def test_create_get_list_envelope(po: PowerOfficeClient, simulators: Simulators) -> None:
    parent = _customer(simulators)
    r = po.request("POST", _contacts(parent), json=PERSON)
    assert r.status_code == 200 and r.json()["success"] is True
    created = r.json()["data"]
    assert created["partyId"] == parent and isinstance(created["id"], int)
    assert created["dateOfBirth"] == "1980-02-29T00:00:00"
    assert created["lastChanged"].endswith("Z") and len(created["lastChanged"].split(".")[1]) == 8
    got = po.request("GET", f"{_contacts(parent)}{created['id']}/").json()
    assert got == {"data": created, "success": True}
    listed = po.request("GET", _contacts(parent)).json()
    assert listed == {"success": True, "data": [created], "count": 1}


def test_supplier_parent_and_missing_parent(po: PowerOfficeClient, simulators: Simulators) -> None:
    sid = simulators.poweroffice.admin.seed("suppliers", {"Name": "Leverandør AS"})["Id"]
    r = po.request("POST", _contacts(sid, "Supplier"), json=PERSON)
    assert r.json()["success"] is True
    assert po.request("GET", _contacts(sid, "Supplier")).json()["count"] == 1
    parties = po.request("GET", "/v1/Supplier").json()
    assert parties["data"][0]["id"] == sid and parties["data"][0]["name"] == "Leverandør AS"
    _assert_v1_failure(po.request("GET", _contacts(sid, "Customer")), 404)
    _assert_v1_failure(po.request("GET", f"{_contacts(sid, 'Supplier')}999/"), 404)


def test_validation_failures_are_http_200(po: PowerOfficeClient, simulators: Simulators) -> None:
    parent = _customer(simulators)
    for body in ({**PERSON, "lastName": None}, {**PERSON, "firstName": ""}, {**PERSON, "emailAddress": "no-at"},
                 {**PERSON, "residenceCountryCode": "NOR"}, {**PERSON, "city": "x" * 101},
                 {**PERSON, "dateOfBirth": "29.02.1980"}):
        _assert_v1_failure(po.request("POST", _contacts(parent), json=body))
    assert po.request("GET", _contacts(parent)).json()["count"] == 0


def test_first_name_requirement_is_a_setting(po: PowerOfficeClient, simulators: Simulators) -> None:
    parent = _customer(simulators)
    simulators.poweroffice.admin.settings(v1_first_name_required=False)
    assert po.request("POST", _contacts(parent), json={"lastName": "Solo"}).json()["success"] is True


def test_post_with_id_replaces(po: PowerOfficeClient, simulators: Simulators) -> None:
    parent = _customer(simulators)
    created = po.request("POST", _contacts(parent), json=PERSON).json()["data"]
    r = po.request("POST", _contacts(parent), json={"id": created["id"], "firstName": "Kari", "lastName": "Hansen"})
    updated = r.json()["data"]
    assert updated["id"] == created["id"] and updated["lastName"] == "Hansen"
    assert updated["city"] is None and updated["emailAddress"] is None and updated["dateOfBirth"] is None
    assert po.request("GET", _contacts(parent)).json()["count"] == 1


def test_post_with_id_merges_when_set(po: PowerOfficeClient, simulators: Simulators) -> None:
    simulators.poweroffice.admin.settings(v1_post_update="merge")
    parent = _customer(simulators)
    created = po.request("POST", _contacts(parent), json=PERSON).json()["data"]
    updated = po.request("POST", _contacts(parent), json={"id": created["id"], "lastName": "Hansen"}).json()["data"]
    assert updated["city"] == "Oslo" and updated["lastName"] == "Hansen"


def test_post_with_unknown_id_fails(po: PowerOfficeClient, simulators: Simulators) -> None:
    parent = _customer(simulators)
    _assert_v1_failure(po.request("POST", _contacts(parent), json={**PERSON, "id": 987654}), 404)


def test_filter_skip_top_and_count(po: PowerOfficeClient, simulators: Simulators) -> None:
    parent = _customer(simulators)
    ids = []
    for i in range(5):
        ids.append(po.request("POST", _contacts(parent), json={**PERSON, "lastName": f"N{i}"}).json()["data"]["id"])
        simulators.clock.sleep(60)
    third = po.request("GET", f"{_contacts(parent)}{ids[2]}/").json()["data"]["lastChanged"]
    flt = f"LastChanged gt DateTime'{third}'"
    r = po.request("GET", _contacts(parent), params={"$filter": flt}).json()
    assert [c["id"] for c in r["data"]] == ids[3:] and r["count"] == 2
    page = po.request("GET", _contacts(parent), params={"$skip": 1, "$top": 2}).json()
    assert [c["id"] for c in page["data"]] == ids[1:3] and page["count"] == 5
    r = po.request("GET", _contacts(parent), params={"$filter": "LastName eq 'N4'"}).json()
    assert [c["id"] for c in r["data"]] == [ids[4]]
    _assert_v1_failure(po.request("GET", _contacts(parent), params={"$filter": f"lastChanged gt DateTime'{third}'"}))
    _assert_v1_failure(po.request("GET", _contacts(parent), params={"$top": "-1"}))


def test_delete(po: PowerOfficeClient, simulators: Simulators) -> None:
    parent = _customer(simulators)
    created = po.request("POST", _contacts(parent), json=PERSON).json()["data"]
    assert po.request("DELETE", f"{_contacts(parent)}{created['id']}/").json() == {"success": True}
    assert po.request("GET", _contacts(parent)).json()["count"] == 0
