"""swap-values on a link_required flow is killed on target: every test of such a flow first links a pair
through the match rule and checks that the merge carried a row (the test's own row when the merge carries
it), so the second crossed row fails its own tests instead of every test failing on the first crossed row."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DOC = """\
=========================
Alpha to Beta Dataflow
=========================

Generated: 2024-01-01 00:00:00

Introduction
------------

This technical document provides a detailed overview of the Sesam Talk data flow from Alpha to Beta.

Alpha Member to Beta Person
---------------------------
Before any synchronization can take place, a link between a Alpha Member and a Beta Person must be established.

A Alpha Member will merge with a Beta Person if one of the following property combinations match:

.. list-table::
   :header-rows: 1

   * - Alpha Member Property
     - Beta Person Property
   * - email
     - Mail

Once a link between a Alpha Member and a Beta Person is established, it will keep in sync between the two \
systems, regardless of where it is edited.

The following properties are synchronized between a Alpha Member and a Beta Person:

.. list-table::
   :header-rows: 1

   * - Alpha Member Property
     - Beta Person Property
     - Beta Data Type
   * - street
     - Street
     - "string"
   * - town
     - Town
     - "string"
   * - nickname
     - Nick
     - "string"
"""


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
    street, town = (f"{doc}:{n}" for n in (DOC.splitlines().index("   * - street") + 1,
                                           DOC.splitlines().index("   * - town") + 1))
    assert verdict["result"] == "killed"
    assert verdict["expected_rows"] == [street, town]
    assert (verdict["missed_rows"], verdict["extra_rows"], verdict["on_target"]) == ([], [], True)
