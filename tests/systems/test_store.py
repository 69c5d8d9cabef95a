"""The generic store as an API: what it accepts and refuses, how it lists, and how it keeps tenants apart.

Requests go through the in-process httpx transport (the same answers the ASGI server gives; see
``test_transports``); listing is read back through the generic connector, which is its client.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talkqa.clock import FakeClock
from talkqa.systems.generic.profile import PAGING_STYLES, Profile
from tests.systems.helpers import Api, entity, store, store_connector

PERSON = entity("acme", "Person", {
    "name": "string", "age": "integer", "score": "float", "active": "boolean", "tags": "list",
    "address.city": "string", "address.zip": "string", "note": "any",
})
KINDS = {p: f.kind for p, f in PERSON.fields.items() if not f.read_only}

json_values = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8), st.lists(st.text(max_size=3), max_size=3),
)


JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str, "integer": int, "float": (int, float), "boolean": bool, "list": list,
}


def accepted(kind: str, value: Any) -> bool:
    """The oracle: which JSON values a field of ``kind`` takes (null: any nullable field)."""
    if value is None or kind == "any":
        return True
    if kind in ("integer", "float") and isinstance(value, bool):
        return False
    return isinstance(value, JSON_TYPES[kind])


def nested(path: str, value: Any) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    return {head: nested(rest, value) if rest else value}


# -- validation ------------------------------------------------------------------------------------------
@given(st.sampled_from(sorted(KINDS)), json_values, st.booleans())
def test_a_write_is_accepted_exactly_when_every_value_has_its_field_s_json_type(path: str, value: Any,
                                                                                 creating: bool) -> None:
    api = Api(store(PERSON), "acme")
    if creating:
        resp = api.post("/person", nested(path, value))
    else:
        made = api.create("/person", {"name": "x"})
        resp = api.patch(f"/person/{made['id']}", nested(path, value))
    if accepted(KINDS[path], value):
        assert resp.status_code == (201 if creating else 200), resp.text
    else:
        assert resp.status_code == 400
        assert path in resp.json()["error"]


@pytest.mark.parametrize("body", [{"nickname": "x"}, {"address": {"street": "x"}}, {"name": "x", "Name": "y"}])
def test_an_unknown_field_is_refused_by_name(body: dict[str, Any]) -> None:
    api = Api(store(PERSON), "acme")
    resp = api.post("/person", body)
    assert resp.status_code == 400
    assert "has no field" in resp.json()["error"]
    made = api.create("/person", {"name": "x"})
    assert api.patch(f"/person/{made['id']}", body).status_code == 400
    assert api.get(f"/person/{made['id']}").json() == made  # a refused write changes nothing


@pytest.mark.parametrize("field", ["id", "updated_at"])
def test_the_identifier_and_the_timestamp_are_read_only(field: str) -> None:
    api = Api(store(PERSON), "acme")
    assert api.post("/person", {"name": "x", field: "7"}).status_code == 400
    made = api.create("/person", {"name": "x"})
    resp = api.patch(f"/person/{made['id']}", {field: "7"})
    assert resp.status_code == 400 and "read-only" in resp.json()["error"]
    assert made["id"] == "1" and made["updated_at"].endswith("Z")


def test_required_fields_of_the_profile_and_of_the_schema_are_enforced_on_create_only() -> None:
    person = entity("acme", "Person", {"name": "string", "age": "integer", "city": "string"}, required=["city"])
    api = Api(store(person, profiles={"acme": Profile(slug="acme", required={"Person": ("name",)})}), "acme")
    for body in ({}, {"name": "x"}, {"city": "Oslo"}, {"name": "", "city": "Oslo"}):
        resp = api.post("/person", body)
        assert resp.status_code == 400, body
        assert "required" in resp.json()["error"]
    made = api.create("/person", {"name": "x", "city": "Oslo"})
    assert api.patch(f"/person/{made['id']}", {"age": 3}).status_code == 200  # an update need not repeat them


@pytest.mark.parametrize("token", [None, "wrong", "other-tenant"])
def test_every_route_needs_the_tenant_s_bearer_token(token: str | None) -> None:
    target = store(PERSON)
    made = Api(target, "acme").create("/person", {"name": "x"})
    if token == "other-tenant":
        token = target.credentials("acme", "target").token
    api = Api(target, "acme", token=token)
    for resp in (api.get("/person"), api.get(f"/person/{made['id']}"), api.post("/person", {"name": "y"}),
                 api.patch(f"/person/{made['id']}", {"name": "z"})):
        assert resp.status_code == 401
    assert Api(target, "acme").get(f"/person/{made['id']}").json()["name"] == "x"


def test_api_key_auth_reads_the_profile_s_header() -> None:
    target = store(PERSON, profiles={"acme": Profile(slug="acme", auth_type="api_key", auth_header="X-Api-Key")})
    api = Api(target, "acme", token=None)
    assert api.get("/person").status_code == 401
    key = target.credentials("acme", "").api_key
    assert api.client.get("/person", headers={"X-Api-Key": key}).status_code == 200
    assert api.client.get("/person", headers={"X-Api-Key": key + "x"}).status_code == 401


# -- listing ------------------------------------------------------------------------------------------------
@given(st.sampled_from(PAGING_STYLES), st.integers(0, 23), st.integers(1, 6))
def test_every_paging_style_returns_every_record_exactly_once(style: str, n: int, k: int) -> None:
    target = store(PERSON, profiles={"acme": Profile(slug="acme", paging=style, page_size=k)})
    api = Api(target, "acme")
    made = [api.create("/person", {"name": f"p{i}"})["id"] for i in range(n)]
    conn = store_connector(target, PERSON)
    listed = [c.id for c in conn.iter_all()]
    assert sorted(listed) == sorted(made) and len(set(listed)) == len(listed)
    pages = {"none": 1, "cursor": max(1, math.ceil(n / k)), "next_link": max(1, math.ceil(n / k)),
             "page": n // k + 1, "offset": n // k + 1}[style]  # page/offset stop at the first short page
    assert conn.http.stats.requests == pages


@pytest.mark.parametrize("style", ["cursor", "next_link", "page", "offset"])
def test_no_page_is_longer_than_the_page_size_even_when_more_is_asked(style: str) -> None:
    target = store(PERSON, profiles={"acme": Profile(slug="acme", paging=style, page_size=3)})
    api = Api(target, "acme")
    for i in range(7):
        api.create("/person", {"name": f"p{i}"})
    body = api.get("/person", limit=50).json()
    assert len(body["data"]) == 3
    assert api.get("/person", limit="x").status_code == 400


@given(st.lists(st.sampled_from([0.0, 0.0005, 1.0]), min_size=1, max_size=10), st.data())
def test_updated_after_is_strictly_after(gaps: list[float], data: st.DataObject) -> None:
    clock = FakeClock()
    target = store(PERSON, clock=clock)
    api = Api(target, "acme")
    made = []
    for i, gap in enumerate(gaps):
        clock.advance(gap)
        made.append(api.create("/person", {"name": f"p{i}"}))
    i = data.draw(st.integers(0, len(made) - 1))
    stamp = made[i]["updated_at"]
    listed = [r["id"] for r in api.get("/person", updated_after=stamp).json()["data"]]
    assert listed == [r["id"] for r in made[i + 1:]]
    conn = store_connector(target, PERSON)
    assert [c.id for c in conn.changed_since(stamp).changes] == listed
    # an edit moves a record after every earlier stamp, and only it
    api.patch(f"/person/{made[0]['id']}", {"name": "edited"})
    last = made[-1]["updated_at"]
    assert [c.id for c in conn.changed_since(last).changes] == [made[0]["id"]]


# -- shapes --------------------------------------------------------------------------------------------------
EMAILS = entity("acme", "Person", {"name": "string", "Emails.Value": "string", "Emails.Type": "string"})
LISTS = {"acme": Profile(slug="acme", lists=("Emails",))}


@given(st.lists(st.fixed_dictionaries({"Value": st.emails(), "Type": st.sampled_from(["work", "home"])}),
                min_size=1, max_size=4), st.emails())
def test_a_list_path_is_its_first_element_and_an_update_keeps_the_others(emails: list[dict[str, str]],
                                                                         new: str) -> None:
    target = store(EMAILS, profiles=LISTS)
    api = Api(target, "acme")
    made = api.create("/person", {"name": "x", "Emails": emails})
    conn = store_connector(target, EMAILS)
    assert conn.get(made["id"])["Emails"] == emails[0]
    conn.update(made["id"], {"Emails": {"Value": new}})
    assert api.get(f"/person/{made['id']}").json()["Emails"] == [{**emails[0], "Value": new}, *emails[1:]]


def test_a_list_path_on_create_is_a_one_element_list_and_list_items_are_validated() -> None:
    target = store(EMAILS, profiles=LISTS)
    api = Api(target, "acme")
    conn = store_connector(target, EMAILS)
    made = conn.create({"name": "x", "Emails": {"Value": "a@example.com"}})
    assert api.get(f"/person/{made}").json()["Emails"] == [{"Value": "a@example.com"}]
    resp = api.post("/person", {"Emails": [{"Value": "a@example.com", "Primary": True}]})
    assert resp.status_code == 400 and "Emails.Primary" in resp.json()["error"]
    assert api.post("/person", {"Emails": [{"Value": 5}]}).status_code == 400


def test_nested_paths_merge_and_plain_lists_are_replaced() -> None:
    target = store(PERSON)
    api = Api(target, "acme")
    made = api.create("/person", {"name": "x", "address": {"city": "Oslo", "zip": "0150"}, "tags": ["a", "b"]})
    api.patch(f"/person/{made['id']}", {"address": {"city": "Bergen"}, "tags": ["c"]})
    conn = store_connector(target, PERSON)
    conn.update(made["id"], {"address": {"zip": "5003"}})
    got = api.get(f"/person/{made['id']}").json()
    assert got["address"] == {"city": "Bergen", "zip": "5003"}
    assert got["tags"] == ["c"]
    assert conn.get(made["id"]) == {"id": made["id"], "name": "x", "address": {"city": "Bergen", "zip": "5003"},
                                    "tags": ["c"]}


def test_two_tenants_of_one_system_are_independent() -> None:
    target = store(PERSON)
    main, second = Api(target, "acme"), Api(target, "acme", "target")
    assert main.base != second.base
    a = main.create("/person", {"name": "main"})
    b = second.create("/person", {"name": "second"})
    assert a["id"] == b["id"] == "1"  # each tenant numbers its own records
    assert [r["name"] for r in main.get("/person").json()["data"]] == ["main"]
    assert [r["name"] for r in second.get("/person").json()["data"]] == ["second"]
    second.patch("/person/1", {"name": "changed"})
    assert main.get("/person/1").json()["name"] == "main"
    assert target.credentials("acme", "") != target.credentials("acme", "target")
    target.reset()
    assert main.get("/person").json()["data"] == [] and second.get("/person").json()["data"] == []
    assert main.get("/person").status_code == 200  # long-lived credentials survive a reset


def test_unknown_routes_and_methods() -> None:
    api = Api(store(PERSON), "acme")
    assert api.get("/nothing").status_code == 404
    assert api.get("/person/99").status_code == 404
    assert api.client.delete("/person", headers={"Authorization": f"Bearer {api.token}"}).status_code == 405
    assert api.client.post("/person", content=b"{", headers={"Authorization": f"Bearer {api.token}"}).status_code \
        == 400
    assert api.post("/person", ["not", "an", "object"]).status_code == 400
