"""``talkqa sync``: run the reference sync for a document against configured endpoints."""
from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import click
from rich.console import Console

from generator.errors import SpecError
from generator.parser import parse_file
from talkqa.commands.documents import report_error
from talkqa.connectors.config import SIMULATORS_FILE, ConfigError, Endpoints
from talkqa.connectors.registry import Connections, connector_for
from talkqa.sync import predicates
from talkqa.sync.engine import Summary, SyncEngine
from talkqa.sync.state import StateLocked, SyncState


def _endpoints(config: str | None) -> Endpoints:
    if config:
        return Endpoints.from_file(config)
    env = Endpoints.from_env()
    if env.poweroffice is not None or env.exact is not None:
        return env
    if Path(SIMULATORS_FILE).exists():
        # the rotated Exact refresh token must outlive this process; one store per simulator run
        client_id = json.loads(Path(SIMULATORS_FILE).read_text())["credentials"]["exact"]["client_id"]
        store = Path(SIMULATORS_FILE).parent / f"exact-token-{client_id}.json"
        return Endpoints.from_simulators(SIMULATORS_FILE, token_store=store)
    raise ConfigError(
        f"no endpoints: set TALKQA_* variables or TALKQA_CONFIG, pass --config, or start `talkqa simulate` "
        f"(it writes {SIMULATORS_FILE})"
    )


def print_summary(summary: Summary, console: Console) -> None:
    console.print(
        f"created {summary.created}, updated {summary.updated}, linked {summary.linked}, "
        f"unchanged {summary.unchanged}, conflicts {summary.conflicts}, "
        f"skipped {sum(summary.skipped.values())}, errors {len(summary.errors)}"
    )
    for reason, n in sorted(summary.skipped.items()):
        console.print(f"  skipped {n}: {reason}")
    for error in summary.errors:
        console.print(f"  error: {error}", style="red")


@click.command("sync")
@click.argument("document")
@click.option("--once", "mode", flag_value="once", default=True, help="Run one cycle (default).")
@click.option("--watch", "mode", flag_value="watch", help="Run cycles until interrupted.")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between cycles with --watch.")
@click.option(
    "--state",
    "state_path",
    default=".talkqa/sync.sqlite",
    show_default=True,
    envvar="TALKQA_SYNC_STATE",
    help="The sync's state file (env TALKQA_SYNC_STATE).",
)
@click.option("--config", default=None, help="Endpoints config file (TOML or JSON; never commit secrets).")
@click.option("--conflicts", "show_conflicts", is_flag=True, help="Print the conflict log and exit.")
@click.option("--wait", "wait", type=float, default=0.0, show_default=True,
              help="Seconds to wait for another sync holding --state before giving up (exit 3).")
def sync(
    document: str, mode: str, interval: float, state_path: str, config: str | None, show_conflicts: bool, wait: float
) -> None:
    """Synchronize the two systems of DOCUMENT as it says, with the reference sync.

    Without --config or TALKQA_* settings it uses the simulators `talkqa simulate` started.
    Exit status: 0 when every record synced, 1 when some failed, 2 for bad input or configuration,
    3 when another sync holds the state file (after --wait seconds).
    """
    try:
        doc = parse_file(document)
    except SpecError as exc:
        report_error(str(exc))
        raise SystemExit(2) from None
    try:
        state = SyncState(state_path, wait=wait, read_only=show_conflicts)
    except StateLocked as exc:
        report_error(str(exc))
        raise SystemExit(3) from None
    console = Console(stderr=False)
    if show_conflicts:
        for c in state.conflicts():
            console.print(
                f"{c.flow} {c.source_id}<->{c.target_id} {c.property}: kept {c.kept_side} {c.kept_value!r}, "
                f"lost {c.lost_side} {c.lost_value!r}"
            )
        return
    try:
        endpoints = _endpoints(config)
    except ConfigError as exc:
        report_error(f"{document}:1: error: {exc}")
        raise SystemExit(2) from None
    connections = Connections(endpoints)
    engine = SyncEngine(
        doc, lambda slug, label: connector_for(slug, label, endpoints, connections=connections), state,
        predicates=predicates.registry(),
    )
    stop = threading.Event()
    if mode == "watch":
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    failed = False
    while True:
        with console.status(f"syncing {document}", spinner="dots"):
            summary = engine.run_once()
        print_summary(summary, console)
        failed = bool(summary.errors)
        if mode == "once" or stop.wait(interval):
            break
    raise SystemExit(1 if failed else 0)
