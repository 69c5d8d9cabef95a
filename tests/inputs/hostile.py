"""Hostile inputs for the property tests: how to make each kind, and what the commands must say.

A *kind* is something a command may be handed instead of a document: bytes that are no document,
structure docutils recurses on, special files, paths that give nothing. :func:`make` puts one on
disk under a (possibly odd) name; :data:`REFUSED_BY` says for which commands it is certainly bad
input (exactly one error line), the others may accept it (at most one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from generator.parser import MAX_BYTES
from tests.inputs.helpers import good_document
from tests.inputs.permissions import can_enforce

#: Kinds that are files (or entries) inside a documents folder, or given by path.
FILE_KINDS = [
    "random-bytes", "random-text", "deep-nesting", "spanned-cell", "table-in-cell", "not-utf8", "nul",
    "empty", "too-large", "fifo", "symlink-loop", "dangling-symlink", "folder-as-doc", "unreadable",
]
#: Kinds that are only ever given by path.
PATH_KINDS = ["missing", "empty-folder", "no-rst-folder", "dev-zero", "unreadable-folder"]
#: Kinds that need file modes to bind (see tests.inputs.permissions).
PERMISSION_KINDS = {"unreadable", "unreadable-folder"}
#: Kinds the model reader may accept (random content is almost surely refused, but is not made to be).
MAYBE_A_DOCUMENT = {"random-bytes", "random-text"}
#: Kinds the report renders (it reads reStructuredText, not the dataflow model) or may.
REPORT_MAY_RENDER = {"random-bytes", "random-text", "spanned-cell", "table-in-cell"}

ENFORCEABLE = can_enforce()
AVAILABLE_FILE_KINDS = [k for k in FILE_KINDS if k not in PERMISSION_KINDS or ENFORCEABLE]
AVAILABLE_PATH_KINDS = [k for k in PATH_KINDS if k not in PERMISSION_KINDS or ENFORCEABLE]

_HEAD = "======================\nAlpha to Beta Dataflow\n======================\n\nAlpha Contacts to Beta Persons\n" \
        "------------------------------\n\n"
_NESTINGS = {
    "block-quotes": lambda n: "".join(" " * i + "x\n\n" for i in range(n)),
    "bullets": lambda n: "* " * n + "x\n",
    "enumerated": lambda n: "#. " * n + "x\n",
    "indented-bullets": lambda n: "".join("  " * i + "- x\n\n" for i in range(n)),
    "notes": lambda n: "".join("   " * i + ".. note::\n\n" for i in range(n)) + "   " * n + "x\n",
}


def _grid(n: int) -> list[str]:
    lines = ["x"]
    for _ in range(n):
        w = max(len(ln) for ln in lines)
        bar = "+" + "-" * (w + 2) + "+"
        lines = [bar, *(f"| {ln.ljust(w)} |" for ln in lines), bar]
    return lines


SPANNED = _HEAD + ".. table::\n\n   +-----+-----+-----+\n   | a   | b         |\n   +-----+-----+-----+\n" \
                  "   | c   | d   | e   |\n   +-----+-----+-----+\n"
TABLE_IN_CELL = _HEAD + "+-----------+-----+-----+\n| +---+---+ | b   | c   |\n| | x | y | |     |     |\n" \
                        "| +---+---+ |     |     |\n+-----------+-----+-----+\n| d         | e   | f   |\n" \
                        "+-----------+-----+-----+\n"

#: Characters of odd file names: quotes, shell syntax, spaces, control characters, non-ASCII.
ODD = st.text(alphabet=st.sampled_from(list("ab -_'\"$();|&`*?!#~\\\n\t\u00e9\u2603\U0001f600")), max_size=12)


@dataclass
class Hostile:
    kind: str
    name: str  # the file name, unique in its folder
    data: bytes = b""
    depth: int = 0


@st.composite
def hostiles(draw: st.DrawFn, kinds: list[str], index: int) -> Hostile:
    kind = draw(st.sampled_from(kinds))
    name = f"h{index}-{draw(ODD)}.rst"
    data, depth = b"", 0
    if kind == "random-bytes":
        data = draw(st.binary(max_size=300))
    elif kind == "random-text":
        data = draw(st.text(max_size=300)).encode("utf-8", "surrogatepass")
    elif kind == "deep-nesting":
        depth = draw(st.integers(40, 400))
        nest = draw(st.sampled_from([*_NESTINGS, "grid"]))
        body = "\n".join(_grid(min(depth, 120))) + "\n" if nest == "grid" else _NESTINGS[nest](depth)
        data = (_HEAD + body).encode()
    elif kind == "spanned-cell":
        data = SPANNED.encode()
    elif kind == "table-in-cell":
        data = TABLE_IN_CELL.encode()
    elif kind == "not-utf8":
        data = good_document().encode().replace(b"Beta", b"B\xe9ta", 1)
    elif kind == "nul":
        data = good_document().replace("Persons", "Per\x00sons", 1).encode()
    elif kind == "empty":
        data = draw(st.sampled_from([b"", b"  \n\t\r\n", "\ufeff".encode()]))
    return Hostile(kind, name, data, depth)


def make(h: Hostile, folder: Path) -> Path:
    """Put ``h`` on disk in ``folder``; the path to hand to a command."""
    path = folder / h.name
    kind = h.kind
    if kind in ("random-bytes", "random-text", "deep-nesting", "spanned-cell", "table-in-cell", "not-utf8", "nul",
                "empty"):
        path.write_bytes(h.data)
    elif kind == "too-large":
        with path.open("wb") as f:
            f.truncate(MAX_BYTES + 1)  # sparse
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink-loop":
        path.symlink_to(path.name)
    elif kind == "dangling-symlink":
        path.symlink_to(folder / "nowhere" / "x.rst")
    elif kind == "folder-as-doc":
        path.mkdir()
        (path / "inner.rst").write_text(good_document(), encoding="utf-8")
    elif kind == "unreadable":
        path.write_text(good_document(), encoding="utf-8")
        path.chmod(0)
    elif kind == "missing":
        pass
    elif kind == "empty-folder":
        path.mkdir()
    elif kind == "no-rst-folder":
        path.mkdir()
        (path / "notes.txt").write_text(good_document(), encoding="utf-8")
    elif kind == "unreadable-folder":
        path.mkdir()
        (path / "alpha-beta.rst").write_text(good_document(), encoding="utf-8")
        path.chmod(0)
    elif kind == "dev-zero":
        return Path("/dev/zero")
    else:
        raise AssertionError(kind)
    return path
