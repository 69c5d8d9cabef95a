"""swap-values on a link_required flow is killed on target: every test of such a flow first links a pair
through the match rule and checks that the merge carried a row (the test's own row when the merge carries
it), so the second crossed row fails its own tests instead of every test failing on the first crossed row."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from generator.parser import parse_file
from tests.sync.docs import INTRO, flow_text

DOC = INTRO + flow_text("Member", "Person", [("street", "Street"), ("town", "Town"), ("nickname", "Nick")],
                       policy="link_required", match=[("email", "Mail")])


def test_swap_values_on_a_link_required_flow_names_both_crossed_rows(tmp_path: Path) -> None:
    doc = tmp_path / "alpha-beta.rst"
    doc.write_text(DOC, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "talkqa", "mutate", str(doc), "--only", "swap-values", "--out",
         str(tmp_path / "suite"), "--json"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path, env={**os.environ, "CI": "true"},
    )
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    (verdict,) = json.loads(done.stdout[done.stdout.index("{"):])["mutants"]
    street, town = (f"{doc}:{r.line}" for r in parse_file(doc).flows[0].syncable_rows[:2])
    assert verdict["result"] == "killed"
    assert verdict["expected_rows"] == [street, town]
    assert (verdict["missed_rows"], verdict["extra_rows"], verdict["on_target"]) == ([], [], True)
