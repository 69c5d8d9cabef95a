"""The simulators' state file: a snapshot plus an append-only journal of changed entries.

A simulator keeps its state in memory (``{"collections": {name: {id: record}}, "auth": {...},
"meta": {...}}``). With a state file, :class:`StateJournal` wraps the dicts of the first two levels
(the state, ``collections``/``auth``/``meta``, each table and each auth map) in :class:`Tracked`
dicts that note which *entry* (a record, a token, a counter) was written, deleted or read (a read
entry may be changed in place). :meth:`StateJournal.flush` (what ``Simulator.changed`` calls)
appends one JSON line per entry that really changed, so a write costs the same whatever the size
of the state. When the journal has grown past the snapshot (and at least 1 MiB), the file is
compacted: rewritten atomically as a new snapshot.

File format (UTF-8, one JSON document per line)::

    {"snapshot": {...the whole state...}, "talkqa-simulator-state": 1}
    {"s": ["collections", "contacts", "5e0c..."], "v": {...the record...}}
    {"d": ["auth", "codes", "9f1a..."]}

``s`` sets the value at a path (creating the dicts above it), ``d`` deletes it. A last line cut
short by a crash is ignored. A file holding one plain JSON object (what earlier versions wrote)
is read as a snapshot. Appends are not fsynced: the state survives the simulator process being
killed, not a power cut; a compaction is fsynced (it replaces the file).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from talkqa.files import atomic_write

FORMAT_KEY = "talkqa-simulator-state"
FORMAT_VERSION = 1
#: Compact when the journal is larger than the snapshot and than this.
COMPACT_MIN_BYTES = 1 << 20
#: Dicts at paths this short are containers whose entries are journaled one by one.
CONTAINER_DEPTH = 2

Path_ = tuple[str, ...]
_MISSING = object()


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Tracked(dict):  # type: ignore[type-arg]
    """A dict that tells its :class:`StateJournal` which of its entries changed (or may have)."""

    __slots__ = ("_journal", "_path")

    def __init__(self, journal: StateJournal, path: Path_, data: dict[str, Any]) -> None:
        super().__init__()
        self._journal = journal
        self._path = path
        for key, value in data.items():
            dict.__setitem__(self, key, journal.wrap((*path, key), value))

    # -- writes ---------------------------------------------------------------------------------
    def __setitem__(self, key: str, value: Any) -> None:
        dict.__setitem__(self, key, self._journal.wrap((*self._path, key), value))
        self._journal.mark((*self._path, key))

    def __delitem__(self, key: str) -> None:
        dict.__delitem__(self, key)
        self._journal.mark((*self._path, key))

    def pop(self, key: str, *default: Any) -> Any:
        if key in self:
            self._journal.mark((*self._path, key))
        return dict.pop(self, key, *default)

    def popitem(self) -> tuple[str, Any]:
        key, value = dict.popitem(self)
        self._journal.mark((*self._path, key))
        return key, value

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other: Any) -> Tracked:  # type: ignore[override,misc]
        self.update(other)
        return self

    def clear(self) -> None:
        dict.clear(self)
        self._journal.mark(self._path)

    # -- reads (the entry may be changed in place afterwards) --------------------------------------
    def __getitem__(self, key: str) -> Any:
        value = dict.__getitem__(self, key)
        if not isinstance(value, Tracked):
            self._journal.mark((*self._path, key))
        return value

    def get(self, key: str, default: Any = None) -> Any:
        value = dict.get(self, key, _MISSING)
        if value is _MISSING:
            return default
        if not isinstance(value, Tracked):
            self._journal.mark((*self._path, key))
        return value

    # -- copies are plain dicts ------------------------------------------------------------------------
    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v, memo) for k, v in self.items()}

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self),))


class StateJournal:
    """A state file kept as snapshot + journal (see the module docstring). Not thread-safe by
    itself: the simulator calls :meth:`flush` under its lock."""

    def __init__(self, path: str | os.PathLike[str], *, compact_min_bytes: int = COMPACT_MIN_BYTES) -> None:
        self.path = Path(path)
        self.compact_min_bytes = compact_min_bytes
        self._dirty: set[Path_] = set()
        self._dirty_lock = threading.Lock()
        self._written: dict[Path_, int] = {}  # path -> hash of the value text last appended
        self._fd: int | None = None
        self._snapshot_bytes = 0
        self._journal_bytes = 0
        self._need_snapshot = True
        self.compactions = 0

    # -- reading ----------------------------------------------------------------------------------
    def load(self) -> dict[str, Any] | None:
        """The state the file holds (None when there is no file)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        lines = raw.split(b"\n")
        first = json.loads(lines[0])
        if isinstance(first, dict) and FORMAT_KEY in first:
            state: dict[str, Any] = first["snapshot"]
        else:  # one JSON object: the format before the journal
            return json.loads(raw)
        for number, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                if number == len(lines):  # the last line, cut short by a crash
                    break
                raise ValueError(f"{self.path}:{number}: corrupt simulator state journal") from None
            if "s" in entry:
                _set(state, entry["s"], entry["v"])
            else:
                _delete(state, entry["d"])
        return state

    # -- tracking ---------------------------------------------------------------------------------
    def attach(self, state: dict[str, Any]) -> Tracked:
        """``state`` with its containers tracked; the next flush writes a snapshot."""
        self._need_snapshot = True
        with self._dirty_lock:
            self._dirty.clear()
        return self.wrap((), state)  # type: ignore[return-value]

    def wrap(self, path: Path_, value: Any) -> Any:
        if len(path) <= CONTAINER_DEPTH and isinstance(value, dict) and not (
            isinstance(value, Tracked) and value._journal is self and value._path == path
        ):
            return Tracked(self, path, value)
        return value

    def mark(self, path: Path_) -> None:
        if not path:
            self._need_snapshot = True
            return
        with self._dirty_lock:
            self._dirty.add(path)

    def mark_all(self, paths: Iterable[Path_]) -> None:
        for path in paths:
            self.mark(tuple(path))

    # -- writing ----------------------------------------------------------------------------------
    def flush(self, state: dict[str, Any]) -> None:
        """Append every changed entry; compact when due (or when the state was replaced)."""
        with self._dirty_lock:
            dirty, self._dirty = self._dirty, set()
        if self._need_snapshot or self._fd is None:
            self.compact(state)
            return
        lines = []
        for path in dirty:  # any order: each line carries the value as it is now
            value = _get(state, path)
            if len(path) <= CONTAINER_DEPTH and (value is _MISSING or isinstance(value, dict)):
                self._written.clear()  # a whole container: what is known of its entries is stale
            if value is _MISSING:
                self._written.pop(path, None)
                lines.append(_dumps({"d": list(path)}))  # it may be in the snapshot: always written
                continue
            text = _dumps(value)
            digest = hash(text)
            if self._written.get(path) == digest:
                continue  # read, not changed
            self._written[path] = digest
            lines.append('{"s":' + _dumps(list(path)) + ',"v":' + text + "}")
        if not lines:
            return
        data = ("\n".join(lines) + "\n").encode("utf-8")
        os.write(self._fd, data)
        self._journal_bytes += len(data)
        if self._journal_bytes > max(self.compact_min_bytes, self._snapshot_bytes):
            self.compact(state)

    def compact(self, state: dict[str, Any]) -> None:
        """Rewrite the file as one snapshot of ``state`` (atomic replace, fsynced)."""
        data = (_dumps({FORMAT_KEY: FORMAT_VERSION, "snapshot": state}) + "\n").encode("utf-8")
        atomic_write(self.path, data)
        self.close()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        self._snapshot_bytes = len(data)
        self._journal_bytes = 0
        self._written.clear()
        with self._dirty_lock:
            self._dirty.clear()
        self._need_snapshot = False
        self.compactions += 1

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def __del__(self) -> None:
        self.close()

    @property
    def sizes(self) -> tuple[int, int]:
        """(snapshot bytes, journal bytes since the snapshot)."""
        return self._snapshot_bytes, self._journal_bytes


def _get(state: dict[str, Any], path: Path_) -> Any:
    node: Any = state
    for key in path:
        if not isinstance(node, dict):
            return _MISSING
        node = dict.get(node, key, _MISSING)
        if node is _MISSING:
            return _MISSING
    return node


def _set(state: dict[str, Any], path: list[str], value: Any) -> None:
    node = state
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[path[-1]] = value


def _delete(state: dict[str, Any], path: list[str]) -> None:
    node: Any = state
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path[-1], None)
