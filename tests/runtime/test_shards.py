"""Spreading a check over machines (issue 13, point 5): balanced shards whose merged results equal one run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from talkqa.runtime.results import load_run
from talkqa.shards import assign, parse_shard
from talkqa.verdicts import summarise_run

DOC = """\
======================
{a} to {b} Dataflow
======================

{a} Person to {b} Contact
----------------------------
Every {a} Person will be synchronized with a {b} Contact.

The following properties are synchronized between a {a} Person and a {b} Contact:

.. list-table::
   :header-rows: 1

   * - {a} Person Property
     - {b} Contact Property
     - {b} Data Type
   * - name
     - Name
     - "string"
   * - id
     - Id
     - "N/A"
"""


@given(weights=st.lists(st.integers(1, 10_000), max_size=30), n=st.integers(1, 6))
def test_every_module_lands_in_exactly_one_shard_and_loads_are_balanced(weights: list[int], n: int) -> None:
    modules = [Path(f"test_m{i}.py") for i in range(len(weights))]
    durations = {m.name: float(w) for m, w in zip(modules, weights, strict=True)}
    shards = assign(modules, n, durations)
    assert len(shards) == n
    flat = [m for s in shards for m in s]
    assert sorted(flat) == sorted(modules)
    assert assign(list(reversed(modules)), n, durations) == shards  # the same split on every machine
    loads = [sum(durations[m.name] for m in s) for s in shards]
    # greedy longest-first: no shard exceeds another by more than the heaviest module
    assert max(loads) - min(loads) <= max(weights, default=0)


def test_shard_syntax() -> None:
    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "x", "1/0", ""):
        try:
            parse_shard(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")


def _talkqa(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "talkqa", *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "CI": "true"})


def test_three_shards_merge_into_the_checklist_of_one_run(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for a, b in (("Alpha", "Beta"), ("Gamma", "Delta"), ("Eps", "Zeta"), ("Eta", "Theta")):
        (docs / f"{a.lower()}-{b.lower()}.rst").write_text(DOC.format(a=a, b=b), encoding="utf-8")
    common = ["docs", "--out", "suite", "-m", "not fuzz"]
    single = _talkqa(tmp_path, "check", *common, "--results", "single.json")
    assert single.returncode == 0, single.stdout + single.stderr
    for k in (1, 2, 3):
        done = _talkqa(tmp_path, "check", *common, "--shard", f"{k}/3", "--results", f"s{k}.json")
        assert done.returncode == 0, done.stdout + done.stderr
    runs = [load_run(tmp_path / f"s{k}.json") for k in (1, 2, 3)]
    per_shard = [{e["document"] for e in r["outcomes"]} for r in runs]
    assert all(per_shard) and sum(len(s) for s in per_shard) == 4  # each document in one shard
    merged = _talkqa(tmp_path, "merge", "s1.json", "s2.json", "s3.json", "--results", "merged.json",
                     "--junit", "merged.xml", "--html", "merged.html")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    one, joined = load_run(tmp_path / "single.json"), load_run(tmp_path / "merged.json")
    assert {(e["nodeid"], e["outcome"]) for e in one["outcomes"]} == {
        (e["nodeid"], e["outcome"]) for e in joined["outcomes"]}
    assert summarise_run(one).lines() == summarise_run(joined).lines()
    assert summarise_run(joined).lines()[-1] in merged.stdout
    cases = ET.parse(tmp_path / "merged.xml").getroot().iter("testcase")
    assert sorted(c.get("file") + ":" + c.get("line") for c in cases) == sorted(
        f"{e['document']}:{e['line'] - 1}" for e in one["outcomes"])
    assert (tmp_path / "merged.html").read_text(encoding="utf-8").count("talkqa checklist") >= 1
    assert json.loads((tmp_path / "merged.json").read_text(encoding="utf-8"))["schema"] == "talkqa-results/2"


def test_a_shard_with_no_document_is_not_a_failure(tmp_path: Path) -> None:
    (tmp_path / "alpha-beta.rst").write_text(DOC.format(a="Alpha", b="Beta"), encoding="utf-8")
    done = _talkqa(tmp_path, "check", "alpha-beta.rst", "--out", "suite", "--shard", "2/2", "--results", "s2.json")
    assert done.returncode == 0 and "has no document" in done.stdout, done.stdout + done.stderr
    assert load_run(tmp_path / "s2.json")["outcomes"] == []
    bad = _talkqa(tmp_path, "check", "alpha-beta.rst", "--shard", "3/2")
    assert bad.returncode == 2 and "K must be between 1 and N" in bad.stderr
