"""One test's workbench: connectors to both systems, a system under test, and what it wrote.

A bench is made per test (and per Hypothesis example) by a backend
(:mod:`talkqa.runtime.backends`): it resolves the spec's (system slug, entity label) to
connectors, arranges records through them (so everything the test does is plain HTTP that
a cassette can hold), runs the system under test, and keeps every create/update the
system under test made through its connectors, so a replayed test checks what the sync
*sent*, not what a recording says it got back.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.model import Document, Flow
from talkqa.connectors.base import Change, FieldSpec, OutcomeUnknown, Page, Record, ResourceConnector
from talkqa.connectors.codecs import flatten, get_path, set_path
from talkqa.runtime.sut import ReferenceSut, Sut
from talkqa.runtime.values import Domain, clearable, example, incompatibility, join
from talkqa.sync import predicates


@dataclass(frozen=True)
class Write:
    system: str
    entity: str
    op: str  # create | update
    record_id: str | None
    values: dict[str, Any]  # flattened canonical paths


class WrappedConnector:
    """A connector seen through a wrapper: its identity and field specs, and anything the wrapper does not
    change, are the inner connector's."""

    def __init__(self, inner: ResourceConnector) -> None:
        self.inner = inner
        self.system = inner.system
        self.entity = inner.entity
        self.fields = inner.fields

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class RecordingConnector(WrappedConnector):
    """A connector that logs the writes made through it (what the system under test sent)."""

    def __init__(self, inner: ResourceConnector, log: list[Write]) -> None:
        super().__init__(inner)
        self.log = log

    def changed_since(self, watermark: str | None) -> Page:
        return self.inner.changed_since(watermark)

    def iter_all(self) -> Iterator[Change]:
        return self.inner.iter_all()

    def get(self, record_id: str) -> Record:
        return self.inner.get(record_id)

    def find_by_external_ref(self, external_ref: str) -> str | None:
        return self.inner.find_by_external_ref(external_ref)

    def create(self, record: Record, *, external_ref: str | None = None) -> str:
        new_id = self.inner.create(record, external_ref=external_ref)
        self.log.append(Write(self.system, self.entity, "create", new_id, flatten(copy.deepcopy(record))))
        return new_id

    def update(self, record_id: str, changes: Record) -> None:
        self.inner.update(record_id, changes)
        self.log.append(Write(self.system, self.entity, "update", record_id, flatten(copy.deepcopy(changes))))


@dataclass
class Bench:
    """Access to both systems for one test."""

    document: Document
    resolve: Callable[[str, str], ResourceConnector]
    state_dir: Path
    live: bool  # True: the systems are real (simulators or sandboxes); False: replayed from a cassette
    make_sut: Callable[[Document, Callable[[str, str], ResourceConnector], Path], Sut] | None = None
    arrange_hook: Callable[[ResourceConnector], None] | None = None
    on_close: Callable[[], None] | None = None
    wire_forms: Callable[[ResourceConnector, str, Any], list[Any]] | None = None
    #: sandbox mode (talkqa.runtime.sandbox.Ownership): the records this test owns; None elsewhere
    ownership: Any = None
    writes: list[Write] = field(default_factory=list)
    _sut: Sut | None = None
    _domains: dict[tuple[str, str, str], Domain | None] = field(default_factory=dict)
    _recording: dict[tuple[str, str], RecordingConnector] = field(default_factory=dict)

    # -- connectors ----------------------------------------------------------------------------

    def pair(self, flow: Flow) -> tuple[ResourceConnector, ResourceConnector]:
        src = self.resolve(self.document.system_key("source"), flow.source_label)
        tgt = self.resolve(self.document.system_key("target"), flow.target_label)
        return src, tgt

    def _sut_resolve(self, slug: str, label: str) -> ResourceConnector:
        key = (slug, label)
        found = self._recording.get(key)
        if found is None:
            found = self._recording[key] = RecordingConnector(self.resolve(slug, label), self.writes)
        return found  # type: ignore[return-value]

    @property
    def sut(self) -> Sut:
        if self._sut is None:
            make = self.make_sut or (
                lambda doc, resolve, state: ReferenceSut(doc, resolve, state, predicates.registry(doc))
            )
            self._sut = make(self.document, self._sut_resolve, self.state_dir)
        return self._sut

    def sync(self) -> None:
        self.sut.sync()

    def close(self) -> None:
        if self._sut is not None:
            self._sut.close()
        if self.on_close is not None:
            self.on_close()
            self.on_close = None

    # -- arranging records ---------------------------------------------------------------------

    def record_for(
        self,
        flow: Flow,
        side: str,
        connector: ResourceConnector,
        seed: int,
        overrides: dict[str, Any] | None = None,
    ) -> Record:
        """A valid record for one side of a flow: a value for every mapped property the connector
        knows, plus the connector's other fields (required ones included), then ``overrides``."""
        record: Record = {}
        label = flow.source_label if side == "source" else flow.target_label
        ref_field = getattr(connector, "external_ref_field", None)
        for i, (path, spec) in enumerate(sorted(connector.fields.items())):
            if path == ref_field or spec.kind == "boolean" or spec.read_only:
                continue
            domain = self.value_domain(side, label, path, spec)
            if domain is not None:
                set_path(record, path, example(domain, seed * 100 + i))
        for i, row in enumerate(flow.syncable_rows):
            mine = row.source if side == "source" else row.target
            spec = connector.fields.get(mine)
            if spec is None or spec.read_only:
                continue
            domain = self.value_domain(side, label, mine, spec)
            if domain is not None:
                set_path(record, mine, example(domain, seed * 100 + 50 + i))
        condition = self.flow_predicate(flow) if side == "source" else None
        if condition is not None and condition.path and not condition.never and condition.path in connector.fields:
            set_path(record, condition.path, condition.holding())  # a record the flow applies to
        for path, value in (overrides or {}).items():
            set_path(record, path, value)
        return record

    def flow_predicate(self, flow: Flow) -> predicates.Predicate | None:
        """The predicate of a conditional flow (None: not conditional, or not understood)."""
        if not flow.condition:
            return None
        return predicates.resolve(flow.condition, self.document.source_system.slug)

    def counterparts(self, side: str, label: str, path: str) -> list[tuple[ResourceConnector, FieldSpec]]:
        """Every field of the document a value at ``path`` of a ``label`` record on ``side`` flows into: the
        other side of each row, in any flow from the entity on that side, that reads the path (read-only
        fields and fields a connector lacks left out: nothing is written to them); conditional rows too,
        since the value flows through them whenever their condition holds."""
        found: list[tuple[ResourceConnector, FieldSpec]] = []
        for flow in self.document.flows:
            if (flow.source_label if side == "source" else flow.target_label) != label:
                continue
            rows = [r for r in flow.synced_mappings if (r.source if side == "source" else r.target) == path]
            if not rows:
                continue
            try:
                src, tgt = self.pair(flow)
            except LookupError:
                continue
            other = tgt if side == "source" else src
            for r in rows:
                theirs = other.fields.get(r.target if side == "source" else r.source)
                if theirs is not None and not theirs.read_only:
                    found.append((other, theirs))
        return found

    def value_domain(self, side: str, label: str, path: str, spec: FieldSpec) -> Domain | None:
        """The values ``path`` of a ``label`` record on ``side`` can hold so that every flow of the document
        that reads it (the entity on the same side, a row from the path) can carry it: the field's own
        constraints joined with every counterpart field's, and empty only when every one of them may be
        (``empty_ok``). None when a counterpart is of another kind (a type change): no value survives it,
        so arrange leaves the path empty unless it is required."""
        key = (side, label, path)
        if key in self._domains:
            return self._domains[key]
        specs = [spec]
        for _other, theirs in self.counterparts(side, label, path):
            if incompatibility(spec, theirs) is not None:
                if not spec.required_on_create:
                    self._domains[key] = None
                    return None
                continue
            specs.append(theirs)
        joined = join(specs)
        found = self._domains[key] = dataclasses.replace(joined, empty_ok=all(clearable(s) for s in specs))
        return found

    def why_not_emptied(self, side: str, label: str, path: str) -> str | None:
        """Why a value at ``path`` cannot be emptied because a field it flows into cannot be (None: every
        field it reaches may be empty)."""
        for other, theirs in self.counterparts(side, label, path):
            if not clearable(theirs):
                why = "is required" if theirs.required_on_create else (
                    "is a boolean (no empty value)" if theirs.kind == "boolean" else "cannot be empty")
                return f"{other.entity}.{theirs.path} {why}"
        return None

    def create(self, connector: ResourceConnector, record: Record) -> str:
        """Arrange ``record`` exactly once. A create whose outcome is unknown (a 5xx or a lost response,
        under ``--talkqa-faults``) is looked up by its content, which arranging makes unique; found, it
        was applied; not found, it is sent again (at most :data:`ARRANGE_ATTEMPTS` times)."""
        if self.arrange_hook is not None:
            self.arrange_hook(connector)
        for attempt in range(1, ARRANGE_ATTEMPTS + 1):
            try:
                return connector.create(record)
            except OutcomeUnknown:
                found = [c.id for c in connector.iter_all() if _holds(connector.get(c.id), record)]
                if len(found) == 1:
                    return found[0]
                if found or attempt == ARRANGE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    @property
    def sandbox(self) -> bool:
        """A shared, never-reset system: the test sees only its own records (docs/sandboxes.md)."""
        return self.ownership is not None

    def ids(self, connector: ResourceConnector) -> set[str]:
        """Every record of ``connector``; in a sandbox, the test's own (no listing when they are known)."""
        if self.ownership is not None and self.ownership.discover is None:
            return set(self.ownership.of(connector))
        return {c.id for c in connector.iter_all()}

    def source_record(self, connector: ResourceConnector, record_id: str) -> Record:
        """An own record as read once (for pairing an external sync's records by content)."""
        cache = self.__dict__.setdefault("_sources", {})
        key = (connector.system, connector.entity, record_id)
        if key not in cache:
            cache[key] = connector.get(record_id)
        return cache[key]

    def read(self, connector: ResourceConnector, record_id: str, path: str) -> Any:
        return get_path(connector.get(record_id), path)

    def sut_wrote(self, system: str, entity: str, record_id: str | None, path: str) -> list[Any]:
        """Every value the system under test sent for ``path`` of that record (in order)."""
        return [
            w.values[path]
            for w in self.writes
            if w.system == system
            and w.entity == entity
            and (record_id is None or w.record_id == record_id)
            and path in w.values
        ]


#: How often arranging sends a create whose outcome stays unknown.
ARRANGE_ATTEMPTS = 6


def _loose(value: Any) -> str:
    return str(value).strip().casefold()


def _holds(stored: Record, sent: Record) -> bool:
    """Whether a stored record carries every non-empty value ``sent`` had (loosely: a system may widen a
    date to a timestamp or change case)."""
    have = flatten(stored)
    for path, value in flatten(sent).items():
        if value in (None, "", [], {}):
            continue
        a, b = _loose(value), _loose(have.get(path))
        if not (a == b or b.startswith(a)):
            return False
    return True


def field_of(connector: ResourceConnector, path: str) -> FieldSpec | None:
    return connector.fields.get(path)
