"""Round trip: a random model, rendered in the vendor's format by docwriter, parses back to itself."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.parser import parse_text
from tests.spec.docwriter import TYPE_CELLS, DocSpec, FlowSpec, RowSpec, render, slug

#: (name as documents write it, file-name slug). Some slugs differ from the name's (exact, wix).
SYSTEMS = [
    ("PowerOffice GO", "powerofficego"),
    ("Exact Online", "exact"),
    ("HubSpot", "hubspot"),
    ("Business Central", "businesscentral"),
    ("Tripletex", "tripletex"),
    ("Wix.com", "wix"),
    ("SuperOffice", "superoffice"),
]
ALL_SLUGS = {s for _, s in SYSTEMS} | {slug(n) for n, _ in SYSTEMS}

# Words the sentence patterns use as glue: an entity containing them would be ambiguous prose.
STOPWORDS = {
    "a", "an", "the", "and", "or", "to", "will", "be", "if", "is", "it", "with", "from", "into", "that",
    "in", "of", "on", "when", "every", "once", "new", "matching", "property", "data", "type", "dataflow",
}  # fmt: skip

word = st.from_regex(r"\A[A-Z][a-z]{1,9}(?:[_-][a-z0-9]{1,5})?\Z").filter(lambda s: s.lower() not in STOPWORDS)
REAL_ENTITIES = ["Contacts", "Customers", "Contactperson", "Suppliers person", "Salesorders", "Items", "Deal"]


def _entity_ok(name: str) -> bool:
    words = name.split(" ")
    return all(slug(" ".join(words[:k])) not in ALL_SLUGS for k in range(1, len(words) + 1))


entity = st.one_of(st.sampled_from(REAL_ENTITIES), st.lists(word, min_size=1, max_size=3).map(" ".join)).filter(
    _entity_ok
)
qualifiers = st.sampled_from([(), (), ("human data",), ("company data",)])
segment = st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,10}[A-Za-z0-9]\Z|\A[A-Za-z]\Z")
path = st.lists(segment, min_size=1, max_size=3).map(".".join)
# "" is the vendor's blank value: "(Dependant on having  in socialSecurityNumber.iso2Letter)".
value = st.sampled_from(["NO", "SE", "wd:Q11994066", "wd:Q17517", "BusinessCentral-contact", ""])
clauses = st.lists(st.tuples(value, path), min_size=1, max_size=2).map(tuple)
condition = st.one_of(st.none(), st.none(), st.tuples(st.sampled_from(["source", "target"]), clauses))
row = st.builds(RowSpec, source=path, target=path, type_cell=st.sampled_from(sorted(TYPE_CELLS)), condition=condition)
WHEN = ["has a 100% probability of beeing sold", "is active", "is marked as won in the pipeline"]
FREE = ["This removes all supplier products for now", "Only invoices with status paid"]


@st.composite
def flow(draw: st.DrawFn, entities: list[str]) -> FlowSpec:
    policy = draw(st.sampled_from(["always", "merge_or_create", "link_required", "when", "free"]))
    cond = (
        draw(st.sampled_from(WHEN)) if policy == "when" else draw(st.sampled_from(FREE)) if policy == "free" else None
    )
    created = None
    if policy == "link_required" and draw(st.booleans()):
        created = tuple(draw(st.lists(st.sampled_from(entities), min_size=1, max_size=4)))
    match = ()
    if policy in ("link_required", "merge_or_create"):
        match = tuple(draw(st.lists(st.tuples(path, path), max_size=3)))
    return FlowSpec(
        source_entity=draw(st.sampled_from(entities)),
        target_entity=draw(st.sampled_from(entities)),
        policy=policy,
        source_qualifiers=draw(qualifiers),
        target_qualifiers=draw(qualifiers),
        condition=cond,
        created_from=created,
        two_way=draw(st.booleans()),
        match=match,
        rows=tuple(draw(st.lists(row, max_size=5))),
    )


@st.composite
def document(draw: st.DrawFn) -> DocSpec:
    (a, a_slug), (b, b_slug) = draw(st.sampled_from(SYSTEMS)), draw(st.sampled_from(SYSTEMS))
    # The corpus blanks only the target's name ("Asana to  Dataflow"); a blank source would indent
    # every flow title (" Contacts to ..."), which is no longer a section title in RST.
    if draw(st.integers(0, 4)) == 0:
        b = ""
    # A small pool of entities per document, so flow titles repeat now and then.
    entities = draw(st.lists(entity, min_size=1, max_size=3, unique=True))
    return DocSpec(
        source=a,
        target=b,
        source_slug=a_slug,
        target_slug=b_slug,
        generated=draw(st.sampled_from(["2024-08-29 10:35:42", "2023-08-01 14:00:16"])),
        intro_dot=draw(st.booleans()),
        flows=tuple(draw(st.lists(flow(entities), max_size=4))),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=document(), crlf=st.booleans())
def test_rendered_model_parses_back_to_itself(spec: DocSpec, crlf: bool) -> None:
    rendered = render(spec, newline="\r\n" if crlf else "\n")
    doc = parse_text(rendered.text, spec.file_name)

    assert doc.title == rendered.title
    assert doc.generated == spec.generated
    assert (doc.source_system.name, doc.source_system.slug) == (spec.source, spec.source_slug)
    assert (doc.target_system.name, doc.target_system.slug) == (spec.target, spec.target_slug)
    assert len(doc.flows) == len(rendered.flows)
    for got, want in zip(doc.flows, rendered.flows, strict=True):
        assert got == want
    assert sorted((d.code, d.line) for d in doc.diagnostics) == sorted(rendered.diagnostics)
    assert doc.row_count == sum(len(f.rows) + len(f.match) for f in spec.flows)


def test_writer_lines_point_at_rows() -> None:
    """The oracle itself: every recorded row line is a ``* -`` line holding the row's first cell."""
    spec = DocSpec(
        source="HubSpot",
        target="Tripletex",
        source_slug="hubspot",
        target_slug="tripletex",
        flows=(
            FlowSpec(
                "Contact",
                "Customer",
                "link_required",
                match=(("id", "customerNumber"),),
                rows=(RowSpec("email", "email", '"string"'), RowSpec("a.b", "c", "N/A", ("target", (("NO", "x"),)))),
            ),
        ),
    )
    rendered = render(spec)
    lines = rendered.text.split("\n")
    (flow,) = rendered.flows
    assert lines[flow.line - 1] == "HubSpot Contact to Tripletex Customer"
    assert lines[flow.match[0].line - 1] == "   * - id"
    assert [lines[m.line - 1] for m in flow.mappings] == ["   * - email", "   * - a.b"]
    assert re.fullmatch(r"     - c \(Dependant on having NO in x\)", lines[flow.mappings[1].line])
