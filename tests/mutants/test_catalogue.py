"""Each mutant of the catalogue changes what the reference sync does (in-memory worlds), and only
while it is active; the plugin applies the one named by TALKQA_MUTANT."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from talkqa.fields import FieldSpec
from talkqa.mutants import CATALOGUE, Selector, UnknownMutant, activate, broken_rows, parse_spec
from talkqa.sync import engine
from tests.sync.docs import document, flow_text
from tests.sync.world import World

ROOT = Path(__file__).resolve().parents[2]
PERSON = [("name", "Name"), ("address.city", "City"), ("born", "BirthDate"), ("note", "Note")]


def world() -> World:
    return World(document(flow_text("Person", "Contact", PERSON)))


def under(spec: str | None, scenario: Callable[[], Any]) -> Any:
    """The scenario's outcome with the mutant ``spec`` active (None: the reference sync)."""
    if spec is None:
        return scenario()
    with activate(spec):
        return scenario()


def line_of(target: str) -> int:
    return next(r.line for r in world().document.flows[0].syncable_rows if r.target == target)


def created(values: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    """A source record with ``values`` is synced once: the target record."""

    def scenario() -> dict[str, Any]:
        w = world()
        a = w.source().put(values)
        w.sync()
        return w.target().records[w.target_of(a)]

    return scenario


def carried_back(target: str, value: Any) -> Callable[[], dict[str, Any]]:
    """A target edit after the first sync: the source record after the next sync."""

    def scenario() -> dict[str, Any]:
        w = world()
        a = w.source().put({"name": "Ann", "note": "n"})
        w.sync()
        w.target().edit(w.target_of(a), target, value)
        w.sync()
        return w.source().records[a]

    return scenario


def test_the_catalogue_has_the_documented_mutants():
    assert set(CATALOGUE) == {
        "drop-property", "swap-values", "trim", "truncate", "lowercase", "lose-non-ascii", "date-shift",
        "one-way", "duplicate", "forget-links", "echo", "ignore-clearing", "null-siblings", "wipe-unmapped",
        "case-blind", "first-page-only", "replace-nested", "skip-missing-nested", "conflict-target-wins",
        "conflict-unlogged", "skip-on-429",
    }
    assert all(m.summary and m.expect for m in CATALOGUE.values())
    assert {n for n, m in CATALOGUE.items() if m.row_specific} == {"drop-property", "swap-values"}


def test_parse_spec_reads_names_and_row_selectors():
    assert parse_spec("trim") == (CATALOGUE["trim"], None)
    assert parse_spec("drop-property@29") == (CATALOGUE["drop-property"], Selector(29))
    assert parse_spec("swap-values@some-doc:7") == (CATALOGUE["swap-values"], Selector(7, "some-doc"))
    for bad in ("nope", "trim@3", "drop-property@x", "drop-property@doc:"):
        with pytest.raises(UnknownMutant):
            parse_spec(bad)


def test_activate_patches_only_inside_the_block():
    original = engine._FlowRun.__init__
    with activate("lowercase"):
        assert engine._FlowRun.__init__ is not original
    assert engine._FlowRun.__init__ is original
    with pytest.raises(RuntimeError), activate("echo"):
        raise RuntimeError
    assert engine._FlowRun.__init__ is original
    assert under(None, created({"name": "Ann"}))["Name"] == "Ann"


def test_drop_property_forgets_the_first_target_of_each_flow():
    ok = under(None, created({"name": "Ann", "address": {"city": "Oslo"}}))
    bad = under("drop-property", created({"name": "Ann", "address": {"city": "Oslo"}}))
    assert ok == {"Name": "Ann", "City": "Oslo"}
    assert bad == {"City": "Oslo"}
    assert under(None, carried_back("Name", "Bo"))["name"] == "Bo"
    assert under("drop-property", carried_back("Name", "Bo"))["name"] == "Ann"


def test_drop_property_at_a_line_forgets_that_row_only():
    spec = f"drop-property@{line_of('City')}"
    assert under(spec, created({"name": "Ann", "address": {"city": "Oslo"}})) == {"Name": "Ann"}
    assert under(f"drop-property@alpha-beta:{line_of('City')}", created({"address": {"city": "Oslo"}})) == {}
    assert under(f"drop-property@other-doc:{line_of('City')}", created({"address": {"city": "Oslo"}})) == {
        "City": "Oslo"
    }


def test_swap_values_crosses_two_rows_in_both_directions():
    values = {"name": "Ann", "address": {"city": "Oslo"}}
    assert under(None, created(values)) == {"Name": "Ann", "City": "Oslo"}
    assert under("swap-values", created(values)) == {"Name": "Oslo", "City": "Ann"}
    assert under("swap-values", carried_back("Name", "Bo")) == {"name": "Ann", "note": "n", "address": {"city": "Bo"}}


def test_swap_values_pairs_only_rows_of_the_same_field_kinds():
    from talkqa.connectors.base import FieldSpec

    doc = world().document
    flow = doc.flows[0]
    src = {"name": FieldSpec("name"), "address.city": FieldSpec("address.city"), "born": FieldSpec("born", "date"),
           "note": FieldSpec("note")}
    tgt = {"Name": FieldSpec("Name"), "City": FieldSpec("City"), "BirthDate": FieldSpec("BirthDate", "date"),
           "Note": FieldSpec("Note")}
    rows = broken_rows(f"swap-values@{line_of('BirthDate')}", doc, lambda f: (src, tgt))
    assert rows == []  # the only date row has no partner
    rows = broken_rows(f"swap-values@{line_of('City')}", doc, lambda f: (src, tgt))
    assert [r.target for r in rows] == ["City", "Note"]
    assert [r.target for r in broken_rows("drop-property", doc, lambda f: (src, tgt))] == [flow.mappings[0].target]
    assert broken_rows("trim", doc, lambda f: (src, tgt)) == []


@pytest.mark.parametrize(
    ("spec", "sent", "arrives"),
    [
        ("trim", "  Ann  ", "Ann"),
        ("truncate", "Annabelle-Christina Fjellheim", "Annabelle-Christina "),
        ("lowercase", "Ann", "ann"),
        ("lose-non-ascii", "Åse Øvrebø", "se vreb"),
    ],
)
def test_string_mutants_distort_what_the_sync_writes_both_ways(spec: str, sent: str, arrives: str):
    assert under(None, created({"name": sent}))["Name"] == sent
    assert under(spec, created({"name": sent}))["Name"] == arrives
    assert under(None, carried_back("City", sent))["address"]["city"] == sent
    assert under(spec, carried_back("City", sent))["address"]["city"] == arrives


def test_truncate_leaves_short_strings_alone():
    assert under("truncate", created({"name": "x" * 20}))["Name"] == "x" * 20


def test_date_shift_writes_the_previous_day():
    born = dt.date(1980, 3, 1)
    assert under(None, created({"born": born}))["BirthDate"] == born
    assert under("date-shift", created({"born": born}))["BirthDate"] == dt.date(1980, 2, 29)
    assert under("date-shift", carried_back("BirthDate", dt.date(2000, 1, 1)))["born"] == dt.date(1999, 12, 31)
    assert under("date-shift", created({"name": "Ann"}))["Name"] == "Ann"


def test_one_way_resets_target_edits_instead_of_carrying_them_back():
    def scenario() -> tuple[Any, Any]:
        w = world()
        a = w.source().put({"name": "Ann"})
        w.sync()
        t = w.target_of(a)
        w.target().edit(t, "Name", "Bo")
        w.sync()
        return w.source().records[a]["name"], w.target().records[t]["Name"]

    assert under(None, scenario) == ("Bo", "Bo")
    assert under("one-way", scenario) == ("Ann", "Ann")


def source_edit_targets() -> tuple[int, Any]:
    """A source edit after the first sync: how many target records, and the linked one's value."""
    w = world()
    a = w.source().put({"name": "Ann"})
    w.sync()
    w.source().edit(a, "name", "Bo")
    w.sync()
    return len(w.target().records), w.target().records[w.target_of(a)]["Name"]


def test_duplicate_creates_a_new_target_on_every_source_edit():
    assert under(None, source_edit_targets) == (1, "Bo")
    assert under("duplicate", source_edit_targets) == (2, "Bo")


def test_forget_links_creates_again_and_drops_target_edits():
    assert under("forget-links", source_edit_targets) == (2, "Bo")
    assert under("forget-links", carried_back("Name", "Bo"))["name"] == "Ann"


def test_echo_writes_back_what_it_read_on_a_quiet_cycle():
    def scenario() -> int:
        w = world()
        w.source().put({"name": "Ann", "address": {"city": "Oslo"}})
        w.sync()
        return w.sync().writes

    assert under(None, scenario) == 0
    assert under("echo", scenario) > 0


def cleared(side: str) -> Callable[[], Any]:
    """A city emptied on one side after the first sync: the other side's city after the next sync."""

    def scenario() -> Any:
        w = world()
        a = w.source().put({"name": "Ann", "address": {"city": "Oslo"}})
        w.sync()
        t = w.target_of(a)
        if side == "source":
            w.source().edit(a, "address.city", None)
        else:
            w.target().edit(t, "City", None)
        w.sync()
        return w.target().records[t].get("City") if side == "source" else w.source().records[a]["address"].get("city")

    return scenario


@pytest.mark.parametrize("side", ["source", "target"])
def test_ignore_clearing_never_carries_an_emptied_value(side: str):
    assert under(None, cleared(side)) is None
    assert under("ignore-clearing", cleared(side)) == "Oslo"


def edited_name(fields: dict[str, FieldSpec] | None = None) -> Callable[[], dict[str, Any]]:
    """The target after a source edit of the name, with a field no row maps filled on the target."""

    def scenario() -> dict[str, Any]:
        w = world()
        w.target().fields = dict(fields or {})
        a = w.source().put({"name": "Ann", "address": {"city": "Oslo"}, "note": "n"})
        w.sync()
        t = w.target_of(a)
        w.target().edit(t, "Phone", "+47 1234")  # no row maps it
        w.sync()
        w.source().edit(a, "name", "Bo")
        w.sync()
        return w.target().records[t]

    return scenario


def test_null_siblings_empties_the_other_mapped_properties():
    before = under(None, edited_name())
    assert before["Name"] == "Bo" and before["City"] == "Oslo" and before["Note"] == "n"
    after = under("null-siblings", edited_name())
    assert after["Name"] == "Bo" and after["City"] is None and after["Note"] is None


def test_wipe_unmapped_empties_fields_no_row_maps():
    fields = {p: FieldSpec(p) for p in ("Name", "City", "BirthDate", "Note", "Phone")}
    fields["Required"] = FieldSpec("Required", required_on_create=True)
    assert under(None, edited_name(fields))["Phone"] == "+47 1234"
    after = under("wipe-unmapped", edited_name(fields))
    assert after["Name"] == "Bo" and after["City"] == "Oslo" and after["Phone"] is None


def case_only_edit() -> Any:
    w = world()
    a = w.source().put({"name": "Ann"})
    w.sync()
    w.source().edit(a, "name", "ANN")
    w.sync()
    return w.target().records[w.target_of(a)]["Name"]


def test_case_blind_ignores_a_case_only_edit_but_not_another():
    assert under(None, case_only_edit) == "ANN"
    assert under("case-blind", case_only_edit) == "Ann"
    assert under("case-blind", source_edit_targets) == (1, "Bo")


def synced_of_five() -> int:
    """Five source records on a system listing two a page, one sync: how many targets."""
    w = world()
    w.source().page_size = 2  # type: ignore[attr-defined]
    for name in "abcde":
        w.source().put({"name": name})
    w.sync()
    return len(w.target().records)


def test_first_page_only_sees_one_page_of_changes():
    assert under(None, synced_of_five) == 5
    assert under("first-page-only", synced_of_five) == 2


def city_edited_on_target(with_address: bool, fields: dict[str, FieldSpec] | None = None) -> Any:
    """A target City edit carried back to a person with (or without) an address: the person after it."""

    def scenario() -> Any:
        w = world()
        w.source().fields = dict(fields or {})
        a = w.source().put({"name": "Ann", **({"address": {"city": "Oslo", "zip": "0150"}} if with_address else {})})
        w.sync()
        w.target().edit(w.target_of(a), "City", "Bergen")
        w.sync()
        return w.source().records[a].get("address")

    return scenario


def test_skip_missing_nested_drops_edits_into_an_object_the_record_lacks():
    assert under(None, city_edited_on_target(False)) == {"city": "Bergen"}
    assert under("skip-missing-nested", city_edited_on_target(False)) in (None, {})
    assert under("skip-missing-nested", city_edited_on_target(True)) == {"city": "Bergen", "zip": "0150"}


def test_replace_nested_loses_the_objects_other_fields():
    fields = {p: FieldSpec(p) for p in ("name", "address.city", "address.zip", "born", "note")}
    assert under(None, city_edited_on_target(True, fields)) == {"city": "Bergen", "zip": "0150"}
    assert under("replace-nested", city_edited_on_target(True, fields))["zip"] is None


PLUGIN_TEST = """
from tests.sync.docs import document, flow_text
from tests.sync.world import World


def test_synced_name():
    w = World(document(flow_text("Person", "Contact", [("name", "Name")])))
    a = w.source().put({"name": "Ann"})
    w.sync()
    assert w.target().records[w.target_of(a)]["Name"] == "Ann"
"""


def _run_plugin(tmp_path: Path, mutant: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_plugin_probe.py").write_text(textwrap.dedent(PLUGIN_TEST))
    env = {k: v for k, v in os.environ.items() if k != "TALKQA_MUTANT"} | {"PYTHONPATH": str(ROOT)}
    if mutant:
        env["TALKQA_MUTANT"] = mutant
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "talkqa.mutants.plugin", "-p", "no:cacheprovider",
            "-p", "no:randomly", "--rootdir", str(tmp_path), str(tmp_path / "test_plugin_probe.py")]
    return subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_the_plugin_applies_the_mutant_named_by_the_environment(tmp_path: Path):
    assert _run_plugin(tmp_path, None).returncode == 0
    assert _run_plugin(tmp_path, "lowercase").returncode == 1
    unknown = _run_plugin(tmp_path, "no-such-mutant")
    assert unknown.returncode == 4 and "no mutant named" in unknown.stderr


def conflict() -> tuple[Any, Any, list[Any]]:
    """Both sides edit the name between two syncs: (source name, target name, the conflict log) after."""
    w = world()
    a = w.source().put({"name": "Ann", "note": "n"})
    w.sync()
    t = w.target_of(a)
    w.source().edit(a, "name", "Bo")
    w.target().edit(t, "Name", "Cy")
    w.sync()
    w.sync()
    return w.source().records[a]["name"], w.target().records[t]["Name"], w.state.conflicts()


def test_the_conflict_mutants_lose_an_edit_silently():
    name, other, log = under(None, conflict)
    assert (name, other) == ("Bo", "Bo") and [(c.lost_side, c.lost_value) for c in log] == [("target", "Cy")]
    name, other, log = under("conflict-target-wins", conflict)
    assert (name, other, log) == ("Cy", "Cy", [])  # the source's edit overwritten, nothing reported
    name, other, log = under("conflict-unlogged", conflict)
    assert (name, other, log) == ("Bo", "Bo", [])  # the right winner, but the loser is not reported


def test_skip_on_429_loses_a_record_whose_write_is_rate_limited(tmp_path: Path):
    from talkqa.runtime.backends import SimulatorsBackend
    from tests.spec.docwriter import FlowSpec, RowSpec
    from tests.systems.helpers import document as generic_document

    doc = generic_document("Acme", "Zenith", FlowSpec("Person", "Contact", "always", rows=(
        RowSpec("name", "FullName", '"string"'),)))

    def scenario() -> list[str]:
        backend = SimulatorsBackend("reference", [doc])
        try:
            # scheduled on the simulator as it starts (so its connectors go through the retrying HTTP client)
            backend.systems._faults = [{"kind": "rate_limit_burst", "count": 1, "method": "PATCH",
                                        "path": "contact"}]  # the first update of a Contact: one 429
            bench = backend.bench(doc, tmp_path / "bench", prepare=False)
            src, tgt = bench.pair(doc.flows[0])
            a = src.create({"name": "Ann"})
            bench.sync()
            src.update(a, {"name": "Bo"})
            bench.sync()  # its update of the Contact gets 429
            bench.sync()
            held = [c.record.get("FullName") for c in tgt.iter_all()]
            bench.close()
            return held
        finally:
            backend.close()

    assert under(None, scenario) == ["Bo"]  # waited as told, then carried the edit
    assert under("skip-on-429", scenario) == ["Ann"]  # gave up on the record, and the next sync moved on


@pytest.mark.parametrize("born_kind", ["date", "string"])
def test_date_shift_applies_only_where_a_row_is_a_date(born_kind: str):
    from talkqa.connectors.base import FieldSpec
    from talkqa.mutants.catalogue import inapplicable

    doc = world().document
    src = {"name": FieldSpec("name"), "address.city": FieldSpec("address.city"), "born": FieldSpec("born", born_kind),
           "note": FieldSpec("note")}
    tgt = {"Name": FieldSpec("Name"), "City": FieldSpec("City"), "BirthDate": FieldSpec("BirthDate", born_kind),
           "Note": FieldSpec("Note")}
    why = inapplicable("date-shift", [doc], [lambda f: (src, tgt)])
    assert (why is None) == (born_kind == "date")
    assert why is None or "date" in why
    assert inapplicable("trim", [doc], [lambda f: (src, tgt)]) is None  # no stated need: always applies


def test_swap_values_breaks_the_fan_in_rows_behind_the_crossed_ones():
    """A later row feeding a crossed target arrives only when the rows before it are empty; its test empties
    them, but the crossed row now feeding that target reads the other source, so the later row is broken
    too (and is named), while the reference sync carries it."""
    doc = document(flow_text("Person", "Contact", [("name", "Name"), ("city", "City"), ("alias", "Name"),
                                                    ("town", "City")]))
    rows = broken_rows("swap-values", doc, lambda f: ({}, {}))
    assert [(r.source, r.target) for r in rows] == [("name", "Name"), ("city", "City"), ("alias", "Name"),
                                                     ("town", "City")]

    def alias_arrives() -> Any:
        w = World(doc)
        a = w.source().put({"alias": "Al", "city": "Oslo"})  # the row before alias (name) empty, as its test has it
        w.sync()
        return w.target().records[w.target_of(a)].get("Name")

    assert under(None, alias_arrives) == "Al"
    assert under("swap-values", alias_arrives) == "Oslo"
