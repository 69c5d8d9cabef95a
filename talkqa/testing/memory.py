"""An in-memory resource that behaves like a connector: for fast sync tests and as a benchmark baseline.

It keeps records as canonical dicts, stamps each write with a rising sequence number (the
watermark), counts calls, and can be told to fail: ``fail_next(op, exc, applied=True)``
makes the next ``op`` raise ``exc`` after (or before) applying it, like a lost response.
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from talkqa.connectors.base import Change, FieldSpec, NotFound, Page, Record
from talkqa.connectors.codecs import set_path


def _merge(into: dict[str, Any], changes: Mapping[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


class MemoryResource:
    """A ResourceConnector over a dict; ids are ``<prefix>-<n>``."""

    def __init__(self, system: str, entity: str, *, prefix: str = "r", fields: Mapping[str, FieldSpec] | None = None):
        self.system = system
        self.entity = entity
        self.fields = dict(fields or {})
        self.records: dict[str, Record] = {}
        self.stamps: dict[str, int] = {}
        self.refs: dict[str, str] = {}  # external ref -> id, kept beside the records
        self.calls: Counter[str] = Counter()
        self._ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._prefix = prefix
        self._faults: list[tuple[str, Exception, bool]] = []

    # -- test helpers ----------------------------------------------------------------------------

    def put(self, record: Record, record_id: str | None = None) -> str:
        """Add or replace a record as a user would (bumps its stamp)."""
        rid = record_id or f"{self._prefix}-{next(self._ids)}"
        self.records[rid] = copy.deepcopy(record)
        self.stamps[rid] = next(self._seq)
        return rid

    def edit(self, record_id: str, path: str, value: Any) -> None:
        """A user's edit of one property."""
        set_path(self.records[record_id], path, value)
        self.stamps[record_id] = next(self._seq)

    def fail_next(self, op: str, exc: Exception, *, applied: bool = False) -> None:
        self._faults.append((op, exc, applied))

    def _fault(self, op: str) -> tuple[Exception, bool] | None:
        for i, (name, exc, applied) in enumerate(self._faults):
            if name == op:
                del self._faults[i]
                return exc, applied
        return None

    @property
    def writes(self) -> int:
        return self.calls["create"] + self.calls["update"]

    # -- the connector interface -----------------------------------------------------------------

    def changed_since(self, watermark: str | None) -> Page:
        self.calls["changed_since"] += 1
        fault = self._fault("changed_since")
        if fault:
            raise fault[0]
        since = int(watermark) if watermark else 0
        ids = sorted((s, rid) for rid, s in self.stamps.items() if s > since)
        changes = [Change(rid, self._public(rid), str(s)) for s, rid in ids]
        top = max(self.stamps.values(), default=since)
        return Page(changes=changes, watermark=str(max(top, since)))

    def iter_all(self) -> Iterator[Change]:
        self.calls["iter_all"] += 1
        for rid in sorted(self.records):
            yield Change(rid, self._public(rid), str(self.stamps[rid]))

    def get(self, record_id: str) -> Record:
        self.calls["get"] += 1
        if record_id not in self.records:
            raise NotFound(f"{self.entity} {record_id} not found", status=404)
        return self._public(record_id)

    def create(self, record: Record, *, external_ref: str | None = None) -> str:
        self.calls["create"] += 1
        fault = self._fault("create")
        if fault and not fault[1]:
            raise fault[0]
        rid = self.put(record)
        if external_ref:
            self.refs[external_ref] = rid
        if fault:
            raise fault[0]
        return rid

    def update(self, record_id: str, changes: Record) -> None:
        self.calls["update"] += 1
        fault = self._fault("update")
        if fault and not fault[1]:
            raise fault[0]
        if record_id not in self.records:
            raise NotFound(f"{self.entity} {record_id} not found", status=404)
        _merge(self.records[record_id], changes)
        self.stamps[record_id] = next(self._seq)
        if fault:
            raise fault[0]

    def find_by_external_ref(self, external_ref: str) -> str | None:
        self.calls["find_by_external_ref"] += 1
        return self.refs.get(external_ref)

    def _public(self, rid: str) -> Record:
        return copy.deepcopy(self.records[rid])


class IdentifiedMemoryResource(MemoryResource):
    """A :class:`MemoryResource` whose records show their own id at ``id`` (assigned by the system, so
    read-only), for identifier rows (``id -> X``, ``X -> id``)."""

    id_path = "id"

    def _public(self, rid: str) -> Record:
        return {**super()._public(rid), "id": rid}
