"""One writer per sync state: a second process gets :class:`StateLocked` (naming the holder's pid),
``talkqa sync`` says so in one line and exits 3, ``--wait`` takes over when the holder lets go, a
killed holder leaves no stale lock, and the Exact token store is locked while it is written."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from talkqa.connectors.auth import TokenState, TokenStore, TokenStoreLocked
from talkqa.connectors.secret import Secret
from talkqa.locks import FileLock, LockHeld, holder_pid, lock_path
from talkqa.sync.state import StateLocked, SyncState
from tests.sync.holders import DEADLINE, HOLD_STATE, HOLD_TOKEN_STORE, ROOT, WAIT_FOR_STATE, Child

TALKQA = Path(sys.executable).with_name("talkqa")
SEED_DOC = ROOT / "spec" / "powerofficego-exact.rst"


def sources(path: Path) -> list[str]:
    with SyncState(path, read_only=True) as state:
        return [link.source_id for link in state.links()]


def test_a_second_process_gets_state_locked_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "sync.sqlite"
    holder = Child(HOLD_STATE, str(path))
    try:
        holder.expect("held")
        assert holder_pid(lock_path(path)) == holder.pid
        second = Child(WAIT_FOR_STATE, str(path), "0")
        line = second.expect("locked ")
        assert second.finish() == 0
        pid, message = line[len("locked ") :].split("|", 1)
        assert int(pid) == holder.pid
        expected = f"{path}: another sync holds this state (pid {holder.pid}); wait for it or use another --state"
        assert message == expected
        holder.tell()
        holder.expect("released")
        assert holder.finish() == 0
    finally:
        holder.kill()
    assert sources(path) == ["a", "b"], "the refused process wrote nothing"


def test_talkqa_sync_exits_3_with_one_line_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "sync.sqlite"
    holder = Child(HOLD_STATE, str(path))
    try:
        holder.expect("held")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TALKQA_")} | {"NO_COLOR": "1"}
        result = subprocess.run(
            [str(TALKQA), "sync", str(SEED_DOC), "--state", str(path), "--wait", "0.3"],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=DEADLINE,
        )  # fmt: skip
        assert result.returncode == 3, result.stdout + result.stderr
        assert result.stderr.splitlines() == [
            f"{path}: another sync holds this state (pid {holder.pid}); wait for it or use another --state"
        ]
        assert result.stdout == ""
        # --conflicts only reads: it needs no lock and sees what the holder committed
        conflicts = subprocess.run(
            [str(TALKQA), "sync", str(SEED_DOC), "--state", str(path), "--conflicts"],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=DEADLINE,
        )  # fmt: skip
        assert conflicts.returncode == 0, conflicts.stderr
        holder.tell()
        holder.expect("released")
    finally:
        holder.kill()
    assert sources(path) == ["a", "b"]


def test_a_waiting_process_takes_over_when_the_holder_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "sync.sqlite"
    holder = Child(HOLD_STATE, str(path))
    waiter: Child | None = None
    try:
        holder.expect("held")
        waiter = Child(WAIT_FOR_STATE, str(path), str(DEADLINE))
        assert waiter.expect("waiting ") == f"waiting {holder.pid}"
        holder.tell()
        holder.expect("released")
        # the waiter saw everything the holder wrote before it let go, nothing half-done
        assert waiter.expect("acquired ") == "acquired a,b"
        assert waiter.finish() == 0
    finally:
        holder.kill()
        if waiter is not None:
            waiter.kill()
    assert sources(path) == ["a", "b", "c"]


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    path = tmp_path / "sync.sqlite"
    holder = Child(HOLD_STATE, str(path))
    try:
        holder.expect("held")
        with pytest.raises(StateLocked):
            SyncState(path)
    finally:
        holder.kill()  # SIGKILL: no cleanup runs in the holder
    with SyncState(path) as state:
        assert [link.source_id for link in state.links()] == ["a"]
        assert holder_pid(lock_path(path)) == os.getpid()
    assert holder_pid(lock_path(path)) is None, "a closed state leaves no pid behind"


def test_in_one_process_a_second_writer_is_refused_and_close_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "sync.sqlite"
    first = SyncState(path)
    first.add_link("flow", "x", "res", "t-x")
    with pytest.raises(StateLocked) as refused:
        SyncState(path)
    assert refused.value.pid == os.getpid() and refused.value.path == str(path)
    assert isinstance(refused.value, LockHeld)
    reader = SyncState(path, read_only=True)  # readers need no lock
    assert [link.source_id for link in reader.links()] == ["x"]
    with pytest.raises(sqlite3.OperationalError):
        reader.add_link("flow", "y", "res", "t-y")
    reader.close()
    first.close()
    with SyncState(path) as again:
        assert [link.source_id for link in again.links()] == ["x"]


def test_memory_states_take_no_lock_and_a_missing_file_reads_as_empty(tmp_path: Path) -> None:
    a, b = SyncState(), SyncState(":memory:")
    a.add_link("flow", "x", "res", "t")
    assert b.links() == []
    a.close()
    b.close()
    missing = tmp_path / "none.sqlite"
    with SyncState(missing, read_only=True) as state:
        assert state.links() == [] and state.conflicts() == []
    assert not missing.exists() and not lock_path(missing).exists(), "a read-only open created files"


def test_a_lock_times_out_only_after_its_deadline(tmp_path: Path) -> None:
    held = FileLock(tmp_path / "x.lock")
    held.acquire()
    other = FileLock(tmp_path / "x.lock")
    waits: list[int | None] = []
    started = time.monotonic()
    with pytest.raises(LockHeld) as refused:
        other.acquire(0.2, on_wait=waits.append)
    assert time.monotonic() - started >= 0.2
    assert waits == [os.getpid()] and refused.value.pid == os.getpid()
    held.release()
    other.acquire(0)
    assert other.held
    other.release()


# -- the Exact token store -------------------------------------------------------------------------------


def test_the_token_store_is_written_by_one_process_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    store = TokenStore(path, lock_timeout=0)
    store.save(TokenState(Secret("refresh-one"), Secret("access-one"), issued_at=1.0))
    holder = Child(HOLD_TOKEN_STORE, str(path))
    try:
        holder.expect("held")
        with pytest.raises(TokenStoreLocked) as refused:
            store.save(TokenState(Secret("refresh-two")))
        assert refused.value.pid == holder.pid
        assert str(refused.value) == f"{path}: another process is writing this token store (pid {holder.pid})"
        assert store.load().refresh_token.reveal() == "refresh-one"  # type: ignore[union-attr]
        holder.tell()
        holder.expect("released")
    finally:
        holder.kill()
    store.save(TokenState(Secret("refresh-two")))
    assert store.load().refresh_token.reveal() == "refresh-two"  # type: ignore[union-attr]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokens.json", "tokens.json.lock"]
