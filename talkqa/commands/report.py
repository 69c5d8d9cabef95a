"""``talkqa report``: the checklist report (one self-contained HTML file) from a results JSON."""
from __future__ import annotations

from pathlib import Path

import click

from talkqa.commands.documents import report_error


@click.command("report")
@click.argument("results_json", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out", default="report.html", show_default=True, type=click.Path(dir_okay=False),
              help="The HTML file to write.")
@click.option("--document", "documents", multiple=True,
              help="Show only this document (repeatable; default: every document the results name).")
@click.option("--root", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder that relative document paths in the results are read from.")
def report(results_json: Path, out: str, documents: tuple[str, ...], root: str) -> None:
    """Write the checklist report of RESULTS_JSON (from `pytest --talkqa-results`) as one HTML file.

    Each document named in the results is rendered with every table row marked conforms / does
    not conform / pending / not checkable / not run, with a summary per flow at the top.
    Exit status 0 when written, 2 when the results cannot be read.
    """
    import json

    from talkqa.report import write_report

    try:
        path = write_report(results_json, out, documents=list(documents) or None, root=root)
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        report_error(f"{results_json}: cannot write the report: {exc}")
        raise SystemExit(2) from None
    click.echo(f"wrote {path}")
