"""Benchmark: the dataflow parser against bare docutils over the same corpus.

    .venv/bin/python benchmarks/parse_corpus.py [CORPUS] [--rounds N] [--limit N]

CORPUS defaults to $TALKQA_CORPUS, else ../shared/corpus beside the repository. Each round
parses every ``*.rst`` once with :func:`generator.parser.parse_file` (read, decode, docutils,
model) and once with :func:`docutils.core.publish_doctree` on the same text (warnings
silenced, nothing written). The rounds alternate so machine load hits both alike; the table
gives the best and the median round of each and their ratio (goal: parser / docutils <= 1.15).

Note: importing the parser registers its header-only ``list-table`` in docutils, so the bare
run uses it too (stock docutils would report an error on those tables and go on).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from docutils.core import publish_doctree  # noqa: E402

from generator.parser import parse_file  # noqa: E402

GOAL = 1.15


def corpus_files(folder: Path, limit: int | None) -> list[Path]:
    files = sorted(folder.glob("*.rst"))
    return files[:limit] if limit else files


def run_parser(files: Sequence[Path], texts: Sequence[str]) -> int:
    rows = 0
    for f in files:
        rows += parse_file(f).row_count
    return rows


def run_docutils(files: Sequence[Path], texts: Sequence[str]) -> int:
    nodes = 0
    for f, text in zip(files, texts, strict=True):
        tree = publish_doctree(
            text,
            source_path=str(f),
            settings_overrides={
                "report_level": 5,
                "halt_level": 5,
                "warning_stream": io.StringIO(),
                "file_insertion_enabled": False,
                "raw_enabled": False,
                "_disable_config": True,
            },
        )
        nodes += len(tree.children)
    return nodes


def timed(fn: Callable[[Sequence[Path], Sequence[str]], int], files: Sequence[Path], texts: Sequence[str]) -> float:
    start = time.perf_counter()
    fn(files, texts)
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", help="folder of *.rst documents (default: $TALKQA_CORPUS or ../shared/corpus)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of each (default 3)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N documents")
    args = ap.parse_args(argv)

    folder = Path(args.corpus or os.environ.get("TALKQA_CORPUS") or REPO.parent / "shared" / "corpus")
    files = corpus_files(folder, args.limit)
    if not files:
        print(f"no *.rst documents in {folder} (pass a folder or set TALKQA_CORPUS)", file=sys.stderr)
        return 2
    texts = [f.read_bytes().decode("utf-8-sig") for f in files]
    size = sum(len(t) for t in texts)
    print(f"corpus: {folder} ({len(files)} documents, {size / 1e6:.1f} MB), {args.rounds} rounds")

    # One warm-up document each (imports, directive registration, caches).
    run_parser(files[:1], texts[:1])
    run_docutils(files[:1], texts[:1])

    parser_times: list[float] = []
    docutils_times: list[float] = []
    for r in range(args.rounds):
        order = [(run_parser, parser_times), (run_docutils, docutils_times)]
        for fn, sink in order if r % 2 == 0 else reversed(order):
            sink.append(timed(fn, files, texts))
        print(f"  round {r + 1}: parser {parser_times[-1]:.2f} s, docutils {docutils_times[-1]:.2f} s", flush=True)

    best_p, best_d = min(parser_times), min(docutils_times)
    med_p, med_d = statistics.median(parser_times), statistics.median(docutils_times)
    rows = [
        ("parse_file (talkqa)", best_p, med_p),
        ("publish_doctree (docutils)", best_d, med_d),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'':<{width}}  {'best s':>8}  {'median s':>8}  {'ms/doc':>7}")
    for name, best, med in rows:
        print(f"{name:<{width}}  {best:>8.2f}  {med:>8.2f}  {1000 * best / len(files):>7.1f}")
    ratio_best, ratio_med = best_p / best_d, med_p / med_d
    print(f"{'ratio parser/docutils':<{width}}  {ratio_best:>8.3f}  {ratio_med:>8.3f}")
    verdict = "meets" if ratio_best <= GOAL else "misses"
    print(f"\n{verdict} the goal ratio <= {GOAL} (best rounds)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
