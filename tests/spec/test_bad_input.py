"""Bad input: one ``path:line: error: message`` per bad document, from the API and from the CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import generator.parser as parser_module
from generator.errors import SpecError
from generator.parser import parse_file, parse_text
from talkqa.cli import main
from tests.spec.docwriter import small_document

REPO = Path(__file__).resolve().parents[2]
ROWS = (("firstName", "FirstName", '"string"'), ("age", "Age", '"integer"'))
GOOD = small_document(rows=ROWS)  # rows on lines 24 and 27; directive on line 18

MATCH_INTRO = "A Alpha Contacts will merge with a Beta Persons if one of the following property combinations match:"
MAPPING_INTRO = "The following properties are synchronized between a Alpha Contacts and a Beta Persons:"


def _bad_utf8() -> bytes:
    lines = GOOD.encode("utf-8").split(b"\n")
    lines[26] = b"     - \xffge"  # line 27: the "Age" cell
    return b"\n".join(lines)


def _four_columns() -> bytes:
    text = GOOD.replace("     - Beta Data Type\n", "     - Beta Data Type\n     - Note\n")
    text = text.replace('     - "string"\n', '     - "string"\n     - x\n').replace(
        '     - "integer"\n', '     - "integer"\n     - y\n'
    )
    return text.encode()


def _three_columns_under_match_intro() -> bytes:
    return GOOD.replace(MAPPING_INTRO, MATCH_INTRO).encode()


def _missing_cell() -> bytes:
    return GOOD.replace("   * - age\n     - Age\n", "   * - age\n").encode()


#: name -> (bytes, expected line(s), message fragment)
BAD: dict[str, tuple[Callable[[], bytes], tuple[int, ...], str]] = {
    "not-utf8": (_bad_utf8, (27,), "not UTF-8 (byte 0xff"),
    "empty": (lambda: b"", (1,), "empty document"),
    "whitespace": (lambda: b"  \n\t\n\r\n   ", (1,), "empty document"),
    "plain-rst": (lambda: b"Hello\n=====\n\nSome text.\n", (1,), "not a dataflow document"),
    "no-title": (lambda: b"just a paragraph\nof text, no title.\n", (1,), "not a dataflow document"),
    "four-columns": (_four_columns, (18,), "the mapping table has 4 columns; expected 3"),
    "three-under-match": (_three_columns_under_match_intro, (18,), "the match table has 3 columns; expected 2"),
    # The row at line 27 lacks its type cell; the table (line 18) or the row may be blamed.
    "missing-cell": (_missing_cell, (27,), "table row 3 has 2 cells, row 1 has 3"),
}


def error_pattern(path: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(path)}:(\d+): error: (.+)$")


@pytest.mark.parametrize("name", sorted(BAD))
def test_parse_file_raises_spec_error_with_the_line(tmp_path: Path, name: str) -> None:
    make, lines, fragment = BAD[name]
    path = tmp_path / f"{name}.rst"
    path.write_bytes(make())
    with pytest.raises(SpecError) as info:
        parse_file(path)
    exc = info.value
    m = error_pattern(str(path)).match(str(exc))
    assert m, str(exc)
    assert "\n" not in str(exc)
    assert int(m.group(1)) == exc.line
    assert exc.line in lines
    assert fragment in exc.message
    assert exc.path == str(path)


@pytest.mark.parametrize("text", ["", "  \n\t\n\r\n   "])
def test_parse_text_refuses_empty_text(text: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_text(text, "doc.rst")
    assert str(info.value).startswith("doc.rst:1: error: ")


@pytest.mark.parametrize("name", sorted(set(BAD) - {"not-utf8", "empty", "whitespace"}))
def test_parse_text_raises_the_same(name: str) -> None:
    make, lines, fragment = BAD[name]
    with pytest.raises(SpecError) as info:
        parse_text(make().decode("utf-8"), "doc.rst")
    assert info.value.line in lines
    assert fragment in info.value.message
    assert error_pattern("doc.rst").match(str(info.value))


def test_good_document_parses() -> None:
    """The base the bad documents are derived from is itself good (so each failure above is the edit's)."""
    doc = parse_text(GOOD, "alpha-beta.rst")
    assert [(m.source, m.line) for m in doc.flows[0].mappings] == [("firstName", 24), ("age", 27)]
    assert doc.diagnostics == ()


def test_nul_character_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nul.rst"
    path.write_bytes(GOOD.encode().replace(b"firstName", b"first\x00Name"))
    with pytest.raises(SpecError) as info:
        parse_file(path)
    assert info.value.line == 24


def _write_huge(path: Path, size: int = 50 * 1024 * 1024) -> None:
    """A real-looking document of ``size`` bytes: the small one followed by many rows."""
    row = b'   * - someProperty.path\n     - SomeTarget\n     - "string"\n'
    head = GOOD.encode()
    with path.open("wb") as f:
        f.write(head)
        f.write(row * ((size - len(head)) // len(row) + 1))


def test_huge_file_is_refused_quickly_without_docutils(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.rst"
    _write_huge(path)
    assert path.stat().st_size >= 50 * 1024 * 1024

    def no_docutils(*args: object, **kwargs: object) -> None:
        raise AssertionError("docutils was handed the huge file")

    monkeypatch.setattr(parser_module, "parse_rst", no_docutils)
    start = time.perf_counter()
    with pytest.raises(SpecError) as info:
        parse_file(path)
    assert time.perf_counter() - start < 1.0
    assert info.value.line == 1
    assert "too large" in info.value.message
    assert error_pattern(str(path)).match(str(info.value))


def test_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.rst"
    with pytest.raises(SpecError) as info:
        parse_file(path)
    assert str(info.value) == f"{path}:1: error: cannot read: No such file or directory"


# -- through the CLI ---------------------------------------------------------------------------


@pytest.fixture
def bad_and_good(tmp_path: Path) -> tuple[list[Path], list[Path]]:
    bad = []
    for name, (make, _, _) in sorted(BAD.items()):
        p = tmp_path / f"{name}.rst"
        p.write_bytes(make())
        bad.append(p)
    huge = tmp_path / "huge.rst"
    _write_huge(huge)
    bad += [huge, tmp_path / "absent.rst"]
    good = [tmp_path / "alpha-beta.rst", tmp_path / "gamma-delta.rst"]
    good[0].write_text(GOOD, encoding="utf-8")
    good[1].write_text(small_document("Gamma", "Delta", rows=(("zeta", "Eta", '"float"'),)), encoding="utf-8")
    return bad, good


def _expected_lines(path: Path) -> tuple[int, ...]:
    name = path.stem
    return BAD[name][1] if name in BAD else (1,)


@pytest.mark.parametrize("command", [["model"], ["model", "--json"], ["lint"], ["lint", "--strict"]])
def test_cli_reports_each_bad_file_once_and_prints_the_good(
    bad_and_good: tuple[list[Path], list[Path]], command: list[str]
) -> None:
    bad, good = bad_and_good
    args = [*command, str(good[0]), *map(str, bad), str(good[1])]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    err_lines = result.stderr.splitlines()
    assert len(err_lines) == len(bad)
    for path, line in zip(bad, err_lines, strict=True):  # in the order given
        m = error_pattern(str(path)).match(line)
        assert m, line
        assert int(m.group(1)) in _expected_lines(path)
    assert "cannot read" in err_lines[-1]
    assert "too large" in err_lines[-2]
    if command[0] == "model":
        assert str(good[0]) in result.stdout and str(good[1]) in result.stdout
        assert "Alpha to Beta Dataflow" in result.stdout and "Gamma to Delta Dataflow" in result.stdout
    else:
        assert result.stdout.splitlines()[-1].startswith(f"2 documents, {len(bad)} unreadable, 0 errors")


def test_cli_subprocess_has_no_traceback(bad_and_good: tuple[list[Path], list[Path]]) -> None:
    bad, good = bad_and_good
    exe = Path(sys.executable).with_name("talkqa")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from talkqa.cli import main; main()"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    proc = subprocess.run(
        [*cmd, "model", "--json", *map(str, bad), str(good[0])],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
        check=False,
    )
    assert time.perf_counter() - start < 20
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    err_lines = proc.stderr.splitlines()
    assert len(err_lines) == len(bad)
    assert all(error_pattern(str(p)).match(line) for p, line in zip(bad, err_lines, strict=True))
    assert '"title": "Alpha to Beta Dataflow"' in proc.stdout
