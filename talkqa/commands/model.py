"""``talkqa model``: print the mapping model of documents."""

from __future__ import annotations

import json

import click

from generator.errors import SpecError
from generator.model import Document
from talkqa.commands.documents import read_documents, report_bad_input

#: The schema version of ``talkqa model --json`` (docs/reference.md#json-schemas).
SCHEMA = "talkqa-model/1"


def _describe(doc: Document) -> str:
    src, tgt = doc.source_system, doc.target_system
    lines = [
        f"{doc.path}: {doc.title}",
        f"  source {src.name or '(blank)'} [{src.slug}] -> target {tgt.name or '(blank)'} [{tgt.slug}]",
        f"  generated {doc.generated or '(none)'}; {len(doc.flows)} flows, {doc.row_count} rows",
    ]
    for f in doc.flows:
        way = "two-way" if f.two_way else "one-way"
        cond = f" when {f.condition!r}" if f.condition else ""
        lines.append(f"  line {f.line}: {f.source_label} -> {f.target_label} [{f.policy}, {way}]{cond}")
        for r in f.match:
            lines.append(f"    line {r.line}: match {r.source} == {r.target}")
        for m in f.mappings:
            extra = f" ({m.condition.text})" if m.condition else ""
            lines.append(f"    line {m.line}: {m.source} <-> {m.target} : {m.type}{extra}")
    return "\n".join(lines)


@click.command("model")
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: {schema: talkqa-model/1, documents: [one object per document]}.")
def model(paths: tuple[str, ...], as_json: bool) -> None:
    """Print the mapping model of each document (a folder means every *.rst in it)."""
    docs: list[Document] = []
    failed = False
    for item in read_documents(paths):
        if isinstance(item, SpecError):
            report_bad_input(item)
            failed = True
        else:
            docs.append(item)
    if as_json:
        click.echo(json.dumps({"schema": SCHEMA, "documents": [d.to_json() for d in docs]}, indent=2,
                              ensure_ascii=False))
    else:
        click.echo("\n\n".join(_describe(d) for d in docs))
    if failed:
        raise SystemExit(2)
