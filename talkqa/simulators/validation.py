"""Checking a record against its :class:`FieldSpec` constraints."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from talkqa.fields import FieldSpec
from talkqa.simulators.countries import ISO_ALPHA2

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
PHONE_RE = re.compile(r"^[0-9+()\-. /]*$")


def get_path(record: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, or None when any part is missing."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def check_value(spec: FieldSpec, value: Any) -> str | None:
    """A message when ``value`` breaks ``spec`` (None and empty are left to the required checks)."""
    if value is None:
        return None if spec.nullable else f"{spec.path} must not be null"
    if spec.kind == "boolean":
        return None if isinstance(value, bool) else f"{spec.path} must be true or false"
    if spec.kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"{spec.path} must be an integer"
    if spec.kind == "date":
        return None  # each simulator parses its own date formats
    if not isinstance(value, str):
        return f"{spec.path} must be a string"
    if spec.max_length is not None and len(value) > spec.max_length:
        return f"{spec.path} is longer than {spec.max_length} characters"
    if value == "":
        return None
    if spec.kind == "email" and not EMAIL_RE.match(value):
        return f"{spec.path} '{value}' is not a valid email address"
    if spec.kind == "country" and value not in ISO_ALPHA2:
        return f"{spec.path} '{value}' is not an ISO 3166-1 alpha-2 country code"
    if spec.kind == "phone" and not PHONE_RE.match(value):
        return f"{spec.path} '{value}' is not a valid phone number"
    return None


def validate(record: Mapping[str, Any], specs: Mapping[str, FieldSpec], *, creating: bool) -> list[str]:
    """Every constraint ``record`` breaks, as human-readable messages."""
    problems: list[str] = []
    for path, spec in specs.items():
        value = get_path(record, path)
        if creating and spec.required_on_create and (value is None or value == ""):
            problems.append(f"{path} is required")
            continue
        message = check_value(spec, value)
        if message:
            problems.append(message)
    return problems
