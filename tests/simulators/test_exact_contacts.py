"""Exact Online crm/Contacts over HTTP: shapes, writes, errors, $select, $filter and paging."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlparse

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sim_clients import ExactClient

from talkqa.simulators.formats import from_ms_date, to_ms_date
from talkqa.simulators.launcher import Simulators

GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MS_DATE_RE = re.compile(r"^/Date\(\d+\)/$")
PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_create_returns_201_with_guid_dates_and_metadata(exact: ExactClient) -> None:
    r = exact.request("POST", exact.contacts, json={
        "FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com", "City": "London",
        "Country": "GB", "BirthDate": "1815-12-10T00:00:00"})
    assert r.status_code == 201
    d = r.json()["d"]
    assert GUID_RE.match(d["ID"])
    assert MS_DATE_RE.match(d["Modified"]) and MS_DATE_RE.match(d["Created"])
    assert d["BirthDate"] == to_ms_date(datetime(1815, 12, 10, tzinfo=UTC).timestamp())
    assert d["FullName"] == "Ada Lovelace"
    assert d["__metadata"]["type"] == "Exact.Web.Api.Models.CRM.Contact"
    assert d["__metadata"]["uri"].endswith(f"/crm/Contacts(guid'{d['ID']}')")
    got = exact.request("GET", exact.one(d["ID"])).json()["d"]
    assert got == d


def test_birthdate_accepts_ms_date_and_a_setting_can_refuse_it(exact: ExactClient, simulators: Simulators) -> None:
    r = exact.request("POST", exact.contacts, json={"LastName": "X", "BirthDate": "/Date(949276800000)/"})
    assert r.status_code == 201 and r.json()["d"]["BirthDate"] == "/Date(949276800000)/"
    simulators.exact.admin.settings(accept_ms_dates=False)
    r = exact.request("POST", exact.contacts, json={"LastName": "X", "BirthDate": "/Date(949276800000)/"})
    assert r.status_code == 400


def test_create_needs_first_or_last_name(exact: ExactClient) -> None:
    assert exact.request("POST", exact.contacts, json={"FirstName": "Only"}).status_code == 201
    assert exact.request("POST", exact.contacts, json={"LastName": "Only"}).status_code == 201
    r = exact.request("POST", exact.contacts, json={"City": "Oslo"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "" and err["message"]["lang"] == "" and "first name or last name" in err["message"]["value"]


def test_account_requirement_is_a_setting(exact: ExactClient, simulators: Simulators) -> None:
    simulators.exact.admin.settings(account_required=True)
    assert exact.request("POST", exact.contacts, json={"LastName": "A"}).status_code == 400
    r = exact.request("POST", exact.contacts,
                      json={"LastName": "A", "Account": "6f0ae2f1-9ac0-4c8d-8f3c-0f7b8b9d2a11"})
    assert r.status_code == 201


def test_field_validation(exact: ExactClient) -> None:
    for body in ({"LastName": "A", "Country": "XX"}, {"LastName": "A", "Country": "nor"},
                 {"LastName": "A", "Email": "not-an-email"}, {"LastName": "A" * 51},
                 {"LastName": "A", "BirthDate": "31.01.2000"}, {"LastName": "A", "NoSuchField": 1}):
        assert exact.request("POST", exact.contacts, json=body).status_code == 400, body


def test_put_is_partial_and_returns_204(exact: ExactClient, simulators: Simulators) -> None:
    d = exact.request("POST", exact.contacts, json={"FirstName": "A", "LastName": "B", "City": "Oslo"}).json()["d"]
    simulators.clock.sleep(2)
    r = exact.request("PUT", exact.one(d["ID"]), json={"City": "Bergen"})
    assert r.status_code == 204 and r.content == b""
    after = exact.request("GET", exact.one(d["ID"])).json()["d"]
    assert after["City"] == "Bergen" and after["FirstName"] == "A" and after["LastName"] == "B"
    assert from_ms_date(after["Modified"]) == from_ms_date(d["Modified"]) + 2
    assert exact.request("PUT", exact.one(d["ID"]), json={"FirstName": None, "LastName": None}).status_code == 400


def test_missing_contact_is_404_and_delete_is_204(exact: ExactClient) -> None:
    d = exact.request("POST", exact.contacts, json={"LastName": "B"}).json()["d"]
    assert exact.request("DELETE", exact.one(d["ID"])).status_code == 204
    r = exact.request("GET", exact.one(d["ID"]))
    assert r.status_code == 404 and r.json()["error"]["message"]["value"]
    assert exact.request("PUT", exact.one(d["ID"]), json={"City": "X"}).status_code == 404


def test_single_entity_as_list_setting(exact: ExactClient, simulators: Simulators) -> None:
    d = exact.request("POST", exact.contacts, json={"LastName": "B"}).json()["d"]
    simulators.exact.admin.settings(single_entity_as_list=True)
    assert exact.request("GET", exact.one(d["ID"])).json()["d"][0]["ID"] == d["ID"]


def test_other_division_is_refused(exact: ExactClient) -> None:
    r = exact.request("GET", f"/api/v1/{exact.division + 1}/crm/Contacts")
    assert r.status_code == 403


def test_select_limits_properties(exact: ExactClient) -> None:
    exact.request("POST", exact.contacts, json={"FirstName": "A", "LastName": "B"})
    rows = exact.request("GET", exact.contacts, params={"$select": "ID,LastName"}).json()["d"]["results"]
    assert set(rows[0]) == {"__metadata", "ID", "LastName"}
    assert exact.request("GET", exact.contacts, params={"$select": "Nope"}).status_code == 400


def test_filter_on_modified_gt_and_ge(exact: ExactClient, simulators: Simulators) -> None:
    a = exact.request("POST", exact.contacts, json={"LastName": "A"}).json()["d"]
    simulators.clock.sleep(10)
    b = exact.request("POST", exact.contacts, json={"LastName": "B"}).json()["d"]
    t_a = datetime.fromtimestamp(from_ms_date(a["Modified"]), UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]

    def ids(flt: str) -> list[str]:
        r = exact.request("GET", exact.contacts, params={"$filter": flt})
        assert r.status_code == 200, r.text
        return [x["ID"] for x in r.json()["d"]["results"]]

    assert ids(f"Modified gt datetime'{t_a}'") == [b["ID"]]
    assert ids(f"Modified ge datetime'{t_a}'") == [a["ID"], b["ID"]]
    assert ids(f"ID eq guid'{a['ID']}'") == [a["ID"]]
    bad = exact.request("GET", exact.contacts, params={"$filter": "Modifed gt datetime'2026-01-01'"})
    assert bad.status_code == 400


@PROPERTY
@given(n=st.integers(min_value=0, max_value=130), page_size=st.integers(min_value=1, max_value=60))
def test_paging_returns_every_record_once(simulators: Simulators, n: int, page_size: int) -> None:
    simulators.reset()
    simulators.exact.admin.settings(page_size=page_size, rate_limits=False)
    base = simulators.clock.now()
    for i in range(n):
        simulators.exact.admin.seed("contacts", {"LastName": f"L{i}", "Modified": to_ms_date(base - i % 7)})
    exact = ExactClient(simulators)
    seen: list[str] = []
    url: str | None = exact.contacts
    pages = 0
    while url:
        r = exact.request("GET", url)
        assert r.status_code == 200
        d = r.json()["d"]
        assert len(d["results"]) <= page_size
        seen += [x["ID"] for x in d["results"]]
        url = d.get("__next")
        if url:
            assert "$skiptoken=guid'" in url and urlparse(url).netloc
        pages += 1
    expected = {c["ID"] for c in simulators.exact.admin.records("contacts")}
    assert len(seen) == len(set(seen)) == n and set(seen) == expected
    assert pages == max(1, -(-n // page_size))
    keys = [(from_ms_date(c["Modified"]), c["ID"]) for c in
            sorted(simulators.exact.admin.records("contacts"), key=lambda c: seen.index(c["ID"]))]
    assert keys == sorted(keys)


def test_default_page_is_60_and_skiptoken_survives_edits(exact: ExactClient, simulators: Simulators) -> None:
    simulators.exact.admin.settings(rate_limits=False)
    for i in range(61):
        simulators.exact.admin.seed("contacts", {"LastName": f"L{i}"})
    first = exact.request("GET", exact.contacts).json()["d"]
    assert len(first["results"]) == 60 and "__next" in first
    edited = first["results"][5]["ID"]
    simulators.clock.sleep(1)
    assert exact.request("PUT", exact.one(edited), json={"City": "Oslo"}).status_code == 204
    last = exact.request("GET", first["__next"]).json()["d"]
    remaining = {c["ID"] for c in simulators.exact.admin.records("contacts")} - {c["ID"] for c in first["results"]}
    # the edited record now sorts last (newer Modified), so it shows up again after the skiptoken
    assert [c["ID"] for c in last["results"]] == [*remaining, edited] and "__next" not in last


@PROPERTY
@given(offsets=st.lists(st.integers(min_value=0, max_value=100), max_size=30),
       cut=st.integers(min_value=-1, max_value=101))
def test_filter_returns_exactly_records_modified_after(simulators: Simulators, offsets: list[int], cut: int) -> None:
    simulators.reset()
    simulators.exact.admin.settings(rate_limits=False)
    base = 1_767_225_600  # 2026-01-01T00:00:00Z
    for off in offsets:
        simulators.exact.admin.seed("contacts", {"LastName": "X", "Modified": to_ms_date(base + off)})
    exact = ExactClient(simulators)
    literal = datetime.fromtimestamp(base + cut, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    r = exact.request("GET", exact.contacts, params={"$filter": f"Modified gt datetime'{literal}'"})
    got = sorted(from_ms_date(x["Modified"]) - base for x in r.json()["d"]["results"])
    assert got == sorted(off for off in offsets if off > cut)
