"""A fair sample of the corpus runs end to end in CI (the whole corpus is the benchmark's job).

Documents of different shapes, chosen by what they contain (not by name): a same-system document, one
with conditional flows, one whose flows require a link through match rules, one with merge-or-create,
and one touching the faithful PowerOffice Go / Exact Online plugins. Mapping, link and match checks run
(fuzz is left to the benchmark); no row may fail, and at least 95% of the rows must have a passing check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator.model import Policy
from generator.parser import parse_file

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.corpus


def corpus_folder(request: pytest.FixtureRequest) -> Path | None:
    raw = request.config.getoption("--corpus") or os.environ.get("TALKQA_CORPUS")
    folder = Path(raw) if raw else ROOT.parent / "shared" / "corpus"
    return folder if folder.is_dir() and any(folder.glob("*.rst")) else None


def pick(folder: Path) -> list[str]:
    wanted = {
        "same system": lambda d: d.source_system.slug == d.target_system.slug and d.row_count > 10,
        "conditional flow": lambda d: any(f.policy is Policy.CONDITIONAL for f in d.flows),
        "link required": lambda d: sum(f.policy is Policy.LINK_REQUIRED and bool(f.mappings) for f in d.flows) > 2,
        "merge or create": lambda d: any(f.policy is Policy.MERGE_OR_CREATE for f in d.flows),
        "faithful plugins": lambda d: {d.source_system.slug, d.target_system.slug} == {"powerofficego", "exact"},
    }
    chosen: list[str] = []
    for path in sorted(folder.glob("*.rst")):
        doc = parse_file(path)
        for name, test in list(wanted.items()):
            if test(doc) and path.name not in chosen and doc.row_count < 150:
                chosen.append(path.name)
                del wanted[name]
                break
        if not wanted:
            break
    return chosen


def test_a_sample_of_the_corpus_runs_with_no_failure(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    folder = corpus_folder(request)
    if folder is None:
        pytest.skip("no corpus: set TALKQA_CORPUS (or pass --corpus) to a folder of dataflow documents")
    names = pick(folder)
    assert len(names) >= 4, names
    figures = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "corpus.py"), "--corpus", str(folder), "--no-fuzz",
         "-n", "0", "--json", str(figures), "--names", *names],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0 and figures.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    got = json.loads(figures.read_text(encoding="utf-8"))
    assert got["failed"] == 0, done.stdout
    assert got["passed"] >= 0.95 * got["rows"], done.stdout
