"""The generic simulator misbehaves on request as the plugins' simulators do (``--talkqa-faults`` covers
any document): each fault kind as a client sees it, and the generic connector, retrying through its
HTTP client, doing each operation exactly once under seeded random faults."""

from __future__ import annotations

import random

import httpx
import pytest

from talkqa.connectors.base import ConnectorError
from talkqa.runtime.faults import faults_of
from talkqa.simulators.faults import Fault
from talkqa.systems.generic import GenericSystem
from talkqa.systems.generic.profile import Profile
from talkqa.systems.generic.simulator import StoreTransport
from tests.spec.docwriter import FlowSpec, RowSpec
from tests.systems.helpers import WAYS, document, simulated

DOC = document("Acme", "Zenith", FlowSpec("Person", "Contact", "always", rows=(
    RowSpec("name", "FullName", '"string"'), RowSpec("address.city", "Location.City", '"string"'))))


def system(auth: str = "oauth2_client_credentials") -> GenericSystem:
    return GenericSystem([DOC], {"acme": Profile(slug="acme", auth_type=auth, token_url="oauth/token")})


def raw(sim: object) -> tuple[httpx.Client, str, dict[str, str]]:
    store = sim.store  # type: ignore[attr-defined]
    creds = store.credentials("acme", "")
    client = httpx.Client(transport=StoreTransport(store), base_url=store.base_url("acme", ""))
    return client, "/person", {"Authorization": f"Bearer {creds.token}"}


def test_each_fault_kind_as_a_client_sees_it() -> None:
    with simulated(system()) as sim:
        client, path, auth = raw(sim)
        store = sim.store
        assert sim.handle.inject_faults([{"kind": "rate_limit_burst", "count": 1}])
        limited = client.get(path, headers=auth)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
        assert client.get(path, headers=auth).status_code == 200  # a burst of one
        store.faults.add(Fault("server_error", status=503))
        assert client.get(path, headers=auth).status_code == 503
        sim.handle.inject_faults([{"kind": "drop_connection", "method": "POST"}])
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(path, json={"name": "dropped"}, headers=auth)
        sim.handle.inject_faults([{"kind": "lost_response", "method": "POST"}])
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(path, json={"name": "lost"}, headers=auth)
        names = [r["name"] for r in client.get(path, headers=auth).json()["data"]]
        assert names == ["lost"]  # the lost response's request took effect, the dropped one did not
        assert sim.handle.faults_fired() == 4


def test_token_expiry_hits_a_token_used_before_and_never_a_fresh_one() -> None:
    with simulated(system()) as sim:
        client, path, auth = raw(sim)
        sim.handle.inject_faults([{"kind": "token_expiry", "count": None}])
        fresh = sim.store.credentials("acme", "")
        token = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": fresh.client_id,
                                                  "client_secret": fresh.client_secret}).json()["access_token"]
        mine = {"Authorization": f"Bearer {token}"}
        assert client.get(path, headers=mine).status_code == 200  # its first use: not expired on the spot
        assert client.get(path, headers=mine).status_code == 401  # used before: it expires
        assert client.get(path, headers=mine).status_code == 401  # and stays expired
        assert client.get(path, headers=auth).status_code == 200  # the tenant's other token lives on


def test_a_reset_forgets_the_faults() -> None:
    with simulated(system()) as sim:
        client, path, auth = raw(sim)
        sim.handle.inject_faults([{"kind": "server_error", "count": None}])
        assert client.get(path, headers=auth).status_code == 500
        sim.handle.reset()
        client, path, auth = raw(sim)
        assert client.get(path, headers=auth).status_code == 200


@pytest.mark.parametrize("auth", ["oauth2_client_credentials", "oauth2_refresh_token", "bearer"])
@pytest.mark.parametrize("profile", ["transient", "hostile"])
@pytest.mark.parametrize("way", WAYS)
def test_the_connector_does_each_operation_once_under_a_fault_profile(way: str, profile: str, auth: str) -> None:
    # "direct" is what a check uses when nothing records: with faults scheduled the handle's config goes
    # through the HTTP client instead, so the faults are met and retried as over a network
    with simulated(system(auth), way) as sim:
        rng = random.Random(f"{way}-{profile}-{auth}")
        faults = [{**f, "probability": min(1.0, f["probability"] * 4)} for f in faults_of(profile)]  # 4x: more hits
        assert sim.handle.inject_faults(faults)
        people = sim.open("acme", "Person", **({"token": None} if auth.startswith("oauth2") else {}))
        assert type(people.http).__name__ == "SystemClient"
        made: dict[str, str] = {}
        for i in range(12):
            try:
                made[f"ref-{i}"] = people.create({"name": f"p{i}"}, external_ref=f"ref-{i}")
                people.update(made[f"ref-{i}"], {"address": {"city": rng.choice(["Oslo", "Bergen"]) + str(i)}})
            except ConnectorError as exc:  # only a clear error, never a silent duplicate or loss
                assert str(exc).startswith("acme"), str(exc)
        fired = sim.handle.faults_fired()
        sim.store.faults.clear()
        client, path, token = raw(sim)
        refs = [r.get("talkqa_ref") for r in client.get(path, headers=token, params={"limit": 100}).json()["data"]]
        assert sorted(r for r in refs if r) == sorted(set(r for r in refs if r))  # no record made twice
        for ref, record_id in made.items():
            assert people.find_by_external_ref(ref) == record_id
            assert people.get(record_id)["address"]["city"].endswith(ref.split("-")[1])  # the update arrived
        assert fired > 0 and len(made) >= 8
