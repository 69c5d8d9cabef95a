"""A wrapper that keeps secrets out of reprs, strings, logs and exceptions, and a redactor."""
from __future__ import annotations

import threading
from collections.abc import Iterable

MASK = "***"


class Secret:
    """Holds a secret string. ``repr``/``str``/``format`` give ``'***'``; ``reveal()`` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        object.__setattr__(self, "_value", str(value))

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return repr(MASK)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(MASK)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("Secret cannot be pickled")


def secret_or_none(value: str | Secret | None) -> Secret | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Secret) else Secret(value)


class Redactor:
    """Remembers secret values (keys, tokens as they are issued) and masks them in any text."""

    def __init__(self, values: Iterable[str | Secret | None] = ()) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        for value in values:
            self.add(value)

    def add(self, value: str | Secret | None) -> None:
        raw = value.reveal() if isinstance(value, Secret) else value
        if raw and len(raw) >= 4:
            with self._lock:
                self._values.add(raw)

    def __call__(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for raw in values:
            if raw in text:
                text = text.replace(raw, MASK)
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self._values)} values)"
