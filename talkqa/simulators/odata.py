"""A small OData ``$filter`` parser: comparisons joined by and/or/not, with parentheses.

Literals: ``datetime'...'`` (any case, becomes epoch seconds), ``guid'...'`` (lower-cased),
``'text'``, numbers, ``true``/``false``/``null``. The simulator resolves field names.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from talkqa.simulators.formats import parse_iso

Resolver = Callable[[str], Any]
Predicate = Callable[[Resolver], bool]

_TOKEN_RE = re.compile(
    r"""\s*(?:
      (?P<lparen>\()|(?P<rparen>\))
     |(?P<typed>(?i:datetime|guid)'[^']*')
     |(?P<string>'(?:[^']|'')*')
     |(?P<number>-?\d+(?:\.\d+)?)
     |(?P<word>[A-Za-z_][A-Za-z0-9_/]*)
    )""",
    re.X,
)
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}


class FilterError(ValueError):
    """The filter text cannot be parsed or names an unknown field."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise FilterError(f"syntax error in $filter at position {pos}: {text[pos:pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _literal(kind: str, text: str, naive_offset_minutes: int) -> Any:
    if kind == "typed":
        prefix, _, rest = text.partition("'")
        body = rest[:-1]
        if prefix.lower() == "guid":
            return body.lower()
        try:
            return parse_iso(body, naive_offset_minutes=naive_offset_minutes)
        except ValueError as exc:
            raise FilterError(str(exc)) from None
    if kind == "string":
        return text[1:-1].replace("''", "'")
    if kind == "number":
        return float(text) if "." in text else int(text)
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    raise FilterError(f"expected a literal, got {text!r}")


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        return {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op]
    except TypeError:
        return False


def parse_filter(text: str, *, naive_offset_minutes: int = 0) -> Predicate:
    """Compile ``text``; the predicate takes a resolver from field name to comparable value."""
    toks = _tokens(text)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return toks[pos] if pos < len(toks) else None

    def take() -> tuple[str, str]:
        nonlocal pos
        if pos >= len(toks):
            raise FilterError("unexpected end of $filter")
        pos += 1
        return toks[pos - 1]

    def is_word(tok: tuple[str, str] | None, word: str) -> bool:
        return tok is not None and tok[0] == "word" and tok[1].lower() == word

    def parse_or() -> Predicate:
        parts = [parse_and()]
        while is_word(peek(), "or"):
            take()
            parts.append(parse_and())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def parse_and() -> Predicate:
        parts = [parse_unary()]
        while is_word(peek(), "and"):
            take()
            parts.append(parse_unary())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def parse_unary() -> Predicate:
        tok = peek()
        if is_word(tok, "not"):
            take()
            inner = parse_unary()
            return lambda r: not inner(r)
        if tok is not None and tok[0] == "lparen":
            take()
            inner = parse_or()
            if take()[0] != "rparen":
                raise FilterError("expected ')'")
            return inner
        kind, field = take()
        if kind != "word":
            raise FilterError(f"expected a field name, got {field!r}")
        op_kind, op = take()
        if op_kind != "word" or op.lower() not in _OPS:
            raise FilterError(f"expected a comparison operator after {field!r}, got {op!r}")
        lit_kind, lit_text = take()
        value = _literal(lit_kind, lit_text, naive_offset_minutes)
        op = op.lower()
        return lambda r: _compare(op, r(field), value)

    if not toks:
        raise FilterError("empty $filter")
    pred = parse_or()
    if pos != len(toks):
        raise FilterError(f"unexpected {toks[pos][1]!r} in $filter")
    return pred
