"""The connectors' HTTP is recordable by vcrpy and replays offline (kept apart from MockTransport tests:
an active cassette patches httpx's transports)."""
from __future__ import annotations

from pathlib import Path

import vcr

from talkqa.connectors.registry import Connections, connector_for

from .conftest import Sims, endpoints_for


def _list(sims: Sims, slug: str, entity: str) -> list[tuple[str, dict]]:
    with Connections(endpoints_for(sims, None), clock=sims.clock) as conns:
        return [(ch.id, ch.record) for ch in connector_for(slug, entity, conns.endpoints, connections=conns).iter_all()]


def test_listing_records_and_replays_without_the_server_state(fresh: Sims, tmp_path: Path) -> None:
    for i in range(70):  # two Exact pages
        fresh.ex.admin.seed("contacts", {"FirstName": f"F{i}", "LastName": "L", "BirthDate": "/Date(946684800000)/"})
    for i in range(3):
        fresh.po.admin.seed("suppliers", {"IsPerson": True, "FirstName": f"F{i}", "LastName": "L"})
    cassette = str(tmp_path / "listing.yaml")
    recorder = vcr.VCR(record_mode="all", filter_headers=["authorization", "ocp-apim-subscription-key"],
                       decode_compressed_response=True)
    with recorder.use_cassette(cassette):
        exact = _list(fresh, "exact", "Contacts")
        suppliers = _list(fresh, "powerofficego", "Suppliers person")
    assert len(exact) == 70 and len(suppliers) == 3

    fresh.ex.admin.reset()  # the servers forget records and tokens: only the cassette can answer now
    fresh.po.admin.reset()
    player = vcr.VCR(record_mode="none")
    with player.use_cassette(cassette) as cas:
        assert _list(fresh, "exact", "Contacts") == exact
        assert _list(fresh, "powerofficego", "Suppliers person") == suppliers
        assert cas.all_played
    assert fresh.ex.admin.requests() == [] and fresh.po.admin.requests() == []
    text = Path(cassette).read_text()
    assert "Bearer " not in text and fresh.launcher.credentials["poweroffice"]["subscription_key"] not in text
