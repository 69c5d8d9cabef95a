"""``talkqa generate``: deterministic bytes, the cache, the header hash, ``--check``, orphans, bad input
(atomic generation as a whole: test_atomic_generation.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import generator.suite_files as suite_files
from tests.generate.helpers import REPO, document, run_generate, run_generate_process, snapshot, text_hash

ROWS_A = (("firstName", "FirstName", '"string"'), ("age", "Age", '"integer"'))
ROWS_B = (("city", "City", '"string"'), ("notes", "Notes", "N/A"))
ROWS_C = (("email", "Email", '"string"'),)


def write_docs(folder: Path, docs: dict[str, str]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, text in docs.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        out[name] = path
    return out


def three_docs(folder: Path) -> dict[str, Path]:
    return write_docs(
        folder,
        {
            "alpha-beta.rst": document("Alpha", "Beta", ROWS_A),
            "gamma-delta.rst": document("Gamma", "Delta", ROWS_B, match=(("email", "Email"),)),
            "eps-zeta.rst": document("Eps", "Zeta", ROWS_C, two_way=False),
        },
    )


def contents(folder: Path) -> dict[str, bytes]:
    return {name: data for name, (data, _) in snapshot(folder).items()}


# -- determinism and the cache --------------------------------------------------------------------


def test_same_bytes_across_runs_processes_and_cold_or_warm_cache(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    three_docs(tmp_path / "spec")
    spec = str(tmp_path / "spec")
    assert run_generate(spec, "--out", str(tmp_path / "cold")).exit_code == 0
    cached = sorted(cache_dir.iterdir())
    assert len(cached) == 3, "one cache entry per document"

    # warm: prove the cache answers by making parsing impossible
    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached document was parsed again")

    monkeypatch.setattr(suite_files, "parse_text", no_parsing)
    assert run_generate(spec, "--out", str(tmp_path / "warm")).exit_code == 0
    monkeypatch.undo()

    # fresh interpreters with other hash seeds and their own cold caches
    for seed in ("1", "4242"):
        proc = run_generate_process(
            spec, "--out", str(tmp_path / f"seed{seed}"),
            env={"PYTHONHASHSEED": seed, "TALKQA_CACHE_DIR": str(tmp_path / f"cache{seed}")},
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    reference = contents(tmp_path / "cold")
    assert sorted(reference) == ["conftest.py", "test_alpha_beta.py", "test_eps_zeta.py", "test_gamma_delta.py"]
    for other in ("warm", "seed1", "seed4242"):
        assert contents(tmp_path / other) == reference, other


def test_the_committed_seed_module_is_what_generate_writes(tmp_path: Path) -> None:
    """The same bytes as the committed generated_tests/ (a fresh process, a cold cache, from the repository)."""
    proc = run_generate_process("spec/", "--out", str(tmp_path / "out"), env={"TALKQA_CACHE_DIR": str(tmp_path / "c")})
    assert proc.returncode == 0, proc.stderr
    for name in ("test_powerofficego_exact.py", "conftest.py"):
        assert (tmp_path / "out" / name).read_bytes() == (REPO / "generated_tests" / name).read_bytes(), name


def test_a_second_generate_writes_nothing(tmp_path: Path) -> None:
    three_docs(tmp_path / "spec")
    out = tmp_path / "out"
    assert run_generate(str(tmp_path / "spec"), "--out", str(out)).exit_code == 0
    before = snapshot(out)
    result = run_generate(str(tmp_path / "spec"), "--out", str(out))
    assert result.exit_code == 0
    assert "0 written" in result.output
    assert snapshot(out) == before


# -- the header's content hash ------------------------------------------------------------------------


def header_hash(module: Path) -> str:
    m = re.search(r"^# talkqa-content-hash: ([0-9a-f]{64})$", module.read_text(encoding="utf-8"), re.MULTILINE)
    assert m, "the header carries the content hash"
    return m.group(1)


def test_a_new_generated_stamp_is_not_a_change(tmp_path: Path) -> None:
    old = document("Alpha", "Beta", ROWS_A, generated="2024-01-01 00:00:00")
    new = document("Alpha", "Beta", ROWS_A, generated="2025-06-30 23:59:59")
    assert old != new and text_hash(old) == text_hash(new)
    (doc,) = write_docs(tmp_path / "spec", {"alpha-beta.rst": old}).values()
    out = tmp_path / "out"
    assert run_generate(str(doc), "--out", str(out)).exit_code == 0
    module = out / "test_alpha_beta.py"
    assert header_hash(module) == text_hash(old)
    before = snapshot(out)

    doc.write_text(new, encoding="utf-8")
    check = run_generate(str(doc), "--out", str(out), "--check")
    assert check.exit_code == 0, check.output
    result = run_generate(str(doc), "--out", str(out))
    assert result.exit_code == 0 and "0 written" in result.output
    assert snapshot(out) == before, "same bytes, file not rewritten"
    assert "2025-06-30" not in module.read_text(encoding="utf-8")
    assert "2024-01-01" not in module.read_text(encoding="utf-8")


def test_a_changed_row_changes_the_header_hash(tmp_path: Path) -> None:
    (doc,) = write_docs(tmp_path / "spec", {"alpha-beta.rst": document("Alpha", "Beta", ROWS_A)}).values()
    out = tmp_path / "out"
    assert run_generate(str(doc), "--out", str(out)).exit_code == 0
    changed = document("Alpha", "Beta", (*ROWS_A, ("lastName", "LastName", '"string"')))
    doc.write_text(changed, encoding="utf-8")
    check = run_generate(str(doc), "--out", str(out), "--check")
    assert check.exit_code == 1
    assert f"stale: {out / 'test_alpha_beta.py'}" in check.output
    assert run_generate(str(doc), "--out", str(out)).exit_code == 0
    assert header_hash(out / "test_alpha_beta.py") == text_hash(changed)


# -- --check, orphans, files generate does not own -----------------------------------------------------


def test_check_names_every_stale_missing_and_orphaned_file_and_writes_nothing(tmp_path: Path) -> None:
    docs = three_docs(tmp_path / "spec")
    out = tmp_path / "out"
    assert run_generate(str(tmp_path / "spec"), "--out", str(out)).exit_code == 0
    manual = out / "test_manual.py"
    manual.write_text("def test_by_hand():\n    assert True\n", encoding="utf-8")
    helper = out / "helpers.py"
    helper.write_text("# Generated by talkqa from nowhere\n", encoding="utf-8")  # not a test_*.py: not ours

    docs["alpha-beta.rst"].write_text(document("Alpha", "Beta", ROWS_A[:1]), encoding="utf-8")  # stale
    docs["eps-zeta.rst"].unlink()  # its module is now an orphan
    write_docs(tmp_path / "spec", {"omega-psi.rst": document("Omega", "Psi", ROWS_C)})  # missing
    (out / "conftest.py").write_text("# edited by hand\n", encoding="utf-8")  # stale too
    before = snapshot(out)

    check = run_generate(str(tmp_path / "spec"), "--out", str(out), "--check")
    assert check.exit_code == 1
    named = sorted(line for line in check.output.splitlines() if re.match(r"^(stale|missing|orphaned): ", line))
    assert named == sorted(
        [
            f"stale: {out / 'test_alpha_beta.py'}",
            f"stale: {out / 'conftest.py'}",
            f"missing: {out / 'test_omega_psi.py'}",
            f"orphaned: {out / 'test_eps_zeta.py'}",
        ]
    )
    assert snapshot(out) == before, "--check wrote, touched or removed something"

    result = run_generate(str(tmp_path / "spec"), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "1 orphans removed" in result.output
    assert not (out / "test_eps_zeta.py").exists()
    after = snapshot(out)
    assert after["test_manual.py"] == before["test_manual.py"], "a hand-written test file was touched"
    assert after["helpers.py"] == before["helpers.py"]
    assert after["test_gamma_delta.py"] == before["test_gamma_delta.py"], "an up-to-date module was rewritten"

    fresh = run_generate(str(tmp_path / "spec"), "--out", str(out), "--check")
    assert fresh.exit_code == 0, fresh.output
    assert not re.search(r"^(stale|missing|orphaned): ", fresh.output, re.MULTILINE)


def test_check_on_an_empty_folder_names_every_module_missing(tmp_path: Path) -> None:
    three_docs(tmp_path / "spec")
    out = tmp_path / "out"
    check = run_generate(str(tmp_path / "spec"), "--out", str(out), "--check")
    assert check.exit_code == 1
    missing = {line for line in check.output.splitlines() if line.startswith("missing: ")}
    names = ("conftest.py", "test_alpha_beta.py", "test_eps_zeta.py", "test_gamma_delta.py")
    assert missing == {f"missing: {out / n}" for n in names}
    assert not out.exists(), "--check created the output folder"


# -- atomicity ---------------------------------------------------------------------------------------------

BAD_DOCUMENTS = {
    "not-utf8": (b"Title\n=====\n\nabc \xff def\n", 4),
    "empty": (b"   \n\n", 1),
    "nul": (b"A to B Dataflow\n===============\n\nx\x00y\n", 4),
    "no-title": (b"just a paragraph, no sections\n", 1),
}


@pytest.mark.parametrize("kind", sorted(BAD_DOCUMENTS))
def test_a_bad_document_among_good_ones_keeps_its_module_and_removes_nothing(tmp_path: Path, kind: str) -> None:
    """The good documents are still generated; the bad one's module and every orphan are kept; exit 2."""
    docs = three_docs(tmp_path / "spec")
    out = tmp_path / "out"
    assert run_generate(str(tmp_path / "spec"), "--out", str(out)).exit_code == 0
    docs["eps-zeta.rst"].unlink()  # would make an orphan to remove
    docs["alpha-beta.rst"].write_text(document("Alpha", "Beta", ROWS_C), encoding="utf-8")  # to be rewritten
    data, line = BAD_DOCUMENTS[kind]
    bad = docs["gamma-delta.rst"]  # had a module: it must survive as it is
    bad.write_bytes(data)
    before = snapshot(out)

    result = run_generate(str(tmp_path / "spec"), "--out", str(out))
    assert result.exit_code == 2
    assert re.search(rf"^{re.escape(str(bad))}:{line}: error: \S", result.stderr, re.MULTILINE), result.stderr
    after = snapshot(out)
    assert sorted(after) == sorted(before), "a module was removed or a stray file left"
    assert after["test_alpha_beta.py"] != before["test_alpha_beta.py"], "the good document was not generated"
    for kept in ("test_gamma_delta.py", "test_eps_zeta.py", "conftest.py"):
        assert after[kept] == before[kept], f"{kept} changed"


# -- many documents: rendered by a process per CPU ----------------------------------------------------


def many_docs(folder: Path, n: int) -> dict[str, Path]:
    names = [f"Sys{i:03d}" for i in range(n)]
    return write_docs(folder, {f"{a.lower()}-beta.rst": document(a, "Beta", ROWS_A if i % 2 else ROWS_B)
                               for i, a in enumerate(names)})


def test_many_documents_render_in_parallel_to_the_same_bytes_and_report_a_bad_one(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over PARALLEL_FROM documents to render, workers render them into the cache: the suite is byte for
    byte what one process writes, and a bad document among them is reported as in one process."""
    docs = many_docs(tmp_path / "spec", suite_files.PARALLEL_FROM + 6)
    bad = sorted(docs.values())[len(docs) // 2]
    bad.write_bytes(BAD_DOCUMENTS["not-utf8"][0])
    monkeypatch.setattr(suite_files, "_workers", lambda: 2)  # two workers even on a one-CPU machine

    def not_here(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed in the calling process, not by a worker")

    with monkeypatch.context() as here:  # the workers are fresh processes: they parse as ever
        here.setattr(suite_files, "parse_text", not_here)
        parallel = run_generate(str(tmp_path / "spec"), "--out", str(tmp_path / "parallel"))
    assert parallel.exit_code == 2
    assert re.search(rf"^{re.escape(str(bad))}:4: error: \S", parallel.stderr, re.MULTILINE), parallel.stderr
    rendered = sorted(cache_dir.iterdir())
    assert len(rendered) == len(docs) - 1, "the workers filled the cache with every good document"

    for entry in rendered:
        entry.unlink()
    monkeypatch.setattr(suite_files, "PARALLEL_FROM", 10**9)  # one process
    single = run_generate(str(tmp_path / "spec"), "--out", str(tmp_path / "single"))
    assert single.exit_code == 2
    assert single.stderr == parallel.stderr
    assert contents(tmp_path / "parallel") == contents(tmp_path / "single")
    assert len(contents(tmp_path / "single")) == len(docs)  # every good module and the conftest
