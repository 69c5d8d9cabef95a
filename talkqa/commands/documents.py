"""Finding and reading documents for the commands: folders, errors on stderr, a progress bar."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from generator.errors import SpecError
from generator.model import Document
from generator.parser import parse_file

#: Show a progress bar on stderr above this many documents (when stderr is a terminal).
PROGRESS_THRESHOLD = 5


def expand(paths: Sequence[str]) -> list[Path]:
    """Files as given; a folder means every ``*.rst`` in it, sorted."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        out.extend(sorted(p.glob("*.rst")) if p.is_dir() else [p])
    return out


def report_error(message: str) -> None:
    click.echo(message, err=True)


def read_documents(paths: Sequence[str]) -> Iterator[Document | SpecError]:
    """Parse each document; a bad one yields its SpecError (the caller reports it and goes on)."""
    files = expand(paths)
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
        for f in files:
            try:
                yield parse_file(f)
            except SpecError as exc:
                yield exc
            except OSError as exc:
                yield SpecError(str(f), 1, f"cannot read: {exc.strerror or exc}")
            progress.advance(task)
