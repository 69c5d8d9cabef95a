"""Remembered draws (``talkqa.runtime.draws``) feed every fuzz test exactly what Hypothesis would feed it.

Two documents with several string rows of each domain (text, text of a bounded length, dates, e-mail
addresses, phone numbers, countries), two-way (so reverse tests, whose filter differs per test, are in
them), are generated and its fuzz tests run twice under the ci profile: once with nothing remembered
(every test runs Hypothesis), once as shipped. A plugin logs the values each test's examples carry. The
logs must be equal, value for value and in order, and the shipped run must have fed some tests,
forward and reverse, from memory (else the comparison proves nothing). Then the same with a sync broken
on one row that comes after a passing row of its kind: its test replays, fails, and falls back to
Hypothesis, which must report the same smallest failing value as without memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from talkqa.runtime.results import load
from tests.spec.docwriter import DocSpec, FlowSpec, RowSpec
from tests.systems.helpers import generated_suite

ROWS = (  # fuzz tests are made for string rows; the others give the records more fields
    RowSpec("name", "FullName", '"string"'),
    RowSpec("nick", "Alias", '"string"'),
    RowSpec("note", "Remark", '"string"'),
    RowSpec("age", "Age", '"integer"'),
    RowSpec("active", "IsActive", '"boolean"'),
    RowSpec("tags", "Labels", '"list"'),
)
DOC = DocSpec("Acme", "Zenith", "acme", "zenith", flows=(FlowSpec("Person", "Contact", "always", rows=ROWS),))
#: Exact Online's fields give the string rows their domains: dates, e-mail addresses, phone numbers,
#: countries, lengths (its plugin serves the target; the generic system the source)
EXACT = DocSpec("Acme", "Exact", "acme", "exact", flows=(FlowSpec("Person", "Contacts", "always", rows=tuple(
    RowSpec(s, t, '"string"') for s, t in (
        ("first", "FirstName"), ("last", "LastName"), ("city", "City"), ("born", "BirthDate"),
        ("mail", "Email"), ("work_mail", "BusinessEmail"), ("phone", "Phone"), ("mobile", "Mobile"),
        ("country", "Country"), ("work_phone", "BusinessPhone"),
    ))),))
BROKEN_TARGET = "Remark"  # the third string row: the rows before it are fuzzed first, and pass

LOGGER = """\
import json, os

import talkqa.runtime.fuzz as fuzz
from talkqa.runtime import draws

LOG, FED, NODE = {}, [], [None]
_one_example, _feed = fuzz.one_example, draws.feed


def one_example(bench, case, value):
    LOG.setdefault(NODE[0], []).append(repr(value))
    return _one_example(bench, case, value)


def feed(test, values):
    FED.append(NODE[0])
    return _feed(test, values)


fuzz.one_example, draws.feed = one_example, feed
if os.environ.get("FORGET_DRAWS"):
    draws.remembered = lambda *args, **kwargs: None


def pytest_runtest_logstart(nodeid, location):
    NODE[0] = nodeid


def pytest_sessionfinish(session):
    with open(os.environ["DRAW_LOG"], "w") as out:
        json.dump({"values": LOG, "fed": FED}, out)
"""

BROKEN = f"""\
import talkqa.sync.engine as engine

_forward_values = engine._FlowRun._forward_values


def forward_values(self, record, *rest):
    out = _forward_values(self, record, *rest)
    if isinstance(out.get({BROKEN_TARGET!r}), str):
        out[{BROKEN_TARGET!r}] = out[{BROKEN_TARGET!r}][:3]  # long values lose their tail
    return out


engine._FlowRun._forward_values = forward_values
"""


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_suite(tmp_path_factory.mktemp("draws"), DOC, EXACT,
                           files={"drawlog.py": LOGGER, "truncate_remark.py": BROKEN})


def run(root: Path, name: str, *, forget: bool, broken: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    log, results = root / f"{name}.log.json", root / f"{name}.json"
    argv = [sys.executable, "-m", "pytest", "gen", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
            "-p", "drawlog", "--talkqa-backend=simulators", "--talkqa-fuzz-profile=ci", "-m", "fuzz",
            f"--talkqa-results={results}"]
    if broken:
        argv += ["-p", "truncate_remark"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TALKQA_", "PYTEST_", "FORGET_"))}
    path = os.pathsep.join([str(root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env |= {"DRAW_LOG": str(log), "PYTHONPATH": path}
    if forget:
        env["FORGET_DRAWS"] = "1"
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=600, env=env)
    assert log.exists(), done.stdout + done.stderr
    return json.loads(log.read_text()), load(results)


def test_remembered_draws_are_the_draws_hypothesis_makes(suite: Path) -> None:
    fresh, fresh_results = run(suite, "fresh", forget=True)
    shipped, shipped_results = run(suite, "shipped", forget=False)
    assert fresh["fed"] == []
    assert shipped["values"] == fresh["values"]
    assert len(fresh["values"]) >= 2 * (3 + 10) - 2  # forward and reverse of every string row (bar a skip or two)
    assert any("[forward]" in n for n in shipped["fed"]) and any("[reverse]" in n for n in shipped["fed"]), \
        shipped["fed"]
    outcomes = {e["nodeid"]: e["outcome"] for e in shipped_results}
    assert outcomes == {e["nodeid"]: e["outcome"] for e in fresh_results}
    assert "passed" in outcomes.values() and "failed" not in outcomes.values()


def test_a_failing_replay_falls_back_to_hypothesis_and_shrinks_alike(suite: Path) -> None:
    fresh, fresh_results = run(suite, "fresh-broken", forget=True, broken=True)
    shipped, shipped_results = run(suite, "shipped-broken", forget=False, broken=True)

    def failures(results: list[dict[str, Any]]) -> dict[str, str]:
        return {e["nodeid"]: e.get("message") or "" for e in results if e["outcome"] == "failed"}

    failed = failures(shipped_results)
    assert failed == failures(fresh_results) and len(failed) == 1, failed
    (node, message), = failed.items()
    assert BROKEN_TARGET in message and "forward" in node
    assert node in shipped["fed"]  # it was replayed first: the fallback is what found and shrank it
    assert shipped["values"] != fresh["values"]  # the replay's examples come on top of Hypothesis' run
    assert shipped["values"][node][-len(fresh["values"][node]):] == fresh["values"][node]
