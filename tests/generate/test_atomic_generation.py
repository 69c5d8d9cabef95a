"""One atomic-write helper (normal permissions, fsync, no stray temporary file) and generation that
replaces the suite as a whole: ``talkqa generate`` SIGKILLed at every step leaves the previous suite
or (after the journal's commit point) one the next run finishes; never a mix that runs."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import generator.suite_files as suite_files
from talkqa.commands.simulate import write_info
from talkqa.connectors.auth import TokenState, TokenStore
from talkqa.connectors.secret import Secret
from talkqa.files import atomic_write, current_umask
from tests.generate.helpers import REPO, document, run_generate

ROWS_A = (("firstName", "FirstName", '"string"'), ("age", "Age", '"integer"'))
ROWS_A2 = (("firstName", "FirstName", '"string"'), ("lastName", "LastName", '"string"'))
ROWS_B = (("city", "City", '"string"'),)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, hidden ones too (a journal or temporary file shows up)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- the helper ------------------------------------------------------------------------------------------


def test_atomic_write_gives_normal_permissions_unless_told(tmp_path: Path, umask_022: None) -> None:
    assert current_umask() == 0o022
    atomic_write(tmp_path / "a.txt", "text ø\n")
    assert mode(tmp_path / "a.txt") == 0o644 and (tmp_path / "a.txt").read_bytes() == "text ø\n".encode()
    atomic_write(tmp_path / "sub" / "b.bin", b"\x00\x01", mode=0o600)
    assert mode(tmp_path / "sub" / "b.bin") == 0o600
    os.umask(0o027)
    atomic_write(tmp_path / "a.txt", "again")
    assert mode(tmp_path / "a.txt") == 0o640, "the umask of the moment decides, as for open()"
    assert sorted(files(tmp_path)) == ["a.txt", "sub/b.bin"]


def test_the_four_writers_use_it(tmp_path: Path, umask_022: None) -> None:
    out = tmp_path / "suite"
    spec = tmp_path / "spec"
    spec.mkdir()
    (spec / "alpha-beta.rst").write_text(document("Alpha", "Beta", ROWS_A), encoding="utf-8")
    assert run_generate(str(spec), "--out", str(out)).exit_code == 0
    assert {name: mode(out / name) for name in files(out)} == {"conftest.py": 0o644, "test_alpha_beta.py": 0o644}
    cached = list(Path(os.environ["TALKQA_CACHE_DIR"]).iterdir())
    assert cached and all(mode(p) == 0o644 for p in cached)
    store = TokenStore(tmp_path / "tokens.json")
    store.save(TokenState(Secret("refresh-token-1")))
    assert mode(store.path) == 0o600, "the token store stays owner-only"
    write_info(tmp_path / "sims.json", {"credentials": "fake"})
    assert mode(tmp_path / "sims.json") == 0o600, "the simulators' credentials file stays owner-only"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.txt"
    atomic_write(target, "old")
    with pytest.raises(UnicodeEncodeError):
        atomic_write(target, "half \ud800 written")  # fails while writing the temporary file
    assert files(tmp_path) == {"f.txt": b"old"}

    def no_space(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(OSError):
        atomic_write(target, "new")
    assert files(tmp_path) == {"f.txt": b"old"}


# -- generation as a whole --------------------------------------------------------------------------------

#: Runs ``talkqa generate ARGS`` and SIGKILLs itself just before call number N+1 of one function.
KILLED_GENERATE = """
import os, pathlib, signal, sys
import generator.suite_files as suite_files
from talkqa.cli import main

where, n, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
calls = 0

def killing(real):
    def wrapper(*a, **k):
        global calls
        calls += 1
        if calls > n:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*a, **k)
    return wrapper

if where == "stage":      # writing the temporary files
    suite_files.stage = killing(suite_files.stage)
elif where == "replace":  # the journal's rename (the commit point), then each module's rename
    os.replace = killing(os.replace)
elif where == "unlink":   # removing the orphan, then the journal
    pathlib.Path.unlink = killing(pathlib.Path.unlink)
main(["generate", *args], prog_name="talkqa")
"""

#: (function, calls allowed before the kill): every step of a generation that rewrites one module,
#: adds one and removes an orphan.
KILL_POINTS = [("stage", 0), ("stage", 1), ("replace", 0), ("replace", 1), ("replace", 2), ("unlink", 0),
               ("unlink", 1)]  # fmt: skip


OLD_DOCS = {"alpha-beta.rst": ROWS_A, "eps-zeta.rst": ROWS_B}
NEW_DOCS = {"alpha-beta.rst": ROWS_A2, "omega-psi.rst": ROWS_B}  # alpha changes, eps goes, omega comes


def set_documents(spec: Path, docs: dict[str, tuple[tuple[str, str, str], ...]]) -> None:
    spec.mkdir(exist_ok=True)
    for old in spec.glob("*.rst"):
        old.unlink()
    for name, rows in docs.items():
        source, target = (w.capitalize() for w in name[:-4].split("-"))
        (spec / name).write_text(document(source, target, rows), encoding="utf-8")


@pytest.fixture
def suites(tmp_path: Path) -> dict[str, Path]:
    """``spec`` (holding the new documents), and ``old``/``new``: the suite before, and the suite a
    generate that is not interrupted makes of it (a module rewritten, one added, an orphan removed)."""
    spec = tmp_path / "spec"
    set_documents(spec, OLD_DOCS)
    assert run_generate(str(spec), "--out", str(tmp_path / "old")).exit_code == 0
    set_documents(spec, NEW_DOCS)
    shutil.copytree(tmp_path / "old", tmp_path / "new")
    assert run_generate(str(spec), "--out", str(tmp_path / "new")).exit_code == 0
    return {"spec": spec, "old": tmp_path / "old", "new": tmp_path / "new"}


def killed_generate(where: str, n: int, spec: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", KILLED_GENERATE, where, str(n), str(spec), "--out", str(out)],
        capture_output=True, text=True, cwd=REPO, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip


@pytest.mark.parametrize(("where", "n"), KILL_POINTS, ids=[f"{w}-{n}" for w, n in KILL_POINTS])
def test_a_killed_generate_leaves_the_old_or_the_new_suite(
    tmp_path: Path, suites: dict[str, Path], where: str, n: int
) -> None:
    old, new = files(suites["old"]), files(suites["new"])
    assert old != new and "test_eps_zeta.py" in old and "test_omega_psi.py" in new
    out = tmp_path / "out"
    shutil.copytree(suites["old"], out)
    proc = killed_generate(where, n, suites["spec"], out)
    assert proc.returncode == -signal.SIGKILL, f"not killed at {where} #{n + 1}: {proc.stdout}{proc.stderr}"

    left = files(out)
    committed = suite_files.JOURNAL in left
    if not committed:
        # before the commit point: the previous suite, byte for byte, beside temporaries to clean
        assert {k: v for k, v in left.items() if not k.endswith(".tmp")} == old
    else:
        # after it: whatever is half renamed, the suite refuses to run and --check names it
        refused = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", str(out)],
            capture_output=True, text=True, cwd=tmp_path, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
        assert refused.returncode != 0 and "interrupted `talkqa generate`" in refused.stdout + refused.stderr
        check = run_generate(str(suites["spec"]), "--out", str(out), "--check")
        assert check.exit_code == 1 and f"interrupted: {out / suite_files.JOURNAL}" in check.output

    # the next run's first step: the old suite (not committed) or the new one (committed), no stray file
    suite_files.recover(out)
    assert files(out) == (new if committed else old)


def test_killed_before_or_after_the_commit_point_the_next_run_cleans_up(
    tmp_path: Path, suites: dict[str, Path]
) -> None:
    for where, n, committed in (("stage", 1, False), ("replace", 2, True)):
        out = tmp_path / f"out-{where}"
        shutil.copytree(suites["old"], out)
        assert killed_generate(where, n, suites["spec"], out).returncode == -signal.SIGKILL
        assert any(k.endswith(".tmp") for k in files(out)), "the kill left a temporary file to clean"
        assert (suite_files.JOURNAL in files(out)) is committed
        # the next run is given the *old* documents again: an interrupted new suite is finished
        # first, then replaced as a whole by what the old documents say
        set_documents(suites["spec"], OLD_DOCS)
        result = run_generate(str(suites["spec"]), "--out", str(out))
        assert result.exit_code == 0, result.output
        assert files(out) == files(suites["old"])
        set_documents(suites["spec"], NEW_DOCS)


def test_a_failure_before_the_commit_point_changes_nothing(
    tmp_path: Path, suites: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    shutil.copytree(suites["old"], out)
    plan = suite_files.plan_suite(sorted(suites["spec"].glob("*.rst")), out)
    real_stage = suite_files.stage
    calls = []

    def full_disk(*args: object, **kwargs: object) -> Path:
        calls.append(args)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_stage(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(suite_files, "stage", full_disk)
    with pytest.raises(OSError):
        suite_files.write_plan(plan)
    assert files(out) == files(suites["old"]), "a file changed or a temporary file was left"


def test_a_failure_after_the_commit_point_is_finished_by_the_next_run(
    tmp_path: Path, suites: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    shutil.copytree(suites["old"], out)
    plan = suite_files.plan_suite(sorted(suites["spec"].glob("*.rst")), out)
    real_replace = os.replace
    calls = []

    def failing_replace(src: str, dst: str) -> None:
        calls.append(dst)
        if len(calls) == 2:  # the first module's rename, just after the journal's
            raise OSError(5, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        suite_files.write_plan(plan)
    monkeypatch.undo()
    assert suite_files.JOURNAL in files(out)
    assert suite_files.write_plan(plan) == 0, "the next run finished the interrupted one: nothing left to write"
    assert files(out) == files(suites["new"])
