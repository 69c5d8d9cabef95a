"""``talkqa generate``: render each document's checklist module; ``--check`` is the stale-suite gate."""

from __future__ import annotations

import click

from talkqa.commands.documents import bad_input_reported
from talkqa.commands.suite import plan_documents, regenerate_command, write_suite


@click.command("generate")
@click.argument("paths", nargs=-1, required=True)
@click.option("--out", "out_dir", default="generated_tests", show_default=True, help="Folder of the generated suite.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 naming every stale, missing or orphaned file.")
def generate(paths: tuple[str, ...], out_dir: str, check: bool) -> None:
    """Render one pytest module per document into OUT (deterministic; unchanged files are kept).

    Only the documents given are rendered; a generated module is removed as an orphan only when
    its document is gone from a folder given here. A bad document is reported on its own line,
    the good ones are still rendered (its own module, if any, is kept) and the exit status is 2.
    """
    suite = plan_documents(paths, out_dir, write=not check)
    plan = suite.plan
    if check:
        problems = plan.problems()
        for line in problems:
            click.echo(line)
        click.echo(
            f"{len(plan.files)} modules checked: " + ("up to date" if not problems else f"{len(problems)} stale")
        )
        if problems:
            click.echo(f"regenerate with: {regenerate_command(paths, out_dir)}")
        raise SystemExit(2 if bad_input_reported() else 1 if problems else 0)
    written = write_suite(suite)
    click.echo(f"{len(plan.files)} modules in {out_dir}: {written} written, {len(plan.orphans)} orphans removed")
    if bad_input_reported():
        raise SystemExit(2)
