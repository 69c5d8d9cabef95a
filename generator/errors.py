"""The one error a document can raise: bad input, reported as ``path:line: error: message``."""

from __future__ import annotations


class SpecError(Exception):
    """A document that cannot be read as a dataflow document."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: error: {message}")
        self.path = path
        self.line = line
        self.message = message
