"""Sandbox mode: a test sees, syncs and removes only the records it made (docs/sandboxes.md).

A sandbox is shared and never reset: other tests (under pytest-xdist), earlier runs and people keep
records there. So every connector of a sandbox test is an :class:`OwnedView`:

* its listings (``changed_since``, ``iter_all``) hold only the test's own records: those it created,
  those the reference sync created through it, and, for an external sync (whose writes talkqa does not
  see), the new records whose content pairs with an own record of the other side of a flow
  (:func:`pairs_with_own`). A listing starts at the test's start (less :data:`MARGIN`) where the
  connector can say so (``watermark_at``), so a sync never sweeps the whole sandbox;
* after the test, :func:`clean_up` deletes every own record where the connector can (``delete``)
  and writes the others to the ledger (``.talkqa/sandbox/<system>.jsonl``).

Nothing here names a system, an entity or a property.
"""
from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from talkqa.connectors.base import Change, ConnectorError, NotFound, Page, Record, ResourceConnector
from talkqa.runtime.bench import WrappedConnector

#: Seconds before a test's start its listings begin: room for a system's clock being behind ours.
MARGIN = 300.0


def key_of(connector: Any) -> tuple[str, str]:
    return (str(connector.system), str(connector.entity))


class Ownership:
    """The records one test (or fuzz example) owns, in the order they were made."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.made: list[tuple[OwnedView, str]] = []
        self._ids: dict[tuple[str, str], list[str]] = {}
        self.discover: Callable[[OwnedView, Change], bool] | None = None  # an external sync's records

    def add(self, view: OwnedView, record_id: str) -> None:
        ids = self._ids.setdefault(key_of(view), [])
        if record_id not in ids:
            ids.append(record_id)
            self.made.append((view, record_id))

    def owns(self, connector: Any, record_id: str) -> bool:
        return record_id in self._ids.get(key_of(connector), ())

    def of(self, connector: Any) -> list[str]:
        return list(self._ids.get(key_of(connector), ()))

    def resolver(self, resolve: Callable[[str, str], ResourceConnector]) -> Callable[[str, str], ResourceConnector]:
        """``resolve`` whose connectors are :class:`OwnedView` s of this ownership (one per connector)."""
        views: dict[tuple[str, str], OwnedView] = {}

        def view(key: str, label: str) -> ResourceConnector:
            found = views.get((key, label))
            if found is None:
                found = views[(key, label)] = OwnedView(resolve(key, label), self)
            return found  # type: ignore[return-value]

        return view


class OwnedView(WrappedConnector):
    """One connector as a sandbox test sees it: listings of its own records only."""

    def __init__(self, inner: ResourceConnector, ownership: Ownership) -> None:
        super().__init__(inner)
        self.ownership = ownership

    def __repr__(self) -> str:
        return f"OwnedView({self.inner!r})"

    def start_mark(self) -> str | None:
        """The watermark of the test's start less :data:`MARGIN` (None: the connector cannot say)."""
        at = getattr(self.inner, "watermark_at", None)
        return at(self.ownership.started - MARGIN) if at is not None else None

    def _mine(self, change: Change) -> bool:
        if self.ownership.owns(self, change.id):
            return True
        found = self.ownership.discover
        if found is not None and found(self, change):
            self.ownership.add(self, change.id)
            return True
        return False

    def changed_since(self, watermark: str | None) -> Page:
        page = self.inner.changed_since(watermark if watermark is not None else self.start_mark())
        return Page([c for c in page.changes if self._mine(c)], page.watermark)

    def iter_all(self) -> Iterator[Change]:
        if self.ownership.discover is not None:  # an external sync's records are found by listing
            yield from self.changed_since(None).changes
            return
        for record_id in self.ownership.of(self):  # read one by one: no listing of the whole sandbox
            try:
                yield Change(record_id, self.inner.get(record_id), "")
            except NotFound:
                continue

    def get(self, record_id: str) -> Record:
        return self.inner.get(record_id)

    def find_by_external_ref(self, external_ref: str) -> str | None:
        return self.inner.find_by_external_ref(external_ref)

    def create(self, record: Record, *, external_ref: str | None = None) -> str:
        new_id = self.inner.create(record, external_ref=external_ref)
        self.ownership.add(self, new_id)
        return new_id

    def update(self, record_id: str, changes: Record) -> None:
        self.inner.update(record_id, changes)


def pairs_with_own(bench: Any, view: OwnedView, change: Change) -> bool:
    """Whether ``change`` (a record of ``view`` that is not the test's) is what a flow made from one of the
    test's own records: every non-empty value the flow carries from that record is what ``change`` holds
    (at least one). An external sync's targets are found this way; its links are its own business."""
    from talkqa.runtime.checks import forward_value, same

    document = bench.document
    for flow in document.flows:
        try:
            src, tgt = bench.pair(flow)
        except LookupError:
            continue
        if key_of(tgt) != key_of(view):
            continue
        rows = [r for r in flow.syncable_rows if r.target in tgt.fields and not tgt.fields[r.target].read_only
                and r.source in src.fields]
        for source_id in bench.ownership.of(src):
            try:
                source = bench.source_record(src, source_id)
            except ConnectorError:
                continue
            from talkqa.connectors.codecs import get_path

            wanted = [(r.target, forward_value(flow, source, r.target)) for r in rows]
            wanted = [(path, value) for path, value in wanted if value not in (None, "")]
            if wanted and all(same(get_path(change.record, path), value) for path, value in wanted):
                return True
    return False


class Ledger:
    """Records talkqa made in a sandbox and left there, one JSON line each, per system
    (``<folder>/<system>.jsonl``): what to clear by hand, and why each is left."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, system: str) -> Path:
        return self.folder / f"{system.replace('#', '-').replace('/', '-')}.jsonl"

    def keep(self, system: str, entity: str, record_id: str, why: str, test: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"system": system, "entity": entity, "id": record_id, "why": why, "test": test,
                           "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, ensure_ascii=False)
        fd = os.open(self.path(system), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))  # one write: lines of two processes never mix
        finally:
            os.close(fd)


#: Records made, deleted and kept (in the ledger) by this process's sandbox tests, by system.
CLEANUP: Counter[str] = Counter()


def clean_up(ownership: Ownership, ledger: Ledger, test: str) -> None:
    """Delete the records ``ownership`` made (newest first) where the connector can; the ledger keeps
    the others with the reason. A refused budget keeps the rest untried."""
    from talkqa.runtime.budget import BudgetSpent

    spent: BudgetSpent | None = None
    for view, record_id in reversed(ownership.made):
        system = str(view.system)
        CLEANUP[f"made:{system}"] += 1
        delete = getattr(view.inner, "delete", None)
        why = None
        if spent is not None:
            why = str(spent)
        elif delete is None:
            why = f"the {view.system} {view.entity} connector cannot delete"
        else:
            try:
                delete(record_id)
            except NotFound:
                pass  # gone already (the test or the sync removed it)
            except ConnectorError as exc:
                why = f"the delete failed: {exc}"
            except BudgetSpent as exc:
                spent = exc
                why = str(exc)
        if why is None:
            CLEANUP[f"deleted:{system}"] += 1
        else:
            CLEANUP[f"kept:{system}"] += 1
            ledger.keep(system, str(view.entity), record_id, why, test)
    ownership.made.clear()
