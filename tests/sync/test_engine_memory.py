"""Sync scenarios over in-memory resources: each policy, both directions, nested paths, fan-in/out,
conflicts, echo suppression, idempotence, crash recovery."""

from __future__ import annotations

import datetime as dt

import pytest

from talkqa.connectors.base import ConnectorError, OutcomeUnknown
from tests.sync.docs import document, flow_text
from tests.sync.world import World

PERSON = [("name", "Name"), ("address.city", "City"), ("born", "BirthDate")]


def world(*flows: str) -> World:
    return World(document(*flows))


def test_always_creates_one_linked_target_per_source_with_nested_and_date_values():
    w = world(flow_text("Person", "Contact", PERSON))
    a = w.source().put({"name": "Ann", "address": {"city": "Oslo"}, "born": dt.date(1980, 2, 29)})
    b = w.source().put({"name": "Bob"})
    s = w.sync()
    assert s.created == 2
    assert w.target().records[w.target_of(a)] == {"Name": "Ann", "City": "Oslo", "BirthDate": dt.date(1980, 2, 29)}
    assert w.target().records[w.target_of(b)]["Name"] == "Bob"
    assert len(w.target().records) == 2


def test_second_cycle_without_edits_writes_nothing():
    w = world(flow_text("Person", "Contact", PERSON))
    for i in range(5):
        w.source().put({"name": f"P{i}", "address": {"city": "Bergen"}})
    w.sync()
    writes = (w.source().writes, w.target().writes)
    s = w.sync()
    assert (w.source().writes, w.target().writes) == writes
    assert s.writes == 0 and s.created == 0


def test_forward_edit_of_nested_path_reaches_target_and_does_not_echo_back():
    w = world(flow_text("Person", "Contact", PERSON))
    a = w.source().put({"name": "Ann", "address": {"city": "Oslo"}})
    w.sync()
    w.source().edit(a, "address.city", "Trondheim")
    s = w.sync()
    assert w.target().records[w.target_of(a)]["City"] == "Trondheim"
    assert s.updated == 1
    source_writes = w.source().writes
    assert w.sync().writes == 0
    assert w.source().writes == source_writes


def test_reverse_edit_reaches_the_origin_creating_the_nested_parent():
    w = world(flow_text("Person", "Contact", PERSON))
    a = w.source().put({"name": "Ann"})
    w.sync()
    w.target().edit(w.target_of(a), "City", "Tromsø")
    w.sync()
    assert w.source().records[a]["address"] == {"city": "Tromsø"}
    assert w.sync().writes == 0


def test_one_way_flow_ignores_target_edits():
    w = world(flow_text("Person", "Contact", PERSON, two_way=False))
    a = w.source().put({"name": "Ann"})
    w.sync()
    w.target().edit(w.target_of(a), "Name", "Changed")
    w.sync()
    assert w.source().records[a]["name"] == "Ann"


def test_conflict_source_wins_and_the_losing_value_is_logged():
    w = world(flow_text("Person", "Contact", PERSON))
    a = w.source().put({"name": "Ann"})
    w.sync()
    w.source().edit(a, "name", "Anna")
    w.target().edit(w.target_of(a), "Name", "Annie")
    s = w.sync()
    assert s.conflicts == 1
    assert w.target().records[w.target_of(a)]["Name"] == "Anna"
    [entry] = w.state.conflicts()
    assert (entry.property, entry.kept_value, entry.lost_side, entry.lost_value) == ("Name", "Anna", "target", "Annie")


def test_both_sides_edit_different_properties_both_survive():
    w = world(flow_text("Person", "Contact", PERSON))
    a = w.source().put({"name": "Ann", "address": {"city": "Oslo"}})
    w.sync()
    w.source().edit(a, "name", "Anna")
    w.target().edit(w.target_of(a), "City", "Bodø")
    s = w.sync()
    assert s.conflicts == 0
    assert w.target().records[w.target_of(a)]["Name"] == "Anna"
    assert w.source().records[a]["address"]["city"] == "Bodø"


def test_merge_or_create_links_existing_counterpart_and_creates_when_none():
    w = world(flow_text("Person", "Contact", PERSON, policy="merge_or_create", match=[("name", "Name")]))
    existing = w.target().put({"Name": "Ann", "City": "Oslo"})
    a = w.source().put({"name": "Ann", "born": dt.date(1990, 1, 1)})
    b = w.source().put({"name": "Bob"})
    s = w.sync()
    assert w.target_of(a) == existing
    assert s.linked == 1 and s.created == 1
    assert w.target().records[existing]["BirthDate"] == dt.date(1990, 1, 1)
    assert w.source().records[a]["address"] == {"city": "Oslo"}  # the empty source side takes the target's value
    assert w.target_of(b) != existing and len(w.target().records) == 2


def test_link_required_links_by_match_and_never_creates():
    w = world(flow_text("Person", "Contact", PERSON, policy="link_required", match=[("name", "Name")]))
    existing = w.target().put({"Name": "Ann"})
    a = w.source().put({"name": "Ann"})
    w.source().put({"name": "Bob"})
    s = w.sync()
    assert w.target_of(a) == existing
    assert len(w.target().records) == 1
    assert any("requires a link" in reason for reason in s.skipped)


def test_match_near_miss_does_not_link():
    w = world(flow_text("Person", "Contact", PERSON, policy="link_required", match=[("name", "Name")]))
    w.target().put({"Name": "Ann "})
    w.source().put({"name": "Ann"})
    w.sync()
    assert w.state.links() == []


def test_conditional_flow_needs_a_predicate():
    doc = document(flow_text("Person", "Contact", PERSON, policy="conditional"))
    w = World(doc)
    w.source().put({"name": "Ann"})
    s = w.sync()
    assert not w.target().records
    assert any("no predicate" in reason for reason in s.skipped)
    w2 = World(doc, predicates={doc.flows[0].condition: lambda r: r.get("name") == "Ann"})
    w2.source().put({"name": "Ann"})
    w2.source().put({"name": "Bob"})
    s2 = w2.sync()
    assert s2.created == 1


def test_fan_in_forward_takes_first_non_empty_and_reverse_goes_to_first_row():
    w = world(flow_text("Person", "Contact", [("mobile", "Phone"), ("landline", "Phone")]))
    a = w.source().put({"landline": "22 00 00 00"})
    w.sync()
    assert w.target().records[w.target_of(a)]["Phone"] == "22 00 00 00"
    w.target().edit(w.target_of(a), "Phone", "99 99 99 99")
    w.sync()
    assert w.source().records[a] == {"landline": "22 00 00 00", "mobile": "99 99 99 99"}
    assert w.sync().writes == 0


def test_fan_out_writes_every_target_and_only_the_first_target_governs_reverse():
    w = world(flow_text("Person", "Contact", [("email", "Email"), ("email", "BusinessEmail")]))
    a = w.source().put({"email": "a@x.no"})
    w.sync()
    t = w.target_of(a)
    assert w.target().records[t] == {"Email": "a@x.no", "BusinessEmail": "a@x.no"}
    w.target().edit(t, "BusinessEmail", "other@x.no")  # not the governing row: reset
    w.sync()
    assert w.target().records[t]["BusinessEmail"] == "a@x.no"
    assert w.source().records[a]["email"] == "a@x.no"
    w.target().edit(t, "Email", "new@x.no")  # the governing row: goes back, and the sibling follows
    w.sync()
    assert w.source().records[a]["email"] == "new@x.no"
    assert w.target().records[t] == {"Email": "new@x.no", "BusinessEmail": "new@x.no"}


def test_two_flows_into_one_target_resource_keep_one_origin_each():
    w = world(flow_text("Person", "Contact", PERSON), flow_text("Supplier", "Contact", PERSON))
    assert w.target(0) is w.target(1)
    p = w.source(0).put({"name": "Per"})
    s = w.source(1).put({"name": "Sup"})
    w.sync()
    tp, ts = w.target_of(p, 0), w.target_of(s, 1)
    w.target().edit(tp, "Name", "Per2")
    w.target().edit(ts, "Name", "Sup2")
    w.sync()
    assert w.source(0).records == {p: {"name": "Per2"}}
    assert w.source(1).records == {s: {"name": "Sup2"}}


@pytest.mark.parametrize("applied", [True, False], ids=["response-lost", "request-lost"])
def test_lost_create_is_recovered_without_duplicate(applied: bool):
    w = world(flow_text("Person", "Contact", PERSON))
    a = w.source().put({"name": "Ann"})
    w.target().fail_next("create", OutcomeUnknown("connection dropped"), applied=applied)
    from talkqa.sync.engine import SyncEngine

    first = SyncEngine(w.document, w.resource, w.state).run_once()
    assert first.errors
    w.sync()
    assert len(w.target().records) == 1
    assert w.target().records[w.target_of(a)]["Name"] == "Ann"


def test_failed_update_is_retried_next_cycle():
    w = world(flow_text("Person", "Contact", PERSON))
    a = w.source().put({"name": "Ann"})
    w.sync()
    w.source().edit(a, "name", "Anna")
    w.target().fail_next("update", ConnectorError("503", status=503))
    from talkqa.sync.engine import SyncEngine

    assert SyncEngine(w.document, w.resource, w.state).run_once().errors
    w.sync()
    assert w.target().records[w.target_of(a)]["Name"] == "Anna"
