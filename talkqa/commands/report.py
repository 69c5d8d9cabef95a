"""``talkqa report``: the checklist report (one self-contained HTML file) from a results JSON."""
from __future__ import annotations

from pathlib import Path

import click

from generator.errors import SpecError
from talkqa.commands.documents import report_bad_input
from talkqa.commands.suite import output_file_error


@click.command("report")
@click.argument("results_json", type=click.Path(path_type=Path))
@click.option("--out", "out", default="report.html", show_default=True, help="The HTML file to write.")
@click.option("--document", "documents", multiple=True,
              help="Show only this document (repeatable; default: every document the results name).")
@click.option("--root", default=".", show_default=True,
              help="The folder documents are read from: a document the results name is read only when it is "
                   "a regular file inside it (relative names are relative to it).")
def report(results_json: Path, out: str, documents: tuple[str, ...], root: str) -> None:
    """Write the checklist report of RESULTS_JSON (from `pytest --talkqa-results`) as one HTML file.

    Each document named in the results is rendered with every table row marked conforms / does
    not conform / pending / not checkable / not run, with a summary per flow at the top. A
    document outside --root, not a regular file or too large is not read: the report notes it
    and lists its results, and it is named on stderr. Exit status 0 when written, 2 when the
    results cannot be read, the report cannot be written, or a document was not read (the
    report is still written).
    """
    from talkqa.report import write_report

    problems = [p for p in (output_file_error(out, "--out"), _root_error(root)) if p is not None]
    for problem in problems:
        report_bad_input(problem)
    if problems:
        raise SystemExit(2)
    refused: list[SpecError] = []
    try:
        path = write_report(results_json, out, documents=list(documents) or None, root=root, refused=refused)
    except SpecError as exc:
        report_bad_input(exc)
        raise SystemExit(2) from None
    except OSError as exc:
        report_bad_input(SpecError(str(out), None, f"cannot write the report: {exc.strerror or exc}"))
        raise SystemExit(2) from None
    for problem in refused:
        report_bad_input(problem)
    click.echo(f"wrote {path}")
    if refused:
        raise SystemExit(2)


def _root_error(root: str) -> SpecError | None:
    if not Path(root).is_dir():
        return SpecError(root, None, "--root: not a folder")
    return None
