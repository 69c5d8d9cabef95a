"""The sync's memory for a run that keeps nothing: :class:`~talkqa.sync.state.SyncState`'s contract in
Python dictionaries.

A check (and each fuzz example) runs the reference sync against a state that lives as long as the test;
SQLite there cost a statement per link, watermark and fingerprint lookup (a tenth of an example's time).
This store answers the same questions the same way: the same uniqueness rules (a source is linked once
per flow, a target has one origin: :class:`sqlite3.IntegrityError` otherwise), the same orderings, values
encoded as :func:`~talkqa.sync.state.encode_value` text, and transactions that join when nested and
undo every write of the outermost one when it raises. ``tests/sync/test_memory_state.py`` runs the two
side by side on random operation sequences.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from talkqa.sync.state import ConflictEntry, Link, decode_value, encode_value

_MISSING = object()


class MemoryState:
    """In-memory sync state (one process, any thread: one lock)."""

    path = ":memory:"
    read_only = False

    def __init__(self) -> None:
        self._by_source: dict[tuple[str, str], tuple[str, str]] = {}
        self._by_target: dict[tuple[str, str], tuple[str, str]] = {}
        self._watermarks: dict[tuple[str, str], str | None] = {}
        self._fingerprints: dict[tuple[str, str, str], dict[str, str]] = {}
        self._intents: dict[tuple[str, str], str] = {}
        self._conflicts: list[tuple[Any, ...]] = []
        self._lock = threading.RLock()
        self._depth = 0
        self._undo: list[Callable[[], None]] = []

    def close(self) -> None:
        """Nothing to let go of (kept for :class:`SyncState`'s contract)."""

    def transaction(self) -> _Transaction:
        """All writes inside commit together or not at all (nesting joins the outer one)."""
        return _Transaction(self)

    def _set(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        """``table[key] = value`` (``_MISSING``: delete), undone if the transaction it is part of fails
        (holding the lock, a transaction under way is this thread's; outside one the write stands alone)."""
        with self._lock:
            if self._depth:
                old = table.get(key, _MISSING)
                self._undo.append(lambda: _put(table, key, old))
            _put(table, key, value)

    # -- links ---------------------------------------------------------------------------------

    def link_for_source(self, flow: str, source_id: str) -> Link | None:
        found = self._by_source.get((flow, source_id))
        return Link(flow, source_id, found[0], found[1]) if found else None

    def link_for_target(self, target_resource: str, target_id: str) -> Link | None:
        found = self._by_target.get((target_resource, target_id))
        return Link(found[0], found[1], target_resource, target_id) if found else None

    def add_link(self, flow: str, source_id: str, target_resource: str, target_id: str) -> None:
        with self.transaction():
            if (flow, source_id) in self._by_source:
                raise sqlite3.IntegrityError("UNIQUE constraint failed: links.flow, links.source_id")
            if (target_resource, target_id) in self._by_target:
                raise sqlite3.IntegrityError("UNIQUE constraint failed: links.target_resource, links.target_id")
            self._set(self._by_source, (flow, source_id), (target_resource, target_id))
            self._set(self._by_target, (target_resource, target_id), (flow, source_id))

    def unlink_source(self, flow: str, source_id: str) -> None:
        found = self._by_source.get((flow, source_id))
        if found is not None:
            with self.transaction():
                self._set(self._by_source, (flow, source_id), _MISSING)
                self._set(self._by_target, found, _MISSING)

    def unlink_target(self, target_resource: str, target_id: str) -> None:
        found = self._by_target.get((target_resource, target_id))
        if found is not None:
            with self.transaction():
                self._set(self._by_target, (target_resource, target_id), _MISSING)
                self._set(self._by_source, found, _MISSING)

    def links(self, flow: str | None = None) -> list[Link]:
        found = [Link(f, s, r, t) for (f, s), (r, t) in self._by_source.items() if flow is None or f == flow]
        return sorted(found, key=lambda link: (link.flow, link.source_id))

    # -- watermarks ----------------------------------------------------------------------------

    def watermark(self, flow: str, side: str) -> str | None:
        return self._watermarks.get((flow, side))

    def set_watermark(self, flow: str, side: str, value: str | None) -> None:
        self._set(self._watermarks, (flow, side), value)

    # -- fingerprints --------------------------------------------------------------------------

    def fingerprints(self, flow: str, side: str, record_id: str) -> dict[str, str]:
        found = self._fingerprints.get((flow, side, record_id))
        return dict(found) if found else {}

    def set_fingerprints(self, flow: str, side: str, record_id: str, fingerprints: dict[str, str]) -> None:
        if not fingerprints:
            return
        key = (flow, side, record_id)
        self._set(self._fingerprints, key, {**self._fingerprints.get(key, {}), **fingerprints})

    def set_fingerprint(self, flow: str, side: str, record_id: str, path: str, fingerprint: str) -> None:
        self.set_fingerprints(flow, side, record_id, {path: fingerprint})

    # -- intents -------------------------------------------------------------------------------

    def intent(self, flow: str, source_id: str) -> str | None:
        return self._intents.get((flow, source_id))

    def add_intent(self, flow: str, source_id: str, external_ref: str) -> None:
        self._set(self._intents, (flow, source_id), external_ref)

    def clear_intent(self, flow: str, source_id: str) -> None:
        self._set(self._intents, (flow, source_id), _MISSING)

    # -- conflicts -----------------------------------------------------------------------------

    def log_conflict(
        self, flow: str, source_id: str, target_id: str, prop: str, kept: tuple[str, Any], lost: tuple[str, Any],
    ) -> None:
        with self.transaction():
            entry = (flow, source_id, target_id, prop, kept[0], encode_value(kept[1]), lost[0], encode_value(lost[1]))
            self._conflicts.append(entry)
            self._undo.append(self._conflicts.pop)

    def conflicts(self) -> list[ConflictEntry]:
        return [ConflictEntry(i, f, s, t, p, ks, decode_value(kv), ls, decode_value(lv))
                for i, (f, s, t, p, ks, kv, ls, lv) in enumerate(self._conflicts, start=1)]


class _Transaction:
    """:meth:`MemoryState.transaction` (a class, not a generator: the sync opens one per write)."""

    __slots__ = ("state",)

    def __init__(self, state: MemoryState) -> None:
        self.state = state

    def __enter__(self) -> None:
        state = self.state
        state._lock.acquire()
        if state._depth:
            state._depth += 1
        else:
            state._depth = 1
            state._undo = []

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        state = self.state
        try:
            if state._depth > 1:
                state._depth -= 1
                return
            try:
                if kind is not None:
                    for undo in reversed(state._undo):
                        undo()
            finally:
                state._undo = []
                state._depth = 0
        finally:
            state._lock.release()


def _put(table: dict[Any, Any], key: Any, value: Any) -> None:
    if value is _MISSING:
        table.pop(key, None)
    else:
        table[key] = value
