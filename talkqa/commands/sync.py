"""``talkqa sync``: run the reference sync for a document against configured endpoints."""
from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import click
from rich.console import Console

from generator.errors import SpecError
from generator.parser import parse_file
from talkqa.commands.documents import report_error
from talkqa.connectors.config import SIMULATORS_FILE, ConfigError, Endpoints
from talkqa.sync import predicates
from talkqa.sync.engine import Summary, SyncEngine
from talkqa.sync.state import StateLocked, SyncState
from talkqa.systems import registry
from talkqa.systems.base import NotConfigured, SystemKey
from talkqa.systems.run import Systems


def _environment(config: str | None) -> dict[str, str]:
    """The settings every system's plugin reads: the environment, ``--config``, or, when nothing is
    configured, the simulators ``talkqa simulate`` started (``.talkqa/simulators.json``)."""
    env = dict(os.environ)
    if config:
        env["TALKQA_CONFIG"] = config
        return env
    configured = Endpoints.from_env(env)
    if configured.poweroffice is not None or configured.exact is not None or not Path(SIMULATORS_FILE).exists():
        return env
    # the rotated Exact refresh token must outlive this process; one store per simulator run
    client_id = json.loads(Path(SIMULATORS_FILE).read_text())["credentials"]["exact"]["client_id"]
    store = Path(SIMULATORS_FILE).parent / f"exact-token-{client_id}.json"
    sims = Endpoints.from_simulators(SIMULATORS_FILE, token_store=store)
    for slug, part in (("powerofficego", sims.poweroffice), ("exact", sims.exact)):
        found = registry.plugin(slug)
        if found is not None and part is not None:
            env.update(found.command_env(SystemKey(slug), part, None))
    if sims.exact is not None:
        env["TALKQA_EXACT_TOKEN_STORE"] = str(store)
    return env


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

    Every system is reached through its plugin: TALKQA_<SYSTEM>_* settings (or --config for PowerOffice
    Go and Exact Online; without either, the simulators `talkqa simulate` started).
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
        systems = Systems([doc], mode="live", env=_environment(config))
        binding = systems.bind(doc, prepare=False)
        systems.prepare_document(doc, binding)  # every system the document names must be reachable
    except (ConfigError, NotConfigured) as exc:
        report_error(f"{document}:1: error: {exc}")
        raise SystemExit(2) from None
    engine = SyncEngine(doc, binding.resolve, state, predicates=predicates.registry(doc))
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
