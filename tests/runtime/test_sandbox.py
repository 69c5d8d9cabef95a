"""Sandbox mode against the simulators run as a never-reset sandbox (docs/sandboxes.md).

One PowerOffice Go and one Exact Online simulator are started once for the module, on 127.0.0.1, and
pre-filled with foreign records (people's, other runs'); the seed's generated suite then runs with
``--talkqa-backend=sandbox`` against them, twice in a row and under ``-n 2``, the way it would against
real sandboxes. The oracles are the simulators' own state and request counts, not talkqa's output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from talkqa.runtime.budget import BudgetSpent, parse_budget, plan_examples

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "generated_tests"
FOREIGN = 11  # per entity: 33 foreign records, as in the never-reset sandbox


class Sandbox:
    """The running simulators, the environment that reaches them, and their foreign records."""

    def __init__(self, tmp: Path) -> None:
        from talkqa.simulators.launcher import start_simulators

        self.tmp = tmp
        self.sims = start_simulators(rate_limits=False)
        self.sims.bootstrap_exact()
        info = self.sims.info()
        po, ex, creds = info["poweroffice"], info["exact"], info["credentials"]
        parent = httpx.post(po["url"] + "/_admin/seed/customers", json={"name": "sandbox parent"}, trust_env=False)
        parent.raise_for_status()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TALKQA_")}
        self.env |= {
            "TALKQA_POWEROFFICE_V1_URL": po["v1_url"], "TALKQA_POWEROFFICE_V2_URL": po["v2_url"],
            "TALKQA_POWEROFFICE_TOKEN_URL": po["token_url"],
            "TALKQA_POWEROFFICE_APP_KEY": creds["poweroffice"]["application_key"],
            "TALKQA_POWEROFFICE_CLIENT_KEY": creds["poweroffice"]["client_key"],
            "TALKQA_POWEROFFICE_SUBSCRIPTION_KEY": creds["poweroffice"]["subscription_key"],
            "TALKQA_POWEROFFICE_V1_PARENT": f"Customer:{parent.json()['id']}",
            "TALKQA_EXACT_URL": ex["url"], "TALKQA_EXACT_CLIENT_ID": creds["exact"]["client_id"],
            "TALKQA_EXACT_CLIENT_SECRET": creds["exact"]["client_secret"],
            "TALKQA_EXACT_REFRESH_TOKEN": creds["exact"]["refresh_token"],
            "TALKQA_EXACT_TOKEN_STORE": str(tmp / "exact-tokens.json"),
            "TALKQA_RATE_LIMITS": "0", "TALKQA_SANDBOX_LEDGER": str(tmp / "ledger"),
        }
        self._fill()
        self.foreign = self.records()

    def _fill(self) -> None:
        """Foreign records in every entity the seed document touches, made through the connectors as a
        person using the systems would (the same parent, the same kinds of values as the tests)."""
        from generator.parser import parse_file
        from talkqa.systems.run import Systems

        document = parse_file(ROOT / "spec" / "powerofficego-exact.rst")
        systems = Systems([document], mode="live", env=self.env)
        binding = systems.bind(document, prepare=False)
        try:
            for n in range(FOREIGN):
                binding.resolve("powerofficego", "Contactperson").create(
                    {"firstName": f"Foreign{n}", "lastName": "Person", "city": "Oslo"})
                binding.resolve("powerofficego", "Suppliers person").create(
                    {"FirstName": f"Foreign{n}", "LastName": "Supplier"})
                binding.resolve("exact", "Contacts").create({"FirstName": f"Foreign{n}", "LastName": "Contact"})
        finally:
            binding.close()
            systems.close()

    def records(self) -> dict[str, str]:
        """Every record in the simulators, as its stored JSON (byte for byte), by collection and id."""
        out = {}
        for name, sim in (("powerofficego", self.sims.poweroffice), ("exact", self.sims.exact)):
            for collection, table in sim.admin.state().items():
                if collection == "customers":
                    continue
                for record_id, record in table.items():
                    out[f"{name}/{collection}/{record_id}"] = json.dumps(record, sort_keys=True)
        return out

    def calls(self) -> dict[str, int]:
        return {"powerofficego": self.sims.poweroffice.api_calls, "exact": self.sims.exact.api_calls}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "pytest", str(self.tmp / "suite"), "-p", "no:cacheprovider", "-p",
                "no:randomly", "-q", "--talkqa-backend=sandbox", "--talkqa-fuzz-profile=ci", *args]
        return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=900, env=self.env)

    def ledger(self) -> list[dict[str, Any]]:
        folder = self.tmp / "ledger"
        return [json.loads(line) for path in sorted(folder.glob("*.jsonl"))
                for line in path.read_text(encoding="utf-8").splitlines()] if folder.is_dir() else []


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    tmp = tmp_path_factory.mktemp("sandbox")
    shutil.copytree(SUITE, tmp / "suite", ignore=shutil.ignore_patterns("__pycache__", "cassettes"))
    box = Sandbox(tmp)
    yield box
    box.sims.stop()


def spent(out: str) -> dict[str, tuple[int, int]]:
    """The calls-per-system line of a sandbox run: system -> (calls, budget)."""
    line = next(ln for ln in out.splitlines() if ln.startswith("API calls made in the sandboxes"))
    return {m[0]: (int(m[1]), int(m[2])) for m in re.findall(r"(\w+) (\d+) of (\d+)", line)}


def test_the_seed_suite_passes_twice_and_under_xdist_touching_only_its_own_records(sandbox: Sandbox) -> None:
    assert len(sandbox.foreign) == 3 * FOREIGN
    for args in ([], ["-n", "2"]):  # the second run meets the first's sandbox, never reset
        before = sandbox.calls()
        done = sandbox.run(*args)
        out = done.stdout + done.stderr
        assert done.returncode == 0, out[-3000:]
        assert "do not conform" in out and ", 0 do not conform" in out and "not run: API budget" not in out
        # foreign records are untouched, byte for byte, and every record the run made is gone again
        assert sandbox.records() == sandbox.foreign, out[-2000:]
        assert sandbox.ledger() == []
        made = re.search(r"sandbox records made by this run: exact (\d+) created, (\d+) deleted; "
                         r"powerofficego (\d+) created, (\d+) deleted", out)
        assert made and made[1] == made[2] and made[3] == made[4] and int(made[1]) > 0, out[-2000:]
        # the budget: what the simulators answered stays within each system's budget (Exact's daily quota)
        answered = {k: v - before[k] for k, v in sandbox.calls().items()}
        printed = spent(out)
        assert printed["exact"][1] == 5000
        for system, n in answered.items():
            assert 0 < n <= printed[system][1], (system, n, printed)
            assert printed[system][0] == n  # every request the simulators answered was counted


def test_a_small_budget_gives_not_run_checks_and_a_red_verdict_and_is_never_exceeded(sandbox: Sandbox) -> None:
    before = sandbox.calls()
    results = sandbox.tmp / "small.json"
    done = sandbox.run("-k", "Contactperson", "--talkqa-api-budget=exact=80", f"--talkqa-results={results}")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-3000:]
    assert "not run: API budget of exact spent (80 calls)" in out
    assert "check(s) not run: the API budget was spent (a partial run is not a pass)" in out
    assert sandbox.calls()["exact"] - before["exact"] <= 80
    outcomes = json.loads(results.read_text(encoding="utf-8"))["outcomes"]
    unrun = [o for o in outcomes if o["reason"].startswith("not run: API budget of exact")]
    assert unrun and all(o["outcome"] == "skipped" for o in unrun)
    assert "fuzz examples cut to fit the API budget" in out or len(unrun) == len(outcomes)
    # what could not be removed once the budget was spent is listed, and nothing else was touched
    left = {f"{e['system']}:{e['id'].rsplit('/', 1)[-1].lower()}" for e in sandbox.ledger()}  # v1: parent/id
    assert all(e["why"].startswith("not run: API budget of exact") for e in sandbox.ledger())
    now = sandbox.records()
    assert {k: v for k, v in now.items() if k in sandbox.foreign} == sandbox.foreign
    extra = {k.split("/")[0] + ":" + k.split("/")[-1].lower() for k in now if k not in sandbox.foreign}
    assert extra == left, (extra, left)


# -- the budget's arithmetic, as properties ---------------------------------------------------------

def test_budget_settings_parse_or_say_what_they_expect() -> None:
    assert parse_budget("300") == (300, {})
    assert parse_budget("exact=500, powerofficego=2000") == (None, {"exact": 500, "powerofficego": 2000})
    for bad in ("", "x", "exact=", "=5", "exact=-1"):
        with pytest.raises(ValueError, match="N or SLUG=N"):
            parse_budget(bad)
    assert str(BudgetSpent("exact", 80)) == "not run: API budget of exact spent (80 calls)"


def test_a_plan_fits_the_remaining_budget_and_never_asks_for_more_than_the_profile() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    @given(full=st.integers(1, 600), remaining=st.integers(0, 10_000), per_check=st.floats(0, 100),
           per_example=st.floats(0.5, 100), checks=st.integers(0, 200), fuzz=st.integers(1, 60))
    def fits(full: int, remaining: int, per_check: float, per_example: float, checks: int, fuzz: int) -> None:
        n = plan_examples(full, remaining, per_check, per_example, checks, fuzz)
        assert 1 <= n <= full
        if n > 1:  # more than the floor only when the rest of the run still fits
            assert checks * per_check + fuzz * n * per_example <= remaining + 1e-6

    fits()
