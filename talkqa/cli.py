"""The talkqa command line."""

import click

from talkqa.commands.check import check, record
from talkqa.commands.diff import diff
from talkqa.commands.generate import generate
from talkqa.commands.lint import lint
from talkqa.commands.model import model
from talkqa.commands.mutate import mutate
from talkqa.commands.report import report
from talkqa.commands.simulate import simulate
from talkqa.commands.sync import sync


@click.group()
@click.version_option(package_name="talkqa")
def main() -> None:
    """talkqa: conformance tests generated from dataflow documents."""


main.add_command(model)
main.add_command(lint)
main.add_command(generate)
main.add_command(check)
main.add_command(record)
main.add_command(simulate)
main.add_command(sync)
main.add_command(report)
main.add_command(mutate)
main.add_command(diff)
