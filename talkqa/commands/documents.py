"""Finding and reading documents for the commands: folders, errors on stderr, a progress bar.

A command acts only on the documents it was given. A path is a document file or a folder, and a
folder means every ``*.rst`` directly in it. A path that gives no document at all (missing, an
empty folder, a folder without ``*.rst``, a folder that cannot be listed) is bad input: it is
reported as ``path[:line]: error: message`` and the command goes on with the others, then exits 2.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from generator.errors import SpecError, one_line
from generator.model import Document
from generator.parser import parse_file

#: Show a progress bar on stderr above this many documents (when stderr is a terminal).
PROGRESS_THRESHOLD = 5
#: The key in ``click.Context.meta`` that says bad input was reported (see :mod:`talkqa.cli`).
BAD_INPUT = "talkqa.bad_input"


@dataclass
class Inputs:
    """What the paths given to a command are: document files, folders, and paths that are neither.

    ``items`` keeps the order given (a folder's documents sorted by name in its place), with a
    SpecError where a path gives no document.
    """

    items: list[Path | SpecError] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        return [i for i in self.items if isinstance(i, Path)]

    @property
    def errors(self) -> list[SpecError]:
        return [i for i in self.items if isinstance(i, SpecError)]


def _folder_documents(folder: Path) -> list[Path] | SpecError:
    try:
        names = os.listdir(folder)
    except OSError as exc:
        return SpecError(str(folder), None, f"cannot list the folder: {exc.strerror or exc}")
    found = sorted(folder / n for n in names if n.endswith(".rst"))
    if not found:
        return SpecError(str(folder), None, "no documents: the folder has no *.rst file")
    return found


def collect(paths: Sequence[str]) -> Inputs:
    """Sort ``paths`` into documents and bad paths (nothing is read yet).

    A file given by name is a document whatever it is (reading it refuses a FIFO, a device or a
    file too large, with its own error); a missing path, a symlink loop or a folder without
    ``*.rst`` is an error here. A path given twice (by name or through its folder, however spelled)
    is taken once, where it first appears.
    """
    out = Inputs()
    seen: set[str] = set()
    for raw in paths:
        p = Path(raw)
        try:
            key = os.path.abspath(p)
        except (OSError, ValueError):
            key = raw
        if key in seen:  # the same document (or folder) given twice is one input
            continue
        seen.add(key)
        try:
            is_folder = p.is_dir()
        except OSError:  # e.g. a name too long
            is_folder = False
        if is_folder:
            docs = _folder_documents(p)
            if isinstance(docs, SpecError):
                out.items.append(docs)
            else:
                out.folders.append(p)
                for doc in docs:
                    if os.path.abspath(doc) not in seen:
                        seen.add(os.path.abspath(doc))
                        out.items.append(doc)
            continue
        try:
            os.stat(p)
        except (OSError, ValueError) as exc:
            message = getattr(exc, "strerror", None) or str(exc)
            out.items.append(SpecError(raw, 1, f"cannot read: {message}"))
            continue
        out.items.append(p)
    return out


def expand(paths: Sequence[str]) -> list[Path]:
    """The document files of ``paths`` (bad paths left out: :func:`collect` names them)."""
    return collect(paths).files


def report_error(message: str) -> None:
    """Print ``message`` on stderr (one line per call, as given)."""
    click.echo(message, err=True)


def report_bad_input(error: SpecError | str) -> None:
    """Report bad input on stderr, one line, and remember it: the command then exits 2."""
    click.echo(str(error) if isinstance(error, SpecError) else one_line(error), err=True)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[BAD_INPUT] = True


def bad_input_reported() -> bool:
    """Whether this command reported bad input (through :func:`report_bad_input`)."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(BAD_INPUT))


def read_documents(paths: Sequence[str] | Inputs) -> Iterator[Document | SpecError]:
    """Parse each document; a bad one (or a bad path) yields its SpecError, in the order given
    (the caller reports it and goes on)."""
    inputs = paths if isinstance(paths, Inputs) else collect(paths)
    files = inputs.files
    show = len(files) > PROGRESS_THRESHOLD and sys.stderr.isatty()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not show,
    )
    with progress:
        task = progress.add_task("parsing", total=len(files))
        for item in inputs.items:
            if isinstance(item, SpecError):
                yield item
                continue
            try:
                yield parse_file(item)
            except SpecError as exc:
                yield exc
            progress.advance(task)
