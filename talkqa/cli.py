"""The talkqa command line."""
import click


@click.group()
def main() -> None:
    """talkqa: conformance tests generated from dataflow documents."""
