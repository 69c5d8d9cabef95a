"""The parser on small hand-written documents: policies, systems, quirks, rows, conditions, types.

Every expected value here is written by hand from the document text (line numbers counted in
the literal): the first flow title of each document is on line 12 (see ``conftest.preamble``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.model import Condition, ConditionClause, Mapping, MatchRule, Policy, Severity
from generator.parser import parse_file, parse_text
from tests.spec.conftest import preamble

TWO_WAY = (
    "Once a link between a Alpha Contacts and a Beta Persons is established, it will keep in sync between the two "
    "systems, regardless of where it is edited."
)
MAPPING_TABLE = """\
The following properties are synchronized between a Alpha Contacts and a Beta Persons:

.. list-table::
   :header-rows: 1

   * - Alpha Contacts Property
     - Beta Persons Property
     - Beta Data Type
   * - firstName
     - FirstName
     - "string"
   * - age
     - Age
     - "integer"
"""


def one_flow(policy_text: str, *, two_way: bool = True) -> str:
    """A document whose only flow (title on line 12) has ``policy_text`` on line 14."""
    parts = ["Alpha Contacts to Beta Persons\n------------------------------\n", policy_text, "\n\n"]
    if two_way:
        parts += [TWO_WAY, "\n\n"]
    parts.append(MAPPING_TABLE)
    return preamble() + "".join(parts)


def codes(doc_diagnostics: tuple) -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in doc_diagnostics]


# -- link policies ------------------------------------------------------------------------------


def test_always_policy_two_way_and_rows() -> None:
    doc = parse_text(one_flow("Every Alpha Contacts will be synchronized with a Beta Persons."), "alpha-beta.rst")
    (flow,) = doc.flows
    assert flow.title == "Alpha Contacts to Beta Persons"
    assert flow.line == 12
    assert (flow.source_entity, flow.target_entity) == ("Contacts", "Persons")
    assert (flow.source_system_name, flow.target_system_name) == ("Alpha", "Beta")
    assert flow.policy is Policy.ALWAYS
    assert flow.two_way is True
    assert flow.condition is None
    assert flow.created_if_connected is None
    assert flow.match == ()
    # Two-way sentence on 16, intro on 18, directive on 20, header 23-25: firstName's "* -" is line 26.
    assert flow.mappings == (
        Mapping("firstName", "FirstName", "string", '"string"', 26),
        Mapping("age", "Age", "integer", '"integer"', 29),
    )
    assert doc.diagnostics == ()


def test_one_way_when_the_keep_in_sync_sentence_is_absent() -> None:
    doc = parse_text(one_flow("Every Alpha Contacts will be synchronized with a Beta Persons.", two_way=False))
    (flow,) = doc.flows
    assert flow.two_way is False
    # Without the two-way paragraph (2 lines) the rows move up by 2.
    assert [m.line for m in flow.mappings] == [24, 27]


def test_one_way_sentence_is_read_as_one_way() -> None:
    text = one_flow(
        "Every Alpha Contacts will be synchronized with a Beta Persons.\n\n"
        "Once a link between a Alpha Contacts and a Beta Persons is established, it will keep in sync.",
        two_way=False,
    )
    doc = parse_text(text)
    assert doc.flows[0].two_way is False
    assert doc.diagnostics == ()


def test_merge_or_create_policy() -> None:
    text = one_flow(
        "Every Alpha Contacts will be synchronized with a Beta Persons.\n\n"
        "If a matching Beta Persons already exists, the Alpha Contacts will be merged with the existing one.\n"
        "If no matching Beta Persons is found, a new Beta Persons will be created."
    )
    doc = parse_text(text)
    (flow,) = doc.flows
    assert flow.policy is Policy.MERGE_OR_CREATE
    assert flow.two_way is True
    assert [m.line for m in flow.mappings] == [29, 32]
    assert doc.diagnostics == ()


def test_merged_without_create_stays_always() -> None:
    text = one_flow(
        "Every Alpha Contacts will be synchronized with a Beta Persons.\n\n"
        "If a matching Beta Persons already exists, the Alpha Contacts will be merged with the existing one."
    )
    assert parse_text(text).flows[0].policy is Policy.ALWAYS


LINK_REQUIRED_FLOW = """\
Alpha Items to Beta Product
---------------------------
Before any synchronization can take place, a link between a Alpha Items and a Beta Product must be established.

A Alpha Items will merge with a Beta Product if one of the following property combinations match:

.. list-table::
   :header-rows: 1

   * - Alpha Items Property
     - Beta Product Property
   * - gtin
     - ean
   * - sku
     - number

Once a link between a Alpha Items and a Beta Product is established, it will keep in sync between the two systems, regardless of where it is edited.

The following properties are synchronized between a Alpha Items and a Beta Product:

.. list-table::
   :header-rows: 1

   * - Alpha Items Property
     - Beta Product Property
     - Beta Data Type
   * - name
     - name
     - "string"
"""  # noqa: E501


def test_link_required_with_match_rules() -> None:
    doc = parse_text(preamble() + LINK_REQUIRED_FLOW)
    (flow,) = doc.flows
    assert flow.policy is Policy.LINK_REQUIRED
    assert flow.created_if_connected is None
    assert flow.match == (MatchRule("gtin", "ean", 23), MatchRule("sku", "number", 25))
    assert flow.two_way is True
    assert flow.mappings == (Mapping("name", "name", "string", '"string"', 38),)
    assert doc.row_count == 3
    assert doc.diagnostics == ()


def test_link_required_with_created_from_list() -> None:
    created = (
        "\nA new Beta Product will be created from a Alpha Items if it is connected to a Alpha Deal, Quote, "
        "Lineitem, or Dealcompanyassociation that is synchronized into Beta.\n"
    )
    text = LINK_REQUIRED_FLOW.replace("must be established.\n", "must be established.\n" + created, 1)
    doc = parse_text(preamble() + text)
    (flow,) = doc.flows
    assert flow.policy is Policy.LINK_REQUIRED
    assert flow.created_if_connected == ("Alpha Deal", "Quote", "Lineitem", "Dealcompanyassociation")
    assert [r.line for r in flow.match] == [25, 27]
    assert doc.diagnostics == ()


@pytest.mark.parametrize(
    ("listed", "expected"),
    [
        ("Alpha Businesscentral-salesorderlines", ("Alpha Businesscentral-salesorderlines",)),
        ("Alpha Deal, or Quote", ("Alpha Deal", "Quote")),
    ],
)
def test_created_from_one_and_two_items(listed: str, expected: tuple[str, ...]) -> None:
    created = (
        f"\nA new Beta Product will be created from a Alpha Items if it is connected to a {listed} "
        "that is synchronized into Beta.\n"
    )
    text = LINK_REQUIRED_FLOW.replace("must be established.\n", "must be established.\n" + created, 1)
    assert parse_text(preamble() + text).flows[0].created_if_connected == expected


def test_conditional_when_flow() -> None:
    text = one_flow(
        "When a Alpha Contacts has a 100% probability of beeing sold, it  will be synchronized with a Beta Persons."
    )
    doc = parse_text(text)
    (flow,) = doc.flows
    assert flow.policy is Policy.CONDITIONAL
    assert flow.condition == "When a Alpha Contacts has a 100% probability of beeing sold"
    assert doc.diagnostics == ()


def test_conditional_free_text_flow_keeps_the_unrecognised_sentence() -> None:
    text = one_flow(
        "preliminary mapping until we can sort out suppliers. This removes all supplier products for now, "
        "it  will be synchronized with a Beta Persons."
    )
    doc = parse_text(text)
    (flow,) = doc.flows
    assert flow.policy is Policy.CONDITIONAL
    assert flow.condition == "This removes all supplier products for now"
    assert codes(doc.diagnostics) == [("unrecognised-sentence", 14)]
    assert "preliminary mapping until we can sort out suppliers." in doc.diagnostics[0].message


def test_no_policy_sentence_is_reported() -> None:
    doc = parse_text(one_flow("Something else entirely happens"))
    assert doc.flows[0].policy is Policy.UNKNOWN
    assert sorted(codes(doc.diagnostics)) == [("no-policy", 12), ("unrecognised-sentence", 14)]


def test_unrecognised_sentence_in_the_middle_of_a_paragraph_is_kept_with_its_line() -> None:
    text = one_flow(
        "Every Alpha Contacts will be synchronized with a Beta Persons.\n\n"
        "The sky is blue today. Once a link between a Alpha Contacts and a Beta Persons is established, it will "
        "keep in sync between the two systems, regardless of where it is edited.",
        two_way=False,
    )
    doc = parse_text(text)
    assert doc.flows[0].two_way is True
    assert codes(doc.diagnostics) == [("unrecognised-sentence", 16)]
    assert doc.diagnostics[0].severity is Severity.WARNING
    assert "The sky is blue today." in doc.diagnostics[0].message


def test_unrecognised_text_in_the_preamble_and_introduction() -> None:
    text = preamble().replace("Generated: 2024-01-01 00:00:00\n", "Generated: 2024-01-01 00:00:00\n\nStray words\n")
    text = text.replace("from Alpha to Beta.\n", "from Alpha to Beta. Bogus claim here.\n")
    doc = parse_text(text)
    assert sorted(codes(doc.diagnostics)) == [
        ("no-flows", 2),
        ("unrecognised-sentence", 7),
        ("unrecognised-sentence", 12),
    ]


# -- systems -----------------------------------------------------------------------------------


def test_qualifiers_are_split_from_entities() -> None:
    text = preamble() + (
        "Alpha Customers (human data) to Beta Customers (human data)\n"
        "-----------------------------------------------------------\n"
        "Every Alpha Customers (human data) will be synchronized with a Beta Customers (human data).\n"
    )
    (flow,) = parse_text(text).flows
    assert (flow.source_entity, flow.source_qualifiers) == ("Customers", ("human data",))
    assert (flow.target_entity, flow.target_qualifiers) == ("Customers", ("human data",))
    assert flow.source_label == "Customers (human data)"
    assert flow.policy is Policy.ALWAYS


def test_multi_word_system_names_and_entities() -> None:
    text = preamble("PowerOffice GO", "Exact Online") + (
        "PowerOffice GO Suppliers person to Exact Online Contacts\n"
        "--------------------------------------------------------\n"
        "Every PowerOffice GO Suppliers person will be synchronized with a Exact Online Contacts.\n"
    )
    doc = parse_text(text, "spec/powerofficego-exact.rst")
    assert (doc.source_system.name, doc.source_system.slug) == ("PowerOffice GO", "powerofficego")
    assert (doc.target_system.name, doc.target_system.slug) == ("Exact Online", "exact")
    (flow,) = doc.flows
    assert (flow.source_system_name, flow.source_entity) == ("PowerOffice GO", "Suppliers person")
    assert (flow.target_system_name, flow.target_entity) == ("Exact Online", "Contacts")


def test_slugs_without_a_vendor_file_name_come_from_the_names() -> None:
    doc = parse_text(preamble("PowerOffice GO", "Exact Online"), "Some Document.rst")
    assert (doc.source_system.slug, doc.target_system.slug) == ("powerofficego", "exactonline")


def test_blank_target_system_name_takes_the_slug_from_the_file_name(tmp_path: Path) -> None:
    text = (
        "===================\n"
        "Powerofficego to  Dataflow\n"
        "==========================\n"
        "\n"
        "Generated: 2024-08-29 10:35:42\n"
        "\n"
        "Introduction\n"
        "------------\n"
        "\n"
        "This technical document provides a detailed overview of the Sesam Talk data flow from Powerofficego to .\n"
        "\n"
        "Powerofficego Contactperson to  Contacts\n"
        "----------------------------------------\n"
        "Every Powerofficego Contactperson will be synchronized with a  Contacts.\n"
        "\n"
        "The following properties are synchronized between a Powerofficego Contactperson and a  Contacts:\n"
        "\n"
        ".. list-table::\n"
        "   :header-rows: 1\n"
        "\n"
        "   * - Powerofficego Contactperson Property\n"
        "     -  Contacts Property\n"
        "     -  Data Type\n"
        "   * - city\n"
        "     - City\n"
        '     - "string"\n'
    ).replace("===================\n", "==========================\n", 1)
    path = tmp_path / "powerofficego-exact.rst"
    path.write_text(text, encoding="utf-8")
    doc = parse_file(path)
    assert doc.title == "Powerofficego to Dataflow"
    assert (doc.source_system.name, doc.source_system.slug) == ("Powerofficego", "powerofficego")
    assert (doc.target_system.name, doc.target_system.slug) == ("", "exact")
    (flow,) = doc.flows
    assert (flow.source_system_name, flow.source_entity) == ("Powerofficego", "Contactperson")
    assert (flow.target_system_name, flow.target_entity) == ("", "Contacts")
    assert flow.mappings == (Mapping("city", "City", "string", '"string"', 24),)
    assert codes(doc.diagnostics) == [("blank-system-name", 2)]
    assert "exact" in doc.diagnostics[0].message


def test_system_spelled_differently_in_a_flow_title() -> None:
    text = preamble("PowerOffice GO", "HubSpot") + (
        "Poweroffice Go Contactperson to HubSpot Contact\n"
        "-----------------------------------------------\n"
        "Every Poweroffice Go Contactperson will be synchronized with a HubSpot Contact.\n"
    )
    doc = parse_text(text, "powerofficego-hubspot.rst")
    (flow,) = doc.flows
    assert (flow.source_system_name, flow.source_entity) == ("Poweroffice Go", "Contactperson")
    assert (flow.target_system_name, flow.target_entity) == ("HubSpot", "Contact")
    assert doc.diagnostics == ()


def test_flow_title_naming_another_system_is_a_mismatch() -> None:
    text = preamble() + "Gamma Contacts to Delta Persons\n-------------------------------\n"
    text += "Every Gamma Contacts will be synchronized with a Delta Persons.\n"
    doc = parse_text(text)
    (flow,) = doc.flows
    assert (flow.source_entity, flow.target_entity) == ("Gamma Contacts", "Delta Persons")
    assert codes(doc.diagnostics) == [("system-name-mismatch", 12)]


# -- quirks ------------------------------------------------------------------------------------


def test_header_only_table_is_a_flow_with_zero_mappings() -> None:
    text = one_flow("Every Alpha Contacts will be synchronized with a Beta Persons.")
    text = text.replace(
        '   * - firstName\n     - FirstName\n     - "string"\n   * - age\n     - Age\n     - "integer"\n', ""
    )
    doc = parse_text(text)
    (flow,) = doc.flows
    assert flow.mappings == ()
    assert flow.policy is Policy.ALWAYS
    assert doc.diagnostics == ()


def test_header_only_match_table() -> None:
    text = LINK_REQUIRED_FLOW.replace("   * - gtin\n     - ean\n   * - sku\n     - number\n", "")
    (flow,) = parse_text(preamble() + text).flows
    assert flow.match == ()
    assert flow.mappings == (Mapping("name", "name", "string", '"string"', 34),)


def test_repeated_section_titles_are_separate_flows() -> None:
    block = one_flow("Every Alpha Contacts will be synchronized with a Beta Persons.")[len(preamble()) :]
    second = block.replace("firstName", "lastName").replace("FirstName", "LastName")
    doc = parse_text(preamble() + block + "\n\n" + second)
    first, again = doc.flows
    assert first.title == again.title == "Alpha Contacts to Beta Persons"
    # block is 20 lines (12..31) plus 2 blank lines: the repeated title is on line 34.
    assert (first.line, again.line) == (12, 34)
    assert [m.source for m in first.mappings] == ["firstName", "age"]
    assert [(m.source, m.line) for m in again.mappings] == [("lastName", 48), ("age", 51)]
    ((code, line),) = codes(doc.diagnostics)
    assert code == "repeated-title"
    assert line in (34, 35)


def test_introduction_with_a_dot_and_a_short_underline() -> None:
    text = preamble().replace("Introduction\n------------\n", "Introduction.\n------------\n")
    text += "Alpha Contacts to Beta Persons\n----------------------------\n"  # 28 dashes under 30 characters
    text += "Every Alpha Contacts will be synchronized with a Beta Persons.\n"
    doc = parse_text(text)
    (flow,) = doc.flows  # "Introduction." is not a flow
    assert flow.title == "Alpha Contacts to Beta Persons"
    assert flow.line == 12
    found = sorted(codes(doc.diagnostics))
    assert [c for c, _ in found] == ["short-underline", "short-underline"]
    assert found[0][1] in (7, 8)
    assert found[1][1] in (12, 13)
    assert all(d.severity is Severity.INFO for d in doc.diagnostics)


def _crlf_bom_expectations(doc_flows: tuple) -> None:
    (flow,) = doc_flows
    assert flow.title == "Alpha Contacts to Beta Persons"
    assert flow.line == 12
    assert flow.mappings == (
        Mapping("firstName", "FirstName", "string", '"string"', 26),
        Mapping("age", "Age", "integer", '"integer"', 29),
    )


def test_crlf_line_ends(tmp_path: Path) -> None:
    text = one_flow("Every Alpha Contacts will be synchronized with a Beta Persons.").replace("\n", "\r\n")
    doc = parse_text(text)
    _crlf_bom_expectations(doc.flows)
    assert doc.generated == "2024-01-01 00:00:00"
    path = tmp_path / "alpha-beta.rst"
    path.write_bytes(text.encode("utf-8"))
    _crlf_bom_expectations(parse_file(path).flows)


def test_byte_order_mark_in_a_file(tmp_path: Path) -> None:
    text = one_flow("Every Alpha Contacts will be synchronized with a Beta Persons.").replace("\n", "\r\n")
    path = tmp_path / "alpha-beta.rst"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    doc = parse_file(path)
    assert doc.title == "Alpha to Beta Dataflow"
    _crlf_bom_expectations(doc.flows)


def test_byte_order_mark_in_text() -> None:
    """Text read with encoding="utf-8" keeps the BOM; the parser must not take the title for a paragraph."""
    doc = parse_text("\ufeff" + one_flow("Every Alpha Contacts will be synchronized with a Beta Persons."))
    assert doc.title == "Alpha to Beta Dataflow"
    _crlf_bom_expectations(doc.flows)


def test_content_hash_ignores_generated_and_line_ends() -> None:
    text = one_flow("Every Alpha Contacts will be synchronized with a Beta Persons.")
    a = parse_text(text)
    b = parse_text(text.replace("2024-01-01 00:00:00", "2025-02-02 02:02:02").replace("\n", "\r\n"))
    c = parse_text(text.replace("firstName", "givenName"))
    assert a.content_hash == b.content_hash
    assert a.content_hash != c.content_hash


def test_missing_generated_is_a_warning() -> None:
    text = one_flow("Every Alpha Contacts will be synchronized with a Beta Persons.")
    doc = parse_text(text.replace("Generated: 2024-01-01 00:00:00\n\n", ""))
    assert doc.generated is None
    assert codes(doc.diagnostics) == [("no-generated", 2)]
    assert [m.line for m in doc.flows[0].mappings] == [24, 27]


# -- rows: conditions and types ----------------------------------------------------------------


def rows_doc(*rows: tuple[str, str, str]) -> str:
    """One flow whose table rows start on line 24, three lines each."""
    text = preamble() + (
        "Alpha Contacts to Beta Persons\n"
        "------------------------------\n"
        "Every Alpha Contacts will be synchronized with a Beta Persons.\n"
        "\n"
        "The following properties are synchronized between a Alpha Contacts and a Beta Persons:\n"
        "\n"
        ".. list-table::\n"
        "   :header-rows: 1\n"
        "\n"
        "   * - Alpha Contacts Property\n"
        "     - Beta Persons Property\n"
        "     - Beta Data Type\n"
    )
    for s, t, ty in rows:
        text += f"   * - {s}\n     - {t}\n     - {ty}\n".replace(" \n", "\n")
    return text


def test_rows_carry_their_lines() -> None:
    doc = parse_text(rows_doc(*[(f"p{i}", f"q{i}", '"string"') for i in range(5)]))
    assert [(m.source, m.line) for m in doc.flows[0].mappings] == [
        ("p0", 24),
        ("p1", 27),
        ("p2", 30),
        ("p3", 33),
        ("p4", 36),
    ]


def test_condition_on_the_target_cell_single_clause() -> None:
    doc = parse_text(
        rows_doc(
            ("mobilePhone", "phone_numbers.number (Dependant on having wd:Q17517 in phone_numbers.name)", '"string"')
        )
    )
    (m,) = doc.flows[0].mappings
    assert (m.source, m.target, m.line) == ("mobilePhone", "phone_numbers.number", 24)
    assert m.condition == Condition(
        text="Dependant on having wd:Q17517 in phone_numbers.name",
        side="target",
        clauses=(ConditionClause("wd:Q17517", "phone_numbers.name"),),
    )
    assert doc.flows[0].syncable_rows == ()


def test_condition_on_the_source_cell() -> None:
    doc = parse_text(rows_doc(("id (Dependant on having wd:Q11994066 in type)", "orgId", '"string"')))
    (m,) = doc.flows[0].mappings
    assert (m.source, m.target) == ("id", "orgId")
    assert m.condition is not None
    assert m.condition.side == "source"
    assert m.condition.clauses == (ConditionClause("wd:Q11994066", "type"),)


def test_condition_with_concatenated_clauses() -> None:
    cell = (
        "OrganizationNumber (Dependant on having NO in MailAddress.CountryCodeDependant on having wd:Q11994066 in "
        "MailAddress.CountryCode)"
    )
    doc = parse_text(rows_doc(("orgNr", cell, '"string"')))
    (m,) = doc.flows[0].mappings
    assert m.target == "OrganizationNumber"
    assert m.condition is not None
    assert m.condition.clauses == (
        ConditionClause("NO", "MailAddress.CountryCode"),
        ConditionClause("wd:Q11994066", "MailAddress.CountryCode"),
    )


def test_condition_with_a_blank_value() -> None:
    cell = "socialSecurityNumber.number (Dependant on having  in socialSecurityNumber.iso2Letter)"
    doc = parse_text(rows_doc(("id", cell, '"string"')))
    (m,) = doc.flows[0].mappings
    assert m.target == "socialSecurityNumber.number"
    assert m.condition is not None
    assert m.condition.clauses == (ConditionClause("", "socialSecurityNumber.iso2Letter"),)


def test_condition_with_a_blank_path() -> None:
    doc = parse_text(rows_doc(("OrgNr (Dependant on having NO in )", "OrganizationNumber", '"integer"')))
    (m,) = doc.flows[0].mappings
    assert m.source == "OrgNr"
    assert m.condition is not None
    assert m.condition.side == "source"
    assert m.condition.clauses == (ConditionClause("NO", ""),)


def test_conditional_rows_are_not_syncable_but_kept() -> None:
    doc = parse_text(
        rows_doc(
            ("a", "x", '"string"'),
            ("b", "y (Dependant on having NO in z)", '"string"'),
            ("c", "w", '"string"'),
        )
    )
    flow = doc.flows[0]
    assert [m.source for m in flow.mappings] == ["a", "b", "c"]
    assert [m.source for m in flow.syncable_rows] == ["a", "c"]


@pytest.mark.parametrize(
    ("cell", "expected", "raw"),
    [
        ('"string"', "string", '"string"'),
        ('"integer"', "integer", '"integer"'),
        ('"float"', "float", '"float"'),
        ('"boolean"', "boolean", '"boolean"'),
        ('"list"', "list", '"list"'),
        ("N/A", "unknown", "N/A"),
        ("", "unknown", ""),
        ('"datetime-format","%Y-%m-%dT%H:%M:%S","_."]', "other", '"datetime-format","%Y-%m-%dT%H:%M:%S","_."]'),
        ('"strin"', "other", '"strin"'),
    ],
)
def test_type_normalisation(cell: str, expected: str, raw: str) -> None:
    doc = parse_text(rows_doc(("a", "b", cell)))
    (m,) = doc.flows[0].mappings
    assert (m.type, m.raw_type, m.line) == (expected, raw, 24)
    assert m.checkable_type is (expected in {"string", "integer", "float", "boolean"})


def test_table_without_intro_is_read_by_its_columns() -> None:
    text = LINK_REQUIRED_FLOW.replace(
        "A Alpha Items will merge with a Beta Product if one of the following property combinations match:\n\n", ""
    )
    doc = parse_text(preamble() + text)
    (flow,) = doc.flows
    assert flow.match == (MatchRule("gtin", "ean", 21), MatchRule("sku", "number", 23))
    assert codes(doc.diagnostics) == [("table-without-intro", 16)]


def test_seed_spec_document_parses() -> None:
    repo = Path(__file__).resolve().parents[2]
    doc = parse_file(repo / "spec" / "powerofficego-exact.rst")
    assert doc.title == "Powerofficego to Dataflow"
    assert (doc.target_system.name, doc.target_system.slug) == ("", "exact")
    assert doc.generated == "2024-08-29 10:35:42"
    first = doc.flows[0]
    assert (first.source_entity, first.target_entity, first.line) == ("Contactperson", "Contacts", 12)
    assert first.policy is Policy.ALWAYS and first.two_way
    assert [(m.source, m.target, m.line) for m in first.mappings[:2]] == [
        ("city", "City", 26),
        ("dateOfBirth", "BirthDate", 29),
    ]
    assert len(first.mappings) == 7
