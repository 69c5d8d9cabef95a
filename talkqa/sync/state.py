"""The sync's memory: links, watermarks, per-side value fingerprints, create intents, conflicts.

One SQLite file (``:memory:`` for tests), with one writer: a :class:`SyncState` on a file holds
an exclusive lock on ``<file>.lock`` (:mod:`talkqa.locks`) from opening to :meth:`SyncState.close`;
another process opening the same file waits up to ``wait`` seconds, then gets :class:`StateLocked`.
A ``read_only`` state (``talkqa sync --conflicts``) takes no lock and cannot write.

Every record is handled in one transaction (:meth:`SyncState.transaction`); a create on the
remote side is recorded as an *intent* before the call, so a crash or a lost response between the
remote create and the link commit is recovered on the next run by looking the record up by its external reference.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from talkqa.locks import FileLock, LockHeld, lock_path

SCHEMA = """
CREATE TABLE IF NOT EXISTS links (
    flow TEXT NOT NULL,
    source_id TEXT NOT NULL,
    target_resource TEXT NOT NULL,
    target_id TEXT NOT NULL,
    PRIMARY KEY (flow, source_id)
);
-- a target record has exactly one origin, across every flow that feeds its resource
CREATE UNIQUE INDEX IF NOT EXISTS links_target ON links (target_resource, target_id);
CREATE TABLE IF NOT EXISTS watermarks (
    flow TEXT NOT NULL, side TEXT NOT NULL, value TEXT,
    PRIMARY KEY (flow, side)
);
CREATE TABLE IF NOT EXISTS fingerprints (
    flow TEXT NOT NULL, side TEXT NOT NULL, record_id TEXT NOT NULL, path TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (flow, side, record_id, path)
);
CREATE TABLE IF NOT EXISTS intents (
    flow TEXT NOT NULL, source_id TEXT NOT NULL, external_ref TEXT NOT NULL,
    PRIMARY KEY (flow, source_id)
);
CREATE TABLE IF NOT EXISTS conflicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    flow TEXT NOT NULL, source_id TEXT NOT NULL, target_id TEXT NOT NULL,
    property TEXT NOT NULL, kept_side TEXT NOT NULL, kept_value TEXT NOT NULL,
    lost_side TEXT NOT NULL, lost_value TEXT NOT NULL
);
"""


ENCODE_TEXT = _ENCODE_TEXT = json.encoder.encode_basestring  # what json.dumps(text, ensure_ascii=False) returns


def encode_value(value: Any) -> str:
    """A canonical value as stable text: dates keep their type, so a date never equals a string."""
    if type(value) is str:  # the common case, without the tagging walk (the same text)
        return _ENCODE_TEXT(value)
    if value is None:
        return "null"
    return json.dumps(_tag(value), sort_keys=True, ensure_ascii=False)


def decode_value(text: str) -> Any:
    return _untag(json.loads(text))


def _tag(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict):
        return {k: _tag(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_tag(v) for v in value]
    return value


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$datetime"}:
            return datetime.fromisoformat(value["$datetime"])
        if set(value) == {"$date"}:
            return date.fromisoformat(value["$date"])
        return {k: _untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    return value


@dataclass(frozen=True)
class Link:
    flow: str
    source_id: str
    target_resource: str
    target_id: str


@dataclass(frozen=True)
class ConflictEntry:
    id: int
    flow: str
    source_id: str
    target_id: str
    property: str
    kept_side: str
    kept_value: Any
    lost_side: str
    lost_value: Any


class StateLocked(LockHeld):
    """Another sync (process ``pid``, when known) holds the state file ``path``."""

    def __str__(self) -> str:
        pid = self.pid if self.pid is not None else "?"
        return f"{self.path}: another sync holds this state (pid {pid}); wait for it or use another --state"


@functools.lru_cache(maxsize=1)
def _empty_database() -> bytes:
    """An empty state database with the schema, serialized: deserializing it is a few times cheaper than
    running the schema script into every in-memory state."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        db.executescript(SCHEMA)
        return db.serialize()
    finally:
        db.close()


class SyncState:
    """SQLite-backed state; safe to share between threads (one connection, one lock).

    ``wait``: seconds to wait for another process holding the state file before raising
    :class:`StateLocked` (0: fail at once). ``read_only``: no lock, no writes (a missing file
    reads as empty).
    """

    def __init__(self, path: str | Path = ":memory:", *, wait: float = 0.0, read_only: bool = False) -> None:
        self.path = str(path)
        self.read_only = read_only
        self._file_lock: FileLock | None = None
        memory = self.path == ":memory:"
        if read_only and (memory or not Path(self.path).exists()):
            self._db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            self._db.executescript(SCHEMA)
            self._db.execute("PRAGMA query_only=ON")
        elif read_only:
            uri = Path(self.path).resolve().as_uri() + "?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        else:
            if not memory:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                self._file_lock = FileLock(lock_path(self.path), label=self.path, error=StateLocked)
                self._file_lock.acquire(wait)  # before SQLite opens the file: one writer, or none
            try:
                self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                if memory:  # a copy of an empty database made once (a test makes one state per example)
                    self._db.deserialize(_empty_database())
                self._db.execute("PRAGMA journal_mode=MEMORY" if memory else "PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                if not memory:
                    self._db.executescript(SCHEMA)
            except BaseException:
                if self._file_lock is not None:
                    self._file_lock.release()
                raise
        self._lock = threading.RLock()
        self._depth = 0
        self._watermarks: dict[tuple[str, str], str | None] = {}  # read-through; this process is the only writer
        # a new in-memory state has no watermark but those this object writes: the cache is complete
        # (until a rollback clears it)
        self._complete = memory and not read_only

    def close(self) -> None:
        """Close the database, then let go of the state file's lock."""
        try:
            self._db.close()
        finally:
            if self._file_lock is not None:
                self._file_lock.release()

    def __enter__(self) -> SyncState:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (nesting joins the outer one)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                self._watermarks.clear()  # what the cache took from this transaction is undone too
                self._complete = False
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    def _one(self, sql: str, *args: Any) -> Any:
        with self._lock:
            row = self._db.execute(sql, args).fetchone()
        return row

    def _write(self, sql: str, *args: Any) -> None:
        with self.transaction():
            self._db.execute(sql, args)

    # -- links ---------------------------------------------------------------------------------

    def link_for_source(self, flow: str, source_id: str) -> Link | None:
        row = self._one("SELECT target_resource, target_id FROM links WHERE flow=? AND source_id=?", flow, source_id)
        return Link(flow, source_id, row[0], row[1]) if row else None

    def link_for_target(self, target_resource: str, target_id: str) -> Link | None:
        row = self._one(
            "SELECT flow, source_id FROM links WHERE target_resource=? AND target_id=?", target_resource, target_id
        )
        return Link(row[0], row[1], target_resource, target_id) if row else None

    def add_link(self, flow: str, source_id: str, target_resource: str, target_id: str) -> None:
        self._write("INSERT INTO links VALUES (?, ?, ?, ?)", flow, source_id, target_resource, target_id)

    def unlink_source(self, flow: str, source_id: str) -> None:
        """Forget the link of ``source_id`` in ``flow``, if any."""
        self._write("DELETE FROM links WHERE flow=? AND source_id=?", flow, source_id)

    def unlink_target(self, target_resource: str, target_id: str) -> None:
        """Forget the link of the target record ``target_id``, if any."""
        self._write("DELETE FROM links WHERE target_resource=? AND target_id=?", target_resource, target_id)

    def links(self, flow: str | None = None) -> list[Link]:
        with self._lock:
            rows = self._db.execute(
                "SELECT flow, source_id, target_resource, target_id FROM links"
                + (" WHERE flow=?" if flow else "")
                + " ORDER BY flow, source_id",
                (flow,) if flow else (),
            ).fetchall()
        return [Link(*r) for r in rows]

    # -- watermarks ----------------------------------------------------------------------------

    def watermark(self, flow: str, side: str) -> str | None:
        key = (flow, side)
        if self._complete:
            return self._watermarks.get(key)
        if key in self._watermarks and not self.read_only:
            return self._watermarks[key]
        row = self._one("SELECT value FROM watermarks WHERE flow=? AND side=?", flow, side)
        value = self._watermarks[key] = row[0] if row else None
        return value

    def set_watermark(self, flow: str, side: str, value: str | None) -> None:
        self._write("INSERT OR REPLACE INTO watermarks VALUES (?, ?, ?)", flow, side, value)
        self._watermarks[(flow, side)] = value

    # -- fingerprints --------------------------------------------------------------------------

    def fingerprints(self, flow: str, side: str, record_id: str) -> dict[str, str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT path, value FROM fingerprints WHERE flow=? AND side=? AND record_id=?", (flow, side, record_id)
            ).fetchall()
        return dict(rows)

    def set_fingerprints(self, flow: str, side: str, record_id: str, fingerprints: dict[str, str]) -> None:
        """:meth:`set_fingerprint` for several properties of one record, in one statement."""
        if not fingerprints:
            return
        with self.transaction():
            self._db.executemany("INSERT OR REPLACE INTO fingerprints VALUES (?, ?, ?, ?, ?)",
                                 [(flow, side, record_id, path, fp) for path, fp in fingerprints.items()])

    def set_fingerprint(self, flow: str, side: str, record_id: str, path: str, fingerprint: str) -> None:
        """Store ``fingerprint`` (an :func:`encode_value` text) for one property of one record."""
        self._write(
            "INSERT OR REPLACE INTO fingerprints VALUES (?, ?, ?, ?, ?)", flow, side, record_id, path, fingerprint
        )

    # -- intents -------------------------------------------------------------------------------

    def intent(self, flow: str, source_id: str) -> str | None:
        row = self._one("SELECT external_ref FROM intents WHERE flow=? AND source_id=?", flow, source_id)
        return row[0] if row else None

    def add_intent(self, flow: str, source_id: str, external_ref: str) -> None:
        self._write("INSERT OR REPLACE INTO intents VALUES (?, ?, ?)", flow, source_id, external_ref)

    def clear_intent(self, flow: str, source_id: str) -> None:
        self._write("DELETE FROM intents WHERE flow=? AND source_id=?", flow, source_id)

    # -- conflicts -----------------------------------------------------------------------------

    def log_conflict(
        self,
        flow: str,
        source_id: str,
        target_id: str,
        prop: str,
        kept: tuple[str, Any],
        lost: tuple[str, Any],
    ) -> None:
        self._write(
            "INSERT INTO conflicts (flow, source_id, target_id, property, kept_side, kept_value, lost_side, lost_value)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            flow,
            source_id,
            target_id,
            prop,
            kept[0],
            encode_value(kept[1]),
            lost[0],
            encode_value(lost[1]),
        )

    def conflicts(self) -> list[ConflictEntry]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM conflicts ORDER BY id").fetchall()
        return [
            ConflictEntry(r[0], r[1], r[2], r[3], r[4], r[5], decode_value(r[6]), r[7], decode_value(r[8]))
            for r in rows
        ]
