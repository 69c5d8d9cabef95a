"""The generated suite as the commands use it: only the documents given, nothing lost.

:mod:`generator.suite_files` renders and writes modules; this module decides, for ``generate``,
``check``, ``record`` and ``mutate``:

* which documents: the ones given (a folder: its ``*.rst``), each checked to be a regular file
  of bounded size before it is read, and each bad one reported on its own line while the good
  ones are still generated (a bad document's existing module is kept as it is);
* which orphans may go (:func:`is_orphan`): a generated module whose document is gone from a
  folder given in this call, never one whose document was simply not given this time, and none
  at all in a call that reported bad input;
* that the output paths (``--out``, ``--html``, ``--junit``) can be written, before anything runs;
* which modules pytest runs: exactly the ones generated here, by path, never an empty list
  (pytest would collect the current folder).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import click

from generator.errors import SpecError
from generator.parser import read_document
from generator.suite_files import HEADER, Plan, plan_suite, write_plan
from talkqa.commands.documents import Inputs, bad_input_reported, collect, report_bad_input
from talkqa.shell import talkqa_command

#: Options of the commands that name a file they write, with their flag (checked before a run).
OUTPUT_FILE_OPTIONS = {"html_path": "--html", "junit_path": "--junit", "results_path": "--results"}


# -- output paths ---------------------------------------------------------------------------------


def _probe_writable(folder: Path) -> str | None:
    """Why no file can be created in ``folder`` (None when one can): creates and removes one."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".talkqa-probe-")
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return None


def _existing_ancestor(path: Path) -> Path:
    for candidate in [path, *path.parents]:
        if os.path.lexists(candidate):
            return candidate
    return Path(".")


def output_folder_error(folder: str | Path, option: str = "--out", write: bool = True) -> SpecError | None:
    """Why ``folder`` cannot be the output folder (None when it can; with ``write``, files can be
    created in it, or in the folder it would be created in)."""
    path = Path(folder)
    where = _existing_ancestor(path.absolute())
    if where == path.absolute():
        if not path.is_dir():
            return SpecError(str(folder), None, f"{option}: not a folder")
    elif not where.is_dir():
        return SpecError(str(folder), None, f"{option}: cannot create the folder: {where} is not a folder")
    if not write:
        return None
    why = _probe_writable(where)
    if why is not None:
        return SpecError(str(folder), None, f"{option}: cannot write in {where}: {why}")
    return None


def output_file_error(file: str | Path, option: str) -> SpecError | None:
    """Why ``file`` cannot be written (None when it can): not a folder, and its folder writable."""
    path = Path(file)
    if str(file) == "" or path.is_dir():
        return SpecError(str(file), None, f"{option}: is a folder, not a file")
    if os.path.lexists(path) and not path.is_file():
        return SpecError(str(file), None, f"{option}: exists and is not a regular file")
    parent = path.absolute().parent
    where = _existing_ancestor(parent)
    if not where.is_dir():
        return SpecError(str(file), None, f"{option}: cannot create its folder: {where} is not a folder")
    why = _probe_writable(where)
    if why is not None:
        return SpecError(str(file), None, f"{option}: cannot write in {where}: {why}")
    if path.is_file() and not os.access(path, os.W_OK):
        return SpecError(str(file), None, f"{option}: the file is not writable")
    return None


def check_output_options(params: dict[str, object]) -> bool:
    """Report every output-file option in ``params`` that cannot be written; True when all can."""
    ok = True
    for name, option in OUTPUT_FILE_OPTIONS.items():
        value = params.get(name)
        if value:
            error = output_file_error(str(value), option)
            if error is not None:
                report_bad_input(error)
                ok = False
    return ok


# -- orphans --------------------------------------------------------------------------------------

_SOURCE = re.compile(rf"^{re.escape(HEADER)}(?P<source>.+?); do not edit")


def source_name(path: str | Path) -> str:
    """A document path as a generated module's header names it (as :mod:`generator.render` writes it)."""
    return re.sub(r"[^0-9A-Za-z._/-]", "_", PurePosixPath(Path(path).as_posix()).as_posix())


def module_source(module: Path) -> str | None:
    """The document a generated module says it was generated from (None if it does not say)."""
    try:
        with module.open(encoding="utf-8") as f:
            m = _SOURCE.match(f.readline())
    except (OSError, UnicodeDecodeError):
        return None
    return m.group("source") if m else None


def _same_folder(named: str, folder: Path) -> bool:
    if named == source_name(folder):
        return True
    try:
        return Path(named).resolve() == folder.resolve()
    except (OSError, RuntimeError, ValueError):
        return False


def is_orphan(module: Path, folders: Sequence[Path]) -> bool:
    """Whether a generated ``module`` belongs to a document that is gone from one of ``folders``.

    Its header names its document; that document must have been in one of the folders given (so
    a module of a document that was merely not given is kept) and no ``*.rst`` of that folder may
    now render under that name. Anything unclear (no header, a folder that cannot be listed) keeps
    the module.
    """
    source = module_source(module)
    if source is None:
        return False
    named = PurePosixPath(source)
    for folder in folders:
        if not _same_folder(str(named.parent), folder):
            continue
        try:
            present = {source_name(Path(n)) for n in os.listdir(folder) if n.endswith(".rst")}
        except OSError:
            return False
        return source_name(Path(named.name)) not in present
    return False


# -- planning and writing -------------------------------------------------------------------------


@dataclass
class Suite:
    """The plan for the good documents of one call, and their test modules."""

    plan: Plan
    documents: list[Path]

    @property
    def modules(self) -> list[Path]:
        """The test modules of these documents, in a form pytest reads as paths."""
        return [_as_argument(p) for p in sorted(p for p in self.plan.files if p.name.startswith("test_"))]


def _as_argument(path: Path) -> Path:
    # a relative path starting with "-" would be read by pytest as an option
    return path.absolute() if str(path).startswith("-") else path


def plan_documents(paths: Sequence[str] | Inputs, out_dir: str, *, write: bool = True) -> Suite:
    """Plan the suite of the good documents of ``paths``, reporting each bad one.

    Exits 2 (after reporting) when ``--out`` cannot be used or no document is good.
    """
    error = output_folder_error(out_dir, write=write)
    if error is not None:
        report_bad_input(error)
        raise SystemExit(2)
    inputs = paths if isinstance(paths, Inputs) else collect(paths)
    errors: dict[int, SpecError] = {}  # by position among the inputs: reported in the order given
    files: dict[int, Path] = {}
    for i, item in enumerate(inputs.items):
        if isinstance(item, SpecError):
            errors[i] = item
            continue
        try:
            read_document(item)  # a regular file, not too large: safe for suite_files to read
        except SpecError as exc:
            errors[i] = exc
            continue
        files[i] = item
    plan = None
    while plan is None:
        try:
            plan = plan_suite(list(files.values()), out_dir)
        except SpecError as exc:  # one document's: set it aside and plan the others again
            culprit = next((i for i, f in files.items() if exc.path in (str(f), f.as_posix())), None)
            if culprit is None:
                report_bad_input(exc)
                raise SystemExit(2) from None
            errors[culprit] = exc
            del files[culprit]
    for _, error in sorted(errors.items()):
        report_bad_input(error)
    if not files:
        raise SystemExit(2)
    if bad_input_reported():
        plan.orphans = []  # a call that reported bad input removes nothing
    else:
        plan.orphans = [o for o in plan.orphans if is_orphan(o, inputs.folders)]
    return Suite(plan, list(files.values()))


def write_suite(suite: Suite) -> int:
    """Write the plan; a file that cannot be written is bad input (exit 2), never a traceback."""
    try:
        return write_plan(suite.plan)
    except OSError as exc:
        report_bad_input(SpecError(str(exc.filename or suite.plan.out_dir), None,
                                   f"cannot write: {exc.strerror or exc}"))
        raise SystemExit(2) from None


def regenerate_command(paths: Sequence[str] | Inputs, out_dir: str) -> str:
    """The ``talkqa generate`` command that brings the suite of ``paths`` up to date (quoted)."""
    given = [str(f) for f in paths.files] if isinstance(paths, Inputs) else [str(p) for p in paths]
    return talkqa_command("generate", given, f"--out={out_dir}")


def generate_modules(paths: Sequence[str] | Inputs, out_dir: str, frozen: bool) -> list[Path]:
    """Generate (or, ``frozen``, verify) the modules of the good documents of ``paths``; the module
    paths to run (never empty: no good document exits 2)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and not check_output_options(ctx.params):
        raise SystemExit(2)
    suite = plan_documents(paths, out_dir, write=not frozen)
    if frozen:
        problems = suite.plan.problems()
        if problems:
            for line in problems:
                click.echo(line, err=True)
            click.echo("the generated suite is stale (or drop --frozen); regenerate it with: "
                       + regenerate_command(paths, out_dir), err=True)
            raise SystemExit(1)
    else:
        write_suite(suite)
    modules = suite.modules
    if not modules:
        raise SystemExit(2)
    return modules
