"""Corpus scale: ``talkqa check`` over the shared corpus, end to end, and what it checked.

    python benchmarks/corpus.py                      # every document (the benchmark)
    python benchmarks/corpus.py --sample 60          # every k-th document, about 60 of them
    python benchmarks/corpus.py --no-fuzz            # mapping, link and match checks only

Runs ``talkqa check CORPUS -n 2 --fuzz-profile ci`` (the generated suite against the reference sync,
on each system's simulator: the faithful PowerOffice Go and Exact Online ones, the generic one for the
rest) and prints:

* rows with a passing check / all rows (a mapping row passes when its checks pass, a match rule when its
  match checks pass; a row with any failing check fails), against the goal of 95 %;
* the rows not checked, grouped by reason (short fixed categories, with the most common wordings);
* failures, grouped by their first line;
* wall time, against the goal of 15 minutes for the whole corpus on this 2-core machine.
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
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_RATIO = 0.95
GOAL_SECONDS = 15 * 60

#: skip reasons -> the short fixed list they report under
CATEGORIES = [
    ("N/A or unknown data type", re.compile(r"data type .* (states nothing|is not a type)")),
    ("conditional row", re.compile(r"conditional row")),
    ("conditional flow without predicate", re.compile(r"no predicate registered")),
    ("no link policy stated", re.compile(r"no link policy")),
    ("type change between the two sides", re.compile(r"type change")),
    ("identifier row: nothing to carry back", re.compile(r"identifier")),
    ("reverse of a fan-in/fan-out row", re.compile(r"not the row that carries edits back")),
    ("connector lacks the field", re.compile(r"connector has no field|no connector field")),
    ("schema conflict (a path is also a parent)", re.compile(r"conflict")),
    ("flow requires a link but states no match rule", re.compile(r"requires a link but states no match")),
    ("another section contradicts", re.compile(r"another section")),
]


def category(reason: str) -> str:
    for name, pattern in CATEGORIES:
        if pattern.search(reason):
            return name
    return "other: " + re.sub(r"^\S+:\d+: ", "", reason)[:90]


def documents(corpus: Path, sample: int | None) -> list[Path]:
    files = sorted(corpus.glob("*.rst"))
    if sample and sample < len(files):
        step = len(files) / sample
        files = [files[int(i * step)] for i in range(sample)]
    return files


def rows_of(files: list[Path]) -> dict[tuple[str, int], str]:
    """(document path as the suite names it, line) -> 'mapping' | 'match', for every row."""
    sys.path.insert(0, str(ROOT))
    from generator.parser import parse_file

    out: dict[tuple[str, int], str] = {}
    for f in files:
        doc = parse_file(f)
        for flow in doc.flows:
            for m in flow.mappings:
                out[(doc.path, m.line)] = "mapping"
            for r in flow.match:
                out[(doc.path, r.line)] = "match"
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=os.environ.get("TALKQA_CORPUS") or str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--sample", type=int, default=None, help="about this many documents, evenly spread")
    parser.add_argument("--no-fuzz", action="store_true", help="leave the fuzz tests out")
    parser.add_argument("-n", "--workers", default="2")
    parser.add_argument("--keep", default=None, help="keep the results JSON at this path")
    parser.add_argument("--names", nargs="*", default=None, help="only these documents (file names in the corpus)")
    parser.add_argument("--json", dest="as_json", default=None, help="also write the figures as JSON to this path")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        print(f"no corpus at {corpus} (set TALKQA_CORPUS or --corpus)", file=sys.stderr)
        return 2
    files = documents(corpus, args.sample)
    if args.names:
        files = [corpus / name for name in args.names]
    with tempfile.TemporaryDirectory(prefix="talkqa-corpus-") as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        for f in files:  # a folder of links: one `talkqa check FOLDER` call, as a user would run it
            (docs / f.name).symlink_to(f.resolve())
        rows = rows_of(sorted(docs.glob("*.rst")))
        results = Path(args.keep) if args.keep else Path(tmp) / "results.json"
        argv = [sys.executable, "-m", "talkqa", "check", str(docs), "--out", str(Path(tmp) / "suite"),
                "-n", args.workers, "--fuzz-profile", "ci", "--results", str(results)]
        env = {**os.environ, "CI": "true"}
        if args.no_fuzz:
            argv += ["-m", "not fuzz"]
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if not results.exists():
            print(done.stdout[-3000:], done.stderr[-3000:], sep="\n", file=sys.stderr)
            return 2
        entries = json.loads(results.read_text(encoding="utf-8"))
        entries = entries.get("entries", entries) if isinstance(entries, dict) else entries
    by_row: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for e in entries:
        key = (e["document"], e["line"])
        if key in rows and e["kind"] in (rows[key], "fuzz"):
            by_row[key].append(e)
    passed = failed = 0
    skipped: Counter[str] = Counter()
    examples: dict[str, Counter[str]] = defaultdict(Counter)
    failures: Counter[str] = Counter()
    for key, kind in rows.items():
        tests = by_row.get(key, [])
        outcomes = {e["outcome"] for e in tests}
        if "failed" in outcomes:
            failed += 1
            for e in tests:
                if e["outcome"] == "failed":
                    first = (e["message"] or "").strip().splitlines()
                    failures[re.sub(r"^\S+:\d+: ", "", first[0] if first else "?")[:140]] += 1
        elif any(e["outcome"] == "passed" and e["kind"] == kind for e in tests):
            passed += 1
        else:
            reasons = [e["message"] for e in tests if e["outcome"] in ("skipped", "pending")] or ["no test ran"]
            name = category(reasons[0])
            skipped[name] += 1
            examples[name][re.sub(r"^\S+:\d+: ", "", reasons[0])[:110]] += 1
    total = len(rows)
    ratio = passed / total if total else 0.0
    scale = f" (sample of {len(files)} documents)" if args.sample else f" ({len(files)} documents)"
    print(f"talkqa corpus benchmark{scale}, fuzz {'off' if args.no_fuzz else 'ci profile'}, -n {args.workers}")
    print(f"rows with a passing check: {passed} / {total} = {ratio:.1%}   goal >= {GOAL_RATIO:.0%}  "
          f"{'met' if ratio >= GOAL_RATIO else 'NOT met'}")
    print(f"rows failing: {failed}   goal 0  {'met' if failed == 0 else 'NOT met'}")
    print(f"rows not checked: {sum(skipped.values())}")
    for name, n in skipped.most_common():
        print(f"  {n:6d}  {name}")
        for text, m in examples[name].most_common(2):
            print(f"            e.g. ({m}) {text}")
    if failures:
        print("failures by first line:")
        for text, n in failures.most_common(15):
            print(f"  {n:6d}  {text}")
    goal = GOAL_SECONDS * (len(files) / 1214)
    print(f"wall time: {wall:.0f} s   goal <= {goal:.0f} s for this many documents "
          f"({GOAL_SECONDS} s for 1,214)  {'met' if wall <= goal else 'NOT met'}")
    print(f"talkqa check exit code: {done.returncode}")
    if args.as_json:
        Path(args.as_json).write_text(json.dumps({
            "schema": 1, "documents": len(files), "rows": total, "passed": passed, "failed": failed,
            "not_checked": dict(skipped), "failures": dict(failures), "wall_seconds": round(wall, 1),
            "exit_code": done.returncode,
        }, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
