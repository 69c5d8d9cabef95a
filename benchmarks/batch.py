"""Benchmark: checking your own sync, batch mode against per-test mode (issue 14).

    .venv/bin/python benchmarks/batch.py [--document spec/powerofficego-exact.rst] [--fuzz-profile ci]
                                         [--per-test-fuzz] [--json]

The system under test is ``talkqa sync DOCUMENT --once`` run as an external command on the
simulators. Measured in this run, one after the other:

1. **batch** (the default for a command): the whole checklist, fuzz included;
2. **per test** (``--talkqa-batch=off``), the baseline: the checklist without fuzz (with
   ``--per-test-fuzz`` with fuzz too: it takes tens of minutes).

For each: runs of the command (what the plugin prints), wall time, checks and verdicts. Goal
(issue 14): the seed's whole checklist in batch mode in at most 20 runs and 2 minutes wall. The
verdicts of the checks both runs made must agree.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL_RUNS, GOAL_SECONDS = 20, 120


def run(document: str, batch: str, profile: str, fuzz: bool, work: Path) -> dict:
    results = work / f"results-{batch}.json"
    command = f'command:sh -c "exec {sys.executable} -m talkqa sync \\"$TALKQA_DOCUMENT\\" --once"'
    argv = [sys.executable, "-m", "talkqa", "check", document, "--out", str(work / "suite"), "--backend",
            "simulators", "--sut", command, "--fuzz-profile", profile, "--results", str(results)]
    if not fuzz:
        argv += ["-m", "not fuzz"]
    env = {**os.environ, "PYTEST_ADDOPTS": f"--talkqa-batch={batch}"}
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, env=env)
    seconds = time.perf_counter() - started
    runs = re.search(r"system under test: (\d+) run\(s\)", done.stdout)
    outcomes = {}
    if results.exists():
        data = json.loads(results.read_text(encoding="utf-8"))
        outcomes = {e["nodeid"]: e["outcome"] for e in data["outcomes"]}
    return {"mode": batch, "fuzz": fuzz, "exit": done.returncode, "seconds": round(seconds, 1),
            "runs": int(runs.group(1)) if runs else None, "checks": len(outcomes), "outcomes": outcomes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--document", default="spec/powerofficego-exact.rst")
    parser.add_argument("--fuzz-profile", default="ci", choices=("ci", "dev", "nightly"))
    parser.add_argument("--per-test-fuzz", action="store_true", help="include fuzz in the per-test baseline")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="talkqa-batch-") as tmp:
        batch = run(args.document, "on", args.fuzz_profile, True, Path(tmp))
        batch["load"] = f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
        single = run(args.document, "off", args.fuzz_profile, args.per_test_fuzz, Path(tmp))
    shared = set(batch["outcomes"]) & set(single["outcomes"])
    disagree = sorted(k for k in shared if batch["outcomes"][k] != single["outcomes"][k])
    if args.json:
        print(json.dumps({"batch": {k: v for k, v in batch.items() if k != "outcomes"},
                          "per_test": {k: v for k, v in single.items() if k != "outcomes"},
                          "disagreeing": disagree}, indent=1))
        return
    print(f"document: {args.document}; system under test: talkqa sync --once, external, on the simulators")
    for r in (batch, single):
        what = "whole checklist" if r["fuzz"] else "checklist without fuzz"
        load = f" (load average {r['load']})" if "load" in r else ""
        print(f"  {r['mode']:>3} ({what}): {r['checks']} checks, {r['runs']} runs, {r['seconds']} s, exit {r['exit']}"
              + load)
    if batch["runs"] and single["runs"]:
        print(f"  runs per check: batch {batch['runs'] / max(batch['checks'], 1):.2f}, "
              f"per test {single['runs'] / max(single['checks'], 1):.2f}")
    ok_runs = batch["runs"] is not None and batch["runs"] <= GOAL_RUNS
    ok_time = batch["seconds"] <= GOAL_SECONDS
    print(f"  goal: at most {GOAL_RUNS} runs ({'met' if ok_runs else 'MISSED'}: {batch['runs']}) and "
          f"{GOAL_SECONDS} s ({'met' if ok_time else 'MISSED'}: {batch['seconds']} s) for the whole checklist")
    print(f"  verdicts of the {len(shared)} checks both ran: {disagree if disagree else 'the same'}")


if __name__ == "__main__":
    main()
