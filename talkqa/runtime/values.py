"""Values for checklist tests: deterministic examples and Hypothesis strategies per field.

A value must be valid on *both* sides of a row (the source field's and the target field's
constraints, from the connectors' :class:`FieldSpec`), so that "it survives the sync
unchanged" is a fair claim. Where the two sides accept different domains, :func:`domain_gap`
says how, and the suite reports it as a finding instead of filtering it away silently.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from talkqa.connectors.base import FieldSpec

COUNTRIES = ("NO", "SE", "DK", "FI", "NL", "GB", "DE", "IS", "BE", "FR")

#: Kinds whose canonical values compare equal across systems.
COMPATIBLE = {
    frozenset({"string"}),
    frozenset({"string", "phone"}),
    frozenset({"string", "email"}),
    frozenset({"string", "country"}),
    frozenset({"string", "any"}),
    frozenset({"string", "date"}),  # the date as ISO 8601 text
    frozenset({"string", "integer"}),  # the number as its decimal text
    frozenset({"string", "float"}),
    frozenset({"integer", "float"}),
    frozenset({"integer", "any"}),
    frozenset({"float", "any"}),
    frozenset({"boolean", "any"}),
}


@dataclass(frozen=True)
class Domain:
    """What a row's value can be so that both sides accept it."""

    kind: str
    max_length: int | None
    empty_ok: bool = False  # both fields may be empty: fuzzing draws empty and whitespace-only values

    @classmethod
    def of(cls, source: FieldSpec, target: FieldSpec) -> Domain:
        kinds = {source.kind, target.kind} - ({"any"} if {source.kind, target.kind} != {"any"} else set())
        if kinds == {"integer", "float"}:
            kinds = {"integer"}  # both hold a whole number
        kind = next(iter(kinds)) if len(kinds) == 1 else sorted(kinds - {"string"}, key=str)[0]
        if kind == "any":
            kind = "string"
        lengths = [n for n in (source.max_length, target.max_length) if n is not None]
        return cls(kind, min(lengths) if lengths else None)


def clearable(spec: FieldSpec) -> bool:
    """Whether a field may be emptied (its spec allows no value and it is not required)."""
    return spec.nullable and not spec.required_on_create and not spec.read_only and spec.kind != "boolean"


def join(specs: list[FieldSpec]) -> Domain:
    """The values every field of ``specs`` accepts (the specs are pairwise compatible)."""
    kinds = {s.kind for s in specs} - {"any"}
    if kinds - {"string"}:
        kinds -= {"string"}
    if kinds == {"integer", "float"}:
        kinds = {"integer"}
    kind = sorted(kinds)[0] if kinds else "string"
    lengths = [s.max_length for s in specs if s.max_length is not None]
    return Domain(kind, min(lengths) if lengths else None)


def incompatibility(source: FieldSpec, target: FieldSpec) -> str | None:
    """Why values of these two fields cannot be compared after a sync (a type change), or None."""
    kinds = frozenset({source.kind, target.kind})
    if len(kinds) == 1 or kinds in COMPATIBLE or "any" in kinds:
        return None
    return f"type change: {source.path} is {source.kind}, {target.path} is {target.kind}"


def domain_gap(source: FieldSpec, target: FieldSpec) -> str | None:
    """A finding when one side accepts values the other cannot hold (e.g. longer strings)."""
    a, b = source.max_length, target.max_length
    if a != b and (a is None or b is None or a != b):
        longer, shorter = (source, target) if (b is not None and (a is None or a > b)) else (target, source)
        if longer.max_length != shorter.max_length and shorter.max_length is not None:
            limit = "unbounded" if longer.max_length is None else f"up to {longer.max_length}"
            return (
                f"{longer.path} accepts {limit} characters but {shorter.path} only {shorter.max_length}: "
                f"longer values cannot survive the sync"
            )
    return None


def example(domain: Domain, seed: int) -> Any:
    """A deterministic valid value; different seeds give different values."""
    if domain.kind == "date":
        return dt.date(1950 + seed % 60, 1 + seed % 12, 1 + seed % 28)
    if domain.kind == "country":
        return COUNTRIES[seed % len(COUNTRIES)]
    if domain.kind == "email":
        return f"tq{seed}@example.com"
    if domain.kind == "phone":
        return f"+47 9{seed:07d}"[: domain.max_length or None]
    if domain.kind == "boolean":
        return seed % 2 == 0
    if domain.kind == "integer":
        return seed
    if domain.kind == "float":
        return seed + 0.25
    if domain.kind == "list":
        return [f"Tq{seed}"]
    text = f"Tq{seed}"
    return text[: domain.max_length] if domain.max_length else text


_TEXT = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))

#: A user's text at its worst: spaces at both ends, non-ASCII letters, mixed case, punctuation.
HARD_TEXT = " Øre-Åsa d'Ærø ÉÑ "


#: An e-mail address in mixed case (a sync that lowercases e-mails fails on it).
MIXED_CASE_EMAIL = "Anne.O'Hara-Berg@Example.NO"

#: Whitespace-only text: not empty, and a change from any other value.
BLANK = "  "


def edge_examples(domain: Domain) -> list[Any]:
    """Values every fuzz run tries first: for free text, one of the field's full length made of
    :data:`HARD_TEXT` (a sync that trims, truncates, lowercases or drops non-ASCII fails on it), and,
    where both fields may be empty, the empty and a whitespace-only value; for e-mails, one in mixed
    case."""
    if domain.kind == "email":
        fits = domain.max_length is None or len(MIXED_CASE_EMAIL) <= domain.max_length
        return [MIXED_CASE_EMAIL] if fits else []
    if domain.kind != "string":
        return []
    length = domain.max_length or 200
    text = (HARD_TEXT * (length // len(HARD_TEXT) + 1))[:length]
    hard = [t for t in (text, HARD_TEXT.strip()[:length]) if t.strip()]  # short fields: no blank
    empties = ["", BLANK[:length]] if domain.empty_ok else []
    return [*dict.fromkeys(hard), *empties]


def strategy(domain: Domain) -> st.SearchStrategy[Any]:
    """Every value in the domain that a user could type (no control characters)."""
    if domain.kind == "date":
        return st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31))
    if domain.kind == "country":
        return st.sampled_from(COUNTRIES)
    if domain.kind == "email":
        letters = "abcdefghijklmnopqrstuvwxyz"
        local = st.text(alphabet=letters + letters.upper() + "0123456789._-", min_size=1, max_size=20).filter(
            lambda s: s[0] not in "._-" and s[-1] not in "._-" and ".." not in s
        )
        hosts = st.sampled_from(["example", "test", "firma", "Example", "FIRMA"])
        return st.builds(lambda a, b: f"{a}@{b}.no", local, hosts)
    if domain.kind == "phone":
        return st.from_regex(r"\+?[0-9]{4,12}", fullmatch=True)
    if domain.kind == "boolean":
        return st.booleans()
    if domain.kind == "integer":
        return st.integers(min_value=-(2**31), max_value=2**31 - 1)
    if domain.kind == "float":
        return st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
    if domain.kind == "list":
        return st.lists(st.text(_TEXT, min_size=1, max_size=40), min_size=1, max_size=4)
    text = st.text(_TEXT, min_size=1, max_size=domain.max_length or 200)
    if not domain.empty_ok:
        return text
    blank = st.text(st.sampled_from(" \t\u00a0"), min_size=1, max_size=min(domain.max_length or 8, 8))
    return st.one_of(text, st.just(""), blank)
