"""``talkqa sync`` against the simulators while another process holds the state: it exits 3 without
sending a request; with ``--wait`` it runs once the holder lets go and finds nothing to create
(no duplicates)."""

from __future__ import annotations

import os
import subprocess

from tests.sync.holders import DEADLINE, Child
from tests.sync_sim.harness import SEED_DOC, Harness
from tests.sync_sim.test_cli import TALKQA, config_file, summary

TALKQA_IN_CHILD = """
import sys
import talkqa.locks as locks
from talkqa.cli import main

original = locks.FileLock.acquire
def acquire(self, timeout=0.0, *, on_wait=None):
    return original(self, timeout, on_wait=lambda pid: print(f"waiting {pid}", flush=True))
locks.FileLock.acquire = acquire
main(sys.argv[1:], prog_name="talkqa")
"""


def test_a_held_state_sends_nothing_and_exits_3(h: Harness) -> None:
    h.contact_person(firstName="Ann", lastName="Aas")
    mark = h.mark()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALKQA_")} | {"NO_COLOR": "1"}
    result = subprocess.run(
        [str(TALKQA), "sync", str(SEED_DOC), "--state", str(h.state_path),
         "--config", str(config_file(h))],
        cwd=h.tmp, env=env, capture_output=True, text=True, timeout=DEADLINE,
    )  # fmt: skip
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"{h.state_path}: another sync holds this state (pid {os.getpid()}); wait for it or use another --state"
    ]
    assert h.requests_since(mark) == [], "a refused sync talked to the systems"
    assert h.exact_contacts() == {}


def test_a_waiting_sync_runs_after_the_holder_and_creates_no_duplicate(h: Harness) -> None:
    ann = h.contact_person(firstName="Ann", lastName="Aas")
    waiter = Child(
        TALKQA_IN_CHILD, "sync", str(SEED_DOC), "--state", str(h.state_path), "--config", str(config_file(h)),
        "--wait", str(DEADLINE), env={"COLUMNS": "400", "NO_COLOR": "1"},
    )  # fmt: skip
    try:
        assert waiter.expect("waiting ") == f"waiting {os.getpid()}"
        assert h.sync().created == 1  # the holder (this process) syncs first
        target = h.target_of(0, ann)
        # the waiter runs on the real clock and refreshes the shared Exact token at once: let the
        # simulator (on the test's ticking clock) see the harness's token as old enough to refresh
        h.sims.exact.age_tokens(h.sims.exact.settings.access_token_lifetime)
        h.state.close()
        out = []
        while (line := waiter.lines.get(timeout=DEADLINE)) is not None:
            out.append(line)
        assert waiter.finish() == 0, "\n".join(out) + waiter.proc.stderr.read()  # type: ignore[union-attr]
    finally:
        waiter.kill()
    created, updated, *_ = summary("\n".join(out))
    assert (created, updated) == (0, 0), out
    assert list(h.exact_contacts()) == [target], "one Exact contact, not two"
