"""``talkqa report`` does not trust its results file (issue 12, item 2).

A document the results name is read only when it is a regular file of bounded size inside
``--root`` (resolved: no escape through ``..`` or symlinks); every other one is refused with a
note in the report and one stderr line, and the good documents are still rendered. The results
JSON itself is bounded in size and nesting depth, and checked entry by entry.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

import talkqa.report.inputs as report_inputs
from talkqa.report.inputs import MAX_DOCUMENT_BYTES, MAX_RESULTS_DEPTH, _open_beneath, load_results, read_source
from tests.inputs.helpers import errors_for, good_document, run, write

GOOD = "docs/alpha-beta.rst"


def entry(document: str, line: int = 12, **extra: Any) -> dict[str, Any]:
    return {"nodeid": "t.py::test_x", "document": document, "line": line, "flow": "F", "kind": "mapping",
            "direction": "forward", "case_id": "a->b[forward]", "outcome": "failed", "message": "boom",
            "duration": 0.0, **extra}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The --root folder, with one good document; a secret file beside it (outside it)."""
    folder = tmp_path / "root"
    write(folder / GOOD, good_document())
    write(tmp_path / "secret.rst", good_document().replace("Generated:", f"Generated: {SECRET}"))
    return folder


SECRET = f"SECRET-{uuid.uuid4().hex}"


def report(root: Path, names: list[str], *extra: str) -> tuple[Any, str]:
    results = write(root.parent / "results.json", json.dumps([entry(GOOD), *map(entry, names)]))
    out = root.parent / "report.html"
    result = run("report", results, "--out", out, "--root", root, *extra)
    return result, out.read_text(encoding="utf-8") if out.exists() else ""


def assert_refused(result: Any, page: str, name: str, reason: str) -> None:
    assert result.exit_code == 2, result.output
    (line,) = errors_for(result.stderr, name)
    assert reason in line, line
    assert f'data-document="{name}"' in page, "the refused document has no place in the report"
    assert SECRET not in page and "root:x:0:0" not in page
    assert "Alpha to Beta Dataflow" in page, "the good document was not rendered"


@pytest.mark.parametrize("name", ["../secret.rst", "docs/../../secret.rst", "/etc/passwd", "{tmp}/secret.rst"])
def test_a_document_outside_the_root_is_refused(root: Path, name: str) -> None:
    name = name.format(tmp=root.parent)
    result, page = report(root, [name])
    assert_refused(result, page, name, "outside the --root folder")


def test_a_symlink_out_of_the_root_is_refused(root: Path) -> None:
    (root / "docs" / "link.rst").symlink_to(root.parent / "secret.rst")
    (root / "outside").symlink_to(root.parent, target_is_directory=True)
    for name in ("docs/link.rst", "outside/secret.rst"):
        result, page = report(root, [name])
        assert_refused(result, page, name, "outside the --root folder")


def test_a_symlink_within_the_root_is_followed(root: Path) -> None:
    (root / "docs" / "same.rst").symlink_to("alpha-beta.rst")
    result, page = report(root, ["docs/same.rst"])
    assert result.exit_code == 0, result.output
    assert page.count("Alpha to Beta Dataflow") >= 2


@pytest.mark.parametrize("kind", ["fifo", "folder", "too-large", "missing", "loop", "device"])
def test_what_is_not_a_regular_file_of_bounded_size_is_refused(root: Path, kind: str) -> None:
    name = f"docs/{kind}.rst"
    path = root / name
    reason = {"fifo": "a FIFO", "folder": "a folder", "too-large": "too large", "missing": "No such file",
              "loop": "symbolic links", "device": "a character device"}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "too-large":
        with path.open("wb") as f:  # sparse: cheap to make, MAX_DOCUMENT_BYTES + 1 to read
            f.truncate(MAX_DOCUMENT_BYTES + 1)
    elif kind == "loop":
        path.symlink_to(path.name)
    elif kind == "device":
        name = "/dev/zero"
        result, page = report(root, [name], "--root", "/")
        assert result.exit_code == 2 and reason in errors_for(result.stderr, name)[0]
        return
    result, page = report(root, [name])
    assert_refused(result, page, name, reason)


def test_the_document_option_is_held_to_the_root_too(root: Path) -> None:
    results = write(root.parent / "results.json", json.dumps([entry(GOOD)]))
    out = root.parent / "report.html"
    result = run("report", results, "--out", out, "--root", root, "--document", GOOD, "--document", "/etc/passwd")
    assert result.exit_code == 2
    assert len(errors_for(result.stderr, "/etc/passwd")) == 1
    page = out.read_text(encoding="utf-8")
    assert "root:x:0:0" not in page and "Alpha to Beta Dataflow" in page


def test_open_beneath_follows_no_symlink_even_one_swapped_in(tmp_path: Path) -> None:
    """The walk that opens a document refuses a symlink in any component (as after a swap)."""
    write(tmp_path / "elsewhere" / "doc.rst", "x")
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "sub").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(OSError):
        _open_beneath(tmp_path / "root", Path("sub/doc.rst"), "sub/doc.rst")
    (tmp_path / "root" / "doc.rst").symlink_to(tmp_path / "elsewhere" / "doc.rst")
    with pytest.raises(OSError):
        _open_beneath(tmp_path / "root", Path("doc.rst"), "doc.rst")


def test_read_source_without_a_root_reads_anywhere_but_only_regular_files(tmp_path: Path) -> None:
    doc = write(tmp_path / "a.rst", "text")
    assert read_source(str(doc), None) == b"text"
    with pytest.raises(Exception, match="character device"):
        read_source("/dev/zero", None)


# -- the results file ---------------------------------------------------------------------------------


def test_deeply_nested_results_are_one_line_and_exit_2(tmp_path: Path) -> None:
    results = write(tmp_path / "deep.json", "[" * 200_000 + "]" * 200_000)
    out = write(tmp_path / "report.html", "the previous report")
    result = run("report", results, "--out", out, "--root", tmp_path)
    assert result.exit_code == 2
    (line,) = errors_for(result.stderr, results)
    assert f"nested more than {MAX_RESULTS_DEPTH} levels" in line
    assert out.read_text(encoding="utf-8") == "the previous report"


def test_nesting_up_to_the_limit_is_read(tmp_path: Path) -> None:
    nested: Any = 1
    for _ in range(MAX_RESULTS_DEPTH - 2):  # inside a list of objects
        nested = [nested]
    ok = write(tmp_path / "ok.json", json.dumps([entry(GOOD, extra=nested)]))
    assert len(load_results(ok)[0]) == 1
    too_deep = write(tmp_path / "deep.json", json.dumps([entry(GOOD, extra=[nested])]))
    with pytest.raises(Exception, match="nested more than"):
        load_results(too_deep)


def test_results_larger_than_the_limit_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_inputs, "MAX_RESULTS_BYTES", 1000)
    results = write(tmp_path / "big.json", json.dumps([entry(GOOD)] * 10))
    result = run("report", results, "--out", tmp_path / "r.html", "--root", tmp_path)
    assert result.exit_code == 2
    assert "too large" in errors_for(result.stderr, results)[0]
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("device", None, "a character device"),
        ("not-json", b"[{]", "not JSON"),
        ("not-utf8", b'["\xff"]', "not UTF-8"),
        ("object", b"{}", "not talkqa-results"),
        ("folder", "dir", "a folder"),
    ],
)
def test_results_that_cannot_be_read_are_one_line(tmp_path: Path, name: str, data: Any, fragment: str) -> None:
    if data is None:
        path = Path("/dev/zero")
    elif data == "dir":
        path = tmp_path / "results"
        path.mkdir()
    else:
        path = write(tmp_path / f"{name}.json", data)
    result = run("report", path, "--out", tmp_path / "r.html", "--root", tmp_path)
    assert result.exit_code == 2
    (line,) = errors_for(result.stderr, path)
    assert fragment in line


def test_entries_that_are_not_results_are_left_out_with_one_line(root: Path) -> None:
    bad = [{"document": GOOD}, [1], entry(GOOD, line="12"), entry(GOOD, outcome="exploded"), entry(GOOD, line=True)]
    results = write(root.parent / "results.json", json.dumps([entry(GOOD), *bad]))
    out = root.parent / "report.html"
    result = run("report", results, "--out", out, "--root", root)
    assert result.exit_code == 2
    (line,) = errors_for(result.stderr, results)
    assert f"{len(bad)} of {len(bad) + 1} entries" in line
    assert "1 checks" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("where", ["folder", "under-a-file"])
def test_an_out_that_cannot_be_written_is_refused_before_anything(root: Path, where: str) -> None:
    results = write(root.parent / "results.json", json.dumps([entry(GOOD)]))
    out = root if where == "folder" else root / GOOD / "report.html"
    result = run("report", results, "--out", out, "--root", root)
    assert result.exit_code == 2
    assert len(errors_for(result.stderr, out)) == 1


def test_a_root_that_is_not_a_folder_is_refused(root: Path) -> None:
    results = write(root.parent / "results.json", json.dumps([entry(GOOD)]))
    result = run("report", results, "--out", root.parent / "r.html", "--root", root / GOOD)
    assert result.exit_code == 2
    assert len(errors_for(result.stderr, root / GOOD)) == 1
