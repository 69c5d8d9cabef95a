"""Rate limiters that read time from an injected :class:`~talkqa.clock.Clock`."""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from talkqa.clock import Clock


class SlidingWindowLimiter:
    """At most ``limit`` requests per key within any ``window`` seconds (PowerOffice style)."""

    def __init__(self, clock: Clock, limit: int, window: float = 1.0) -> None:
        self._clock = clock
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> bool:
        """Count one request; False (and not counted) when over the limit."""
        now = self._clock.now()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


@dataclass
class Budget:
    limit: int
    remaining: int
    reset_ms: int  # epoch milliseconds


def next_utc_midnight(moment: float) -> float:
    """The epoch seconds of the first UTC midnight after ``moment`` (a POSIX day is 86,400 seconds long,
    and day 0 began at UTC midnight)."""
    return (moment // 86_400 + 1) * 86_400


class ExactBudget:
    """Exact Online: a minutely window (from the first call) and a daily one (until UTC midnight)."""

    def __init__(self, clock: Clock, per_minute: int = 60, per_day: int = 5000) -> None:
        self._clock = clock
        self.per_minute = per_minute
        self.per_day = per_day
        self._minute: dict[str, tuple[float, int]] = {}
        self._day: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> tuple[bool, Budget, Budget]:
        """Count one call; returns (allowed, minutely budget, daily budget) after it."""
        now = self._clock.now()
        day_end = next_utc_midnight(now)
        with self._lock:
            m_start, m_count = self._minute.get(key, (now, 0))
            if now >= m_start + 60:
                m_start, m_count = now, 0
            d_end, d_count = self._day.get(key, (day_end, 0))
            if now >= d_end:
                d_end, d_count = day_end, 0
            allowed = m_count < self.per_minute and d_count < self.per_day
            if allowed:
                m_count += 1
                d_count += 1
            self._minute[key] = (m_start, m_count)
            self._day[key] = (d_end, d_count)
        minute = Budget(self.per_minute, max(0, self.per_minute - m_count), int((m_start + 60) * 1000))
        day = Budget(self.per_day, max(0, self.per_day - d_count), int(d_end * 1000))
        return allowed, minute, day

    def reset(self) -> None:
        with self._lock:
            self._minute.clear()
            self._day.clear()
