"""``talkqa generate``: render each document's checklist module; ``--check`` is the stale-suite gate."""

from __future__ import annotations

import click

from generator.errors import SpecError
from generator.suite_files import plan_suite, write_plan
from talkqa.commands.documents import expand, report_error


@click.command("generate")
@click.argument("paths", nargs=-1, required=True)
@click.option("--out", "out_dir", default="generated_tests", show_default=True, help="Folder of the generated suite.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 naming every stale, missing or orphaned file.")
def generate(paths: tuple[str, ...], out_dir: str, check: bool) -> None:
    """Render one pytest module per document into OUT (deterministic; unchanged files are kept)."""
    try:
        plan = plan_suite(expand(paths), out_dir)
    except SpecError as exc:
        report_error(str(exc))
        raise SystemExit(2) from None
    if check:
        problems = plan.problems()
        for line in problems:
            click.echo(line)
        click.echo(
            f"{len(plan.files)} modules checked: " + ("up to date" if not problems else f"{len(problems)} stale")
        )
        raise SystemExit(1 if problems else 0)
    written = write_plan(plan)
    click.echo(f"{len(plan.files)} modules in {out_dir}: {written} written, {len(plan.orphans)} orphans removed")
