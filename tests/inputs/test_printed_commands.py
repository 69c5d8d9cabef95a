"""Every command the tool prints can be pasted into a shell as it is (issue 12, item 4).

Documents are named like ``x$(touch${IFS}pwned);y.rst``; each printed command is run through
``bash -c`` with ``talkqa`` (or ``pytest``) defined as a function that records its arguments. An
unquoted name would run ``touch pwned``; a quoted one reaches the function as one argument.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

import talkqa.commands.check as check_module
from talkqa.runtime.plugin import reproduce
from talkqa.shell import quote
from tests.inputs.helpers import good_document, run, write

REPO = Path(__file__).resolve().parents[2]
NAMES = [
    "x$(touch${IFS}pwned);y.rst",
    "a b`touch pwned`;c.rst",
    "it's \"quoted\" & |piped|.rst",
    "-dash.rst",
    "new\nline $(touch pwned).rst",
]
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="needs bash")


def pasted(line: str, cwd: Path, program: str = "talkqa") -> list[str]:
    """Run the command at the end of ``line`` (after ``with: ``) in bash, as if pasted; its arguments."""
    assert "\n" not in line
    command = line.split("with: ", 1)[1]
    args = cwd / ".args"
    script = f'{program}() {{ printf "%s\\0" "$@" > {quote(str(args))}; }}\n{command}\n'
    done = subprocess.run([BASH, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=30)  # type: ignore[list-item]
    assert done.returncode == 0, done.stderr
    assert not list(cwd.rglob("pwned")), f"pasting {command!r} ran a command hidden in a file name"
    data = args.read_bytes().decode()
    args.unlink()
    return data.split("\0")[:-1]


def the_line(output: str, marker: str) -> str:
    (line,) = [ln for ln in output.splitlines() if marker in ln]
    return line


@pytest.fixture
def odd_docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Documents with hostile names in the current folder (tmp_path), as relative paths."""
    monkeypatch.chdir(tmp_path)
    systems = [("Alpha", "Beta"), ("Gamma", "Delta"), ("Eps", "Zeta"), ("Eta", "Theta"), ("Iota", "Kappa")]
    for name, s in zip(NAMES, systems, strict=True):
        write(tmp_path / name, good_document(*s))
    return list(NAMES)


def test_generate_check_prints_a_regenerate_command_that_pastes(odd_docs: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out $(touch pwned)"
    given = [f"./{n}" if n.startswith("-") else n for n in odd_docs]
    assert run("generate", *given, "--out", out).exit_code == 0
    (tmp_path / NAMES[0]).write_text(good_document("Alpha", "Omega"), encoding="utf-8")  # now stale
    check = run("generate", *given, "--out", out, "--check")
    assert check.exit_code == 1
    args = pasted(the_line(check.stdout, "regenerate with: "), tmp_path)
    assert args == ["generate", *given, f"--out={out}"]
    assert run(*args).exit_code == 0  # what was pasted does what it says
    assert run("generate", *given, "--out", out, "--check").exit_code == 0


def test_check_frozen_prints_a_regenerate_command_that_pastes(odd_docs: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    doc = "./" + NAMES[3]
    assert run("generate", doc, NAMES[0], "--out", out).exit_code == 0
    (tmp_path / NAMES[0]).write_text(good_document("Alpha", "Omega"), encoding="utf-8")
    result = run("check", doc, NAMES[0], "--out", out, "--frozen")
    assert result.exit_code == 1
    assert pasted(the_line(result.stderr, "regenerate it with: "), tmp_path) == ["generate", doc, NAMES[0],
                                                                                 f"--out={out}"]


def test_mutate_prints_a_check_command_that_pastes(
    odd_docs: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(check_module, "subprocess", types.SimpleNamespace(call=lambda argv: 5))  # no results
    result = run("mutate", NAMES[0], NAMES[4], "--out", tmp_path / "out")
    assert result.exit_code == 2
    args = pasted(the_line(result.stderr, "see the failures with: "), tmp_path)
    assert args == ["check", NAMES[0], NAMES[4], f"--out={tmp_path / 'out'}"]


def test_the_record_hint_of_a_pending_row_pastes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """talkqa/runtime/plugin.py prints it; a generated module of a hostile name runs without cassettes."""
    monkeypatch.chdir(tmp_path)
    name = NAMES[0]
    shutil.copy(REPO / "spec" / "powerofficego-exact.rst", tmp_path / name)
    out = tmp_path / "out"
    assert run("generate", name, "--out", out).exit_code == 0
    (module,) = out.glob("test_*.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "PYTEST_CURRENT"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(module), "-p", "no:cacheprovider", "-p", "no:randomly", "-q", "-rs",
         "--talkqa-backend=cassettes", "-k", "test_mapping and city and forward"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    line = next((ln for ln in done.stdout.splitlines() if "record it with: " in ln), None)
    assert line is not None, done.stdout[-3000:] + done.stderr[-3000:]
    assert pasted(line, tmp_path) == ["record", name]


def test_the_reproduce_command_of_the_report_pastes(tmp_path: Path) -> None:
    nodeid = "out/test_x.py::test_fuzz[a$(touch${IFS}pwned);b'c\nd]"
    command = reproduce(nodeid, backend="simulators", sut="command:sync --once; rm -rf x", fuzz_profile="ci")
    assert pasted(f"with: {command}", tmp_path, program="pytest") == [
        nodeid, "-p", "no:randomly", "--talkqa-backend=simulators", "--talkqa-sut=command:sync --once; rm -rf x",
        "--talkqa-fuzz-profile=ci"]


@pytest.mark.parametrize("word", [*NAMES, "", "plain", "tab\there", "back\\slash", "quote'\\\n"])
def test_quote_gives_one_word_on_one_line(word: str, tmp_path: Path) -> None:
    line = f"with: talkqa {quote(word)}"
    assert re.fullmatch(r"[^\n]*", line)
    assert pasted(line, tmp_path) == [word]
