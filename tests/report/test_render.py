"""The report's HTML, read back with html.parser: rows marked by line, findings, summary, no assets."""
from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from generator.parser import parse_text
from talkqa.cli import main
from talkqa.report import write_report
from tests.report.conftest import SMALL_DOC, SMALL_FLOW_LINE, SMALL_ROWS, RealRun
from tests.report.htmlrows import detail_text, parse, row_states


def test_the_fixture_lines_are_the_lines_the_parser_reads() -> None:
    doc = parse_text(SMALL_DOC, "docs/alpha-beta.rst")
    [flow] = doc.flows
    assert flow.line == SMALL_FLOW_LINE
    assert {m.source: m.line for m in flow.mappings} == SMALL_ROWS


def test_every_data_row_is_marked_with_the_state_of_its_results(small_doc: tuple[Path, Path]) -> None:
    root, results = small_doc
    page = write_report(results, root / "report.html", root=root).read_text(encoding="utf-8")
    assert row_states(page) == {
        SMALL_ROWS["name"]: "passed",
        SMALL_ROWS["email"]: "failed",
        SMALL_ROWS["phone"]: "pending",
        SMALL_ROWS["fax"]: "skipped",
        SMALL_ROWS["born"]: "not-run",
        999: "failed",  # not on any row: listed under the document
    }
    rows = parse(page).rows
    by_line = {r.attrs.get("data-line"): r for r in rows}
    assert "talkqa-failed" in by_line[str(SMALL_ROWS["email"])].classes
    assert "email" in by_line[str(SMALL_ROWS["email"])].text
    headers = [r for r in rows if "Alpha Person Property" in r.text]
    assert headers and "data-talkqa-state" not in headers[0].attrs and "Checked" in headers[0].text


def test_a_failed_row_shows_direction_expected_actual_minimal_value_and_reproduce(small_doc: tuple[Path, Path]) -> None:
    root, results = small_doc
    page = write_report(results, root / "report.html", root=root).read_text(encoding="utf-8")
    text = detail_text(page, SMALL_ROWS["email"])
    for part in (
        "forward (mapping)", "'tq8240@example.com'", "'TQ8240@EXAMPLE.COM!'",
        "pytest 'generated_tests/test_alpha_beta.py::test_mapping[Person.email->Contact.Email[forward]]'",
        "forward (fuzz)", "Minimal failing value", "@reproduce_failure('6.170.17', b'AIEwQQA=')",
    ):
        assert part in text, part
    assert "no recorded HTTP answers" in detail_text(page, SMALL_ROWS["phone"])
    assert "no field 'Fax'" in detail_text(page, SMALL_ROWS["fax"])
    assert detail_text(page, SMALL_ROWS["name"]) == ""


def test_link_policy_checks_sit_under_the_flow_title_and_in_the_summary(small_doc: tuple[Path, Path]) -> None:
    root, results = small_doc
    page = write_report(results, root / "report.html", root=root).read_text(encoding="utf-8")
    panels = [a for t, a in parse(page).tags if "talkqa-flow-checks" in a.get("class", "").split()]
    assert [p["data-talkqa-state"] for p in panels] == ["failed"]
    flow_title = page.index(">Alpha Person to Beta Contact</h2>")
    panel = page.index("talkqa-flow-checks", flow_title)
    assert panel < page.index("Every Alpha Person will be synchronized")
    assert "the second sync changed [&#x27;Email&#x27;]" in page or "the second sync changed ['Email']" in page
    summary = page[: page.index("</header>")]
    cells = dict(re.findall(r'data-column="([^"]+)">([^<]*)', summary))
    assert cells == {"Forward": "✗ 1/3",  # the row at line 999 is in this flow too
                     "Reverse": "✓ 3/3", "Fuzz →": "✗ 1/2", "Link policy": "✗ 1/2"}
    totals = dict(re.findall(r'data-talkqa-total="(\w+)"><b>(\d+)</b>', summary))
    assert totals == {"passed": "6", "failed": "4", "pending": "1", "skipped": "1"}
    assert f'href="#talkqa-d0-L{SMALL_ROWS["email"]}"' in summary


def test_the_page_is_self_contained(small_doc: tuple[Path, Path]) -> None:
    root, results = small_doc
    doc = root / "docs" / "alpha-beta.rst"
    doc.write_text(
        doc.read_text(encoding="utf-8")
        + "\n.. image:: https://example.com/logo.png\n\n.. raw:: html\n\n   <script>alert(1)</script>\n\n"
        ".. include:: /etc/hostname\n",
        encoding="utf-8",
    )
    page = write_report(results, root / "report.html", root=root).read_text(encoding="utf-8")
    tags = parse(page).tags
    assert not [t for t, _ in tags if t in ("script", "link", "img", "iframe", "object", "embed")]
    assert not [a for _, a in tags if "src" in a]
    assert "<style" in page and "@media print" in page
    assert "alert(1)" not in page
    assert Path("/etc/hostname").read_text().strip() not in page or not Path("/etc/hostname").read_text().strip()


def test_a_missing_document_still_lists_its_results(tmp_path: Path) -> None:
    results = tmp_path / "r.json"
    results.write_text(json.dumps([{
        "nodeid": "t::x", "document": "gone.rst", "line": 5, "flow": "F", "kind": "mapping", "direction": "forward",
        "case_id": "a->b[forward]", "outcome": "failed", "message": "boom", "duration": 0.0,
    }]), encoding="utf-8")
    page = write_report(results, tmp_path / "out.html", root=tmp_path).read_text(encoding="utf-8")
    assert "could not read the document" in page
    assert row_states(page) == {5: "failed"}


def test_documents_option_limits_the_report(small_doc: tuple[Path, Path]) -> None:
    root, results = small_doc
    other = root / "other.rst"
    other.write_text(SMALL_DOC, encoding="utf-8")
    page = write_report(results, root / "o.html", documents=[str(other)], root=root).read_text(encoding="utf-8")
    assert set(row_states(page).values()) == {"not-run"}  # no result names other.rst


def test_the_report_command(small_doc: tuple[Path, Path]) -> None:
    root, results = small_doc
    out = root / "cli.html"
    r = CliRunner().invoke(main, ["report", str(results), "--out", str(out), "--root", str(root)])
    assert r.exit_code == 0, r.output
    assert row_states(out.read_text(encoding="utf-8"))[SMALL_ROWS["email"]] == "failed"
    bad = CliRunner().invoke(main, ["report", str(root / "missing.json"), "--out", str(out)])
    assert bad.exit_code == 2


def test_the_report_of_a_real_run_with_a_known_failure(real_run: RealRun) -> None:
    from tests.report.conftest import BROKEN_LINES, CONFORMING_LINES, SEED_FLOW_LINE

    failed = {e["line"] for e in real_run.entries if e["outcome"] == "failed"}
    # the broken rows, and the flow whose checks beyond one value (case edits, collateral) see the
    # broken e-mail too; the rows that conform stay green
    assert failed == {*BROKEN_LINES, SEED_FLOW_LINE}
    states = row_states(real_run.report.read_text(encoding="utf-8"))
    assert {line: states[line] for line in BROKEN_LINES} == dict.fromkeys(BROKEN_LINES, "failed")
    assert {line: states[line] for line in CONFORMING_LINES} == dict.fromkeys(CONFORMING_LINES, "passed")
    page = real_run.report.read_text(encoding="utf-8")
    text = detail_text(page, BROKEN_LINES[0])
    assert "Expected" in text and "Actual" in text and "Minimal failing value" in text and "reproduce" in text.lower()
    assert "EXAMPLE" in text  # the broken sync's upper-cased value
