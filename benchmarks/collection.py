"""Benchmark: collecting the generated corpus suite against a floor of trivial modules.

    .venv/bin/python benchmarks/collection.py [CORPUS] [--rounds N] [--limit N]

CORPUS defaults to $TALKQA_CORPUS, else ../shared/corpus beside the repository. The corpus suite is
generated into a temporary folder (``plan_suite`` + ``write_plan``, what ``talkqa generate`` does),
then collected once to learn its modules, test functions and case counts. The floor is a folder
with the same module names, the same test functions and the same number of cases each, whose cases
are trivial literals (``[0, 1, 2, ...]``) and whose bodies are ``pass``. Per round, alternating the
order so machine load hits both alike, ``pytest --collect-only -q`` of each in a subprocess: its CPU
time (user + system), pytest's own "collected in" figure and the wall time. Best and median of N
rounds; the ratio is suite / floor, judged on CPU time, which the load of a shared machine moves
least. Goal: at most 1.5x.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator.suite_files import plan_suite, write_plan  # noqa: E402

GOAL = 1.5
MEASURES = {"cpu": "CPU", "pytest": "pytest's", "wall": "wall"}
COLLECTED = re.compile(r"^(\d+) tests? collected in ([\d.]+)s", re.MULTILINE)


def collect(folder: Path) -> tuple[float, float, str, float]:
    """(wall seconds, pytest's seconds, stdout, CPU seconds) of ``pytest --collect-only -q`` in ``folder``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-p", "no:randomly"],
        cwd=folder, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    m = COLLECTED.search(proc.stdout)
    if proc.returncode != 0 or m is None:
        output = proc.stdout[-2000:] + proc.stderr[-2000:]
        raise SystemExit(f"collecting {folder} failed (exit {proc.returncode}):\n{output}")
    return wall, float(m.group(2)), proc.stdout, cpu


def counts(stdout: str) -> Counter[tuple[str, str]]:
    """Cases per (module file, test function) from ``--collect-only -q`` node ids."""
    out: Counter[tuple[str, str]] = Counter()
    for line in stdout.splitlines():
        m = re.match(r"^([^:\s]+\.py)::(\w+)\[", line)
        if m:
            out[(m.group(1), m.group(2))] += 1
    return out


def write_floor(folder: Path, modules_of_suite: list[str], cases: Counter[tuple[str, str]]) -> None:
    """The floor: every module of the suite (one with no case too: it is imported all the same)."""
    modules: dict[str, dict[str, int]] = {m: {} for m in modules_of_suite}
    for (module, function), n in sorted(cases.items()):
        modules.setdefault(module, {})[function] = n
    for module, functions in modules.items():
        lines = ["import pytest", "", "CASES = {"]
        lines += [f"    {name!r}: {list(range(n))!r}," for name, n in functions.items()]
        lines += ["}", ""]
        for name in functions:
            lines += ["", f"@pytest.mark.parametrize('case', CASES[{name!r}])", f"def {name}(case):", "    pass", ""]
        path = folder / module
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", help="folder of *.rst documents (default: $TALKQA_CORPUS or ../shared/corpus)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N documents")
    args = ap.parse_args(argv)

    corpus = Path(args.corpus or os.environ.get("TALKQA_CORPUS") or REPO.parent / "shared" / "corpus")
    files = sorted(corpus.glob("*.rst"))[: args.limit or None]
    if not files:
        print(f"no *.rst documents in {corpus} (pass a folder or set TALKQA_CORPUS)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="talkqa-bench-collection-"))
    try:
        os.environ.setdefault("TALKQA_CACHE_DIR", str(work / "cache"))
        suite, floor = work / "suite", work / "floor"
        start = time.perf_counter()
        write_plan(plan_suite(list(files), suite))
        print(f"corpus: {corpus} ({len(files)} documents), generated in {time.perf_counter() - start:.1f} s")
        _, _, stdout, _ = collect(suite)
        cases = counts(stdout)
        module_files = sorted(p.name for p in suite.glob("test_*.py"))
        write_floor(floor, module_files, cases)
        _, _, floor_stdout, _ = collect(floor)
        if counts(floor_stdout) != cases:
            raise SystemExit("the floor does not have the suite's modules, functions and case counts")
        size = {name: sum(p.stat().st_size for p in f.glob("*.py")) for name, f in (("suite", suite), ("floor", floor))}
        print(f"{len(module_files)} modules ({len({m for m, _ in cases})} with cases), {sum(cases.values())} tests; "
              f"{size['suite'] / 1e6:.1f} MB of modules (floor {size['floor'] / 1e6:.1f} MB); {args.rounds} rounds")
        times: dict[str, dict[str, list[float]]] = {name: {"cpu": [], "pytest": [], "wall": []}
                                                    for name in ("suite", "floor")}
        for r in range(args.rounds):
            for name in ("suite", "floor") if r % 2 == 0 else ("floor", "suite"):
                wall, own, _, cpu = collect(suite if name == "suite" else floor)
                times[name]["wall"].append(wall)
                times[name]["pytest"].append(own)
                times[name]["cpu"].append(cpu)
            s, f = times["suite"], times["floor"]
            print(f"  round {r + 1}: suite {s['cpu'][-1]:.2f} s CPU ({s['pytest'][-1]:.2f} pytest's, "
                  f"{s['wall'][-1]:.2f} wall), floor {f['cpu'][-1]:.2f} s CPU ({f['pytest'][-1]:.2f}, "
                  f"{f['wall'][-1]:.2f})", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"\n{'pytest --collect-only -q':<26}  {'best':>7}  {'median':>7}   (seconds)")
    for measure in ("cpu", "pytest", "wall"):
        for name in ("suite", "floor"):
            t = times[name][measure]
            print(f"{name + ', ' + MEASURES[measure]:<26}  {min(t):>7.2f}  {statistics.median(t):>7.2f}")
    ratios = {m: min(times["suite"][m]) / min(times["floor"][m]) for m in MEASURES}
    medians = {m: statistics.median(times["suite"][m]) / statistics.median(times["floor"][m]) for m in MEASURES}
    print("\nratio suite / floor, best (median): " + ", ".join(
        f"{MEASURES[m]} {ratios[m]:.2f}x ({medians[m]:.2f}x)" for m in MEASURES))
    print(f"goal <= {GOAL}x on CPU time (a shared machine's load moves wall times): "
          f"{'met' if ratios['cpu'] <= GOAL else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
