"""``talkqa lint``: report spec defects as ``path:line: severity: code: message``."""

from __future__ import annotations

from collections import Counter

import click

from generator.errors import SpecError
from generator.lint import lint as lint_document
from generator.model import Severity
from talkqa.commands.documents import read_documents, report_bad_input


@click.command("lint")
@click.argument("paths", nargs=-1, required=True)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too, for CI gating on spec quality.")
@click.option("-v", "--verbose", is_flag=True, help="Also print info-level notes.")
def lint(paths: tuple[str, ...], strict: bool, verbose: bool) -> None:
    """Report spec defects in documents (a folder means every *.rst in it).

    Exit status: 0 clean, 1 errors (or warnings with --strict), 2 unreadable documents.
    """
    counts: Counter[str] = Counter()
    severities: Counter[str] = Counter()
    unreadable = 0
    documents = 0
    for item in read_documents(paths):
        if isinstance(item, SpecError):
            report_bad_input(item)
            unreadable += 1
            continue
        try:
            diagnostics = lint_document(item)
        except Exception as exc:  # a bug, but one document's: the others are still linted
            report_bad_input(SpecError(item.path, 1, f"internal error linting the document ({type(exc).__name__}: "
                                                     f"{exc}); please report it with the document"))
            unreadable += 1
            continue
        documents += 1
        for d in diagnostics:
            counts[d.code] += 1
            severities[d.severity] += 1
            if d.severity is Severity.INFO and not verbose:
                continue
            click.echo(f"{item.path}:{d.line}: {d.severity}: {d.code}: {d.message}")
    by_code = ", ".join(f"{code}={n}" for code, n in sorted(counts.items()))
    click.echo(
        f"{documents} documents, {unreadable} unreadable, {severities['error']} errors, "
        f"{severities['warning']} warnings, {severities['info']} notes" + (f" ({by_code})" if by_code else "")
    )
    if unreadable:
        raise SystemExit(2)
    if severities["error"] or (strict and severities["warning"]):
        raise SystemExit(1)
