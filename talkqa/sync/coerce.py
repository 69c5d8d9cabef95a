"""Values between fields of different kinds: what the reference sync writes when a row joins them.

A document's row may join a date on one side with a string on the other, or a number with its
decimal text. The sync writes the value in the kind of the field it writes to: dates as ISO 8601
text into text fields and back, numbers as their decimal text and back. A value that has no form
in the target's kind (``"abc"`` into an integer) is not written: :class:`NotConvertible`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from talkqa.connectors.base import FieldSpec

TEXT_KINDS = frozenset({"string", "email", "phone", "country"})
_INT = re.compile(r"^[+-]?\d+$")


class NotConvertible(ValueError):
    """The value has no form in the target field's kind."""


def coerce(value: Any, spec: FieldSpec | None) -> Any:
    """``value`` in the kind of ``spec`` (unchanged when already of that kind, or kind unknown)."""
    if value is None or spec is None:
        return value
    kind = spec.kind
    if kind in TEXT_KINDS:
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return value
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip()[:10])
            except ValueError:
                raise NotConvertible(f"{value!r} is not a date") from None
        return value
    if kind == "integer":
        if isinstance(value, str) and _INT.match(value.strip()):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise NotConvertible(f"{value!r} is not a whole number")
    if kind == "float":
        if isinstance(value, bool):
            raise NotConvertible(f"{value!r} is not a number")
        if isinstance(value, int | float):
            return value
        try:
            return float(value)
        except (TypeError, ValueError):
            raise NotConvertible(f"{value!r} is not a number") from None
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise NotConvertible(f"{value!r} is not true or false")
    if isinstance(value, dt.date) and kind != "date":
        return value.isoformat()  # a field of no stated kind: JSON holds a date as ISO 8601 text
    return value
