"""``talkqa diff``: crafted pairs of documents for every change kind, folders, JSON, bad input,
the real seed-vs-corpus example, and properties over generated documents.

Expected lines come from :func:`line_of` (a search in the crafted text), never from the diff.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.diff import Change, ChangeKind, DocumentDiff, diff_documents
from generator.model import Flow
from generator.parser import parse_text
from talkqa.cli import main
from tests.spec.conftest import corpus_dir
from tests.spec.docwriter import TYPE_CELLS, DocSpec, render
from tests.spec.test_roundtrip import document as document_spec

BASE = """\
======================
Alpha to Beta Dataflow
======================

Generated: 2024-01-01 00:00:00

Introduction
------------

This technical document provides a detailed overview of the Sesam Talk data flow from Alpha to Beta.

Alpha Customers to Beta Accounts
--------------------------------
Before any synchronization can take place, a link between a Alpha Customers and a Beta Accounts must be established.

A Alpha Customers will merge with a Beta Accounts if one of the following property combinations match:

.. list-table::
   :header-rows: 1

   * - Alpha Customers Property
     - Beta Accounts Property
   * - OrgNo
     - orgNumber

Once a link between a Alpha Customers and a Beta Accounts is established, it will keep in sync between the two \
systems, regardless of where it is edited.

The following properties are synchronized between a Alpha Customers and a Beta Accounts:

.. list-table::
   :header-rows: 1

   * - Alpha Customers Property
     - Beta Accounts Property
     - Beta Data Type
   * - Name
     - name
     - "string"
   * - Age
     - age
     - "integer"
   * - Country
     - country (Dependant on having NO in countryCode)
     - "string"


Alpha Contactperson to Beta Contacts
------------------------------------
Every Alpha Contactperson will be synchronized with a Beta Contacts.

Once a link between a Alpha Contactperson and a Beta Contacts is established, it will keep in sync between the two \
systems, regardless of where it is edited.

The following properties are synchronized between a Alpha Contactperson and a Beta Contacts:

.. list-table::
   :header-rows: 1

   * - Alpha Contactperson Property
     - Beta Contacts Property
     - Beta Data Type
   * - firstName
     - FirstName
     - "string"
   * - email
     - Email
     - "string"
"""

EXTRA_FLOW = """

Alpha Projects to Beta Tasks
----------------------------
Every Alpha Projects will be synchronized with a Beta Tasks.

The following properties are synchronized between a Alpha Projects and a Beta Tasks:

.. list-table::
   :header-rows: 1

   * - Alpha Projects Property
     - Beta Tasks Property
     - Beta Data Type
   * - code
     - Code
     - "string"
"""

CUSTOMERS_LINE = 12
CONTACTS_LINE = BASE.split("\n").index("Alpha Contactperson to Beta Contacts") + 1
TWO_WAY_CONTACTS = (
    "Once a link between a Alpha Contactperson and a Beta Contacts is established, it will keep in sync between the "
    "two systems, regardless of where it is edited.\n\n"
)


def line_of(text: str, needle: str, after: int = 0) -> int:
    """The 1-based number of the first line after line ``after`` that equals ``needle``."""
    lines = text.split("\n")
    return next(n for n in range(after + 1, len(lines) + 1) if lines[n - 1] == needle)


def replace(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def retitle(text: str, old: str, new: str) -> str:
    """Rename every ``old`` to ``new``, keeping section underlines as long as their titles."""
    lines = text.split("\n")
    out = []
    for ln in lines:
        if out and set(ln) == {"-"} and len(ln) == len(out[-1].replace(new, old)):
            ln = "-" * len(out[-1])
        out.append(ln.replace(old, new))
    return "\n".join(out)


def diff_texts(old: str, new: str) -> DocumentDiff:
    return diff_documents(parse_text(old, "old/alpha-beta.rst"), parse_text(new, "new/alpha-beta.rst"))


def changes(old: str, new: str) -> list[Change]:
    return list(diff_texts(old, new).all_changes)


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, ["diff", *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_crafted_base_reads_as_intended() -> None:
    """The fixture itself: two flows, the lines the tests below rely on."""
    doc = parse_text(BASE, "alpha-beta.rst")
    assert [(f.line, f.source_label, f.target_label) for f in doc.flows] == [
        (CUSTOMERS_LINE, "Customers", "Accounts"),
        (CONTACTS_LINE, "Contactperson", "Contacts"),
    ]
    assert [m.line for m in doc.flows[1].mappings] == [
        line_of(BASE, "   * - firstName"),
        line_of(BASE, "   * - email"),
    ]
    assert doc.flows[0].two_way and doc.flows[1].two_way


# -- unchanged -----------------------------------------------------------------------------------


def test_only_the_generated_line_changed_is_no_change(tmp_path: Path) -> None:
    new = BASE.replace("Generated: 2024-01-01 00:00:00", "Generated: 2025-06-30 23:59:59")
    assert new != BASE
    assert changes(BASE, new) == []
    result = run(str(write(tmp_path / "a", "alpha-beta.rst", BASE)), str(write(tmp_path / "b", "alpha-beta.rst", new)))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "no checklist changes (1 documents compared)"


def test_moved_lines_and_flow_order_are_no_change() -> None:
    """Blank lines shift every line number; flows swap places: the checklist is the same."""
    head, customers_and_contacts = BASE.split("Alpha Customers to Beta Accounts\n", 1)
    customers, contacts = customers_and_contacts.split("Alpha Contactperson to Beta Contacts\n", 1)
    swapped = (
        head
        + "\n\n"
        + "Alpha Contactperson to Beta Contacts\n"
        + contacts
        + "\n\nAlpha Customers to Beta Accounts\n"
        + customers
    )
    assert parse_text(swapped, "x.rst").flows[0].source_entity == "Contactperson"
    assert changes(BASE, swapped) == []


# -- rows ----------------------------------------------------------------------------------------


def test_row_removed_and_added_with_their_lines() -> None:
    new = replace(
        BASE, '   * - email\n     - Email\n     - "string"\n', '   * - phone\n     - Phone\n     - "string"\n'
    )
    got = changes(BASE, new)
    assert got == [
        Change(ChangeKind.ROW_REMOVED, line_of(BASE, "   * - email"), None, "email", "Email", old="string"),
        Change(ChangeKind.ROW_ADDED, None, line_of(new, "   * - phone"), "phone", "Phone", new="string"),
    ]


def test_a_changed_target_with_the_same_source_is_target_changed() -> None:
    new = replace(BASE, "     - Email\n", "     - EmailAddress\n")
    line = line_of(BASE, "   * - email")
    assert changes(BASE, new) == [
        Change(ChangeKind.TARGET_CHANGED, line, line, "email", "Email", "Email", "EmailAddress")
    ]


def test_type_changed() -> None:
    new = replace(BASE, '     - age\n     - "integer"', '     - age\n     - "string"')
    line = line_of(BASE, "   * - Age")
    assert changes(BASE, new) == [Change(ChangeKind.TYPE_CHANGED, line, line, "Age", "age", "integer", "string")]


def test_quotes_around_a_type_are_no_change() -> None:
    new = replace(BASE, '     - age\n     - "integer"', "     - age\n     - integer")
    assert changes(BASE, new) == []


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("country (Dependant on having SE in countryCode)", "target: Dependant on having SE in countryCode"),
        ("country", None),
    ],
)
def test_row_condition_changed_or_dropped(cell: str, expected: str | None) -> None:
    new = replace(BASE, "     - country (Dependant on having NO in countryCode)", f"     - {cell}")
    line = line_of(BASE, "   * - Country")
    old_text = "target: Dependant on having NO in countryCode"
    assert changes(BASE, new) == [
        Change(ChangeKind.ROW_CONDITION_CHANGED, line, line, "Country", "country", old_text, expected)
    ]


def test_rows_reordered() -> None:
    new = replace(
        BASE,
        '   * - firstName\n     - FirstName\n     - "string"\n   * - email\n     - Email\n     - "string"\n',
        '   * - email\n     - Email\n     - "string"\n   * - firstName\n     - FirstName\n     - "string"\n',
    )
    got = changes(BASE, new)
    assert got == [
        Change(
            ChangeKind.ROWS_REORDERED,
            line_of(BASE, "   * - firstName"),
            line_of(new, "   * - firstName"),
            "firstName",
            "FirstName",
        )
    ]


# -- flows ---------------------------------------------------------------------------------------


def test_policy_changed() -> None:
    new = replace(
        BASE,
        "Before any synchronization can take place, a link between a Alpha Customers and a Beta Accounts must be "
        "established.",
        "Every Alpha Customers will be synchronized with a Beta Accounts.",
    )
    got = changes(BASE, new)
    assert got == [Change(ChangeKind.POLICY_CHANGED, CUSTOMERS_LINE, CUSTOMERS_LINE, old="link_required", new="always")]


def test_two_way_changed() -> None:
    new = replace(BASE, TWO_WAY_CONTACTS, "")
    got = changes(BASE, new)
    assert got == [Change(ChangeKind.TWO_WAY_CHANGED, CONTACTS_LINE, CONTACTS_LINE, old="two-way", new="one-way")]


def test_flow_condition_changed() -> None:
    every = "Every Alpha Contactperson will be synchronized with a Beta Contacts."
    active = replace(
        BASE, every, "When a Alpha Contactperson is active, it  will be synchronized with a Beta Contacts."
    )
    won = replace(BASE, every, "When a Alpha Contactperson is won, it  will be synchronized with a Beta Contacts.")
    assert changes(active, won) == [
        Change(
            ChangeKind.FLOW_CONDITION_CHANGED,
            CONTACTS_LINE,
            CONTACTS_LINE,
            old="When a Alpha Contactperson is active",
            new="When a Alpha Contactperson is won",
        )
    ]
    # From "Every" to "When": the policy and the condition both change.
    assert changes(BASE, active) == [
        Change(ChangeKind.POLICY_CHANGED, CONTACTS_LINE, CONTACTS_LINE, old="always", new="conditional"),
        Change(
            ChangeKind.FLOW_CONDITION_CHANGED,
            CONTACTS_LINE,
            CONTACTS_LINE,
            old=None,
            new="When a Alpha Contactperson is active",
        ),
    ]


def test_created_from_changed() -> None:
    must = "a Beta Accounts must be established.\n"
    created = (
        must + "\nA new Beta Accounts will be created from a Alpha Customers if it is connected to a Orders, or "
        "Invoices that is synchronized into Beta.\n"
    )
    new = replace(BASE, must, created)
    assert changes(BASE, new) == [
        Change(ChangeKind.CREATED_FROM_CHANGED, CUSTOMERS_LINE, CUSTOMERS_LINE, old=None, new="Orders, Invoices")
    ]


def test_match_rule_changed_is_removed_plus_added() -> None:
    new = replace(BASE, "   * - OrgNo\n     - orgNumber\n", "   * - Id\n     - id\n")
    assert changes(BASE, new) == [
        Change(ChangeKind.MATCH_RULE_REMOVED, line_of(BASE, "   * - OrgNo"), None, "OrgNo", "orgNumber"),
        Change(ChangeKind.MATCH_RULE_ADDED, None, line_of(new, "   * - Id"), "Id", "id"),
    ]


def test_flow_added_and_removed() -> None:
    new = BASE + EXTRA_FLOW
    added_line = line_of(new, "Alpha Projects to Beta Tasks")
    assert changes(BASE, new) == [Change(ChangeKind.FLOW_ADDED, None, added_line, new="Projects -> Tasks")]
    assert changes(new, BASE) == [Change(ChangeKind.FLOW_REMOVED, added_line, None, old="Projects -> Tasks")]


def test_a_different_flow_in_place_of_another_is_removed_plus_added() -> None:
    """No rows, no entity word and no slot in common (the counts differ): not a rename."""
    contacts_at = BASE.index("Alpha Contactperson to Beta Contacts")
    new = BASE[:contacts_at].rstrip("\n") + EXTRA_FLOW + EXTRA_FLOW.replace("Projects", "Tickets")
    kinds = sorted(c.kind for c in changes(BASE, new))
    assert kinds == sorted([ChangeKind.FLOW_REMOVED, ChangeKind.FLOW_ADDED, ChangeKind.FLOW_ADDED])


def test_renamed_by_qualifier() -> None:
    new = retitle(BASE, "Alpha Customers", "Alpha Customers (organisation data)")
    assert changes(BASE, new) == [
        Change(
            ChangeKind.FLOW_RENAMED,
            CUSTOMERS_LINE,
            CUSTOMERS_LINE,
            old="Customers -> Accounts",
            new="Customers (organisation data) -> Accounts",
        )
    ]


def test_renamed_with_the_same_rows_under_another_title_and_rows_removed() -> None:
    """Like the corpus's "Suppliers person" -> "Suppliers (human data)": the rows tell the flow."""
    new = retitle(BASE, "Alpha Contactperson", "Alpha Person")
    new = replace(new, '   * - email\n     - Email\n     - "string"\n', "")
    got = changes(BASE, new)
    assert got == [
        Change(
            ChangeKind.FLOW_RENAMED,
            CONTACTS_LINE,
            CONTACTS_LINE,
            old="Contactperson -> Contacts",
            new="Person -> Contacts",
        ),
        Change(ChangeKind.ROW_REMOVED, line_of(BASE, "   * - email"), None, "email", "Email", old="string"),
    ]


def test_a_rename_prefers_the_flow_sharing_the_source_word() -> None:
    """Two new flows carry the old flow's rows; the one whose source shares a word wins."""
    old = retitle(BASE, "Alpha Contactperson", "Alpha Suppliers person")
    contacts_flow = BASE[BASE.index("Alpha Contactperson to Beta Contacts") :]
    customers = retitle(contacts_flow, "Alpha Contactperson", "Alpha Customers (human data)")
    suppliers = retitle(contacts_flow, "Alpha Contactperson", "Alpha Suppliers (human data)")
    head = BASE[: BASE.index("Alpha Contactperson to Beta Contacts")]
    new = head + customers + "\n\n" + suppliers
    got = changes(old, new)
    renamed = [c for c in got if c.kind is ChangeKind.FLOW_RENAMED]
    added = [c for c in got if c.kind is ChangeKind.FLOW_ADDED]
    suppliers_line = line_of(new, "Alpha Suppliers (human data) to Beta Contacts")
    assert [(c.old, c.new, c.new_line) for c in renamed] == [
        ("Suppliers person -> Contacts", "Suppliers (human data) -> Contacts", suppliers_line)
    ]
    assert [c.new for c in added] == ["Customers (human data) -> Contacts"]
    assert len(got) == 2


def test_a_repeated_title_pairs_with_its_own_rows() -> None:
    """The corpus repeats flow titles; an empty repeat inserted first is the added one."""
    contacts_flow = BASE[BASE.index("Alpha Contactperson to Beta Contacts") :]
    empty = contacts_flow[: contacts_flow.index("   * - firstName")]
    head = BASE[: BASE.index("Alpha Contactperson to Beta Contacts")]
    new = head + empty + "\n\n" + contacts_flow
    got = changes(BASE, new)
    assert got == [Change(ChangeKind.FLOW_ADDED, None, CONTACTS_LINE, new="Contactperson -> Contacts")]


def test_a_system_rename_is_one_title_change() -> None:
    new = retitle(BASE, "Alpha", "Alpha Prime").replace("=" * len("Alpha to Beta Dataflow"), "=" * 28)
    got = diff_documents(parse_text(BASE, "alpha-beta.rst"), parse_text(new, "alpha-beta.rst"), None, 2, 2)
    assert list(got.all_changes) == [
        Change(ChangeKind.TITLE_CHANGED, 2, 2, old="Alpha to Beta Dataflow", new="Alpha Prime to Beta Dataflow")
    ]


# -- the command: text, JSON, folders, exit codes ------------------------------------------------


def test_text_report_groups_by_document_and_flow(tmp_path: Path) -> None:
    new = replace(BASE, "     - Email\n", "     - EmailAddress\n")
    new = replace(new, TWO_WAY_CONTACTS, "")
    old_path = write(tmp_path / "old", "alpha-beta.rst", BASE)
    new_path = write(tmp_path / "new", "alpha-beta.rst", new)
    result = run(str(old_path), str(new_path))
    assert result.exit_code == 1, result.output
    old_row, new_row = line_of(BASE, "   * - email"), line_of(new, "   * - email")
    assert result.stdout.split("\n") == [
        "alpha-beta.rst: changed (2 changes)",
        f"  old: {old_path}",
        f"  new: {new_path}",
        f"  flow Contactperson -> Contacts  (old:{CONTACTS_LINE} new:{CONTACTS_LINE})",
        f"    direction changed: two-way -> one-way  (old:{CONTACTS_LINE} new:{CONTACTS_LINE})",
        f"    target changed: email -> Email => EmailAddress  (old:{old_row} new:{new_row})",
        "",
        "2 changes in 1 of 1 documents (target_changed=1, two_way_changed=1)",
        "",
    ]


CHANGE_KEYS = {"kind", "old_line", "new_line", "source", "target", "old", "new"}
FLOW_REF_KEYS = {"label", "title", "line", "rows", "match_rules"}


def test_folders_pair_documents_by_name_and_json_schema(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    write(old, "alpha-beta.rst", BASE)
    write(new, "alpha-beta.rst", BASE.replace("2024-01-01", "2024-02-02"))
    write(old, "alpha-gamma.rst", BASE)
    write(new, "alpha-gamma.rst", BASE + EXTRA_FLOW)
    write(old, "alpha-delta.rst", BASE)  # only in old
    write(new, "alpha-omega.rst", BASE)  # only in new
    result = run(str(old), str(new), "--json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data.keys() == {"schema", "old", "new", "changed", "documents", "summary"}
    assert (data["schema"], data["old"], data["new"], data["changed"]) == (1, str(old), str(new), True)
    docs = {d["name"]: d for d in data["documents"]}
    assert {n: d["status"] for n, d in docs.items()} == {
        "alpha-beta.rst": "unchanged",
        "alpha-delta.rst": "removed",
        "alpha-gamma.rst": "changed",
        "alpha-omega.rst": "added",
    }
    for d in data["documents"]:
        assert d.keys() == {"name", "old", "new", "status", "changes", "flows"}
        for c in d["changes"]:
            assert c.keys() == CHANGE_KEYS
    assert docs["alpha-delta.rst"]["new"] is None and docs["alpha-omega.rst"]["old"] is None
    assert docs["alpha-delta.rst"]["changes"] == [
        {
            "kind": "document_removed",
            "old_line": 2,
            "new_line": None,
            "source": None,
            "target": None,
            "old": "Alpha to Beta Dataflow",
            "new": None,
        }
    ]
    (flow,) = docs["alpha-gamma.rst"]["flows"]
    assert flow["old"] is None
    assert flow["new"].keys() == FLOW_REF_KEYS
    assert flow["new"] == {
        "label": "Projects -> Tasks",
        "title": "Alpha Projects to Beta Tasks",
        "line": line_of(BASE + EXTRA_FLOW, "Alpha Projects to Beta Tasks"),
        "rows": 1,
        "match_rules": 0,
    }
    assert [c["kind"] for c in flow["changes"]] == ["flow_added"]
    assert data["summary"] == {
        "documents": 4,
        "changed_documents": 3,
        "changes": 3,
        "by_kind": {"document_added": 1, "document_removed": 1, "flow_added": 1},
    }


def test_json_for_unchanged_files(tmp_path: Path) -> None:
    a = write(tmp_path / "a", "alpha-beta.rst", BASE)
    b = write(tmp_path / "b", "alpha-beta.rst", BASE)
    result = run("--json", str(a), str(b))
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["changed"] is False
    assert data["documents"][0]["status"] == "unchanged"
    assert data["summary"]["changes"] == 0


def test_json_flow_with_changes_names_both_versions(tmp_path: Path) -> None:
    new = replace(BASE, '     - age\n     - "integer"', '     - age\n     - "float"')
    a = write(tmp_path / "a", "alpha-beta.rst", BASE)
    b = write(tmp_path / "b", "alpha-beta.rst", new)
    data = json.loads(run("--json", str(a), str(b)).stdout)
    (flow,) = data["documents"][0]["flows"]
    assert (flow["old"]["line"], flow["new"]["line"], flow["old"]["rows"]) == (CUSTOMERS_LINE, CUSTOMERS_LINE, 3)
    line = line_of(BASE, "   * - Age")
    assert flow["changes"] == [
        {
            "kind": "type_changed",
            "old_line": line,
            "new_line": line,
            "source": "Age",
            "target": "age",
            "old": "integer",
            "new": "float",
        }
    ]


@pytest.mark.parametrize("bad_side", ["old", "new"])
def test_an_unreadable_document_exits_2_with_one_line(tmp_path: Path, bad_side: str) -> None:
    good = write(tmp_path / "good", "alpha-beta.rst", BASE)
    bad = tmp_path / "bad" / "alpha-beta.rst"
    bad.parent.mkdir()
    bad.write_bytes(b"Title\n=====\n\nok\n\xff\xfe broken\n")
    args = (str(bad), str(good)) if bad_side == "old" else (str(good), str(bad))
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr == f"{bad}:5: error: not UTF-8 (byte 0xff at offset 16)\n"


def test_a_missing_file_and_a_file_against_a_folder_exit_2(tmp_path: Path) -> None:
    good = write(tmp_path, "alpha-beta.rst", BASE)
    missing = tmp_path / "nope.rst"
    result = run(str(good), str(missing))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{missing}:1: error: cannot read")
    assert result.stderr.count("\n") == 1
    result = run(str(good), str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{good}:1: error: cannot compare a file with a folder")
    result = run(str(tmp_path / "gone"), str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr == f"{tmp_path / 'gone'}:1: error: cannot read: no such file or folder\n"


def test_a_bad_document_in_a_folder_still_reports_the_others(tmp_path: Path) -> None:
    write(tmp_path / "old", "alpha-beta.rst", BASE)
    write(tmp_path / "new", "alpha-beta.rst", BASE + EXTRA_FLOW)
    write(tmp_path / "old", "alpha-gamma.rst", BASE)
    bad = write(tmp_path / "new", "alpha-gamma.rst", "Just a paragraph, no title.\n")
    result = run(str(tmp_path / "old"), str(tmp_path / "new"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{bad}:1: error: not a dataflow document")
    assert "flow added: Projects -> Tasks" in result.stdout


# -- the real example ----------------------------------------------------------------------------

SEED = Path(__file__).resolve().parents[2] / "spec" / "powerofficego-exact.rst"


@pytest.mark.corpus
def test_seed_against_its_later_version_in_the_corpus(request: pytest.FixtureRequest) -> None:
    """Facts read from the two files by hand (2 flows vs 25)."""
    corpus = corpus_dir(request.config)
    later = corpus / "powerofficego-exact.rst" if corpus else None
    if later is None or not later.is_file():
        pytest.skip("no corpus (set --corpus or TALKQA_CORPUS)")
    result = run("--json", str(SEED), str(later))
    assert result.exit_code == 1
    (doc,) = json.loads(result.stdout)["documents"]
    assert doc["changes"] == [
        {
            "kind": "title_changed",
            "old_line": 2,
            "new_line": 2,
            "source": None,
            "target": None,
            "old": "Powerofficego to Dataflow",
            "new": "PowerOffice GO to Exact Online Dataflow",
        }
    ]
    by_label = {(f["old"] or f["new"])["label"]: f for f in doc["flows"] if f["old"]}
    contact = by_label["Contactperson -> Contacts"]
    # The first of the corpus's two "Contactperson to Contacts" flows (line 57) kept 3 of the 7 rows.
    assert (contact["old"]["line"], contact["new"]["line"]) == (12, 57)
    assert [(c["kind"], c["source"], c["old_line"]) for c in contact["changes"]] == [
        ("row_removed", "emailAddress", 32),
        ("row_removed", "firstName", 35),
        ("row_removed", "lastName", 38),
        ("row_removed", "phoneNumber", 41),
    ]
    suppliers = by_label["Suppliers person -> Contacts"]
    assert suppliers["new"]["label"] == "Suppliers (human data) -> Contacts"
    assert (suppliers["old"]["line"], suppliers["new"]["line"]) == (49, 477)
    assert [(c["kind"], c["source"]) for c in suppliers["changes"]] == [
        ("flow_renamed", None),
        ("row_removed", "EmailAddress"),
        ("row_removed", "FirstName"),
        ("row_removed", "LastName"),
        ("row_removed", "PhoneNumber"),
    ]
    added = [f["new"] for f in doc["flows"] if f["old"] is None]
    assert len(added) == 23  # 25 flows, 2 of them paired with the seed's
    assert {"line": 233, "label": "Contactperson -> Contacts", "rows": 0} in [
        {k: a[k] for k in ("line", "label", "rows")} for a in added
    ]


# -- properties ----------------------------------------------------------------------------------


def _canonical(title: str, flows: tuple[Flow, ...]) -> tuple[object, ...]:
    """The checklist content, by the test's own rules, from the writer's model (not the diff's)."""

    def row(m: object) -> tuple[object, ...]:
        assert hasattr(m, "source")
        kind = TYPE_CELLS[m.raw_type]  # type: ignore[attr-defined]
        return (m.source, m.target, m.raw_type if kind == "other" else kind, m.condition)  # type: ignore[attr-defined]

    return (
        title,
        sorted(
            (
                (f.source_entity, f.source_qualifiers, f.target_entity, f.target_qualifiers),
                str(f.policy),
                f.two_way,
                f.condition or "",
                f.created_if_connected or ("<none>",) if f.created_if_connected is None else f.created_if_connected,
                sorted((r.source, r.target) for r in f.match),
                [repr(row(m)) for m in f.mappings],  # in document order
            )
            for f in flows
        ),
    )


@st.composite
def variant(draw: st.DrawFn, spec: DocSpec) -> DocSpec:
    """A second version of ``spec``: the same, reshuffled, stamped anew, or changed a little."""
    ops = ["same", "stamp", "shuffle_flows", "shuffle_rows", "drop_row", "retype", "flip_way", "other"]
    op = draw(st.sampled_from(ops))
    flows = list(spec.flows)
    if op == "stamp":
        return dataclasses.replace(spec, generated="2030-01-01 00:00:00")
    if op == "shuffle_flows":
        return dataclasses.replace(spec, flows=tuple(draw(st.permutations(flows))))
    if op == "other":
        return draw(document_spec())
    if op in ("shuffle_rows", "drop_row", "retype", "flip_way") and flows:
        k = draw(st.integers(0, len(flows) - 1))
        f = flows[k]
        if op == "flip_way":
            flows[k] = dataclasses.replace(f, two_way=not f.two_way)
        elif f.rows:
            r = draw(st.integers(0, len(f.rows) - 1))
            rows = list(f.rows)
            if op == "shuffle_rows":
                rows = draw(st.permutations(rows))
            elif op == "drop_row":
                del rows[r]
            else:
                rows[r] = dataclasses.replace(rows[r], type_cell=draw(st.sampled_from(sorted(TYPE_CELLS))))
            flows[k] = dataclasses.replace(f, rows=tuple(rows))
    return dataclasses.replace(spec, flows=tuple(flows))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_diff_is_empty_iff_the_checklist_content_is_equal(data: st.DataObject) -> None:
    a_spec = data.draw(document_spec())
    b_spec = data.draw(variant(a_spec))
    ra, rb = render(a_spec), render(b_spec)
    a = parse_text(ra.text, a_spec.file_name)
    b = parse_text(rb.text, b_spec.file_name)
    assert diff_documents(a, a).all_changes == ()
    assert diff_documents(b, b).all_changes == ()
    equal = _canonical(ra.title, ra.flows) == _canonical(rb.title, rb.flows)
    got = diff_documents(a, b)
    assert (got.all_changes == ()) == equal, got.all_changes
    assert got.changed is not equal
