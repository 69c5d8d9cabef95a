"""Stateful property test of the reference sync (hypothesis rule-based state machine).

Random creates and edits on both sides, sync cycles, injected faults (429/5xx-like errors,
lost responses) and crashes of the sync at random points. After every converged cycle:
every source record is linked exactly once, no duplicates on either side, both sides agree
on every mapped property, and no user's value is lost (it is the final value, or it was
superseded by a later edit, or it is in the conflict log).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from talkqa.connectors.base import ConnectorError, OutcomeUnknown
from talkqa.connectors.codecs import get_path
from talkqa.sync.engine import SyncEngine, flow_key
from talkqa.sync.state import SyncState
from tests.sync.docs import document, flow_text
from tests.sync.world import World

PEOPLE = flow_text("Person", "Contact", [("name", "Name"), ("address.city", "City"), ("born", "BirthDate")])
ORGS = flow_text(
    "Org", "Account", [("orgno", "OrgNo"), ("title", "Title")], policy="merge_or_create", match=[("orgno", "OrgNo")]
)
DOC = document(PEOPLE, ORGS)

texts = st.text(alphabet="abcøæ ÅZ-'", min_size=0, max_size=6)
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2030, 12, 31))
orgnos = st.sampled_from(["911", "922", "933", "944"])


class Crash(BaseException):
    """The sync process dies here (not an error it can catch)."""


@dataclass
class Edit:
    seq: int
    flow: int
    source_id: str
    target_path: str
    value: object


class SyncMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        self.world = World(DOC)
        self.world.state = SyncState(":memory:")
        self.edits: list[Edit] = []
        self.seq = 0
        self.people = self.world.source(0)
        self.contacts = self.world.target(0)
        self.orgs = self.world.source(1)
        self.accounts = self.world.target(1)
        self.target_made: set[str] = set()  # accounts made by a user on the target side

    # -- users ---------------------------------------------------------------------------------

    @rule(name=texts, city=texts, born=st.none() | dates)
    def create_person(self, name: str, city: str, born: dt.date | None) -> None:
        self.people.put({"name": name, "address": {"city": city}, "born": born})

    @rule(orgno=orgnos, title=texts)
    def create_org(self, orgno: str, title: str) -> None:
        self.orgs.put({"orgno": orgno, "title": title})

    @rule(orgno=orgnos, title=texts)
    def create_account(self, orgno: str, title: str) -> None:
        self.target_made.add(self.accounts.put({"OrgNo": orgno, "Title": title}))

    @precondition(lambda self: self.world.state.links())
    @rule(data=st.data(), side=st.sampled_from(["source", "target"]))
    def edit_linked(self, data: st.DataObject, side: str) -> None:
        link = data.draw(st.sampled_from(self.world.state.links()))
        flow = 0 if link.flow == flow_key(DOC, 0, DOC.flows[0]) else 1
        row = data.draw(st.sampled_from(DOC.flows[flow].mappings))
        if flow == 1 and row.source == "orgno":
            return  # the match key stays put, so merges stay unambiguous
        value = data.draw(dates if row.target == "BirthDate" else texts)
        if side == "source":
            res, record_id, path = self.world.source(flow), link.source_id, row.source
        else:
            res, record_id, path = self.world.target(flow), link.target_id, row.target
        before = get_path(res.records[record_id], path)
        res.edit(record_id, path, value)
        if (before or None) == (value or None):
            return  # no edit: empty stays empty (or the value stays), so nothing can be lost
        self.seq += 1
        self.edits.append(Edit(self.seq, flow, link.source_id, row.target, value))

    # -- the sync, sometimes failing -----------------------------------------------------------

    @rule(
        op=st.sampled_from(["create", "update", "changed_since"]),
        side=st.sampled_from(["source", "target"]),
        kind=st.sampled_from(["error", "lost", "crash-before", "crash-after"]),
        flow=st.integers(0, 1),
    )
    def sync_with_fault(self, op: str, side: str, kind: str, flow: int) -> None:
        res = self.world.source(flow) if side == "source" else self.world.target(flow)
        if kind == "error":
            res.fail_next(op, ConnectorError("HTTP 503 after retries", status=503, retryable=True))
        elif kind == "lost":
            res.fail_next(op, OutcomeUnknown("connection dropped after the request was sent"), applied=True)
        else:
            res.fail_next(op, Crash(), applied=kind == "crash-after")
        with contextlib.suppress(Crash):
            SyncEngine(DOC, self.world.resource, self.world.state).run_once()
        for r in self.world.resources.values():
            r._faults.clear()

    @rule()
    def sync_converges(self) -> None:
        for _ in range(6):
            summary = SyncEngine(DOC, self.world.resource, self.world.state).run_once()
            assert not summary.errors, summary.errors
            if summary.writes == 0:
                break
        else:
            raise AssertionError("the sync did not converge in 6 cycles")
        self.check_converged()
        self.edits.clear()

    # -- what must hold ------------------------------------------------------------------------

    def check_converged(self) -> None:
        state = self.world.state
        for i, flow in enumerate(DOC.flows):
            key = flow_key(DOC, i, flow)
            links = state.links(key)
            src, tgt = self.world.source(i), self.world.target(i)
            linked_sources = [link.source_id for link in links]
            assert sorted(linked_sources) == sorted(src.records), "every source record linked exactly once"
            targets = [link.target_id for link in links]
            assert len(set(targets)) == len(targets), "a target linked twice"
            made_by_sync = set(tgt.records) - (self.target_made if i == 1 else set())
            assert made_by_sync <= set(targets), "a target the sync made is not linked (duplicate)"
            for link in links:
                s, t = src.records[link.source_id], tgt.records[link.target_id]
                for row in flow.mappings:
                    sv, tv = get_path(s, row.source), get_path(t, row.target)
                    assert (sv or None) == (tv or None), f"{row.source}={sv!r} but {row.target}={tv!r}"
        lost = {(c.source_id, c.property, repr(c.lost_value)) for c in state.conflicts()}
        last: dict[tuple[int, str, str], Edit] = {}
        for e in self.edits:
            last[(e.flow, e.source_id, e.target_path)] = e
        for (flow, source_id, path), e in last.items():
            link = state.link_for_source(flow_key(DOC, flow, DOC.flows[flow]), source_id)
            final = get_path(self.world.target(flow).records[link.target_id], path)
            if (final or None) != (e.value or None):
                assert (source_id, path, repr(e.value)) in lost, f"{path}={e.value!r} was lost without a trace"

    @invariant()
    def one_origin_per_target(self) -> None:
        links = self.world.state.links()
        assert len({(link.target_resource, link.target_id) for link in links}) == len(links)


SyncMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSyncMachine = SyncMachine.TestCase
