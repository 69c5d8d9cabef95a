"""Benchmark: generating the corpus suite (cold and warm cache) and collecting it, beside bare docutils.

    .venv/bin/python benchmarks/generate.py [CORPUS] [--rounds N] [--limit N] [--no-collect]

CORPUS defaults to $TALKQA_CORPUS, else ../shared/corpus beside the repository. Per round, in this
process and alternating the order so machine load hits all alike:

* cold:  ``plan_suite`` + ``write_plan`` (what ``talkqa generate`` does) with an empty cache folder
         into an empty output folder: read, parse (docutils + model), cases, render, write;
* warm:  the same again with the now-filled cache into the same folder (nothing to write);
* warm, new folder: the filled cache into an empty output folder (every module written);
* bare docutils: ``publish_doctree`` of the same texts (the baseline).

Then ``pytest --collect-only -q`` of the generated suite, once, in a subprocess.
Goals: cold / docutils <= 1.2; warm / cold <= 0.05.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from parse_corpus import run_docutils  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from generator.suite_files import plan_suite, write_plan  # noqa: E402

COLD_GOAL = 1.2
WARM_GOAL = 0.05


def bare_docutils(files: Sequence[Path], texts: Sequence[str]) -> None:
    """The baseline: bare docutils over the same texts, exactly as ``parse_corpus.py`` times it."""
    run_docutils(files, texts)


def generate(files: Sequence[Path], out: Path, cache: Path) -> int:
    os.environ["TALKQA_CACHE_DIR"] = str(cache)
    return write_plan(plan_suite(list(files), out))


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", help="folder of *.rst documents (default: $TALKQA_CORPUS or ../shared/corpus)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds (default 2)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N documents")
    ap.add_argument("--no-collect", action="store_true", help="skip the pytest --collect-only measurement")
    args = ap.parse_args(argv)

    folder = Path(args.corpus or os.environ.get("TALKQA_CORPUS") or REPO.parent / "shared" / "corpus")
    files = sorted(folder.glob("*.rst"))[: args.limit or None]
    if not files:
        print(f"no *.rst documents in {folder} (pass a folder or set TALKQA_CORPUS)", file=sys.stderr)
        return 2
    texts = [f.read_bytes().decode("utf-8-sig") for f in files]
    print(f"corpus: {folder} ({len(files)} documents, {sum(map(len, texts)) / 1e6:.1f} MB), {args.rounds} rounds")

    work = Path(tempfile.mkdtemp(prefix="talkqa-bench-generate-"))
    saved_cache = os.environ.get("TALKQA_CACHE_DIR")
    times: dict[str, list[float]] = {"cold": [], "warm": [], "warm, new folder": [], "docutils": []}
    try:
        bare_docutils(files[:1], texts[:1])  # warm-up: imports, directive registration
        generate(files[:1], work / "warmup", work / "warmup-cache")
        for r in range(args.rounds):
            out, cache = work / f"out{r}", work / f"cache{r}"

            def gen_round(out: Path = out, cache: Path = cache, r: int = r) -> None:
                times["cold"].append(timed(lambda: generate(files, out, cache)))
                times["warm"].append(timed(lambda: generate(files, out, cache)))
                times["warm, new folder"].append(timed(lambda: generate(files, work / f"fresh{r}", cache)))

            def doc_round() -> None:
                times["docutils"].append(timed(lambda: bare_docutils(files, texts)))

            for step in (gen_round, doc_round) if r % 2 == 0 else (doc_round, gen_round):
                step()
            print(
                f"  round {r + 1}: cold {times['cold'][-1]:.2f} s, warm {times['warm'][-1]:.3f} s, "
                f"warm into a new folder {times['warm, new folder'][-1]:.2f} s, docutils {times['docutils'][-1]:.2f} s",
                flush=True,
            )

        collect_s = None
        if not args.no_collect:
            suite = work / "out0"
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
                cwd=suite, capture_output=True, text=True,
            )  # fmt: skip
            collect_s = time.perf_counter() - start
            m = re.search(r"^(\d+) tests? collected in ([\d.]+)s", proc.stdout, re.MULTILINE)
            items = m.group(1) if m else "?"
            print(f"  pytest --collect-only: {collect_s:.1f} s wall ({m.group(2) if m else '?'} s pytest's figure), "
                  f"{items} tests, exit {proc.returncode}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if saved_cache is None:
            os.environ.pop("TALKQA_CACHE_DIR", None)
        else:
            os.environ["TALKQA_CACHE_DIR"] = saved_cache

    best = {k: min(v) for k, v in times.items()}
    med = {k: statistics.median(v) for k, v in times.items()}
    width = 28
    print()
    print(f"{'':<{width}}  {'best s':>8}  {'median s':>8}  {'ms/doc':>7}")
    for name in times:
        print(f"{name:<{width}}  {best[name]:>8.3f}  {med[name]:>8.3f}  {1000 * best[name] / len(files):>7.2f}")
    if collect_s is not None:
        print(f"{'pytest --collect-only':<{width}}  {collect_s:>8.3f}")
    cold_ratio = best["cold"] / best["docutils"]
    warm_ratio = best["warm"] / best["cold"]
    print(f"\nratio cold / docutils:        {cold_ratio:.3f} (median {med['cold'] / med['docutils']:.3f}); "
          f"goal <= {COLD_GOAL}: {'met' if cold_ratio <= COLD_GOAL else 'MISSED'}")
    print(f"ratio warm / cold:            {warm_ratio:.4f} (median {med['warm'] / med['cold']:.4f}); "
          f"goal <= {WARM_GOAL}: {'met' if warm_ratio <= WARM_GOAL else 'MISSED'}")
    print(f"ratio warm new folder / cold: {best['warm, new folder'] / best['cold']:.4f}")
    if collect_s is not None:
        print(f"ratio collect / cold:         {collect_s / best['cold']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
