"""The generic system's schema, built from documents written in the vendor's format and read by the
real parser, against an oracle computed here from the rows alone:

* a path's kind is the declared type most rows give it; a tie is ``string``; only ``N/A`` is ``any``;
* a path that is also the parent of another path is a conflict, not a field;
* the identifier is the top-level path spelled ``id`` in any case, read-only (``integer`` when declared so);
* the profile's write stamp (``modified_field``), when a row names it, is read-only;
* a conditional row's path is a string field of its side; a conditional flow's path (from the
  predicate) a field of the source entity in the predicate value's kind; a profile's required path
  a required field.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from talkqa.sync.predicates import Conventions
from talkqa.systems.generic.profile import Profile
from talkqa.systems.generic.schema import Schema
from tests.spec.docwriter import FlowSpec, RowSpec
from tests.systems.helpers import document

TYPE_CELLS = {'"string"': "string", '"integer"': "integer", '"float"': "float", '"boolean"': "boolean", "N/A": "any"}
TOP = ["name", "age", "active", "address", "Location", "note"]
CHILD = ["city", "zip", "Code"]
CONDITION_PATHS = ["flag", "Kind"]

paths = st.one_of(st.sampled_from(TOP), st.builds("{}.{}".format, st.sampled_from(["address", "Location"]),
                                                     st.sampled_from(CHILD)))


@dataclass(frozen=True)
class Row:
    source: str
    target: str
    cell: str
    condition: tuple[str, str] | None = None  # (side, path): "Dependant on having Yes in <path>"

    def spec(self) -> RowSpec:
        cond = None if self.condition is None else (self.condition[0], (("Yes", self.condition[1]),))
        return RowSpec(self.source, self.target, self.cell, condition=cond)


rows = st.builds(
    Row, paths, paths, st.sampled_from(sorted(TYPE_CELLS)),
    st.one_of(st.none(), st.tuples(st.sampled_from(["source", "target"]), st.sampled_from(CONDITION_PATHS))),
)
documents = st.lists(st.lists(rows, min_size=1, max_size=6, unique_by=lambda r: (r.source, r.target)),
                     min_size=1, max_size=3)
id_spellings = st.sampled_from([None, "id", "ID", "Id"])


def oracle_kind(votes: Counter[str]) -> str:
    known = {k: n for k, n in votes.items() if k != "any" and n}
    if not known:
        return "any" if votes else "string"
    best = max(known.values())
    winners = [k for k, n in known.items() if n == best]
    return winners[0] if len(winners) == 1 else "string"


@given(documents, id_spellings, id_spellings, st.sampled_from(['"string"', '"integer"']))
def test_schema_follows_the_rows(docs: list[list[Row]], source_id: str | None, target_id: str | None,
                                 id_cell: str) -> None:
    votes: dict[str, defaultdict[str, Counter[str]]] = {"source": defaultdict(Counter),
                                                        "target": defaultdict(Counter)}
    parsed = []
    for i, doc_rows in enumerate(docs):
        all_rows = list(doc_rows)
        if source_id and target_id:
            all_rows.insert(0, Row(source_id, target_id, id_cell))
        for row in all_rows:
            votes["source"][row.source][TYPE_CELLS[row.cell]] += 1
            votes["target"][row.target][TYPE_CELLS[row.cell]] += 1
            if row.condition is not None:
                votes[row.condition[0]][row.condition[1]]["string"] += 1
        flow = FlowSpec("Person", "Contact", "always", rows=tuple(r.spec() for r in all_rows))
        parsed.append(document("Acme", "Zenith", flow, name=f"acme-zenith-{i}.rst"))
    schema = Schema.from_documents(parsed, {})

    for side, slug, label, spelled in (("source", "acme", "Person", source_id), ("target", "zenith", "Contact",
                                                                                 target_id)):
        found = schema.entity(slug, label)
        names = set(votes[side])
        parents = {p.rsplit(".", 1)[0] for p in names if "." in p}
        id_path = spelled if (source_id and target_id) else "id"
        assert found.id_path == id_path
        assert found.conflicts == frozenset(names & parents)
        expected = {p: oracle_kind(votes[side][p]) for p in names - parents - {id_path}}
        assert {p: f.kind for p, f in found.fields.items() if p != id_path} == expected
        assert not any(f.read_only for p, f in found.fields.items() if p != id_path)
        id_field = found.fields[id_path]
        assert id_field.read_only
        declared = oracle_kind(votes[side][id_path]) if id_path in votes[side] else "string"
        assert id_field.kind == ("integer" if declared == "integer" else "string")
        assert found.documents == tuple(sorted(f"acme-zenith-{i}.rst" for i in range(len(docs))))


def test_a_tie_between_two_kinds_is_string_and_n_a_alone_is_any() -> None:
    doc = document("Acme", "Zenith", FlowSpec("Person", "Contact", "always", rows=(
        RowSpec("age", "Age", '"integer"'), RowSpec("age", "Years", '"float"'), RowSpec("note", "Note", "N/A"),
    )))
    person = Schema.from_documents([doc], {}).entity("acme", "Person")
    assert person.fields["age"].kind == "string"
    assert person.fields["note"].kind == "any"


def test_the_identifier_takes_the_spelling_most_rows_use() -> None:
    flows = [FlowSpec("Person", f"Contact{i}", "always", rows=(RowSpec(spelling, "Name", '"string"'),))
             for i, spelling in enumerate(["ID", "ID", "id"])]
    person = Schema.from_documents([document("Acme", "Zenith", *flows)], {}).entity("acme", "Person")
    assert person.id_path == "ID"
    assert person.fields["ID"].read_only
    assert not person.fields["id"].read_only  # the other spelling is an ordinary field


def test_a_match_rule_path_is_a_field_and_the_conditional_flow_path_is_added_to_the_source() -> None:
    flow = FlowSpec("Deal", "Order", "when", condition="has a 100% probability of beeing sold",
                    match=(("number", "OrderNo"),), rows=(RowSpec("name", "Title", '"string"'),))
    doc = document("Acme", "Zenith", flow)
    profiles = {"acme": Profile(slug="acme", conventions=Conventions(probability_field="meta.chance"))}
    schema = Schema.from_documents([doc], profiles)
    deal, order = schema.entity("acme", "Deal"), schema.entity("zenith", "Order")
    assert deal.fields["meta.chance"].kind == "float"  # 100% -> 1.0
    assert deal.fields["number"].kind == "string"
    assert order.fields["OrderNo"].kind == "string"
    assert "meta.chance" not in order.fields


def test_a_profile_required_path_is_a_required_field_even_when_no_row_names_it() -> None:
    doc = document("Acme", "Zenith", FlowSpec("Person", "Contact", "always", rows=(
        RowSpec("name", "FullName", '"string"'),)))
    profiles = {"zenith": Profile(slug="zenith", required={"Contact": ("Stage",), "*": ("FullName",)})}
    contact = Schema.from_documents([doc], profiles).entity("zenith", "Contact")
    assert contact.fields["Stage"].required_on_create and contact.fields["Stage"].kind == "string"
    assert contact.fields["FullName"].required_on_create
    person = Schema.from_documents([doc], profiles).entity("acme", "Person")
    assert not any(f.required_on_create for f in person.fields.values())


def test_an_entity_no_document_names_has_only_an_identifier() -> None:
    found = Schema.from_documents([], {}).entity("acme", "Ghost")
    assert list(found.fields) == ["id"] and found.fields["id"].read_only


@given(st.sampled_from(["updated_at", "lastChanged", "meta.modified"]))
def test_the_field_the_profile_stamps_each_write_with_is_read_only_when_a_row_names_it(stamp: str) -> None:
    doc = document("Acme", "Zenith", FlowSpec("Person", "Contact", "always", rows=(
        RowSpec("name", "FullName", '"string"'), RowSpec("changed", stamp, '"string"'),
        RowSpec(stamp, "Changed", '"string"'))))
    profiles = {"zenith": Profile(slug="zenith", modified_field=stamp)}  # acme keeps the default profile's
    schema = Schema.from_documents([doc], profiles)
    contact, person = schema.entity("zenith", "Contact"), schema.entity("acme", "Person")
    assert contact.fields[stamp].read_only and not contact.fields["Changed"].read_only
    assert person.fields[stamp].read_only == (stamp == Profile().modified_field)
    assert not any(person.fields[p].read_only or contact.fields[q].read_only for p, q in (("name", "FullName"),))
