"""Conditions as data: when a conditional flow or a conditional row applies.

A conditional flow ("When a Zendesk User is of type Agent, it will be synchronized with ...") is
synchronized only for source records its :class:`Predicate` accepts; a conditional row ("Dependant on
having VALUE in PATH") only for records that hold VALUE at PATH. Predicates are data (a path and the
value that makes them hold), so the generated checks can arrange a record for which a condition holds
and one for which it does not, and show the sync honours both.

Where a flow's predicate comes from, first match wins:

1. :func:`register` (exact condition text), for embedding code and tests;
2. the source system's profile, ``[predicates]`` table (exact text), see ``docs/systems.md``;
3. the wordings the documents use (:data:`WORDINGS`), with the field they name taken from the source
   system's profile (``[conventions]``) or talkqa's default (``docs/systems.md``, "Conditions").

A condition none of these understands leaves its flow unsynchronized and its checks skipped, with
that reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from talkqa.connectors.base import Record
from talkqa.connectors.codecs import get_path


@dataclass(frozen=True)
class Predicate:
    """``path`` holds ``equals`` (text compares without case); ``never`` for a flow switched off."""

    path: str = ""
    equals: Any = None
    never: bool = False
    text: str = ""

    def __call__(self, record: Record | None) -> bool:
        if self.never:
            return False
        return holds(get_path(record or {}, self.path), self.equals)

    def holding(self) -> Any:
        """A value of ``path`` for which the predicate holds."""
        return self.equals

    def failing(self) -> Any:
        """A valid value of ``path`` for which it does not."""
        value = self.equals
        if isinstance(value, bool):
            return not value
        if isinstance(value, int | float):
            return value / 2 if value else 1
        return f"not-{value}" if value not in (None, "") else "x"


def holds(actual: Any, wanted: Any) -> bool:
    """``actual`` is ``wanted``, or contains it (a list holding it, a text naming it as a word)."""
    if isinstance(actual, list):
        return any(holds(item, wanted) for item in actual)
    if isinstance(actual, dict):
        return any(holds(item, wanted) for item in actual.values())
    if isinstance(actual, str) and isinstance(wanted, str):
        a, w = actual.strip().lower(), wanted.strip().lower()
        return a == w or w in re.split(r"[\s,;|]+", a)
    if isinstance(actual, bool) or isinstance(wanted, bool):
        return actual is wanted or str(actual).lower() == str(wanted).lower()
    try:
        return actual == wanted or (actual is not None and float(actual) == float(wanted))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class Conventions:
    """Which field a wording means, per system (profile ``[conventions]``; these are talkqa's defaults)."""

    person_flag: str = "is_person"  # true for a person (customer, supplier), false for an organisation
    type_field: str = "type"  # a user's or record's type ("agent", ...)
    probability_field: str = "probability"  # a deal's probability of being won, 0..1


Factory = Callable[[re.Match[str], Conventions], Predicate]

#: The wordings of the corpus, most specific first. Each gives a predicate over the source record.
WORDINGS: list[tuple[re.Pattern[str], Factory]] = [
    # "This removes all supplier products for now": the flow is switched off
    (re.compile(r"\bremoves? all\b.*\bfor now\b", re.I), lambda m, c: Predicate(never=True)),
    # "removed person customers for now until that pattern is resolved": persons are left out
    (re.compile(r"\bremoved? (?:all )?person\b", re.I), lambda m, c: Predicate(path=c.person_flag, equals=False)),
    # "When a HubSpot Deal has a 100% probability of beeing sold"
    (re.compile(r"\bhas an? (\d+(?:\.\d+)?) ?% probability\b", re.I),
     lambda m, c: Predicate(path=c.probability_field, equals=float(m.group(1)) / 100)),
    # "When a Zendesk User is of type Agent"
    (re.compile(r"\bis of type ([\w-]+)", re.I), lambda m, c: Predicate(path=c.type_field, equals=m.group(1).lower())),
]

_REGISTRY: dict[str, Predicate] = {}


def register(condition: str, predicate: Predicate) -> Predicate:
    """Use ``predicate`` for flows whose condition text is exactly ``condition``."""
    _REGISTRY[condition] = predicate
    return predicate


def unregister(condition: str) -> None:
    _REGISTRY.pop(condition, None)


def resolve(condition: str, source_slug: str, profiles: Mapping[str, Any] | None = None) -> Predicate | None:
    """The predicate of a flow's condition, or None when talkqa does not understand it."""
    text = condition.strip()
    if text in _REGISTRY:
        return _with_text(_REGISTRY[text], text)
    if profiles is None:
        from talkqa.systems.generic.profile import find_profiles

        profiles = find_profiles()
    profile = profiles.get(source_slug)
    if profile is not None and text in profile.predicates:
        return _with_text(profile.predicates[text], text)
    conventions = profile.conventions if profile is not None else Conventions()
    for pattern, make in WORDINGS:
        m = pattern.search(text)
        if m:
            return _with_text(make(m, conventions), text)
    return None


def _with_text(predicate: Predicate, text: str) -> Predicate:
    return Predicate(predicate.path, predicate.equals, predicate.never, text)


def registry(document: Any = None) -> dict[str, Predicate]:
    """Condition text -> predicate for every conditional flow of ``document`` talkqa understands
    (without a document: the registered ones)."""
    found = dict(_REGISTRY)
    if document is not None:
        from talkqa.systems.generic.profile import find_profiles

        profiles = find_profiles()
        cached = _BY_DOCUMENT.get(id(document))
        if cached is not None and cached[0] is document and cached[1] is profiles and cached[2] == found:
            return dict(cached[3])
        for flow in document.flows:
            if flow.condition and flow.condition not in found:
                predicate = resolve(flow.condition, document.source_system.slug, profiles)
                if predicate is not None:
                    found[flow.condition] = predicate
        if len(_BY_DOCUMENT) > 64:
            _BY_DOCUMENT.clear()
        _BY_DOCUMENT[id(document)] = (document, profiles, dict(_REGISTRY), dict(found))
    return found


#: registry(document) answers, per document object (its flows' conditions never change)
_BY_DOCUMENT: dict[int, tuple[Any, Any, dict[str, Predicate], dict[str, Predicate]]] = {}


def row_condition(condition: Any) -> Predicate | None:
    """The predicate of a conditional row ("Dependant on having VALUE in PATH"); None when the document
    leaves the value or the path blank (then the row cannot be applied or checked)."""
    clauses = [c for c in condition.clauses if c.path.strip() and c.value.strip()]
    if not clauses or len(clauses) != len(condition.clauses):
        return None
    if len(clauses) > 1:
        return None  # several clauses: the documents do not say whether any or all must hold
    return Predicate(path=clauses[0].path.strip(), equals=clauses[0].value.strip(), text=condition.text)
