"""One generic connector, three ways to the same store: the in-process httpx transport (what records
cassettes), the direct client (what a check uses when nothing records) and the ASGI server on
127.0.0.1 (what an external sync process gets). The same script gives the same results each way,
errors included; and the OAuth2 flows work each way.
"""

from __future__ import annotations

from typing import Any

import pytest

from talkqa.connectors.base import AuthFailed, ConnectorError, NotFound, ValidationFailed
from talkqa.systems.generic import GenericSystem
from talkqa.systems.generic.connector import GenericConnector
from talkqa.systems.generic.profile import Profile
from tests.spec.docwriter import FlowSpec, RowSpec
from tests.systems.helpers import WAYS, Simulated, document, simulated

ROWS = (
    RowSpec("id", "PersonId", '"string"'),
    RowSpec("name", "FullName", '"string"'),
    RowSpec("age", "Age", '"integer"'),
    RowSpec("active", "IsActive", '"boolean"'),
    RowSpec("address.city", "Location.City", '"string"'),
    RowSpec("address.zip", "Location.Postal.Code", '"string"'),
)
DOC = document("Acme", "Zenith", FlowSpec("Person", "Contact", "always", rows=ROWS))


def outcome(call: Any) -> Any:
    """A call's value, or its error as (type, message): what a caller sees either way."""
    try:
        return call()
    except (ConnectorError, ValueError) as exc:
        return (type(exc).__name__, str(exc))


def script(people: GenericConnector, contacts: GenericConnector) -> list[Any]:
    out: list[Any] = []
    ids = [people.create({"name": f"p{i}", "age": i, "active": i % 2 == 0, "address": {"city": "Oslo"}},
                         external_ref=f"ref-{i}") for i in range(7)]
    out.append(ids)
    first = people.changed_since(None)
    out.append([(c.id, c.record, c.watermark) for c in first.changes])
    people.update(ids[3], {"address": {"zip": "0150"}, "age": 40})
    people.update(ids[5], {"active": True})
    later = people.changed_since(first.watermark)
    out.append(([(c.id, c.record) for c in later.changes], later.watermark))
    out.append(people.get(ids[3]))
    out.append([people.find_by_external_ref(r) for r in ("ref-0", "ref-6", "ref-none")])
    out.append(sorted(c.id for c in people.iter_all()))
    made = contacts.create({"FullName": "C", "Location": {"Postal": {"Code": "5003"}}})
    out.append(contacts.get(made))
    out.append(outcome(lambda: people.get("999")))
    out.append(outcome(lambda: people.update("999", {"name": "x"})))
    out.append(outcome(lambda: people.create({"nickname": "x"})))  # refused before it is sent
    out.append(outcome(lambda: people.http.request("POST", people.url, json_body={"age": "old"})))
    return out


@pytest.mark.parametrize("paging", ["cursor", "next_link", "page", "offset"])
def test_the_same_script_gives_the_same_results_every_way(paging: str) -> None:
    profiles = {"acme": Profile(slug="acme", paging=paging, page_size=3)}
    results = {}
    for way in WAYS:
        with simulated(GenericSystem([DOC], profiles), way) as sim:
            results[way] = script(sim.open("acme", "Person"), sim.open("zenith", "Contact"))
    assert results["direct"] == results["httpx"]
    assert results["asgi"] == results["httpx"]
    got = results["httpx"]
    assert got[0] == [str(i) for i in range(1, 8)]
    assert got[3] == {"id": "4", "name": "p3", "age": 40, "active": False,
                      "address": {"city": "Oslo", "zip": "0150"}}
    assert [c[0] for c in got[2][0]] == ["4", "6"]  # strictly after the first watermark
    assert got[4] == ["1", "7", None]
    assert got[6] == {"id": "1", "FullName": "C", "Location": {"Postal": {"Code": "5003"}}}  # PersonId: unset
    assert got[7][0] == got[8][0] == NotFound.__name__
    assert got[9][0] == "ValueError" and "nickname" in got[9][1]
    assert got[10][0] == ValidationFailed.__name__ and "Person.age must be integer" in got[10][1]


# -- OAuth2 ---------------------------------------------------------------------------------------------------
def oauth(kind: str) -> GenericSystem:
    return GenericSystem([DOC], {"acme": Profile(slug="acme", auth_type=kind, token_url="oauth/token")})


@pytest.mark.parametrize("way", WAYS)
def test_client_credentials_fetch_a_token_and_fetch_again_when_it_expires(way: str) -> None:
    with simulated(oauth("oauth2_client_credentials"), way) as sim:
        people = sim.open("acme", "Person", token=None)  # no token yet: it must be fetched
        made = people.create({"name": "x"})
        sim.store.expire_tokens("acme")
        assert people.get(made)["name"] == "x"  # 401, a new token, the same request again
        refused = sim.open("acme", "Person", token=None, client_secret=None)
        with pytest.raises(AuthFailed):
            refused.get(made)
        other_tenant = sim.open("acme", "Person", "target", token=None, client_secret=sim.config("acme").client_secret)
        with pytest.raises(AuthFailed):
            other_tenant.get(made)


@pytest.mark.parametrize("way", WAYS)
def test_refresh_tokens_rotate_and_a_used_one_is_refused(way: str) -> None:
    with simulated(oauth("oauth2_refresh_token"), way) as sim:
        first = sim.config("acme").refresh_token
        people = sim.open("acme", "Person", token=None)
        made = people.create({"name": "x"})  # used the first refresh token, got a second one
        again = sim.open("acme", "Person", token=None, refresh_token=first)
        with pytest.raises(ConnectorError) as refused:
            again.get(made)
        assert refused.value.status == 400 and "invalid_grant" in str(refused.value)
        sim.store.expire_tokens("acme")
        assert people.get(made)["name"] == "x"  # refreshed with the second, rotated, token
        sim.store.expire_tokens("acme")
        assert people.get(made)["name"] == "x"  # and then with the third


def test_the_asgi_server_listens_on_a_free_local_port_and_stops() -> None:
    import httpx

    with simulated(GenericSystem([DOC], {}), "asgi") as sim:
        config = sim.config("acme")
        url = httpx.URL(config.base_url)
        assert url.host == "127.0.0.1" and url.port
        token = config.token.reveal() if config.token else ""
        resp = httpx.get(f"{config.base_url}/person", headers={"Authorization": f"Bearer {token}"}, trust_env=False)
        assert resp.status_code == 200 and resp.json() == {"data": [], "next_cursor": None}
        assert isinstance(sim, Simulated)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{config.base_url}/person", trust_env=False, timeout=2)
