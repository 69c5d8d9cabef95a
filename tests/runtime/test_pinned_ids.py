"""Rows around a property that holds an id (issue 9, the last corpus failures):

* ``X -> id`` beside ``X -> Y`` (two-way): the sync writes the target's id into X when it links, and
  carries it on to Y in the same run (a second run has nothing to do); an edit of Y cannot be carried
  back into X (X holds the id), so that reverse is set aside with the reason, and the forward checks
  edit X after linking;
* ``Y -> X`` before ``id -> X`` (fan-in): the first non-empty source wins, so the id row's check starts
  with Y empty, and the reverse of the id row is the other row's to check;
* two sections from one source entity to two entities both writing their target's id into X: X holds
  one id, not both; set aside with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.cases import fuzz_cases, mapping_cases
from generator.model import Document
from talkqa.runtime.backends import SimulatorsBackend
from talkqa.runtime.checks import Unsupported, check_mapping
from talkqa.runtime.fuzz import one_example
from talkqa.sync.engine import SyncEngine
from talkqa.sync.state import SyncState
from talkqa.testing.memory import IdentifiedMemoryResource, MemoryResource
from tests.spec.docwriter import FlowSpec, RowSpec
from tests.systems.helpers import document


def doc_of(*flows: FlowSpec) -> Document:
    return document("Acme", "Zeta", *flows)  # acme-zeta.rst: two systems no plugin serves


def flow(source: str, target: str, *rows: tuple[str, str], condition: dict[int, tuple] | None = None) -> FlowSpec:
    """An ``always``, two-way flow of string rows; ``condition``: row index -> the row's condition."""
    return FlowSpec(source, target, "always", rows=tuple(
        RowSpec(s, t, '"string"', (condition or {}).get(n)) for n, (s, t) in enumerate(rows)))


PINNED = flow("Order", "Order", ("note", "Note"), ("customer.ref", "CustomerRef"), ("customer.ref", "id"))
FAN_IN = flow("Order", "Quote", ("note", "Note"), ("customer.ref", "Address"), ("id", "Address"))
TWO_IDS = (flow("Address", "Org", ("city", "City"), ("sub", "id")),
           flow("Address", "Person", ("city", "Town"), ("sub", "id")))
FAN_OUT = flow("Firm", "Org", ("country", "Country"), ("num", "Number"), ("num", "OrgNo"),
               condition={2: ("target", (("NO", "Country"),))})


@pytest.fixture(scope="module")
def backend() -> Iterator[SimulatorsBackend]:
    docs = [document("Acme", "Zeta", PINNED, name="pinned.rst"), document("Acme", "Zeta", FAN_IN, name="fan-in.rst"),
            document("Acme", "Zeta", *TWO_IDS, name="two-ids.rst")]
    made = SimulatorsBackend("reference", docs)
    yield made
    made.close()


def doc(backend: SimulatorsBackend, name: str) -> Document:
    return next(d for d in backend.systems.documents if d.path == name)


def run(backend: SimulatorsBackend, document: Document, case: dict, tmp_path: Path) -> None:
    bench = backend.bench(document, tmp_path / case["id"], flow=case["flow"])
    try:
        check_mapping(bench, case)
    finally:
        bench.close()


def test_the_written_back_id_reaches_the_other_targets_in_the_same_run() -> None:
    document = doc_of(PINNED)
    resources: dict[tuple[str, str], MemoryResource] = {}

    def resolve(slug: str, label: str) -> MemoryResource:
        return resources.setdefault((slug, label), IdentifiedMemoryResource(slug, label, prefix=slug[0]))

    state = SyncState()
    order = resolve("acme", "Order").put({"note": "n", "customer": {"ref": "c-1"}})
    SyncEngine(document, resolve, state).run_once()
    target = resolve("zeta", "Order")
    (target_id,) = target.records
    assert resolve("acme", "Order").records[order]["customer"]["ref"] == target_id
    assert target.records[target_id]["CustomerRef"] == target_id  # before: written by the second run only
    writes = (resolve("acme", "Order").writes, target.writes)
    SyncEngine(document, resolve, state).run_once()
    assert (resolve("acme", "Order").writes, target.writes) == writes  # nothing left to do


def test_a_row_whose_source_holds_the_target_id_is_checked_forward_and_set_aside_in_reverse(
        backend: SimulatorsBackend, tmp_path: Path) -> None:
    document = doc(backend, "pinned.rst")
    cases = {(c["target"], c["direction"]): c for c in mapping_cases(document)}
    run(backend, document, cases[("CustomerRef", "forward")], tmp_path)
    with pytest.raises(Unsupported, match=r"line \d+ writes the target's id into customer.ref"):
        run(backend, document, cases[("CustomerRef", "reverse")], tmp_path)
    (fuzz,) = [c for c in fuzz_cases(document) if c["target"] == "CustomerRef" and c["direction"] == "forward"]
    bench = backend.bench(document, tmp_path / "fuzz", flow=fuzz["flow"])
    try:
        one_example(bench, fuzz, "Øre-Åsa")  # before: the value was overwritten by the id when linked
    finally:
        bench.close()


def test_an_id_row_into_a_fanned_in_field_starts_with_the_earlier_source_empty(
        backend: SimulatorsBackend, tmp_path: Path) -> None:
    document = doc(backend, "fan-in.rst")
    cases = {(c["source"], c["direction"]): c for c in mapping_cases(document)}
    run(backend, document, cases[("id", "forward")], tmp_path)  # before: Address held customer.ref's value
    with pytest.raises(Unsupported, match="not the row that carries edits back"):
        run(backend, document, cases[("id", "reverse")], tmp_path)


def test_two_sections_writing_their_ids_into_one_property_are_set_aside(
        backend: SimulatorsBackend, tmp_path: Path) -> None:
    document = doc(backend, "two-ids.rst")
    for case in mapping_cases(document):
        if case["target"] == "id" and case["direction"] == "forward":
            with pytest.raises(Unsupported, match=r"another section \(line \d+\) also writes its target's id"):
                run(backend, document, case, tmp_path)
        elif case["direction"] == "forward":
            run(backend, document, case, tmp_path)



@pytest.mark.parametrize("country", ["NO", "FI"])
def test_a_fan_out_edit_follows_only_through_rows_whose_condition_holds(country: str) -> None:
    """An edit of Number goes back to num, and num's other targets follow: OrgNo only while the target's
    Country is NO (before: OrgNo was written whatever the country, damage no-collateral-damage found)."""
    document = doc_of(FAN_OUT)
    resources: dict[tuple[str, str], MemoryResource] = {}

    def resolve(slug: str, label: str) -> MemoryResource:
        return resources.setdefault((slug, label), IdentifiedMemoryResource(slug, label, prefix=slug[0]))

    state = SyncState()
    firm = resolve("acme", "Firm").put({"country": country, "num": "n-1"})
    SyncEngine(document, resolve, state).run_once()
    org = resolve("zeta", "Org")
    (org_id,) = org.records
    before = org.records[org_id].get("OrgNo")
    org.edit(org_id, "Number", "n-2")
    SyncEngine(document, resolve, state).run_once()
    assert resolve("acme", "Firm").records[firm]["num"] == "n-2"
    assert org.records[org_id].get("OrgNo") == ("n-2" if country == "NO" else before)
