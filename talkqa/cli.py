"""The talkqa command line.

Every command follows one rule for bad input: one line ``path[:line]: error: message`` on stderr
per bad input, the good inputs of the same call still processed, and exit status 2 in the end
(:class:`TalkqaGroup` enforces the 2 for a command that reported bad input through
:func:`talkqa.commands.documents.report_bad_input`, whatever status it would exit with). An exception
that escapes a command is a bug: it is reported as one line too (``TALKQA_TRACEBACK=1`` shows the
traceback) and exits 2.
"""

import os
from typing import Any

import click

from generator.errors import one_line
from talkqa.commands.check import check, merge, record
from talkqa.commands.diff import diff
from talkqa.commands.documents import BAD_INPUT
from talkqa.commands.generate import generate
from talkqa.commands.lint import lint
from talkqa.commands.model import model
from talkqa.commands.mutate import mutate
from talkqa.commands.report import report
from talkqa.commands.simulate import simulate
from talkqa.commands.sync import sync

#: Set to show the traceback of an exception that escapes a command.
TRACEBACK_ENV = "TALKQA_TRACEBACK"


class TalkqaGroup(click.Group):
    """A group whose commands exit 2 after reporting bad input, and never print a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
        except SystemExit as exc:
            if ctx.meta.get(BAD_INPUT) and exc.code != 2:
                raise SystemExit(2) from None
            raise
        except click.exceptions.Exit as exc:
            if ctx.meta.get(BAD_INPUT) and exc.exit_code != 2:
                raise SystemExit(2) from None
            raise
        except click.UsageError as exc:  # one line, like every other bad input
            where = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
            click.echo(f"{where}: error: {one_line(exc.format_message())} (see {where} --help)", err=True)
            raise SystemExit(exc.exit_code) from None
        except (click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get(TRACEBACK_ENV):
                raise
            click.echo(
                f"talkqa: error: internal error: {one_line(f'{type(exc).__name__}: {exc}')} "
                f"(set {TRACEBACK_ENV}=1 to see the traceback)",
                err=True,
            )
            raise SystemExit(2) from None
        if ctx.meta.get(BAD_INPUT):
            raise SystemExit(2)
        return result


@click.group(cls=TalkqaGroup)
@click.version_option(package_name="talkqa")
def main() -> None:
    """talkqa: conformance tests generated from dataflow documents."""


main.add_command(model)
main.add_command(lint)
main.add_command(generate)
main.add_command(check)
main.add_command(record)
main.add_command(merge)
main.add_command(simulate)
main.add_command(sync)
main.add_command(report)
main.add_command(mutate)
main.add_command(diff)
