"""``talkqa check`` never reports a pass for what it did not check (issue 10, item 1, in part)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEAD = """\
======================
Alpha to Beta Dataflow
======================

Alpha Person to Beta Contact
----------------------------
{policy}
The following properties are synchronized between a Alpha Person and a Beta Contact:

.. list-table::
   :header-rows: 1

   * - Alpha Person Property
     - Beta Contact Property
     - Beta Data Type
   * - name
     - Name
     - "string"
"""
ALWAYS = "Every Alpha Person will be synchronized with a Beta Contact.\n"


def check(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    doc = tmp_path / "alpha-beta.rst"
    doc.write_text(text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "talkqa", "check", str(doc), "--out", str(tmp_path / "suite"), "-m", "not fuzz"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "CI": "true"},
    )


def test_a_document_none_of_whose_checks_ran_exits_5_and_shows_no_pass(tmp_path: Path) -> None:
    done = check(tmp_path, HEAD.format(policy=""))  # no link policy stated: nothing can be checked
    assert done.returncode == 5, done.stdout + done.stderr
    summary = done.stdout.rsplit("\ntalkqa checklist\n", 1)[1]  # the command's own checklist
    flow_lines = [ln for ln in summary.splitlines() if "Alpha Person to Beta Contact:" in ln]
    assert flow_lines and all(ln.lstrip().startswith("–") for ln in flow_lines), summary
    assert "✓" not in summary
    assert "nothing was checked" in done.stderr


def test_the_same_document_with_a_policy_is_checked_on_the_generic_simulator(tmp_path: Path) -> None:
    done = check(tmp_path, HEAD.format(policy=ALWAYS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(live on the simulators)" in done.stdout
    assert "  ✓ Alpha Person to Beta Contact: forward 1/1" in done.stdout
