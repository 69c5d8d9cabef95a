"""An exclusive, process-wide lock on a file: ``fcntl.flock`` on a lock file beside it.

The lock file (``<path>.lock``) holds the pid of the process that has the lock, so a refused
process can say who holds it. The kernel drops a ``flock`` when its holder exits, however it
exits (a ``SIGKILL`` included), so a lock is never stale; the lock file itself stays (removing
it would let two processes lock two different files of the same name).

A lock is held per open file: two :class:`FileLock` objects in one process on the same path
exclude each other too.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

#: Longest pause between two attempts while waiting for a lock.
MAX_POLL = 0.05


class LockHeld(Exception):
    """Another process (or another open file in this one) holds the lock on ``path``."""

    def __init__(self, path: str, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        super().__init__(path, pid)

    def __str__(self) -> str:
        return f"{self.path}: locked by another process (pid {self.pid if self.pid is not None else '?'})"


def lock_path(path: str | os.PathLike[str]) -> Path:
    """The lock file of ``path``: ``<path>.lock`` in the same folder."""
    p = Path(path)
    return p.with_name(p.name + ".lock")


def holder_pid(lock_file: str | os.PathLike[str]) -> int | None:
    """The pid written in a lock file (``None`` when it is empty, missing or unreadable)."""
    try:
        text = Path(lock_file).read_text(encoding="ascii").strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


class FileLock:
    """An exclusive lock on ``lock_file``: :meth:`acquire` tries at once and, with a timeout, again
    until the deadline; then it raises ``error(path, holder pid)``."""

    def __init__(
        self,
        lock_file: str | os.PathLike[str],
        *,
        label: str | None = None,
        error: Callable[[str, int | None], LockHeld] = LockHeld,
        mode: int = 0o644,
    ) -> None:
        self.lock_file = Path(lock_file)
        self.label = label if label is not None else str(self.lock_file)
        self._error = error
        self._mode = mode
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, timeout: float = 0.0, *, on_wait: Callable[[int | None], None] | None = None) -> None:
        """Take the lock; wait up to ``timeout`` seconds for another holder to let go.

        ``on_wait(pid)`` is called once, when the first attempt is refused and a wait begins.
        """
        if self._fd is not None:
            raise RuntimeError(f"{self.label}: lock already held by this object")
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, self._mode)
        try:
            deadline = time.monotonic() + max(0.0, timeout)
            pause = 0.001
            waited = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise self._error(self.label, holder_pid(self.lock_file)) from None
                    if not waited and on_wait is not None:
                        on_wait(holder_pid(self.lock_file))
                    waited = True
                    time.sleep(min(pause, remaining))  # poll until the deadline (flock has no timeout)
                    pause = min(pause * 2, MAX_POLL)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # no pid: nobody holds it
        os.close(fd)  # closing the only descriptor drops the flock

    def __enter__(self) -> FileLock:
        if self._fd is None:
            self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.release()

    def __repr__(self) -> str:
        return f"FileLock({str(self.lock_file)!r}, held={self.held})"
