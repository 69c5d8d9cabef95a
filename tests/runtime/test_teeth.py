"""The flow checks with teeth (``talkqa.runtime.teeth``): clearing, collateral damage, case- and
whitespace-only edits. Each passes against the reference sync on the simulators (the faithful plugins
and the generic system), fails against the mutant it exists for with a message naming the row, and
says why when it cannot apply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.cases import TEETH, link_cases
from generator.model import Document
from generator.parser import parse_file, parse_text
from talkqa.mutants import activate
from talkqa.runtime.backends import SimulatorsBackend
from talkqa.runtime.checks import ChecklistFailure, Unsupported, check_link
from talkqa.runtime.sut import SutFailed
from talkqa.systems.generic.profile import DEFAULT
from tests.spec.docwriter import FlowSpec, RowSpec
from tests.systems.helpers import document

ROOT = Path(__file__).resolve().parents[2]
SEED = parse_file(ROOT / "spec" / "powerofficego-exact.rst")
NAMES = [name for name, _ in TEETH]


def generic_document(rows: list[tuple[str, str]], source: tuple[str, str] = ("Acme", "Person"),
                     target: tuple[str, str] = ("Zeta", "Contact")) -> Document:
    """A two-way ``always`` flow of string rows between (system, entity) pairs no plugin serves (the
    generic system); one system on both sides makes two tenants of it."""
    table = "".join(f"   * - {a}\n     - {b}\n     - \"string\"\n" for a, b in rows)
    a, b = " ".join(source), " ".join(target)
    return parse_text(f"""\
==========================
{source[0]} to {target[0]} Dataflow
==========================

Generated: 2024-01-01 00:00:00

{a} to {b}
{"-" * len(f"{a} to {b}")}
Every {a} will be synchronized with a {b}.

Once a link between a {a} and a {b} is established, it will keep in sync between the two \
systems, regardless of where it is edited.

The following properties are synchronized between a {a} and a {b}:

.. list-table::
   :header-rows: 1

   * - {a} Property
     - {b} Property
     - {target[0]} Data Type
{table}""", f"{source[0].lower()}-{target[0].lower()}.rst")


GENERIC = generic_document([("name", "Name"), ("email", "Email"), ("address.city", "City"), ("notes", "Remarks")])


@pytest.fixture(scope="module")
def backends() -> Iterator[dict[str, SimulatorsBackend]]:
    made = {"seed": SimulatorsBackend("reference", [SEED]), "generic": SimulatorsBackend("reference", [GENERIC])}
    yield made
    for backend in made.values():
        backend.close()


def run(backends: dict[str, SimulatorsBackend], which: str, check: str, flow: int, tmp_path: Path,
        mutant: str | None = None) -> None:
    document = SEED if which == "seed" else GENERIC
    case = next(c for c in link_cases(document) if c["check"] == check and c["flow"] == flow)
    assert case["skip"] is None
    bench = backends[which].bench(document, tmp_path / f"{check}-{flow}-{mutant}")
    try:
        if mutant is None:
            check_link(bench, case)
        else:
            with activate(mutant):
                check_link(bench, case)
    finally:
        bench.close()


def test_every_policy_that_keeps_records_in_sync_asks_for_the_teeth() -> None:
    checks = {c["check"] for c in link_cases(SEED)}
    assert set(NAMES) <= checks
    # one case per flow and check: the seed's two flows
    assert sum(c["check"] in NAMES for c in link_cases(SEED)) == 2 * len(NAMES)
    assert "sparse-records" in NAMES


@pytest.mark.parametrize("flow", [0, 1])
@pytest.mark.parametrize("check", NAMES)
def test_the_reference_sync_passes_on_the_faithful_simulators(backends: Any, check: str, flow: int,
                                                               tmp_path: Path) -> None:
    if (check, flow) == ("sparse-records", 0):
        with pytest.raises(Unsupported, match="line 26 \\(city -> City\\): no nested object on either side"):
            run(backends, "seed", check, flow, tmp_path)  # contact persons have no nested object
        return
    run(backends, "seed", check, flow, tmp_path)


@pytest.mark.parametrize("check", NAMES)
def test_the_reference_sync_passes_on_the_generic_system(backends: Any, check: str, tmp_path: Path) -> None:
    run(backends, "generic", check, 0, tmp_path)


KILLS = [
    ("ignore-clearing", "clears-both-ways", "after emptying"),
    ("case-blind", "case-and-whitespace-edits", "after a case-only edit"),
    ("skip-missing-nested", "sparse-records", "on records without"),
]


@pytest.mark.parametrize(("which", "flow", "mutant", "check", "said"), [
    *[(which, 1, *kill) for which in ("seed", "generic") for kill in KILLS],  # seed flow 1: suppliers (nested)
    ("seed", 0, "wipe-unmapped", "no-collateral-damage", "other values changed"),
    ("seed", 1, "replace-nested", "no-collateral-damage", "MailAddress.ZipCode = None"),
])
def test_each_check_fails_against_its_mutant_naming_the_row(backends: Any, which: str, flow: int, mutant: str,
                                                            check: str, said: str, tmp_path: Path) -> None:
    with pytest.raises(ChecklistFailure) as failed:
        run(backends, which, check, flow if which == "seed" else 0, tmp_path, mutant)
    message = str(failed.value)
    assert said in message
    assert f"[{check}]" in message or "->" in message  # the flow check, or the row it was on


def test_the_generic_system_has_no_unmapped_field_to_wipe(backends: Any, tmp_path: Path) -> None:
    # its fields are the ones rows name, so a whole-record replacement loses nothing there
    run(backends, "generic", "no-collateral-damage", 0, tmp_path, "wipe-unmapped")


def test_nulled_siblings_are_caught_as_damage_on_the_generic_system(backends: Any, tmp_path: Path) -> None:
    with pytest.raises(ChecklistFailure) as failed:
        run(backends, "generic", "no-collateral-damage", 0, tmp_path, "null-siblings")
    assert "other values changed" in str(failed.value)


def test_nulled_siblings_on_the_seed_fail_the_check_though_exact_refuses_the_write(backends: Any,
                                                                                   tmp_path: Path) -> None:
    # Exact refuses a contact with neither first nor last name: the sync's own error fails the check
    with pytest.raises((ChecklistFailure, SutFailed)):
        run(backends, "seed", "no-collateral-damage", 0, tmp_path, "null-siblings")


@pytest.mark.parametrize(("mutant", "check"), [("case-blind", "clears-both-ways"),
                                              ("ignore-clearing", "case-and-whitespace-edits"),
                                              ("ignore-clearing", "no-collateral-damage")])
def test_a_check_is_not_fooled_into_failing_by_another_checks_mutant(backends: Any, mutant: str, check: str,
                                                                     tmp_path: Path) -> None:
    run(backends, "generic", check, 0, tmp_path, mutant)


def test_a_flow_whose_fields_cannot_be_emptied_is_not_checkable_and_says_why(tmp_path: Path) -> None:
    text = (ROOT / "spec" / "powerofficego-exact.rst").read_text(encoding="utf-8")
    # the first flow with only its names: PowerOffice contact persons require both
    head, _, _rest = text.partition("   * - city")
    kept = head + "   * - firstName\n     - FirstName\n     - \"string\"\n   * - lastName\n     - LastName\n" \
        "     - \"string\"\n\n"
    document = parse_text(kept, "names-only/powerofficego-exact.rst")  # the stem names the systems
    backend = SimulatorsBackend("reference", [document])
    try:
        case = next(c for c in link_cases(document) if c["check"] == "clears-both-ways")
        bench = backend.bench(document, tmp_path / "names")
        try:
            with pytest.raises(Unsupported) as why:
                check_link(bench, case)
        finally:
            bench.close()
    finally:
        backend.close()
    assert "line 26 (firstName -> FirstName): Contactperson.firstName is required" in str(why.value)
    assert "Contactperson.lastName is required" in str(why.value)


def test_every_record_once_passes_on_more_than_two_pages_and_catches_a_first_page_reader(backends: Any,
                                                                                        tmp_path: Path) -> None:
    run(backends, "generic", "every-record-once", 0, tmp_path)
    with pytest.raises(ChecklistFailure) as failed:
        run(backends, "generic", "every-record-once", 0, tmp_path, "first-page-only")
    # two pages of the generic system's default profile and one more go in; one page of them arrives
    size = DEFAULT.page_size
    assert (f"{2 * size + 1} new Person records (two pages of each system and one more) gave {size} new Contact "
            "records") in str(failed.value)


def test_every_record_once_says_why_when_two_pages_are_too_many(backends: Any, tmp_path: Path) -> None:
    # PowerOffice lists 5,000 records a page: two pages are more than the check creates
    with pytest.raises(Unsupported, match=r"volume: two pages of powerofficego \S+ are 10000 records, more than "
                                          r"the 250 this check creates"):
        run(backends, "seed", "every-record-once", 0, tmp_path)


def test_page_sizes_come_from_the_connector_or_its_profile() -> None:
    from types import SimpleNamespace

    from talkqa.runtime.teeth import page_size

    assert page_size(SimpleNamespace(page_size=60)) == 60
    assert page_size(SimpleNamespace(profile=SimpleNamespace(page_size=100))) == 100
    assert page_size(SimpleNamespace()) is None and page_size(SimpleNamespace(page_size=0)) is None


def test_an_object_a_record_cannot_lack_is_not_made_sparse() -> None:
    from types import SimpleNamespace

    from talkqa.fields import FieldSpec
    from talkqa.runtime.teeth import _not_optional

    bench = SimpleNamespace(flow_predicate=lambda flow: None)
    body = SimpleNamespace(entity="Deal", fields={"properties.a": FieldSpec("properties.a"),
                                                  "properties.b": FieldSpec("properties.b")})
    assert "holds every field of the record" in str(_not_optional(bench, None, body, "properties"))  # type: ignore
    fields = {"name": FieldSpec("name"), "address.city": FieldSpec("address.city"),
              "address.zip": FieldSpec("address.zip", required_on_create=True)}
    person = SimpleNamespace(entity="Person", fields=fields)
    assert _not_optional(bench, None, person, "address") == "Person.address holds the required address.zip"  # type: ignore
    fields["address.zip"] = FieldSpec("address.zip")
    assert _not_optional(bench, None, person, "address") is None  # type: ignore
    held = SimpleNamespace(flow_predicate=lambda flow: SimpleNamespace(path="address.city"))
    assert "which the flow's condition reads" in str(_not_optional(held, None, person, "address"))  # type: ignore


@pytest.mark.parametrize(("winner", "wins"), [("source", True), ("any", True), ("target", False), ("newest", False)])
@pytest.mark.parametrize("which", ["seed", "generic"])
def test_conflicting_edits_hold_the_sync_to_the_expected_winner(backends: Any, which: str, winner: str, wins: bool,
                                                                tmp_path: Path) -> None:
    # the reference sync lets the source win a conflict (and logs it): other settings must fail it
    document = SEED if which == "seed" else GENERIC
    case = next(c for c in link_cases(document) if c["check"] == "conflicting-edits" and c["flow"] == 0)
    bench = backends[which].bench(document, tmp_path / f"conflict-{winner}")
    bench.conflict_winner = winner  # type: ignore[attr-defined]
    try:
        if wins:
            check_link(bench, case)
        else:
            with pytest.raises(ChecklistFailure, match=f"the {winner} side should win"):
                check_link(bench, case)
    finally:
        bench.close()


def same_system_document() -> Document:
    """One system on both sides (two tenants) with crossing rows: each side's ``a`` feeds the other's ``b``."""
    return generic_document([("a", "b"), ("b", "a")], ("Acme", "Order"), ("Acme", "Order"))


@pytest.mark.parametrize("check", ["no-collateral-damage", "clears-both-ways"])
def test_two_tenants_of_one_system_are_told_apart(check: str, tmp_path: Path) -> None:
    """Both tenants number their records alike, so a write to the target's record n must not be taken for a
    write to the source's record n: the checks pass against the reference sync, and each side's writes are
    attributed to that side only."""
    document = same_system_document()
    backend = SimulatorsBackend("reference", [document])
    try:
        case = next(c for c in link_cases(document) if c["check"] == check)
        bench = backend.bench(document, tmp_path / check)
        try:
            check_link(bench, case)
            src, tgt = bench.pair(document.flows[0])
            assert src.system != tgt.system
            for w in bench.writes:
                assert w.system in (src.system, tgt.system)
        finally:
            bench.close()
    finally:
        backend.close()


@pytest.mark.parametrize(("mutant", "message"), [
    ("conflict-target-wins", "the source side should win"),
    ("conflict-unlogged", "was not reported: the sync's conflict log has no entry for this property"),
])
@pytest.mark.parametrize("which", ["seed", "generic"])
def test_conflicting_edits_see_an_edit_lost_silently(backends: Any, which: str, mutant: str, message: str,
                                                      tmp_path: Path) -> None:
    # the target's edit overwriting the source's, or the source winning with nothing in the conflict log:
    # either way an edit is lost without a report, and the check says so
    with pytest.raises(ChecklistFailure, match=message):
        run(backends, which, "conflicting-edits", 0, tmp_path, mutant)


def test_the_reference_sync_reports_the_losing_edit(backends: Any, tmp_path: Path) -> None:
    # what the check reads: the reference sync's conflict log holds the lost target edit and the kept one
    case = next(c for c in link_cases(GENERIC) if c["check"] == "conflicting-edits" and c["flow"] == 0)
    bench = backends["generic"].bench(GENERIC, tmp_path / "reported")
    try:
        check_link(bench, case)
        log = bench.sut.conflict_log()  # type: ignore[attr-defined]
        assert len(log) == 1 and (log[0].kept_side, log[0].lost_side) == ("source", "target")
        assert log[0].kept_value != log[0].lost_value
    finally:
        bench.close()


def test_sparse_records_sets_aside_an_object_an_assigned_id_fills(tmp_path: Path) -> None:
    """A target object filled from the source's id (assigned by the system, never absent) cannot be made
    absent: the row into it is set aside with that reason, never a crash ("the check could not run")."""
    document = generic_document([("id", "Ident.Ref"), ("city", "Ident.City"), ("name", "Name")])
    backend = SimulatorsBackend("reference", [document])
    try:
        case = next(c for c in link_cases(document) if c["check"] == "sparse-records")
        bench = backend.bench(document, tmp_path / "sparse")
        try:
            with pytest.raises(Unsupported) as why:
                check_link(bench, case)
        finally:
            bench.close()
    finally:
        backend.close()
    assert "fills Ident from Person.id, which the system assigns: the object is never absent" in str(why.value)


@given(kind=st.sampled_from(["date", "string", "email", "integer", "phone"]), n=st.integers(1, 210),
       seed=st.integers(0, 10**6), rounds=st.integers(2, 3))
@settings(max_examples=40, deadline=None)
def test_every_record_once_never_edits_a_record_to_the_value_it_holds(kind: str, n: int, seed: int,
                                                                      rounds: int) -> None:
    """Each round's values are distinct and none equals a value of the round before, whatever the kind
    (dates repeat every 420 seeds: an edit to the held value is no edit, and the sync rightly writes
    nothing, which the check would call a record missed)."""
    from talkqa.runtime.teeth import volume_values
    from talkqa.runtime.values import Domain

    previous: list[object] = []
    for r in range(rounds):
        got = volume_values(Domain(kind, None), n, seed + r * 10_000, previous)
        assert len(got) == n and len({repr(v) for v in got}) == n
        assert not {repr(v) for v in got} & {repr(v) for v in previous}
        previous = got


def typed_document(rows: list[tuple[str, str, str]]) -> Document:
    """:func:`generic_document` with a data type per row."""
    return document("Acme", "Zeta", FlowSpec("Person", "Contact", "always",
                                             rows=tuple(RowSpec(a, b, f'"{kind}"') for a, b, kind in rows)))


@pytest.mark.parametrize("rows", [[("active", "Active", "boolean")],
                                  [("active", "Active", "boolean"), ("name", "Name", "string")]],
                         ids=["boolean only", "boolean first"])
def test_conflicting_edits_need_two_edits_that_differ_from_the_value_held(rows: list[tuple[str, str, str]],
                                                                          tmp_path: Path) -> None:
    """A boolean has two values: after one side's edit the other side's edit can only restore what both
    held, which is no edit, so the sync rightly logs no conflict (before: "the losing edit True was not
    reported", a false failure). Such a row is set aside; another row of the flow is tried instead."""
    document = typed_document(rows)
    backend = SimulatorsBackend("reference", [document])
    try:
        case = next(c for c in link_cases(document) if c["check"] == "conflicting-edits")
        bench = backend.bench(document, tmp_path / "conflict")
        try:
            if len(rows) == 1:
                with pytest.raises(Unsupported, match="a boolean field has no two edits"):
                    check_link(bench, case)
            else:
                check_link(bench, case)  # the string row is the one edited on both sides
        finally:
            bench.close()
    finally:
        backend.close()


def test_a_row_behind_an_id_in_a_fan_in_is_never_the_one_edited(tmp_path: Path) -> None:
    """``id -> Code`` before ``ref -> Code``: Code always holds the source's id (the first non-empty source),
    so ``edit-keeps-link`` edits another row, and the reverse of ``ref -> Code`` expects the reset to the id
    (before: the edit of ref was expected on Code, and the reset expected to empty Code)."""
    from generator.cases import mapping_cases
    from talkqa.runtime.checks import check_mapping

    document = generic_document([("id", "Code"), ("ref", "Code"), ("name", "Name")])
    backend = SimulatorsBackend("reference", [document])
    try:
        cases = [next(c for c in link_cases(document) if c["check"] == "edit-keeps-link"),
                 next(c for c in mapping_cases(document) if c["source"] == "ref" and c["direction"] == "reverse")]
        for n, case in enumerate(cases):
            bench = backend.bench(document, tmp_path / f"case-{n}")
            try:
                (check_link if case["kind"] == "link" else check_mapping)(bench, case)
            finally:
                bench.close()
    finally:
        backend.close()
