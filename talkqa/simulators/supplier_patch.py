"""RFC 6902 JSON Patch as ASP.NET applies it to a DTO: case-insensitive paths, one nested object."""
from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

BOOL_DEFAULT_FALSE = ("IsPerson", "IsArchived")


class PatchError(ValueError):
    """The patch document is malformed, names an unknown path, or a ``test`` failed."""


def canonical_keys(obj: dict[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    """``obj`` with keys matched case-insensitively to ``allowed`` names; unknown keys dropped."""
    by_lower = {name.lower(): name for name in allowed}
    return {by_lower[k.lower()]: v for k, v in obj.items() if k.lower() in by_lower}


def _segments(path: Any) -> list[str]:
    if not isinstance(path, str) or not path.startswith("/"):
        raise PatchError(f"Invalid JSON Patch path {path!r}.")
    return [s.replace("~1", "/").replace("~0", "~") for s in path[1:].split("/")]


def _resolve(path: Any, top: Iterable[str], nested: Iterable[str]) -> tuple[str, str | None]:
    segs = _segments(path)
    top_by_lower = {n.lower(): n for n in top}
    name = top_by_lower.get(segs[0].lower())
    if name is None:
        raise PatchError(f"The target location specified by path segment '{segs[0]}' was not found.")
    if len(segs) == 1:
        return name, None
    nested_by_lower = {n.lower(): n for n in nested}
    if name != "MailAddress" or len(segs) != 2 or segs[1].lower() not in nested_by_lower:
        raise PatchError(f"The target location specified by path '{path}' was not found.")
    return name, nested_by_lower[segs[1].lower()]


def apply_patch(
    current: dict[str, Any], ops: Any, top: Iterable[str], nested: Iterable[str]
) -> dict[str, Any]:
    """A patched deep copy of ``current``; all-or-nothing (raises PatchError, ``current`` untouched)."""
    if not isinstance(ops, list):
        raise PatchError("The JSON patch document must be an array of operations.")
    top, nested = list(top), list(nested)
    doc = copy.deepcopy(current)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError("Each operation needs 'op' and 'path'.")
        kind = str(op["op"]).lower()
        name, sub = _resolve(op["path"], top, nested)
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"The '{kind}' operation at '{op['path']}' needs a 'value'.")
        value = op.get("value")
        if kind == "test":
            actual = doc[name] if sub is None else (doc.get(name) or {}).get(sub)
            if actual != value:
                raise PatchError(f"The current value '{actual}' at path '{op['path']}' is not equal to the "
                                 f"test value '{value}'.")
            continue
        if kind not in ("add", "replace", "remove"):
            raise PatchError(f"The operation '{op['op']}' is not supported.")
        if kind == "remove":
            value = False if name in BOOL_DEFAULT_FALSE and sub is None else None
        if name == "MailAddress":
            address = doc.get("MailAddress") or {}
            if sub is not None:
                address[sub] = value
            elif value is None or isinstance(value, dict):
                given = canonical_keys(value or {}, nested)
                address.update({n: given.get(n) for n in nested})
            else:
                raise PatchError("MailAddress must be an object.")
            doc["MailAddress"] = address
        else:
            doc[name] = value
    return doc
