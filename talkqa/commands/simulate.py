"""``talkqa simulate``: run the PowerOffice Go and Exact Online simulators until Ctrl-C."""
from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from talkqa.files import atomic_write
from talkqa.simulators.launcher import start_simulators

DEFAULT_INFO_FILE = Path(".talkqa/simulators.json")


def write_info(path: Path, info: dict[str, object]) -> None:
    """Write the simulators' URLs and fake credentials as JSON (atomic replace, owner-only)."""
    atomic_write(path, json.dumps(info, indent=2), mode=0o600)


@click.command()
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the simulators' data (and fake keys) here across restarts.")
@click.option("--no-rate-limits", is_flag=True, help="Switch the vendors' rate limits off.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fault injection.")
@click.option("--port-poweroffice", type=int, default=0, help="Port of the PowerOffice Go simulator (0: free).")
@click.option("--port-exact", type=int, default=0, help="Port of the Exact Online simulator (0: free).")
@click.option("--info-file", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_INFO_FILE,
              show_default=True, help="Where to write the URLs and credentials as JSON.")
def simulate(
    state_dir: Path | None, no_rate_limits: bool, seed: int, port_poweroffice: int, port_exact: int,
    info_file: Path,
) -> None:
    """Run both simulators on 127.0.0.1 and print their URLs and (fake) credentials."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        sims = start_simulators(rate_limits=not no_rate_limits, state_dir=state_dir, seed=seed,
                                port_poweroffice=port_poweroffice, port_exact=port_exact)
    except OSError as exc:
        raise click.ClickException(f"cannot start the simulators: {exc}") from None
    try:
        write_info(info_file, sims.info())
        click.echo(sims.describe())
        click.echo(f"Wrote {info_file}. Press Ctrl-C to stop.", err=True)
        stop.wait()
    finally:
        sims.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        click.echo("Simulators stopped.", err=True)
