"""PowerOffice Go v2 Suppliers over HTTP: create, JSON Patch, paging, the address caveat, errors."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sim_clients import PowerOfficeClient

from talkqa.simulators.launcher import Simulators

PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PERSON = {"IsPerson": True, "FirstName": "Ola", "LastName": "Nordmann", "EmailAddress": "ola@example.no",
          "PhoneNumber": "+4712345678", "DateOfBirth": "2003-07-15",
          "MailAddress": {"City": "Oslo", "ZipCode": "0150", "CountryCode": "NO"}}


def _create(po: PowerOfficeClient, body: dict) -> dict:
    r = po.request("POST", "/v2/Suppliers", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _assert_problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert {"type", "title", "status", "detail", "traceId"} <= set(body) and body["status"] == status
    return body


def test_create_person_supplier(po: PowerOfficeClient) -> None:
    s = _create(po, PERSON)
    assert isinstance(s["Id"], int) and s["IsPerson"] is True
    assert s["MailAddress"]["City"] == "Oslo" and s["DateOfBirth"] == "2003-07-15"
    assert s["LastChangedDateTimeOffset"].endswith("Z") and s["MailAddress"]["LastChangedDateTimeOffset"]
    got = po.request("GET", f"/v2/Suppliers/{s['Id']}")
    assert got.status_code == 200 and got.json() == s


def test_create_validation(po: PowerOfficeClient) -> None:
    bad_bodies = [
        {"IsPerson": True, "FirstName": "Only"},
        {"IsPerson": False, "FirstName": "A", "LastName": "B"},  # company without Name
        {**PERSON, "MailAddress": {"City": "Oslo"}},  # no ZipCode
        {**PERSON, "MailAddress": {"ZipCode": "0150"}},  # no City
        {**PERSON, "EmailAddress": "nope"},
        {**PERSON, "MailAddress": {"City": "Oslo", "ZipCode": "0150", "CountryCode": "Norway"}},
        {**PERSON, "DateOfBirth": "15.07.2003"},
        {**PERSON, "ExternalImportReference": "x" * 51},
    ]
    for body in bad_bodies:
        _assert_problem(po.request("POST", "/v2/Suppliers", json=body), 400)
    assert _create(po, {"Name": "Acme AS"})["IsPerson"] is False
    s = _create(po, {**PERSON, "MailAddress": {"City": "Oslo", "ZipCode": "0150"}})
    assert s["MailAddress"]["CountryCode"] == "NO"


def test_city_and_zip_requirement_is_a_setting(po: PowerOfficeClient, simulators: Simulators) -> None:
    simulators.poweroffice.admin.settings(mail_address_requires_city_and_zip=False)
    _create(po, {**PERSON, "MailAddress": {"City": "Oslo"}})


def test_external_import_reference_is_unique(po: PowerOfficeClient) -> None:
    first = _create(po, {**PERSON, "ExternalImportReference": "ref-1"})
    again = po.request("POST", "/v2/Suppliers", json={**PERSON, "ExternalImportReference": "ref-1"})
    body = _assert_problem(again, 400)
    assert "ExternalImportReference is already in use" in body["detail"] and str(first["Id"]) in body["detail"]
    rows = po.request("GET", "/v2/Suppliers", params={"externalImportReference": "ref-1"}).json()
    assert [r["Id"] for r in rows] == [first["Id"]]


def test_not_found_is_problem_details(po: PowerOfficeClient) -> None:
    body = _assert_problem(po.request("GET", "/v2/Suppliers/999999"), 404)
    assert body["title"] == "Object(s) not found"


def test_patch_needs_json_patch_content_type(po: PowerOfficeClient) -> None:
    s = _create(po, PERSON)
    ops = [{"op": "replace", "path": "/FirstName", "value": "Kari"}]
    _assert_problem(po.patch(f"/v2/Suppliers/{s['Id']}", ops, content_type="application/json"), 415)
    r = po.patch(f"/v2/Suppliers/{s['Id']}", ops)
    assert r.status_code == 200 and r.json()["FirstName"] == "Kari"


def test_patch_paths_are_case_insensitive_and_ops_work(po: PowerOfficeClient, simulators: Simulators) -> None:
    s = _create(po, PERSON)
    ops = [{"op": "replace", "path": "/phoneNumber", "value": "+4799999999"},
           {"op": "add", "path": "/mailAddress/city", "value": "Bergen"},
           {"op": "replace", "path": "/MAILADDRESS/COUNTRYCODE", "value": "SE"},
           {"op": "remove", "path": "/emailaddress"},
           {"op": "test", "path": "/firstname", "value": "Ola"}]
    r = po.patch(f"/v2/Suppliers/{s['Id']}", ops)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["PhoneNumber"] == "+4799999999" and got["EmailAddress"] is None
    assert got["MailAddress"]["City"] == "Bergen" and got["MailAddress"]["CountryCode"] == "SE"
    assert simulators.poweroffice.admin.state()["suppliers"][str(s["Id"])]["MailAddress"]["City"] == "Bergen"


def test_patch_failures_change_nothing(po: PowerOfficeClient) -> None:
    s = _create(po, PERSON)
    url = f"/v2/Suppliers/{s['Id']}"
    for ops in ([{"op": "replace", "path": "/FirstName", "value": "X"},
                 {"op": "test", "path": "/LastName", "value": "no"}],
                [{"op": "replace", "path": "/Id", "value": 1}],
                [{"op": "replace", "path": "/NoSuch", "value": 1}],
                [{"op": "replace", "path": "/FirstName", "value": "X"}, {"op": "move", "path": "/LastName"}],
                [{"op": "replace", "path": "/MailAddress/CountryCode", "value": "ZZ"}],
                {"op": "replace", "path": "/FirstName", "value": "X"}):
        _assert_problem(po.patch(url, ops), 400)  # type: ignore[arg-type]
    assert po.request("GET", url).json() == s


def test_patch_unknown_supplier_is_404(po: PowerOfficeClient) -> None:
    _assert_problem(po.patch("/v2/Suppliers/424242", [{"op": "replace", "path": "/Name", "value": "x"}]), 404)


def _changed_since(po: PowerOfficeClient, stamp: str) -> list[int]:
    r = po.request("GET", "/v2/Suppliers", params={"lastChangedDateTimeOffsetGreaterThan": stamp})
    return [] if r.status_code == 204 else [x["Id"] for x in r.json()]


def test_address_only_edit_does_not_bump_supplier(po: PowerOfficeClient, simulators: Simulators) -> None:
    s = _create(po, PERSON)
    simulators.clock.sleep(5)
    r = po.patch(f"/v2/Suppliers/{s['Id']}", [{"op": "replace", "path": "/MailAddress/City", "value": "Bergen"}])
    after = r.json()
    assert after["LastChangedDateTimeOffset"] == s["LastChangedDateTimeOffset"]
    assert after["MailAddress"]["LastChangedDateTimeOffset"] > s["MailAddress"]["LastChangedDateTimeOffset"]
    assert _changed_since(po, s["LastChangedDateTimeOffset"]) == []
    simulators.clock.sleep(5)
    po.patch(f"/v2/Suppliers/{s['Id']}", [{"op": "replace", "path": "/FirstName", "value": "Kari"}])
    assert _changed_since(po, s["LastChangedDateTimeOffset"]) == [s["Id"]]


def test_address_edit_bumps_supplier_when_set(po: PowerOfficeClient, simulators: Simulators) -> None:
    simulators.poweroffice.admin.settings(address_edit_bumps_supplier=True)
    s = _create(po, PERSON)
    simulators.clock.sleep(5)
    po.patch(f"/v2/Suppliers/{s['Id']}", [{"op": "replace", "path": "/MailAddress/City", "value": "Bergen"}])
    assert _changed_since(po, s["LastChangedDateTimeOffset"]) == [s["Id"]]


def test_empty_list_is_204_without_body(po: PowerOfficeClient) -> None:
    r = po.request("GET", "/v2/Suppliers")
    assert r.status_code == 204 and r.content == b""


@PROPERTY
@given(n=st.integers(min_value=1, max_value=40), page_size=st.integers(min_value=1, max_value=15))
def test_paging_returns_every_supplier_once(simulators: Simulators, n: int, page_size: int) -> None:
    simulators.reset()
    simulators.poweroffice.admin.settings(rate_limits=False)
    for i in range(n):
        simulators.poweroffice.admin.seed("suppliers", {"Name": f"S{i}"})
    po = PowerOfficeClient(simulators)
    seen: list[int] = []
    url: str | None = "/v2/Suppliers"
    params: dict | None = {"PageSize": page_size}
    pages = 0
    while url:
        r = po.request("GET", url, params=params)
        assert r.status_code == 200
        pagination = json.loads(r.headers["X-Pagination"])
        assert pagination["TotalCount"] == n and pagination["PageSize"] == page_size
        assert pagination["CurrentPage"] == pages + 1
        seen += [x["Id"] for x in r.json()]
        url, params = pagination.get("NextPageLink"), None
        pages += 1
    assert len(seen) == len(set(seen)) == n
    assert pages == -(-n // page_size)


def test_page_size_over_max_is_400(po: PowerOfficeClient) -> None:
    _assert_problem(po.request("GET", "/v2/Suppliers", params={"PageSize": 20001}), 400)


def test_subscription_key_is_required_on_v2(po: PowerOfficeClient) -> None:
    r = po.http.get("/v2/Suppliers", headers={"Authorization": f"Bearer {po.token}"})
    assert r.status_code == 401 and r.json()["statusCode"] == 401
    r = po.http.get("/v2/Suppliers", headers={"Authorization": f"Bearer {po.token}", "Ocp-Apim-Subscription-Key": "x"})
    assert r.status_code == 401
