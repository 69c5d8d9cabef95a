"""Commands act only on the documents they were given (issue 12, item 1).

* A path with no documents (an empty folder, a folder without ``*.rst``) is an error naming it,
  exit 2, for every command that reads documents.
* ``generate`` of such a path deletes nothing; orphans are removed only when their document is gone
  from a folder given in this call, never because a document was not given this time.
* ``check``, ``record`` and ``mutate`` hand pytest the paths of the modules they generated, never
  an empty list (pytest would collect the current folder) and never another module.
"""

from __future__ import annotations

import types
from pathlib import Path

import pytest

import talkqa.commands.check as check_module
from tests.inputs.helpers import ERROR_LINE, errors_for, good_document, modules, run, snapshot, write

COMMANDS = ["generate", "check", "record", "mutate", "model", "lint", "diff"]


class PytestCalls:
    """Stands in for ``subprocess`` in talkqa.commands.check: records every pytest argv."""

    def __init__(self) -> None:
        self.argvs: list[list[str]] = []

    def call(self, argv: list[str]) -> int:
        self.argvs.append(list(argv))
        return 5  # pytest's "no tests collected": no results file, so the command stops there

    def module_args(self) -> list[list[str]]:
        """Per call, the arguments before pytest's options (what pytest collects)."""
        out = []
        for argv in self.argvs:
            args = argv[argv.index("pytest") + 1 :]
            out.append(args[: next(i for i, a in enumerate(args) if a.startswith("-"))])
        return out


@pytest.fixture
def pytest_calls(monkeypatch: pytest.MonkeyPatch) -> PytestCalls:
    calls = PytestCalls()
    monkeypatch.setattr(check_module, "subprocess", types.SimpleNamespace(call=calls.call))
    return calls


def _args(command: str, path: Path, tmp_path: Path) -> list[str | Path]:
    if command == "diff":
        other = write(tmp_path / "other" / "alpha-beta.rst", good_document()).parent
        return ["diff", path, other]
    if command in ("generate", "check", "record", "mutate"):
        return [command, path, "--out", tmp_path / "out"]
    return [command, path]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", ["empty", "no-rst"])
def test_a_folder_without_documents_is_an_error_naming_it(
    tmp_path: Path, command: str, kind: str, pytest_calls: PytestCalls
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    if kind == "no-rst":
        write(folder / "notes.txt", good_document())
        write(folder / "alpha-beta.rst.bak", good_document())
    result = run(*_args(command, folder, tmp_path))
    assert result.exit_code == 2, result.output
    (line,) = errors_for(result.stderr, folder)
    assert "no documents" in line
    assert pytest_calls.argvs == [], "pytest ran for a path with no documents"
    assert not (tmp_path / "out").exists(), "something was written for a path with no documents"


@pytest.mark.parametrize("command", ["generate", "check", "record", "mutate", "model", "lint"])
def test_a_folder_without_documents_does_not_stop_the_others(
    tmp_path: Path, command: str, pytest_calls: PytestCalls
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    good = write(tmp_path / "spec" / "alpha-beta.rst", good_document())
    result = run(*_args(command, empty, tmp_path)[:2], good.parent, *_args(command, empty, tmp_path)[2:])
    assert result.exit_code == 2, result.output
    assert len(errors_for(result.stderr, empty)) == 1
    assert [ln for ln in result.stderr.splitlines() if ERROR_LINE.match(ln)] == errors_for(result.stderr, empty)
    if command in ("generate", "check", "record", "mutate"):
        assert modules(tmp_path / "out") == ["test_alpha_beta.py"]
    if command in ("check", "record", "mutate"):
        assert pytest_calls.module_args()[0] == [str(tmp_path / "out" / "test_alpha_beta.py")]
    if command == "model":
        assert "Alpha to Beta Dataflow" in result.stdout


def test_generate_of_an_empty_folder_deletes_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "spec"
    write(spec / "alpha-beta.rst", good_document())
    write(spec / "gamma-delta.rst", good_document("Gamma", "Delta"))
    out = tmp_path / "out"
    assert run("generate", spec, "--out", out).exit_code == 0
    write(out / "test_by_hand.py", "def test_by_hand():\n    pass\n")
    before = snapshot(out)
    assert len(before) == 4
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in (["generate", empty], ["generate", empty, "--check"], ["generate", tmp_path / "absent"]):
        result = run(*args, "--out", out)
        assert result.exit_code == 2, result.output
        assert snapshot(out) == before, f"{args} changed the suite"


def test_orphans_are_removed_only_when_their_document_is_gone_from_a_folder_given(tmp_path: Path) -> None:
    spec, other = tmp_path / "spec", tmp_path / "other"
    alpha = write(spec / "alpha-beta.rst", good_document())
    gamma = write(spec / "gamma-delta.rst", good_document("Gamma", "Delta"))
    write(other / "eps-zeta.rst", good_document("Eps", "Zeta"))
    out = tmp_path / "out"
    assert run("generate", spec, other, "--out", out).exit_code == 0
    everything = ["test_alpha_beta.py", "test_eps_zeta.py", "test_gamma_delta.py"]
    assert modules(out) == everything

    # a document not given this time is not gone: its module stays
    for args in ([alpha], [other], [alpha, other]):
        result = run("generate", *args, "--out", out)
        assert result.exit_code == 0, result.output
        assert "0 orphans removed" in result.stdout
        assert modules(out) == everything
        check = run("generate", *args, "--out", out, "--check")
        assert check.exit_code == 0 and "orphaned" not in check.stdout, check.output

    # a document gone from a folder that is not given: its module stays
    gamma.unlink()
    assert run("generate", other, "--out", out).exit_code == 0
    assert run("generate", alpha, "--out", out).exit_code == 0
    assert modules(out) == everything

    # ... and goes when its folder is given
    check = run("generate", spec, "--out", out, "--check")
    assert check.exit_code == 1 and f"orphaned: {out / 'test_gamma_delta.py'}" in check.stdout.splitlines()
    result = run("generate", spec, "--out", out)
    assert result.exit_code == 0 and "1 orphans removed" in result.stdout
    assert modules(out) == ["test_alpha_beta.py", "test_eps_zeta.py"]


def test_an_orphan_is_kept_when_the_call_reports_bad_input(tmp_path: Path) -> None:
    spec = tmp_path / "spec"
    write(spec / "alpha-beta.rst", good_document())
    gamma = write(spec / "gamma-delta.rst", good_document("Gamma", "Delta"))
    out = tmp_path / "out"
    assert run("generate", spec, "--out", out).exit_code == 0
    gamma.unlink()
    bad = write(spec / "bad.rst", b"\xff\xfe not a document")
    result = run("generate", spec, "--out", out)
    assert result.exit_code == 2
    assert len(errors_for(result.stderr, bad)) == 1
    assert modules(out) == ["test_alpha_beta.py", "test_gamma_delta.py"]


def test_a_module_of_a_same_named_document_in_another_folder_is_not_an_orphan(tmp_path: Path) -> None:
    """Two folders whose documents render to the same module name: the second is refused, nothing removed."""
    one = write(tmp_path / "one" / "alpha-beta.rst", good_document())
    two = write(tmp_path / "two" / "alpha-beta.rst", good_document())
    out = tmp_path / "out"
    assert run("generate", one.parent, "--out", out).exit_code == 0
    before = snapshot(out)
    result = run("generate", two.parent, one.parent, "--out", out)
    assert result.exit_code == 2
    (line,) = errors_for(result.stderr, one)
    assert "renders to" in line
    assert snapshot(out)["test_alpha_beta.py"][0] != b"" and modules(out) == ["test_alpha_beta.py"]
    assert sorted(snapshot(out)) == sorted(before)


@pytest.mark.parametrize("command", ["check", "record", "mutate"])
def test_pytest_gets_exactly_the_modules_generated_here(
    tmp_path: Path, command: str, pytest_calls: PytestCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "spec"
    write(spec / "alpha-beta.rst", good_document())
    gamma = write(spec / "gamma-delta.rst", good_document("Gamma", "Delta"))
    out = tmp_path / "out"
    write(out / "test_by_hand.py", "def test_by_hand():\n    pass\n")
    bad = write(tmp_path / "bad.rst", "no title here\n")
    monkeypatch.chdir(tmp_path)  # pytest with no paths would collect here
    result = run(command, gamma, bad, "--out", out)
    assert result.exit_code == 2
    assert len(errors_for(result.stderr, bad)) == 1
    assert pytest_calls.argvs, "pytest did not run for the good document"
    for args in pytest_calls.module_args():
        assert args == [str(out / "test_gamma_delta.py")]


def test_an_out_folder_starting_with_a_dash_is_still_a_path_to_pytest(
    tmp_path: Path, pytest_calls: PytestCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "spec" / "alpha-beta.rst", good_document())
    monkeypatch.chdir(tmp_path)
    result = run("check", "spec", "--out=-out")
    assert (tmp_path / "-out" / "test_alpha_beta.py").is_file(), result.output
    (args,) = pytest_calls.module_args()
    assert args == [str(tmp_path / "-out" / "test_alpha_beta.py")]


def test_a_document_given_twice_is_one_document(tmp_path: Path) -> None:
    doc = write(tmp_path / "spec" / "alpha-beta.rst", good_document())
    out = tmp_path / "out"
    result = run("generate", doc, tmp_path / "spec", tmp_path / "spec" / ".." / "spec" / "alpha-beta.rst",
                 "--out", out)
    assert result.exit_code == 0, result.output
    assert modules(out) == ["test_alpha_beta.py"]
    model = run("model", doc, doc)
    assert model.stdout.count("Alpha to Beta Dataflow") == 1
