"""Time sources shared by the simulators, connectors and the sync.

Tests never sleep: they share a :class:`FakeClock` between a simulator and a
connector, and ``sleep`` on it advances time instantly.
"""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""

    def sleep(self, seconds: float) -> None:
        """Wait (or pretend to wait) for ``seconds``."""


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A manual clock: ``sleep`` and ``advance`` move it forward at once; thread-safe."""

    def __init__(self, start: float | None = None) -> None:
        self._now = self._start = start if start is not None else datetime(2026, 1, 1, tzinfo=UTC).timestamp()
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def rewind(self) -> None:
        """Back to the time it started at (a test that starts afresh starts at the same time)."""
        with self._lock:
            self._now = self._start


class TickingClock(FakeClock):
    """A fake clock that moves forward by ``tick`` seconds every time it is read.

    Like a real clock, two events never share a timestamp (so "changed after" filters see every
    edit), yet nothing waits: ``sleep`` still advances at once, and runs are repeatable.
    """

    def __init__(self, start: float | None = None, tick: float = 0.001) -> None:
        super().__init__(start)
        self.tick = tick

    def now(self) -> float:
        with self._lock:
            self._now += self.tick
            return self._now
