"""The one summariser (talkqa/verdicts.py): a verdict is never greener than what was checked."""
from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from talkqa.runtime.failures import Failure
from talkqa.verdicts import BUDGET_PREFIX, SYMBOL, summarise

OUTCOMES = ("passed", "failed", "skipped", "pending")


@st.composite
def runs(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Entries of one document with up to 3 flows of up to 4 rows, and its documents section."""
    flows = []
    entries = []
    line = 10
    for f in range(draw(st.integers(1, 3))):
        title = f"Flow {f}"
        flow_line = line
        rows = []
        for _ in range(draw(st.integers(0, 4))):
            line += 3
            rows.append({"line": line, "label": f"A.p{line} -> B.q{line}"})
            for kind, direction in draw(st.lists(st.sampled_from(
                    [("mapping", "forward"), ("mapping", "reverse"), ("fuzz", "forward"), ("fuzz", "reverse")]),
                    unique=True, max_size=4)):
                entries.append(_entry(title, line, kind, direction, draw(st.sampled_from(OUTCOMES))))
        for check in draw(st.lists(st.sampled_from(["creates-one", "keeps-link"]), unique=True, max_size=2)):
            entries.append(_entry(title, flow_line, "link", "forward", draw(st.sampled_from(OUTCOMES)), check))
        flows.append({"title": title, "line": flow_line, "rows": rows})
        line += 10
    return entries, [{"path": "d.rst", "flows": flows}]


def _entry(flow: str, line: int, kind: str, direction: str, outcome: str, check: str = "") -> dict[str, Any]:
    failure = None
    if outcome == "failed":
        failure = Failure(kind="value", document="d.rst", line=line, flow=flow, row="p -> q", direction=direction,
                          message=f"d.rst:{line}: broken\n  expected 'a'\n  but it is 'b'", expected="'a'",
                          actual="'b'").to_json()
    return {"nodeid": f"t.py::test_{kind}[{flow}-{line}-{direction}-{check}]", "document": "d.rst", "line": line,
            "flow": flow, "kind": kind, "direction": direction, "case_id": f"{line}[{direction}]", "outcome": outcome,
            "message": failure["message"] if failure else ("why not" if outcome in ("skipped", "pending") else ""),
            "check": check, "failure": failure, "reason": "why not" if outcome in ("skipped", "pending") else ""}


@given(runs())
def test_a_flow_is_marked_conforming_only_when_something_was_checked_and_nothing_failed_or_waits(
        run: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    entries, documents = run
    summary = summarise(entries, documents)
    for flow in summary.flows:
        states = {e["outcome"] for e in entries if e["flow"] == flow.flow}
        conforming = "passed" in states and not states & {"failed", "pending"}
        assert (flow.state == "passed") == conforming
        line = next(ln for ln in summary.lines() if f" {flow.flow} (line {flow.line})" in ln)
        assert line.lstrip().startswith(SYMBOL["passed"]) == conforming


@given(runs(), st.booleans(), st.one_of(st.none(), st.floats(0, 100)))
def test_the_exit_code_is_never_greener_than_what_was_checked(
        run: tuple[list[dict[str, Any]], list[dict[str, Any]]], strict: bool, min_checked: float | None) -> None:
    entries, documents = run
    summary = summarise(entries, documents)
    code, why = summary.exit_code(strict=strict, min_checked=min_checked)
    outcomes = [e["outcome"] for e in entries]
    rows = [r for f in documents[0]["flows"] for r in f["rows"]]
    by_row: dict[int, set[str]] = {}
    for e in entries:
        if e["kind"] != "link":
            by_row.setdefault(e["line"], set()).add(e["outcome"])
    # a row is checked when a check of it failed, or one passed and none of it still waits (pending)
    checked_rows = {line for line, states in by_row.items()
                    if "failed" in states or ("passed" in states and "pending" not in states)}
    if "failed" in outcomes or (strict and "pending" in outcomes):
        assert code == 1
    elif "passed" not in outcomes:
        assert code == 5 and "nothing was checked" in why
    elif min_checked is not None and 100 * len(checked_rows) / len(rows or [None]) < min_checked - 1e-9:
        assert code == 1 and "--min-checked" in why
    else:
        assert code == 0
    totals = summary.totals_line()
    assert totals.startswith(f"rows: {len(checked_rows)} of {len(rows)} checked")


@given(runs())
def test_every_failure_is_annotated_once_on_its_row_and_decodes_to_its_message(
        run: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    entries, documents = run
    annotations = summarise(entries, documents).annotations()
    failed = [e for e in entries if e["outcome"] == "failed"]
    assert len(annotations) == len(failed)
    for line, e in zip(sorted(annotations), sorted(
            f"::error file=d.rst,line={e['line']}," for e in failed), strict=True):
        assert line.startswith(e)
        assert "\n" not in line
        body = line.split("::", 2)[2]
        assert body.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%").startswith("d.rst:")


def test_reasons_are_grouped_with_counts_not_listed_per_test() -> None:
    entries = [_entry("F", 10 + i, "mapping", "forward", "skipped") for i in range(30)]
    lines = summarise(entries).lines()
    assert sum("why not" in ln for ln in lines) == 1
    assert any("30× (e.g. d.rst:10) why not" in ln for ln in lines)


@given(runs(), st.data())
def test_a_check_not_run_for_want_of_api_budget_never_counts_as_checked_or_green(
        run: tuple[list[dict[str, Any]], list[dict[str, Any]]], data: st.DataObject) -> None:
    """Turn some checks into "not run: API budget ... spent" skips: their rows and flows are never
    conforming on their account, they are listed under "not run", and the run exits 1 unless it failed."""
    entries, documents = run
    if not entries:
        return
    spent = data.draw(st.sets(st.integers(0, len(entries) - 1), min_size=1))
    for i in spent:
        entries[i] = {**entries[i], "outcome": "skipped", "failure": None,
                      "reason": f"{BUDGET_PREFIX}exact spent (5000 calls)", "message": ""}
    summary = summarise(entries, documents)
    code, why = summary.exit_code()
    assert code == 1
    if not any(e["outcome"] == "failed" for e in entries):
        assert "API budget" in why
    for row in summary.rows():
        if any(i in spent for i, e in enumerate(entries) if e in row.checks):
            assert row.state not in ("passed", "skipped")
    lines = summary.lines()
    heads = {ln.split(" (")[0]: i for i, ln in enumerate(lines) if ln.endswith("reason(s)):")}
    assert "not run" in heads
    for i, ln in enumerate(lines):
        if BUDGET_PREFIX in ln:  # listed under "not run", never under "not checkable"
            assert heads["not run"] < i < heads.get("not checkable", len(lines)) or heads.get(
                "not checkable", -1) < heads["not run"] < i
