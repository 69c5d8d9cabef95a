"""Seeded fault injection: which request gets which fault."""
from __future__ import annotations

import random
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("rate_limit_burst", "server_error", "slow", "drop_connection", "lost_response", "token_expiry")


@dataclass
class Fault:
    """One scheduled fault.

    ``count`` is how many times it may still fire (None: forever); ``probability`` is the chance it
    fires on a matching request (drawn from the simulator's seeded random). ``method`` and ``path``
    are regular expressions (``re.search``, case-insensitive for the method).
    """

    kind: str
    count: int | None = 1
    probability: float = 1.0
    method: str | None = None
    path: str | None = None
    status: int = 500  # server_error
    seconds: float = 1.0  # slow
    real: bool = False  # slow: sleep in real time even when the clock is fake
    fired: int = 0
    _method_re: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    _path_re: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        if self.count is not None and self.count < 0:
            raise ValueError("count must be >= 0")
        self._method_re = re.compile(self.method, re.I) if self.method else None
        self._path_re = re.compile(self.path) if self.path else None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        allowed = {"kind", "count", "probability", "method", "path", "status", "seconds", "real"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}

    def matches(self, method: str, path: str) -> bool:
        if self.count is not None and self.fired >= self.count:
            return False
        if self._method_re and not self._method_re.fullmatch(method):
            return False
        return not (self._path_re and not self._path_re.search(path))


class FaultPlan:
    """The faults scheduled on one simulator; ``pick`` is thread-safe and reproducible for a seed."""

    def __init__(self, seed: int = 0) -> None:
        self._seed = seed
        self._rng: random.Random | None = None  # seeded on the first draw after a clear (most plans never draw)
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._rng = None

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def idle(self) -> bool:
        """Nothing is scheduled (read without the lock: a list's emptiness is one read)."""
        return not self._faults

    def scheduled(self) -> list[Fault]:
        """The scheduled faults (the objects: read, do not change)."""
        with self._lock:
            return list(self._faults)

    def _draw(self) -> float:
        """The plan's next random number (the lock is held): the same sequence from every clear."""
        if self._rng is None:
            self._rng = random.Random(self._seed)
        return self._rng.random()

    def pick(self, method: str, path: str, exclude: tuple[str, ...] = ()) -> Fault | None:
        """The first scheduled fault that matches and wins its draw; it is counted as fired. Faults of
        the kinds ``exclude`` cannot apply to this request (e.g. ``token_expiry`` to a token that was
        never presented before: a token does not expire the moment it is issued)."""
        with self._lock:
            for fault in self._faults:
                if fault.kind in exclude or not fault.matches(method, path):
                    continue
                if fault.probability < 1.0 and self._draw() >= fault.probability:
                    continue
                fault.fired += 1
                return fault
            return None
