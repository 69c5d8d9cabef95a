"""Helpers for the bad-input tests: documents, running the CLI, snapshots, the error-line pattern."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from click.testing import CliRunner, Result

from generator.errors import one_line
from talkqa.cli import main
from tests.spec.docwriter import small_document

ROWS = (("firstName", "FirstName", '"string"'), ("age", "Age", '"integer"'))
#: One error line: ``path[:line]: error: message``.
ERROR_LINE = re.compile(r"^(?P<path>.+?)(?::(?P<line>\d+))?: error: (?P<message>\S.*)$")


def good_document(source: str = "Alpha", target: str = "Beta") -> str:
    return small_document(source, target, rows=ROWS)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def run(*args: str | Path) -> Result:
    """``talkqa ARGS`` in-process; never a traceback, never an exception other than SystemExit."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ": error: " in line]


def errors_for(stderr: str, path: str | Path) -> list[str]:
    """The error lines naming ``path`` exactly (``path: error: ...`` or ``path:LINE: error: ...``;
    control characters in the path escaped, as the commands print them)."""
    name = re.escape(one_line(str(path)))
    pattern = re.compile(rf"^{name}(?::\d+)?: error: \S")
    return [line for line in stderr.splitlines() if pattern.match(line)]


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder``: bytes and modification time in ns."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def modules(folder: Path) -> Sequence[str]:
    return sorted(p.name for p in folder.glob("test_*.py"))


def modules_collected(argv: list[str]) -> list[str]:
    """The names of the modules a ``talkqa check`` pytest command line collects: the files and the
    ``test_*.py`` of the folders it names, kept to those its ``--talkqa-modules`` list names (read now:
    the list lives as long as the call)."""
    args = argv[argv.index("pytest") + 1:]
    listing = next((a.split("=", 1)[1] for a in args if a.startswith("--talkqa-modules=")), None)
    named = [Path(a) for a in args[: next((i for i, a in enumerate(args) if a.startswith("-")), len(args))]]
    files = [f for p in named for f in (sorted(p.glob("test_*.py")) if p.is_dir() else [p])]
    if listing is not None:
        keep = {Path(line).resolve() for line in Path(listing).read_text(encoding="utf-8").splitlines() if line}
        files = [f for f in files if f.resolve() in keep]
    return sorted(f.name for f in files)
