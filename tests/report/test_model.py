"""Reading result messages and folding results: the parts of the report that are not HTML."""
from __future__ import annotations

from talkqa.report.model import check_label, flow_summaries, worst
from talkqa.verdicts import failure_of
from tests.report.conftest import MAPPING_FAILURE, SMALL_FLOW, SMALL_ROWS, entry, small_entries


def test_a_failure_record_reaches_the_report_unchanged() -> None:
    e = small_entries()[3]
    f = failure_of(e)
    assert f.to_json() == MAPPING_FAILURE
    assert (f.expected, f.actual) == ("'tq8240@example.com'", "'TQ8240@EXAMPLE.COM!'")
    assert f.headline.startswith("docs/alpha-beta.rst:25:")


def test_an_entry_without_a_record_is_an_error_with_its_text() -> None:
    f = failure_of(entry(25, "mapping", "forward", "failed", "boom\n  at somewhere"))
    assert (f.kind, f.headline, f.details) == ("error", "boom", ["at somewhere"])
    assert f.expected is None and f.minimal is None


def test_worst_state_of_a_row() -> None:
    assert worst(["passed", "failed", "skipped"]) == "failed"
    assert worst(["passed", "pending"]) == "pending"
    assert worst(["skipped", "passed"]) == "passed"
    assert worst(["skipped"]) == "skipped"
    assert worst([]) == "not-run"


def test_check_labels() -> None:
    assert check_label(entry(1, "mapping", "reverse", "passed")) == "reverse"
    assert check_label(entry(1, "fuzz", "forward", "passed")) == "fuzz →"
    assert check_label(entry(1, "link", "forward", "passed", case="edit-keeps-link")) == "edit-keeps-link"


def test_flow_summary_counts_each_column() -> None:
    [s] = flow_summaries([e for e in small_entries() if e["line"] != 999])
    assert s.flow == SMALL_FLOW
    fwd = s.cells["Forward"]
    assert (fwd.total, fwd.conforming, fwd.checked, fwd.state) == (4, 1, 2, "failed")
    assert s.cells["Reverse"].conforming == 3 and s.cells["Reverse"].state == "passed"
    assert s.cells["Fuzz →"].counts == {"passed": 1, "failed": 1}
    assert s.cells["Fuzz ←"].total == 0
    assert s.cells["Link policy"].counts == {"passed": 1, "failed": 1}
    assert s.state == "failed"
    assert SMALL_ROWS["name"] > s.line
