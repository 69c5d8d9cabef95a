"""Two in-memory systems and a sync engine over a document: the fast harness for sync scenarios."""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.model import Document
from talkqa.sync.engine import Predicate, Summary, SyncEngine
from talkqa.sync.state import SyncState
from talkqa.testing.memory import MemoryResource


@dataclass
class World:
    document: Document
    predicates: dict[str, Predicate] = field(default_factory=dict)
    resources: dict[tuple[str, str], MemoryResource] = field(default_factory=dict)
    state: SyncState = field(default_factory=SyncState)

    def resource(self, slug: str, label: str) -> MemoryResource:
        key = (slug, label)
        if key not in self.resources:
            self.resources[key] = MemoryResource(slug, label, prefix=f"{slug[0]}{len(self.resources)}")
        return self.resources[key]

    def source(self, index: int = 0) -> MemoryResource:
        return self.resource(self.document.system_key("source"), self.document.flows[index].source_label)

    def target(self, index: int = 0) -> MemoryResource:
        return self.resource(self.document.system_key("target"), self.document.flows[index].target_label)

    def sync(self) -> Summary:
        engine = SyncEngine(self.document, self.resource, self.state, predicates=self.predicates)
        summary = engine.run_once()
        assert not summary.errors, summary.errors
        return summary

    def target_of(self, source_id: str, index: int = 0) -> str:
        from talkqa.sync.engine import flow_key

        link = self.state.link_for_source(flow_key(self.document, index, self.document.flows[index]), source_id)
        assert link is not None, f"{source_id} is not linked"
        return link.target_id
