"""Every command, every bad input: one line, exit 2, the rest still done, nothing lost (issue 12, item 3).

Hypothesis builds a call from good documents and hostile inputs (random bytes and text, nesting
docutils recurses on, spanned and nested tables, FIFOs, ``/dev/zero``, symlink loops, folders,
missing paths, files and folders without permission, odd names full of quotes, shell syntax and
control characters) and runs a command on it in-process. Whatever it drew:

* no traceback, and nothing escapes but SystemExit;
* one ``path[:line]: error: message`` line per bad input (at most one for a kind the command may
  accept), and no other error line;
* the good documents of the same call are still processed;
* exit status 2;
* what was written before is intact (the generated suite, an earlier report).

Each test is watched by a faulthandler timer: a command that blocks (a FIFO opened for reading)
fails the test instead of hanging it.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import tempfile
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import talkqa.commands.check as check_module
from generator.render import module_name
from tests.inputs.helpers import ERROR_LINE, errors_for, good_document, modules_collected, run, snapshot, write
from tests.inputs.hostile import (
    AVAILABLE_FILE_KINDS,
    AVAILABLE_PATH_KINDS,
    ENFORCEABLE,
    MAYBE_A_DOCUMENT,
    ODD,
    REPORT_MAY_RENDER,
    Hostile,
    hostiles,
    make,
)
from tests.inputs.permissions import enforced

#: Examples per test (TALKQA_HOSTILE_EXAMPLES raises it for a longer hunt).
EXAMPLES = int(os.environ.get("TALKQA_HOSTILE_EXAMPLES", "30"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
SYSTEMS = [("Alpha", "Beta"), ("Gamma", "Delta")]


@pytest.fixture(autouse=True)
def watchdog() -> Iterator[None]:
    """Fail (the worker exits with the stacks dumped) rather than hang on a blocking read."""
    faulthandler.dump_traceback_later(600, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="talkqa-hostile-") as tmp:
        yield Path(tmp)


@st.composite
def scenarios(draw: st.DrawFn, path_kinds: bool = True) -> dict[str, Any]:
    """Good documents (1 or 2, odd names), hostile entries in their folder, hostile paths beside it."""
    goods = [(f"g{i}-{draw(ODD)}.rst", SYSTEMS[i]) for i in range(draw(st.integers(1, 2)))]
    n_in = draw(st.integers(0, 3))
    inside = [draw(hostiles(AVAILABLE_FILE_KINDS, i)) for i in range(n_in)]
    given_kinds = [k for k in AVAILABLE_FILE_KINDS if k != "folder-as-doc"]  # given, it is a folder of documents
    given_kinds += AVAILABLE_PATH_KINDS if path_kinds else []
    beside = [draw(hostiles(given_kinds, n_in + i)) for i in range(draw(st.integers(0 if n_in else 1, 3)))]
    return {"goods": goods, "inside": inside, "beside": beside, "goods_given_directly": draw(st.booleans())}


def build(scenario: dict[str, Any], base: Path) -> tuple[list[Path], dict[Path, Hostile], list[Path]]:
    """Lay the scenario out; (the paths to give, {bad path: its kind}, the good documents)."""
    docs, apart = base / "docs", base / "apart"
    docs.mkdir()
    apart.mkdir()
    goods = [write(docs / name, good_document(*systems)) for name, systems in scenario["goods"]]
    bad: dict[Path, Hostile] = {}
    for h in scenario["inside"]:
        bad[make(h, docs)] = h
    given: list[Path] = list(goods) if scenario["goods_given_directly"] else [docs]
    for h in scenario["beside"]:
        path = make(h, apart)
        bad[path] = h
        given.append(path)
    if scenario["goods_given_directly"]:  # the folder is not given: its entries are not either
        bad = {p: h for p, h in bad.items() if p.parent != docs}
    return given, bad, goods


def permissions_bind(bad: dict[Path, Hostile]) -> contextlib.AbstractContextManager[None]:
    return enforced() if ENFORCEABLE and any(h.kind.startswith("unreadable") for h in bad.values()) \
        else contextlib.nullcontext()


def assert_one_line_each(stderr: str, bad: dict[Path, Hostile], maybe: set[str]) -> None:
    """One error line per bad input (at most one for the kinds in ``maybe``), no other error line."""
    named = 0
    for path, h in bad.items():
        lines = errors_for(stderr, path)
        if h.kind in maybe:
            assert len(lines) <= 1, (h.kind, lines)
        else:
            assert len(lines) == 1, f"{h.kind} {path!r}: {lines}\n{stderr}"
        named += len(lines)
    others = [ln for ln in stderr.splitlines() if ERROR_LINE.match(ln)]
    assert len(others) == named, f"error lines that name no bad input:\n{stderr}"
    assert "internal error" not in stderr, f"an input crashed the code (caught only by the last resort):\n{stderr}"


def assert_exit_2(result: Any, bad: dict[Path, Hostile], maybe: set[str]) -> None:
    if any(h.kind not in maybe for h in bad.values()):
        assert result.exit_code == 2, result.output
    else:  # only inputs that may have been accepted: 2 exactly when one was refused
        assert result.exit_code in (0, 1, 2)
        assert (result.exit_code == 2) == any(ERROR_LINE.match(ln) for ln in result.stderr.splitlines())


# -- generate -------------------------------------------------------------------------------------


@SETTINGS
@given(scenarios())
def test_generate(scenario: dict[str, Any]) -> None:
    with workspace() as base:
        given_paths, bad, goods = build(scenario, base)
        out = base / "out"
        # a suite written before: the good documents' modules, and one by hand
        assert run("generate", *goods, "--out", out).exit_code == 0
        write(out / "test_by_hand.py", "def test_by_hand():\n    pass\n")
        before = snapshot(out)
        with permissions_bind(bad):
            result = run("generate", *given_paths, "--out", out)
        assert_one_line_each(result.stderr, bad, MAYBE_A_DOCUMENT)
        assert_exit_2(result, bad, MAYBE_A_DOCUMENT)
        after = snapshot(out)
        for name, (data, _) in before.items():
            assert after[name][0] == data, f"{name} was changed or lost"
        assert {module_name(str(g)) for g in goods} <= set(after), "a good document was not generated"


@SETTINGS
@given(scenarios(), st.data())
def test_a_document_that_turns_bad_keeps_its_module(scenario: dict[str, Any], data: st.DataObject) -> None:
    with workspace() as base:
        given_paths, bad, goods = build(scenario, base)
        victim = goods[0]
        out = base / "out"
        assert run("generate", *goods, "--out", out).exit_code == 0
        before = snapshot(out)
        # given by name, a folder is a folder of documents, not a bad document
        direct = scenario["goods_given_directly"]
        kinds = [k for k in AVAILABLE_FILE_KINDS if k not in MAYBE_A_DOCUMENT and not (direct and k == "folder-as-doc")]
        h = data.draw(hostiles(kinds, 99))
        victim.unlink()
        h.name = victim.name
        make(h, victim.parent)
        bad[victim] = h
        if victim not in given_paths and victim.parent not in given_paths:
            given_paths.append(victim)
        with permissions_bind(bad):
            result = run("generate", *given_paths, "--out", out)
        assert len(errors_for(result.stderr, victim)) == 1, result.stderr
        assert result.exit_code == 2
        assert {n: d for n, (d, _) in snapshot(out).items()} == {n: d for n, (d, _) in before.items()}


# -- model, lint, mutate ----------------------------------------------------------------------------


@SETTINGS
@given(scenarios(), st.sampled_from([["model"], ["model", "--json"], ["lint"], ["lint", "--strict"]]))
def test_model_and_lint(scenario: dict[str, Any], command: list[str]) -> None:
    with workspace() as base:
        given_paths, bad, goods = build(scenario, base)
        with permissions_bind(bad):
            result = run(*command, *given_paths)
        assert_one_line_each(result.stderr, bad, MAYBE_A_DOCUMENT)
        assert_exit_2(result, bad, MAYBE_A_DOCUMENT)
        if command[0] == "model":
            for i, _ in enumerate(goods):
                assert f"{SYSTEMS[i][0]} to {SYSTEMS[i][1]} Dataflow" in result.stdout
        else:
            count = int(result.stdout.splitlines()[-1].split(" documents")[0])
            assert count >= len(goods)


@settings(SETTINGS, max_examples=max(1, EXAMPLES // 2))
@given(scenarios())
def test_mutate(scenario: dict[str, Any]) -> None:
    calls: list[list[str]] = []
    with workspace() as base, pytest.MonkeyPatch.context() as mp:
        mp.setattr(check_module, "subprocess",
                   types.SimpleNamespace(call=lambda argv: calls.append(modules_collected(argv)) or 5))
        given_paths, bad, goods = build(scenario, base)
        missing = base / "apart" / "missing.rst"
        bad[missing] = Hostile("missing", missing.name)
        with permissions_bind(bad):
            result = run("mutate", missing, *given_paths, "--out", base / "out")
        assert_one_line_each(result.stderr, bad, MAYBE_A_DOCUMENT)
        assert result.exit_code == 2
        assert calls, "the good documents were not run"
        for modules in calls:
            assert modules == sorted(module_name(str(g)) for g in goods)


def test_mutate_with_only_a_missing_path(tmp_path: Path) -> None:
    result = run("mutate", tmp_path / "missing.rst", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert len(errors_for(result.stderr, tmp_path / "missing.rst")) == 1
    assert not (tmp_path / "out").exists()


# -- diff -------------------------------------------------------------------------------------------


@SETTINGS
@given(scenarios(path_kinds=False))
def test_diff(scenario: dict[str, Any]) -> None:
    scenario = {**scenario, "goods_given_directly": False, "beside": []}
    with workspace() as base:
        if not scenario["inside"]:
            scenario["inside"] = [Hostile("empty", "h0-.rst")]
        given_paths, bad, goods = build(scenario, base)
        new = base / "new"
        new.mkdir()
        for g in goods:
            write(new / g.name, g.read_text(encoding="utf-8"))
        with permissions_bind(bad):
            result = run("diff", given_paths[0], new)
        assert_one_line_each(result.stderr, bad, MAYBE_A_DOCUMENT)
        assert_exit_2(result, bad, MAYBE_A_DOCUMENT)
        assert f"({len(goods)} documents compared)" in result.stdout or "changes in" in result.stdout


@SETTINGS
@given(hostiles(AVAILABLE_FILE_KINDS + AVAILABLE_PATH_KINDS, 0), st.booleans())
def test_diff_of_a_bad_file(h: Hostile, bad_is_old: bool) -> None:
    with workspace() as base:
        path = make(h, base)
        good = write(base / "alpha-beta.rst", good_document())
        if path.is_dir() and h.kind != "folder-as-doc":
            good = good.parent / "folder-of-good"
            write(good / "alpha-beta.rst", good_document())
        if h.kind == "folder-as-doc":
            return  # a folder of one good document: compared, not bad
        with permissions_bind({path: h}):
            result = run("diff", *((path, good) if bad_is_old else (good, path)))
        assert result.exit_code == 2 or h.kind in MAYBE_A_DOCUMENT, result.output
        lines = [ln for ln in result.stderr.splitlines() if ERROR_LINE.match(ln)]
        assert len(lines) <= 1 if h.kind in MAYBE_A_DOCUMENT else len(lines) == 1, result.stderr


# -- report -----------------------------------------------------------------------------------------


def _entry(document: str, line: int = 12) -> dict[str, Any]:
    return {"nodeid": "t.py::test_x", "document": document, "line": line, "flow": "F", "kind": "mapping",
            "direction": "forward", "case_id": "a->b[forward]", "outcome": "failed", "message": "boom",
            "duration": 0.0}


ESCAPES = st.sampled_from(["../outside.rst", "/etc/passwd", "docs/../../outside.rst", "link-out.rst", "{abs}"])


@SETTINGS
@given(scenarios(path_kinds=False), st.lists(ESCAPES, max_size=2, unique=True), st.booleans())
def test_report_documents(scenario: dict[str, Any], escapes: list[str], relative: bool) -> None:
    scenario = {**scenario, "goods_given_directly": True}
    with workspace() as base:
        root = base / "root"
        root.mkdir()
        _, _, goods = build({**scenario, "inside": []}, root)
        write(base / "outside.rst", good_document().replace("Generated:", "Generated: SECRET-OUTSIDE"))
        (root / "link-out.rst").symlink_to(base / "outside.rst")
        named: dict[str, Hostile] = {}
        for h in scenario["inside"]:
            path = make(h, root / "docs")
            named[str(path.relative_to(root)) if relative else str(path)] = h
        for e in escapes:
            named[e.format(abs=base / "outside.rst")] = Hostile("outside", e)
        names = [str(g.relative_to(root)) if relative else str(g) for g in goods]
        results = write(base / "results.json", json.dumps([_entry(n) for n in [*names, *named]]))
        out = base / "report.html"
        with permissions_bind(named_as_paths := {Path(n): h for n, h in named.items()}):
            result = run("report", results, "--out", out, "--root", root)
        assert_one_line_each(result.stderr, named_as_paths, REPORT_MAY_RENDER)
        assert_exit_2(result, named_as_paths, REPORT_MAY_RENDER)
        page = out.read_text(encoding="utf-8")
        assert "SECRET-OUTSIDE" not in page and "root:x:0:0" not in page
        for i, _ in enumerate(goods):
            assert f"{SYSTEMS[i][0]} to {SYSTEMS[i][1]} Dataflow" in page


RESULTS_KINDS = ["deep", "random-bytes", "not-a-list", "fifo", "dev-zero", "folder", "missing", "unreadable",
                 "symlink-loop"]


@SETTINGS
@given(st.sampled_from([k for k in RESULTS_KINDS if k != "unreadable" or ENFORCEABLE]), st.integers(17, 50_000),
       st.binary(max_size=200), ODD)
def test_report_results(kind: str, depth: int, noise: bytes, odd: str) -> None:
    with workspace() as base:
        path = base / f"results-{odd}.json"
        if kind == "deep":
            opener, closer = ("[", "]") if depth % 2 else ('{"a":', "}")
            path.write_text("[" + opener * depth + "1" + closer * depth + "]", encoding="utf-8")
        elif kind == "random-bytes":
            path.write_bytes(b"\xff" + noise)  # never UTF-8
        elif kind == "not-a-list":
            path.write_text(json.dumps({"document": "x.rst"}), encoding="utf-8")
        else:
            path = make(Hostile({"folder": "empty-folder"}.get(kind, kind), path.name), base)
        out = write(base / "report.html", "an earlier report")
        with permissions_bind({path: Hostile(kind, path.name)}):
            result = run("report", path, "--out", out, "--root", base)
        assert result.exit_code == 2
        assert len(errors_for(result.stderr, path)) == 1, result.stderr
        assert out.read_text(encoding="utf-8") == "an earlier report"


# -- output paths -----------------------------------------------------------------------------------

OUT_KINDS = ["existing-file", "under-a-file", "proc", "fifo", "dangling-symlink", "read-only-folder"]


def _bad_output(kind: str, base: Path, odd: str, want_folder: bool) -> Path:
    """An output path of ``kind`` that cannot be written (a folder for generate, a file otherwise)."""
    target = base / f"out-{odd}"
    if kind == "existing-file":
        if want_folder:
            write(target, "kept")
        else:
            target.mkdir()  # a folder where a file is wanted
    elif kind == "under-a-file":
        write(base / "a-file", "kept")
        target = base / "a-file" / f"out-{odd}"
    elif kind == "proc":
        target = Path("/proc") / f"talkqa-{odd}" / "out"
    elif kind == "fifo":
        make(Hostile("fifo", target.name), base)
    elif kind == "dangling-symlink":
        target.symlink_to(base / "nowhere" / "x")
    elif kind == "read-only-folder":
        target.mkdir()
        target.chmod(0o555)
        if not want_folder:
            target = target / "report.html"
    return target


@SETTINGS
@given(st.sampled_from([k for k in OUT_KINDS if k != "read-only-folder" or ENFORCEABLE]),
       st.sampled_from(["generate", "report", "check-html", "check-junit", "check-results"]), ODD)
def test_an_output_that_cannot_be_written(kind: str, command: str, odd: str) -> None:
    with workspace() as base:
        good = write(base / "docs" / "alpha-beta.rst", good_document())
        results = write(base / "results.json", json.dumps([_entry(str(good))]))
        target = _bad_output(kind, base, odd, want_folder=command == "generate")
        before = snapshot(base)
        calls: list[list[str]] = []
        binding = enforced() if kind == "read-only-folder" else contextlib.nullcontext()
        with pytest.MonkeyPatch.context() as mp, binding:
            mp.setattr(check_module, "subprocess", types.SimpleNamespace(call=lambda argv: calls.append(argv) or 5))
            if command == "generate":
                result = run("generate", good, "--out", target)
            elif command == "report":
                result = run("report", results, "--out", target, "--root", base)
            else:
                flag = {"check-html": "--html", "check-junit": "--junit", "check-results": "--results"}[command]
                result = run("check", good, "--out", base / "suite", flag, target)
        assert result.exit_code == 2, result.output
        assert len(errors_for(result.stderr, target)) == 1, result.stderr
        assert calls == [], "the checklist ran before its output path was checked"
        after = snapshot(base)
        assert {n: d for n, (d, _) in after.items()} == {n: d for n, (d, _) in before.items()}
