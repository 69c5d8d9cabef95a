"""The generic system's schema: what the documents say each (system, entity) holds.

For every flow of every document in the run, each side names an entity of a system and the
property paths a row or a match rule reads or writes there, with the row's declared type. The
schema of a (system, entity) is the union of those paths across documents:

* a path's kind is the declared type most rows give it (``string`` on a tie; ``any`` when no row
  declares a type talkqa knows, e.g. only ``N/A``);
* a path used both as a leaf and as the parent of another path (``address`` and ``address.city``)
  is an object; the leaf use is a *conflict* the checks report;
* the identifier is the top-level path spelled ``id`` in any case (``ID``, ``Id``), else ``id``:
  it is assigned by the system and read-only;
* a path whose wire name is the profile's ``modified_field`` (the stamp of each write) is read-only
  too: the system assigns it;
* a condition's path ("Dependant on having VALUE in PATH") is a string field of its side;
* a path the system's profile requires on create (``[entities.X] required``) is a field, required.

A profile (``talkqa.systems.generic.profile``) can add required fields, lists and overrides.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.model import Document
from talkqa.connectors.base import FieldSpec

#: declared type -> field kind
KINDS = {"string": "string", "integer": "integer", "float": "float", "boolean": "boolean", "list": "list"}


@functools.lru_cache(maxsize=4096)
def entity_segment(label: str) -> str:
    """``Customers (human data)`` -> ``customers-human-data``: the entity's URL segment."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "entity"


@dataclass(frozen=True)
class EntitySchema:
    slug: str
    entity: str
    fields: Mapping[str, FieldSpec]
    id_path: str = "id"
    conflicts: frozenset[str] = frozenset()
    documents: tuple[str, ...] = ()

    @property
    def segment(self) -> str:
        return entity_segment(self.entity)


@dataclass
class _Paths:
    kinds: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    documents: set[str] = field(default_factory=set)


class Schema:
    """Entity schemas by (system slug, entity label), built from documents."""

    def __init__(self, entities: Mapping[tuple[str, str], EntitySchema] | None = None) -> None:
        self._entities: dict[tuple[str, str], EntitySchema] = dict(entities or {})

    @classmethod
    def from_documents(cls, documents: Iterable[Document], profiles: Mapping[str, Any] | None = None) -> Schema:
        from talkqa.sync.predicates import resolve

        seen: dict[tuple[str, str], _Paths] = defaultdict(_Paths)
        for doc in documents:
            for flow in doc.flows:
                predicate = resolve(flow.condition, doc.source_system.slug, profiles) if flow.condition else None
                if predicate is not None and predicate.path:
                    kind = _value_kind(predicate.equals)
                    seen[(doc.source_system.slug, flow.source_label.strip())].kinds[predicate.path][kind] += 1
                sides = (
                    (doc.source_system.slug, flow.source_label, "source"),
                    (doc.target_system.slug, flow.target_label, "target"),
                )
                for slug, label, side in sides:
                    paths = seen[(slug, label.strip())]
                    paths.documents.add(doc.path)
                    for row in flow.mappings:
                        path = row.source if side == "source" else row.target
                        paths.kinds[path][KINDS.get(row.type, "any")] += 1
                        cond = row.condition
                        if cond is not None and cond.side == side:
                            for clause in cond.clauses:
                                if clause.path:
                                    paths.kinds[clause.path]["string"] += 1
                    for rule in flow.match:
                        path = rule.source if side == "source" else rule.target
                        paths.kinds[path].update()  # registers the path; its kind comes from rows
        from talkqa.systems.generic.profile import DEFAULT  # here: the profile module imports this one

        required: dict[tuple[str, str], frozenset[str]] = {}
        assigned: dict[tuple[str, str], frozenset[str]] = {}
        for (slug, label), paths in seen.items():
            profile = (profiles or {}).get(slug)
            required[(slug, label)] = frozenset(profile.required_for(label) if profile is not None else ())
            for path in required[(slug, label)]:
                paths.kinds[path].update()  # a field the API requires is a field, named in a document or not
            # a row may name the field the system stamps each write with (the profile's modified_field): the
            # system assigns it, so it is read-only like the identifier
            wire = profile or DEFAULT
            assigned[(slug, label)] = frozenset(p for p in paths.kinds if wire.wire_name(p) == wire.modified_field)
        return cls({key: _entity(key, paths, required[key], assigned[key]) for key, paths in seen.items()})

    def entity(self, slug: str, label: str) -> EntitySchema:
        """The schema of an entity; an entity no document names has only an identifier."""
        found = self._entities.get((slug, label.strip()))
        if found is None:
            return EntitySchema(slug, label.strip(), {"id": FieldSpec("id", read_only=True)})
        return found

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._entities.values())

    def __len__(self) -> int:
        return len(self._entities)

    def merged(self, other: Schema) -> Schema:
        return Schema({**self._entities, **other._entities})


def _value_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    return "string"


def _kind(counts: Counter[str]) -> str:
    known = Counter({k: n for k, n in counts.items() if k != "any"})
    if not known:
        return "string" if not counts else "any"
    best = max(known.values())
    winners = [k for k, n in known.items() if n == best]
    return winners[0] if len(winners) == 1 else "string"  # a tie: text holds every one of them


def _entity(key: tuple[str, str], paths: _Paths, required: frozenset[str] = frozenset(),
            assigned: frozenset[str] = frozenset()) -> EntitySchema:
    slug, label = key
    names = list(paths.kinds)
    ids = sorted((p for p in names if "." not in p and p.lower() == "id"),
                 key=lambda p: (-sum(paths.kinds[p].values()), p))  # the spelling most rows use
    id_path = ids[0] if ids else "id"
    parents = {".".join(p.split(".")[:i]) for p in names for i in range(1, p.count(".") + 1)}
    conflicts = frozenset(p for p in names if p in parents)
    fields: dict[str, FieldSpec] = {}
    for path in sorted(names):
        if path in conflicts or path == id_path:
            continue
        fields[path] = FieldSpec(path, kind=_kind(paths.kinds[path]), required_on_create=path in required,
                                 read_only=path in assigned)
    id_kind = _kind(paths.kinds[id_path]) if id_path in paths.kinds else "string"
    fields[id_path] = FieldSpec(id_path, kind="integer" if id_kind == "integer" else "string", read_only=True)
    return EntitySchema(slug, label, fields, id_path, conflicts, tuple(sorted(paths.documents)))
