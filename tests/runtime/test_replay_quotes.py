"""A replayed check quotes what the sync wrote in the step under test, never an earlier write (the
create's) as if the step had made it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generator.parser import parse_file
from talkqa.runtime.bench import Bench, Write
from talkqa.runtime.checks import ChecklistFailure, _expect

ROOT = Path(__file__).resolve().parents[2]
CASE = {"document": "d.rst", "line": 26, "flow_title": "A to B", "source": "city", "target": "City",
        "direction": "forward"}


class Replayed:
    system, entity, fields = "exact", "Contacts", {}

    def get(self, record_id: str) -> dict[str, Any]:
        return {"City": "as recorded"}


def bench(writes: list[Write]) -> Bench:
    return Bench(parse_file(ROOT / "spec" / "powerofficego-exact.rst"), lambda *_: Replayed(),  # type: ignore
                 Path("."), live=False, writes=writes)


def test_a_step_that_writes_nothing_is_not_credited_with_the_creates_value() -> None:
    b = bench([Write("exact", "Contacts", "create", "t1", {"City": "Oslo"})])
    with pytest.raises(ChecklistFailure) as failed:
        _expect(b, CASE, Replayed(), "t1", "City", "Bergen", "editing city", since=1)  # type: ignore[arg-type]
    message = str(failed.value)
    assert "but it sent no value for it (its last write of it, before this step, was 'Oslo')" in message
    assert "but it wrote 'Oslo'" not in message


def test_the_steps_own_write_is_quoted_and_a_right_one_passes() -> None:
    writes = [Write("exact", "Contacts", "create", "t1", {"City": "Oslo"}),
              Write("exact", "Contacts", "update", "t1", {"City": "Bergn"})]
    with pytest.raises(ChecklistFailure, match="but it wrote 'Bergn'"):
        _expect(bench(writes), CASE, Replayed(), "t1", "City", "Bergen", "editing city", since=1)  # type: ignore
    writes[1] = Write("exact", "Contacts", "update", "t1", {"City": "Bergen"})
    _expect(bench(writes), CASE, Replayed(), "t1", "City", "Bergen", "editing city", since=1)  # type: ignore
    # another record's write in the step is not this record's
    other = [writes[0], Write("exact", "Contacts", "update", "t2", {"City": "Bergen"})]
    with pytest.raises(ChecklistFailure, match="sent no value"):
        _expect(bench(other), CASE, Replayed(), "t1", "City", "Bergen", "editing city", since=1)  # type: ignore
