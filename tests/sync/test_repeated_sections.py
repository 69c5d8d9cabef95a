"""Repeated sections: sections between the same two entities share their links, so their rows act on a
linked pair as one section's rows, in document order (``generator.model.share_rows``). Before, each
section applied only its own rows while the sync remembered one fingerprint per source property for the
pair: a property two sections read reached only the first section's targets, and two sections feeding
one target disagreed with what the checks expected (issue 9: wave-wave.rst, freshteam-trello.rst)."""

from __future__ import annotations

from generator.model import Policy
from talkqa.runtime.checks import forward_value
from tests.sync.docs import document, flow_text
from tests.sync.world import World


def test_a_property_two_sections_read_reaches_the_targets_of_both():
    w = World(document(flow_text("Person", "Contact", [("street", "Street")]),
                       flow_text("Person", "Contact", [("street", "Notes")])))
    a = w.source().put({"street": "Elm 1"})
    w.sync()
    target = w.target().records[w.target_of(a)]
    assert (target.get("Street"), target.get("Notes")) == ("Elm 1", "Elm 1")
    w.source().edit(a, "street", "Oak 2")
    w.sync()
    target = w.target().records[w.target_of(a)]
    assert (target.get("Street"), target.get("Notes")) == ("Oak 2", "Oak 2")
    assert w.sync().writes == 0


def test_two_sections_feeding_one_property_follow_the_fan_in_rule_in_document_order():
    doc = document(flow_text("Person", "Contact", [("ship", "Street")]),
                   flow_text("Person", "Contact", [("street", "Street"), ("name", "Name")]))
    w = World(doc)
    a = w.source().put({"ship": "Dock 3", "street": "Elm 1", "name": "Ann"})
    w.sync()
    tid = w.target_of(a)
    assert w.target().records[tid]["Street"] == "Dock 3"  # the first section's row comes first
    w.source().edit(a, "street", "Oak 2")  # the first row's source is not empty: it still decides
    w.sync()
    assert w.target().records[tid]["Street"] == "Dock 3"
    w.source().edit(a, "ship", "")
    w.sync()
    assert w.target().records[tid]["Street"] == "Oak 2"
    assert w.sync().writes == 0
    # the checks expect the same, from either section
    record = w.source().records[a]
    assert [forward_value(flow, record, "Street") for flow in doc.flows] == ["Oak 2", "Oak 2"]


def test_a_target_edit_goes_back_through_the_first_row_of_the_sections():
    doc = document(flow_text("Person", "Contact", [("ship", "Street")]),
                   flow_text("Person", "Contact", [("street", "Street")]))
    w = World(doc)
    a = w.source().put({"ship": "Dock 3", "street": "Elm 1"})
    w.sync()
    w.target().edit(w.target_of(a), "Street", "Pier 4")
    w.sync()
    assert (w.source().records[a]["ship"], w.source().records[a]["street"]) == ("Pier 4", "Elm 1")
    assert [[r.line for r in flow.reverse_rows] for flow in doc.flows] == [[doc.flows[0].mappings[0].line]] * 2


def test_sections_share_rows_only_with_unconditional_sections_that_have_rows():
    doc = document(flow_text("Person", "Contact", [("street", "Street")]),
                   flow_text("Person", "Contact", [("name", "Name"), ("street", "Street")]),
                   flow_text("Person", "Contact", []),
                   flow_text("Person", "Contact", [("city", "City")], policy="conditional"))
    first, second, rowless, conditional = doc.flows
    assert conditional.policy is Policy.CONDITIONAL
    assert [(r.source, r.line) for r in first.syncable_rows] == [("street", first.mappings[0].line),
                                                                   ("name", second.mappings[0].line)]
    # each keeps its own copy of a row both state, where the row first appears
    assert second.syncable_rows == (second.mappings[1], second.mappings[0])
    assert rowless.syncable_rows == () and conditional.syncable_rows == conditional.mappings
    # a section's own rows, its JSON and its equality are unchanged
    assert [len(f.mappings) for f in doc.flows] == [1, 2, 0, 1]
    assert "shared_rows" not in first.to_json()
