"""What the report reads, read without trusting it: the results JSON and the documents it names.

A results file is input like any other: it may be hand-made or hostile. So:

* the results file is a regular file of at most :data:`MAX_RESULTS_BYTES`, UTF-8 JSON nested at
  most :data:`MAX_RESULTS_DEPTH` levels (checked before the JSON parser, which recurses), a list
  of objects; an entry that is not a checklist result is left out (one error line for the file);
* a document it names is read only from under the root folder (``talkqa report --root``): the
  name is resolved (``..`` and symlinks followed) and must stay inside the resolved root, and the
  file is then opened component by component without following symlinks, so nothing swapped in
  between escapes either; only a regular file of at most :data:`MAX_DOCUMENT_BYTES` (the parser's
  limit) is read. Anything else is refused with a reason, per document.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from generator.errors import SpecError
from generator.parser import MAX_BYTES, OPEN_FLAGS, read_document, read_fd

#: The largest results JSON the report reads (a passing result takes ~460 bytes: some 290,000 results).
MAX_RESULTS_BYTES = 128 * 1024 * 1024
#: How deeply the results JSON may nest (it is a list of flat objects: 2).
MAX_RESULTS_DEPTH = 16
#: The largest document the report reads: the parser's limit.
MAX_DOCUMENT_BYTES = MAX_BYTES
#: The states a result can be in.
OUTCOMES = ("passed", "failed", "pending", "skipped")

_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_REQUIRED: dict[str, type | tuple[type, ...]] = {"document": str, "line": int, "flow": str, "kind": str,
                                                   "case_id": str, "outcome": str}
_OPTIONAL: dict[str, type | tuple[type, ...]] = {"nodeid": str, "direction": str, "message": (str, type(None)),
                                                   "duration": (int, float), "divergence": bool, "row": str,
                                                   "check": str, "reason": str, "failure": (dict, type(None))}


def _too_deep(text: str, limit: int) -> int | None:
    """The line where ``text`` (JSON) first nests deeper than ``limit`` (None if it never does)."""
    depth = 0
    for m in _JSON_TOKEN.finditer(text):
        token = m.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return text.count("\n", 0, m.start()) + 1
        elif token in "]}":
            depth -= 1
    return None


def _entry_problem(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return f"a {type(entry).__name__}, not an object"
    for key, kind in _REQUIRED.items():
        value = entry.get(key)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            return f"{key!r} is missing or not a {getattr(kind, '__name__', kind)}"
    for key, kind in _OPTIONAL.items():
        if key in entry and not isinstance(entry[key], kind):
            return f"{key!r} has the wrong type"
    if entry["outcome"] not in OUTCOMES:
        return f"'outcome' is {entry['outcome'][:40]!r}, not one of {', '.join(OUTCOMES)}"
    if not 0 <= entry["line"] < 10**9:
        return "'line' is out of range"
    return None


def load_findings(path: str | Path) -> list[dict[str, Any]]:
    """The findings of a results JSON (none for a bare list, as older versions wrote); bad ones left out."""
    try:
        data = json.loads(read_document(path, limit=MAX_RESULTS_BYTES).decode("utf-8"))
    except (ValueError, RecursionError, SpecError):
        return []
    found = data.get("findings", []) if isinstance(data, dict) else []
    return [f for f in found if isinstance(f, dict) and isinstance(f.get("document"), str)
            and isinstance(f.get("line"), int) and isinstance(f.get("message"), str)] if isinstance(found, list) else []


def load_results(path: str | Path) -> tuple[list[dict[str, Any]], SpecError | None]:
    """The checklist results in ``path`` and, when some entries were left out, the error saying so.

    Raises SpecError when the file cannot be read as results at all.
    """
    name = str(path)
    data = read_document(path, limit=MAX_RESULTS_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SpecError(name, line, f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    deep = _too_deep(text, MAX_RESULTS_DEPTH)
    if deep is not None:
        raise SpecError(name, deep, f"results JSON nested more than {MAX_RESULTS_DEPTH} levels deep")
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(name, exc.lineno, f"not JSON: {exc.msg}") from None
    except (RecursionError, ValueError) as exc:
        raise SpecError(name, 1, f"not JSON: {exc}") from None
    if isinstance(entries, dict):
        schema = entries.get("schema")
        if not (isinstance(schema, str) and schema.startswith("talkqa-results/")):
            raise SpecError(name, 1, f"not checklist results: the object's schema is {str(schema)[:60]!r}, "
                                     "not talkqa-results/N")
        entries = entries.get("outcomes")
    if not isinstance(entries, list):
        raise SpecError(name, 1, f"not checklist results: a JSON {type(entries).__name__}, not a list")
    kept: list[dict[str, Any]] = []
    first: tuple[int, str] | None = None
    for i, entry in enumerate(entries):
        problem = _entry_problem(entry)
        if problem is None:
            kept.append(entry)
        elif first is None:
            first = (i, problem)
    if first is None:
        return kept, None
    left = len(entries) - len(kept)
    return kept, SpecError(name, None, f"{left} of {len(entries)} entries are not checklist results and are left "
                                       f"out (the first: entry {first[0]}: {first[1]})")


def _open_beneath(root: Path, relative: Path, name: str) -> int:
    """Open ``relative`` (no symlinks in it) under the folder ``root`` without following any symlink."""
    fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        for part in relative.parts[:-1]:
            inner = os.open(part, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_NOFOLLOW | os.O_CLOEXEC,
                            dir_fd=fd)
            os.close(fd)
            fd = inner
        return os.open(relative.parts[-1], OPEN_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
    finally:
        os.close(fd)


def read_source(name: str, root: str | Path | None) -> bytes:
    """The bytes of the document ``name`` (relative names are under ``root``).

    With a ``root``, the document must resolve to a path inside it; without one (the caller made
    the results itself, as ``talkqa check`` does) it may be anywhere. Either way only a regular
    file of at most :data:`MAX_DOCUMENT_BYTES` is read. Raises SpecError (no line) saying why not.
    """
    if root is None:
        try:
            return read_document(name, limit=MAX_DOCUMENT_BYTES)
        except SpecError as exc:
            raise SpecError(name, None, f"not read: {exc.message}") from None
    try:
        base = Path(root).resolve(strict=True)
        target = Path(os.path.realpath(base / name))
    except (OSError, RuntimeError, ValueError) as exc:
        raise SpecError(name, None, f"not read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        relative = target.relative_to(base)
    except ValueError:
        raise SpecError(name, None, f"not read: outside the --root folder {base}") from None
    if not relative.parts:
        raise SpecError(name, None, "not read: it is the --root folder itself, not a document")
    try:
        fd = _open_beneath(base, relative, name)
    except OSError as exc:
        raise SpecError(name, None, f"not read: {exc.strerror or exc}") from None
    try:
        return read_fd(fd, name, MAX_DOCUMENT_BYTES)
    except SpecError as exc:
        raise SpecError(name, None, f"not read: {exc.message}") from None
    finally:
        os.close(fd)
