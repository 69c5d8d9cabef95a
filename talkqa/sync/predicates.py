"""Predicates for conditional flows, keyed by the condition's exact text in the document.

A conditional flow ("When a HubSpot Deal has a 100% probability of beeing sold, it will be
synchronized with ...") is synchronized only for records its predicate accepts. talkqa
cannot guess what a sentence means, so a flow whose condition has no predicate here is
skipped, with that reason, by the sync and by the generated tests. Register one with::

    from talkqa.sync.predicates import register

    @register("When a HubSpot Deal has a 100% probability of beeing sold")
    def sold(record): return record.get("properties", {}).get("probability") == "1.0"
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from talkqa.connectors.base import Record

Predicate = Callable[[Record], bool]

_REGISTRY: dict[str, Predicate] = {}


def register(condition: str) -> Callable[[Predicate], Predicate]:
    def decorate(fn: Predicate) -> Predicate:
        _REGISTRY[condition] = fn
        return fn

    return decorate


def registry(document: Any = None) -> dict[str, Predicate]:
    """The predicates a sync of ``document`` uses: registered ones, then those of its systems' profiles."""
    found = dict(_REGISTRY)
    if document is not None:
        from talkqa.systems.generic.profile import find_profiles

        profiles = find_profiles()
        for slug in (document.source_system.slug, document.target_system.slug):
            profile = profiles.get(slug)
            if profile is not None:
                for text, predicate in profile.predicates.items():
                    found.setdefault(text, predicate)
    return found
