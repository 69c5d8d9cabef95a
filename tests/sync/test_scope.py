"""Which flows a check's sync runs: the check's flow and every flow sharing records with it, transitively
(``related_flows``); the rest cannot change what the check sees, and a flow writing the same target runs."""

from __future__ import annotations

from pathlib import Path

from talkqa.runtime.backends import CassettesBackend
from talkqa.sync.engine import SyncEngine, related_flows
from talkqa.sync.state import SyncState
from talkqa.systems.run import Systems
from tests.sync.docs import document, flow_text
from tests.sync.world import World

ROWS = [("name", "Name")]
SEED = Path(__file__).resolve().parents[2] / "spec" / "powerofficego-exact.rst"


def doc():  # type: ignore[no-untyped-def]
    return document(
        flow_text("Person", "Contact", ROWS),  # 0
        flow_text("Supplier", "Contact", ROWS),  # 1: writes the same target as 0
        flow_text("Supplier", "Vendor", ROWS),  # 2: reads the same source as 1
        flow_text("Order", "Invoice", ROWS),  # 3: shares nothing
    )


def by_entity(d):  # type: ignore[no-untyped-def]
    return lambda flow: {("a", flow.source_label), ("b", flow.target_label)}


def test_related_flows_is_the_closure_over_shared_records() -> None:
    d = doc()
    assert related_flows(d, 0, by_entity(d)) == {0, 1, 2}
    assert related_flows(d, 2, by_entity(d)) == {0, 1, 2}
    assert related_flows(d, 3, by_entity(d)) == {3}


def scoped_world(d, flows):  # type: ignore[no-untyped-def]
    w = World(d)
    w.resource(d.system_key("source"), "Person").put({"name": "Per"})
    w.resource(d.system_key("source"), "Supplier").put({"name": "Sup"})
    w.resource(d.system_key("source"), "Order").put({"name": "Ord"})
    summary = SyncEngine(d, w.resource, w.state, flows=flows).run_once()
    assert not summary.errors
    return w


def test_a_scoped_cycle_changes_the_flows_records_exactly_as_a_whole_cycle_does() -> None:
    d = doc()
    whole, scoped = scoped_world(d, None), scoped_world(d, related_flows(d, 0, by_entity(d)))
    for label in ("Contact", "Vendor", "Person", "Supplier"):  # everything flows 0, 1 and 2 touch
        key = (d.system_key("target" if label in ("Contact", "Vendor") else "source"), label)
        assert whole.resources[key].records == scoped.resources[key].records
    # the flow writing the same target ran: the supplier reached Contact too
    contact = scoped.resources[(d.system_key("target"), "Contact")]
    assert sorted(r["Name"] for r in contact.records.values()) == ["Per", "Sup"]
    # only the unrelated flow did not run
    assert len(whole.resources[(d.system_key("target"), "Invoice")].records) == 1
    assert (d.system_key("target"), "Invoice") not in scoped.resources


def test_an_engine_without_flows_runs_every_flow() -> None:
    d = doc()
    engine = SyncEngine(d, World(d).resource, SyncState())
    assert engine.flows == {0, 1, 2, 3}


def test_a_plugin_systems_entities_are_one_resource_and_generic_entities_one_each() -> None:
    from generator.parser import parse_file

    seed = parse_file(SEED)
    systems = Systems([seed], mode="replay")
    resources = [systems.resources(seed, f) for f in seed.flows]
    # Contactperson and Suppliers person are both PowerOffice Go: one resource, so both flows run
    assert resources[0] & resources[1]
    assert related_flows(seed, 0, lambda f: systems.resources(seed, f)) == {0, 1}
    d = doc()
    generic = Systems([d], mode="replay")
    assert generic.resources(d, d.flows[3]).isdisjoint(generic.resources(d, d.flows[0]))
    assert related_flows(d, 3, lambda f: generic.resources(d, f)) == {3}


def test_an_external_sync_is_never_restricted() -> None:
    d = doc()
    reference = CassettesBackend(documents=[d])
    try:
        assert reference.scope(d, 3) == {3}
        assert reference.scope(d, None) is None
    finally:
        reference.close()
    command = CassettesBackend(sut="command:true", documents=[d])
    try:
        assert command.scope(d, 3) is None
    finally:
        command.close()
