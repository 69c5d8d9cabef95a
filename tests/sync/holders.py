"""Child processes for the lock tests: python code that reports on stdout, line by line, and waits
for the test's go-ahead on stdin. Every read has a deadline; nothing sleeps."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60.0


class Child:
    """``python -c CODE ARGS...`` with a reader thread, so a line can be awaited with a deadline."""

    def __init__(self, code: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
            env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, prefix: str) -> str:
        """The next line; it must start with ``prefix`` (fails on EOF or after the deadline)."""
        try:
            line = self.lines.get(timeout=DEADLINE)
        except queue.Empty:
            raise AssertionError(f"no {prefix!r} line from the child within {DEADLINE} s") from None
        if line is None:
            self.proc.wait(timeout=DEADLINE)
            raise AssertionError(f"the child ended before {prefix!r}: {self.proc.stderr.read()}")  # type: ignore[union-attr]
        assert line.startswith(prefix), line
        return line

    def tell(self, line: str = "go") -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def finish(self) -> int:
        """Close stdin and wait for the exit status."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        return self.proc.wait(timeout=DEADLINE)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=DEADLINE)


#: Opens the state, writes link "a", says "held", waits for a line, writes link "b", closes.
HOLD_STATE = """
import sys
from talkqa.sync.state import SyncState
state = SyncState(sys.argv[1])
state.add_link("flow", "a", "res", "t-a")
print("held", flush=True)
sys.stdin.readline()
state.add_link("flow", "b", "res", "t-b")
state.close()
print("released", flush=True)
"""

#: Opens the state waiting up to argv[2] seconds; says "waiting <pid>" when it has to wait, then
#: "acquired <links>" or "locked <pid>|<message>"; on "acquired", adds link "c".
WAIT_FOR_STATE = """
import sys
import talkqa.locks as locks
from talkqa.sync.state import StateLocked, SyncState

original = locks.FileLock.acquire
def acquire(self, timeout=0.0, *, on_wait=None):
    return original(self, timeout, on_wait=lambda pid: print(f"waiting {pid}", flush=True))
locks.FileLock.acquire = acquire
try:
    state = SyncState(sys.argv[1], wait=float(sys.argv[2]))
except StateLocked as exc:
    print(f"locked {exc.pid}|{exc}", flush=True)
    sys.exit(0)
print("acquired " + ",".join(link.source_id for link in state.links()), flush=True)
state.add_link("flow", "c", "res", "t-c")
state.close()
"""

#: Holds the lock of a token store (argv[1]) until told.
HOLD_TOKEN_STORE = """
import sys
from talkqa.connectors.auth import TokenStore
lock = TokenStore(sys.argv[1]).lock()
lock.acquire()
print("held", flush=True)
sys.stdin.readline()
lock.release()
print("released", flush=True)
"""
