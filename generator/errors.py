"""The one error a document can raise: bad input, reported as ``path:line: error: message``."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """``text`` with control characters (newlines above all) escaped, so a report stays one line."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class SpecError(Exception):
    """A document (or a path given as one) that cannot be read as a dataflow document.

    ``line`` is None for an error about a path as a whole (a folder with no documents).
    """

    def __init__(self, path: str, line: int | None, message: str) -> None:
        where = one_line(path) if line is None else f"{one_line(path)}:{line}"
        super().__init__(f"{where}: error: {one_line(message)}")
        self.path = path
        self.line = line
        self.message = message
