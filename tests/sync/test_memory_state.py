"""The in-memory sync state answers as the SQLite one does: random operation sequences, transactions that
fail half-way included, leave both with the same links, watermarks, fingerprints, intents and conflicts."""
from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from talkqa.sync.memory_state import MemoryState
from talkqa.sync.state import SyncState

FLOWS = ["f1", "f2"]
IDS = ["1", "2", "3"]
RESOURCES = ["sys:A", "sys:B"]
SIDES = ["source", "target"]
PATHS = ["name", "address.city"]
VALUES = st.one_of(st.none(), st.text(max_size=3), st.integers(-2, 2), st.dates(max_value=date(2001, 1, 1)),
                   st.lists(st.text(max_size=2), max_size=2))

OPS = st.one_of(
    st.tuples(st.just("add_link"), st.sampled_from(FLOWS), st.sampled_from(IDS), st.sampled_from(RESOURCES),
              st.sampled_from(IDS)),
    st.tuples(st.just("unlink_source"), st.sampled_from(FLOWS), st.sampled_from(IDS)),
    st.tuples(st.just("unlink_target"), st.sampled_from(RESOURCES), st.sampled_from(IDS)),
    st.tuples(st.just("set_watermark"), st.sampled_from(FLOWS), st.sampled_from(SIDES),
              st.none() | st.sampled_from(["2020", "2021"])),
    st.tuples(st.just("set_fingerprints"), st.sampled_from(FLOWS), st.sampled_from(SIDES), st.sampled_from(IDS),
              st.dictionaries(st.sampled_from(PATHS), st.sampled_from(['"a"', "null", "1"]), max_size=2)),
    st.tuples(st.just("set_fingerprint"), st.sampled_from(FLOWS), st.sampled_from(SIDES), st.sampled_from(IDS),
              st.sampled_from(PATHS), st.sampled_from(['"b"', "2"])),
    st.tuples(st.just("add_intent"), st.sampled_from(FLOWS), st.sampled_from(IDS), st.sampled_from(["tq-1", "tq-2"])),
    st.tuples(st.just("clear_intent"), st.sampled_from(FLOWS), st.sampled_from(IDS)),
    st.tuples(st.just("log_conflict"), st.sampled_from(FLOWS), st.sampled_from(IDS), st.sampled_from(IDS),
              st.sampled_from(PATHS), st.tuples(st.sampled_from(SIDES), VALUES),
              st.tuples(st.sampled_from(SIDES), VALUES)),
)
#: a step: one operation, or a transaction of several that raises after them (``True``) or commits
STEPS = st.one_of(OPS.map(lambda op: [op]), st.tuples(st.lists(OPS, max_size=4), st.booleans()))


class Boom(Exception):
    pass


def _apply(state: Any, op: tuple[Any, ...]) -> str | None:
    """Run one operation; the constraint it broke, if any (the same in both)."""
    try:
        getattr(state, op[0])(*op[1:])
    except sqlite3.IntegrityError:
        return "integrity"
    return None


def _step(state: Any, step: Any) -> list[str | None]:
    if isinstance(step, list):
        return [_apply(state, op) for op in step]
    ops, fail = step
    outcomes: list[str | None] = []
    try:
        with state.transaction():
            for op in ops:
                outcome = _apply(state, op)
                outcomes.append(outcome)
                if outcome:
                    raise Boom  # as the engine does: a broken constraint ends the transaction
            if fail:
                raise Boom
    except Boom:
        outcomes.append("rolled back")
    return outcomes


def _view(state: Any) -> dict[str, Any]:
    return {
        "by_source": {(f, s): state.link_for_source(f, s) for f in FLOWS for s in IDS},
        "by_target": {(r, t): state.link_for_target(r, t) for r in RESOURCES for t in IDS},
        "links": state.links(),
        "links_f1": state.links("f1"),
        "watermarks": {(f, side): state.watermark(f, side) for f in FLOWS for side in SIDES},
        "fingerprints": {(f, side, i): state.fingerprints(f, side, i) for f in FLOWS for side in SIDES for i in IDS},
        "intents": {(f, i): state.intent(f, i) for f in FLOWS for i in IDS},
        "conflicts": state.conflicts(),
    }


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(STEPS, max_size=12))
def test_the_memory_state_answers_as_sqlite_does(steps: list[Any]) -> None:
    reference, memory = SyncState(":memory:"), MemoryState()
    try:
        for step in steps:
            assert _step(memory, step) == _step(reference, step), step
            assert _view(memory) == _view(reference), step
    finally:
        reference.close()


def test_a_failed_transaction_leaves_nothing_behind() -> None:
    state = MemoryState()
    state.add_link("f", "1", "sys:A", "9")
    try:
        with state.transaction():
            state.set_watermark("f", "source", "w")
            state.add_link("f", "2", "sys:A", "8")
            state.log_conflict("f", "2", "8", "name", ("source", "a"), ("target", "b"))
            raise Boom
    except Boom:
        pass
    assert state.links() == [state.link_for_source("f", "1")]
    assert state.watermark("f", "source") is None and state.conflicts() == []
