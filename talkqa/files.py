"""Writing files atomically: a temporary file beside the target, flushed to disk, then renamed.

:func:`atomic_write` is the one way talkqa replaces a file (generated modules, the generation
cache, the simulators' info and state files, the Exact token store). A reader sees the old bytes
or the new ones, never a part; a failure (an exception, a full disk) removes the temporary file.
Files get normal permissions (``0666 & ~umask``, 0644 under the usual umask 022) unless ``mode``
says otherwise (the token store asks for 0600). :func:`stage` is the first half alone, for a
caller that renames several files as one step (:func:`generator.suite_files.write_plan`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from pathlib import Path

TEMP_SUFFIX = ".tmp"
_umask_lock = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it where Linux says it (``/proc/self/status``)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii", errors="replace") as f:
        for line in f:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    with _umask_lock:  # elsewhere: set and restore (threads that create files meanwhile get 0o077)
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def default_mode() -> int:
    """What ``open(path, "w")`` would give a new file: ``0o666 & ~umask``."""
    return 0o666 & ~current_umask()


def _bytes(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def stage(
    path: str | os.PathLike[str], data: str | bytes, *, mode: int | None = None, prefix: str | None = None,
    fsync: bool = True,
) -> Path:
    """Write ``data`` (text as UTF-8, newlines untouched) to a new temporary file beside ``path``
    and return its path; the caller renames it over ``path`` or removes it. Nothing is left behind
    when this raises."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=prefix or f".{target.name}.", suffix=TEMP_SUFFIX)
    try:
        os.fchmod(fd, default_mode() if mode is None else mode)
        with os.fdopen(fd, "wb") as f:
            f.write(_bytes(data))
            f.flush()
            if fsync:
                os.fsync(f.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Make renames and removals in ``folder`` durable (best effort: not every system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(
    path: str | os.PathLike[str], data: str | bytes, *, mode: int | None = None, fsync: bool = True,
    prefix: str | None = None,
) -> None:
    """Replace ``path`` with ``data`` atomically (temp file, fsync, ``os.replace``, fsync of the
    folder). ``mode``: the file's permissions (default ``0666 & ~umask``). ``fsync=False`` skips
    both fsyncs (a cache, where losing the last write to a power cut costs only time). ``prefix``:
    of the temporary file's name (default ``.<name>.``; it always ends in ``.tmp``)."""
    target = Path(path)
    tmp = stage(target, data, mode=mode, fsync=fsync, prefix=prefix)
    try:
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if fsync:
        fsync_dir(target.parent)
