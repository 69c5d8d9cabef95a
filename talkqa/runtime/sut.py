"""The system under test: whatever syncs the two systems when the checklist says "sync".

* ``reference`` (default): talkqa's reference sync, in-process, with a fresh state per test.
* ``command:<shell command>``: an external sync, run once per sync step and checked
  black-box through the two APIs. It gets the endpoints in ``TALKQA_*`` environment
  variables (docs/tutorial-own-sync.md) and a per-test state directory in ``TALKQA_SUT_STATE``; it
  must exit 0 after one cycle (docs/tutorial-own-sync.md). Commands run live only (against simulators or sandboxes),
  since a separate process cannot replay this process's cassettes.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections import Counter
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Protocol

from generator.model import Document
from talkqa.sync.engine import Predicate, Resolver, Summary, SyncEngine
from talkqa.sync.memory_state import MemoryState
from talkqa.sync.state import ConflictEntry

#: Runs of the system under test in this process, by kind (``reference``, ``command``): the cost a
#: run prints (talkqa/runtime/plugin.py).
RUNS: Counter[str] = Counter()


class SutFailed(AssertionError):
    """The system under test reported a failure while syncing."""


class Sut(Protocol):
    def sync(self) -> Summary | None: ...

    def close(self) -> None: ...


class ReferenceSut:
    def __init__(
        self,
        document: Document,
        resolve: Resolver,
        state_dir: Path,
        predicates: Mapping[str, Predicate] | None = None,
        flows: Collection[int] | None = None,
    ) -> None:
        # in memory: a test (or fuzz example) lives in one process, and a database file per example
        # cost more than the rest of a replayed example (an in-memory SQLite database a tenth of it)
        self.state = MemoryState()
        # ``flows``: only these flows run (the check's flow and every flow that shares records with it,
        # :func:`talkqa.sync.engine.related_flows`); None: every flow of the document
        self.engine = SyncEngine(document, resolve, self.state, predicates=predicates, flows=flows)

    def sync(self) -> Summary:
        RUNS["reference"] += 1
        summary = self.engine.run_once()
        if summary.errors:
            raise SutFailed("the sync reported errors:\n  " + "\n  ".join(summary.errors))
        return summary

    def conflict_log(self) -> list[ConflictEntry]:
        """The conflicts the sync reported (its state's log): each property both sides edited, the edit
        kept and the edit lost. An external sync has no such method: its reports cannot be read."""
        return self.state.conflicts()

    def close(self) -> None:
        self.state.close()


class CommandSut:
    def __init__(self, command: str, env: Mapping[str, str], state_dir: Path, timeout: float = 300) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)  # the command's own folder exists before its first run
        self.argv = shlex.split(command)
        self.env = {
            **os.environ,
            **env,
            "TALKQA_SUT_STATE": str(state_dir),
            "TALKQA_SYNC_STATE": str(state_dir / "sync.sqlite"),
        }
        self.timeout = timeout

    def sync(self) -> None:
        RUNS["command"] += 1
        done = subprocess.run(self.argv, env=self.env, capture_output=True, text=True, timeout=self.timeout)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise SutFailed(f"{shlex.join(self.argv)} exited {done.returncode}:\n  " + "\n  ".join(tail))

    def close(self) -> None:
        pass
