"""A wrapper that keeps secrets out of reprs, strings, logs and exceptions, a redactor, and the
process-wide registry of secret values (:data:`KNOWN_SECRETS`) that cassette scrubbing uses.

Every value a :class:`Redactor` learns (configured keys, client secrets, every access and refresh
token as it is issued, authorization codes, Basic credentials) is also remembered process-wide, so
:mod:`talkqa.runtime.scrub` can replace it wherever it shows up in a recorded request or response,
whatever the field is called.
"""
from __future__ import annotations

import html
import json
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
#: Shorter values are not remembered process-wide: replacing a short common string in every
#: recorded body would damage the recording more than it protects (real keys and tokens are long).
MIN_KNOWN_LENGTH = 8


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
            KNOWN_SECRETS.add(raw)

    def __call__(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for raw in values:
            if raw in text:
                text = text.replace(raw, MASK)
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self._values)} values)"


def written_forms(value: str) -> set[str]:
    """The ways ``value`` can be written in a URL, a form, JSON (also JSON inside a JSON string),
    XML or HTML: as is, percent-encoded, JSON-escaped (once and twice) and entity-escaped."""
    once = json.dumps(value)[1:-1]
    forms = {
        value,
        quote(value, safe=""),
        quote(value, safe="/"),
        quote_plus(value),
        once,
        json.dumps(value, ensure_ascii=False)[1:-1],
        json.dumps(once)[1:-1],
        html.escape(value, quote=True),
        html.escape(value, quote=False),
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;")
        .replace('"', "&quot;"),
    }
    return {f for f in forms if f}


class KnownSecrets:
    """Every secret value this process has seen (see the module docstring); thread-safe.

    :meth:`scrub` replaces each written form of each value in a text, longest first.
    """

    def __init__(self, min_length: int = MIN_KNOWN_LENGTH) -> None:
        self.min_length = min_length
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._all_forms: set[str] = set()
        self._pending: list[str] = []  # values whose forms are not in _all_forms yet
        self._sorted: tuple[str, ...] | None = ()

    def add(self, value: str | Secret | None) -> None:
        raw = value.reveal() if isinstance(value, Secret) else value
        if not raw or len(raw) < self.min_length or raw.strip() != raw:
            return
        with self._lock:
            if raw in self._values:
                return
            self._values.add(raw)
            # its written forms are worked out when next scrubbed: a run issues a token per example, and
            # scrubs rarely
            self._pending.append(raw)
            self._sorted = None

    @property
    def _forms(self) -> tuple[str, ...]:
        """Every written form of every value, longest first."""
        forms = self._sorted
        if forms is None:
            with self._lock:
                for raw in self._pending:
                    self._all_forms |= written_forms(raw)
                self._pending.clear()
                forms = self._sorted = tuple(sorted(self._all_forms, key=lambda f: (-len(f), f)))
        return forms

    def __contains__(self, value: object) -> bool:
        raw = value.reveal() if isinstance(value, Secret) else value
        with self._lock:
            return raw in self._values

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def scrub(self, text: str, replacement: str) -> str:
        """``text`` with every written form of every known value replaced by ``replacement``."""
        for form in self._forms:  # a tuple built whole under the lock: safe to read without it
            if form in text and form != replacement:
                text = text.replace(form, replacement)
        return text

    def scrub_bytes(self, data: bytes, replacement: str) -> bytes:
        """The same on bytes that are no text: UTF-8 and UTF-16 (both orders) encodings of each form."""
        for form in self._forms:
            if form == replacement:
                continue
            for codec in ("utf-8", "utf-16-le", "utf-16-be"):
                raw = form.encode(codec)
                if raw in data:
                    data = data.replace(raw, replacement.encode(codec))
        return data

    def __repr__(self) -> str:
        return f"KnownSecrets({len(self)} values)"


#: The process-wide registry: every :class:`Redactor` feeds it; cassette scrubbing reads it.
KNOWN_SECRETS = KnownSecrets()


def remember_secret(value: str | Secret | None) -> None:
    """Register a secret value process-wide (what :meth:`Redactor.add` does for its values)."""
    KNOWN_SECRETS.add(value)
