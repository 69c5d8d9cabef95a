"""Reading result messages and folding results: the parts of the report that are not HTML."""
from __future__ import annotations

import pytest

from talkqa.report.model import check_label, flow_summaries, parse_failure, worst
from tests.report.conftest import FUZZ_FAILURE, MAPPING_FAILURE, SMALL_FLOW, SMALL_ROWS, entry, small_entries


def test_mapping_failure_gives_expected_actual_and_the_reproduce_command() -> None:
    f = parse_failure(MAPPING_FAILURE, "ignored::nodeid")
    assert f.headline == "docs/alpha-beta.rst:25: Alpha Person to Beta Contact: email -> Email [forward]"
    assert f.expected == "'tq8240@example.com'"
    assert f.actual == "'TQ8240@EXAMPLE.COM!'"
    assert f.reproduce == (
        "pytest 'generated_tests/test_alpha_beta.py::test_mapping[Person.email->Contact.Email[forward]]'"
    )
    assert f.minimal is None and f.hypothesis is None


def test_fuzz_failure_gives_the_minimal_value_and_a_command_from_the_nodeid() -> None:
    f = parse_failure(FUZZ_FAILURE, "generated_tests/t.py::test_fuzz[a->b[forward]]")
    assert f.expected == "'0@example.no'"
    assert f.actual == "'0@EXAMPLE.NO!'"
    assert f.minimal == "value='0@example.no'"
    assert f.reproduce == "pytest 'generated_tests/t.py::test_fuzz[a->b[forward]]'"
    assert f.hypothesis == "@reproduce_failure('6.170.17', b'AIEwQQA=')"


@pytest.mark.parametrize(
    ("line", "expected", "actual"),
    [
        ("  after syncing, Contact.Email should be 'a'\n  but it is 'b'", "'a'", "'b'"),
        ("  after editing, the sync should write Contact.Email = 'a'\n  but it sent no value for it", "'a'",
         "no value sent"),
        ("  the sync read 5 but wrote no value for Contact.Age", "5", "no value written"),
        ("  sent 'x'\n  the target holds 'y'", "'x'", "'y'"),
    ],
)
def test_other_wordings_of_expected_and_actual(line: str, expected: str, actual: str) -> None:
    f = parse_failure(f"head\n{line}")
    assert (f.expected, f.actual) == (expected, actual)


def test_one_line_hypothesis_example_and_falsifying_wording() -> None:
    f = parse_failure("boom\nFalsifying example: survives(value=0)")
    assert f.minimal == "value=0"


def test_empty_message() -> None:
    assert parse_failure("", None).headline == "(no message)"


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
