"""The whole corpus generates, every module compiles, and pytest collects exactly the cases it carries.

One test, run against real documents read in place (``--corpus``, else ``$TALKQA_CORPUS``, else
``../shared/corpus``). On the 2-core VM (1,214 documents, 46,933 cases) it takes one to two minutes;
the timings of each step are printed (``-s``) and docs/generated-suite.md records them.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.generate.helpers import assert_every_row_has_cases, module_namespace, run_generate_process
from tests.spec.conftest import CORPUS_ENV, corpus_dir
from tests.spec.test_corpus import data_rows

pytestmark = [pytest.mark.corpus, pytest.mark.slow]




def test_the_whole_corpus_generates_compiles_and_collects(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    folder = corpus_dir(request.config)
    if folder is None or not any(folder.glob("*.rst")):
        pytest.skip(f"no corpus: set {CORPUS_ENV} (or pass --corpus) to a folder of dataflow documents")
    files = sorted(folder.glob("*.rst"))
    out = tmp_path / "suite"

    start = time.perf_counter()
    proc = run_generate_process(str(folder), "--out", str(out), env={"TALKQA_CACHE_DIR": str(tmp_path / "cache")})
    generate_s = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr[-2000:]

    start = time.perf_counter()
    modules = sorted(out.glob("test_*.py"))
    assert len(modules) == len(files)
    by_path = {f.as_posix(): f for f in files}
    expected_items = 0
    for module in modules:
        source = module.read_text(encoding="utf-8")
        compile(source, str(module), "exec")
        data = module_namespace(source, module.stem)  # what collection imports (pytest and talkqa only)
        document, cases = data["DOCUMENT"], data["CASES"]
        raw = by_path[Path(document["path"]).as_posix()].read_text(encoding="utf-8")
        rows = sorted((r["line"], r["source"]) for f in document["flows"] for r in [*f["match"], *f["mappings"]])
        assert [line for line, _ in rows] == [line for line, _ in data_rows(raw)], f"{document['path']}: rows"
        assert_every_row_has_cases(document, cases)
        expected_items += sum(len(group) for group in cases.values())
    read_s = time.perf_counter() - start

    start = time.perf_counter()
    collect = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", str(out)],
        capture_output=True, text=True, cwd=out, timeout=900,
    )  # fmt: skip
    collect_s = time.perf_counter() - start
    tail = collect.stdout[-3000:] + collect.stderr[-3000:]
    assert collect.returncode == 0, tail
    m = re.search(r"^(\d+) tests? collected", collect.stdout, re.MULTILINE)
    assert m, tail
    assert "error" not in collect.stdout.splitlines()[-1].lower(), tail
    assert int(m.group(1)) == expected_items
    print(
        f"\ncorpus: {len(files)} documents -> {expected_items} collected tests; generate (cold) {generate_s:.1f} s, "
        f"compile + read back {read_s:.1f} s, pytest --collect-only {collect_s:.1f} s"
    )
