"""``talkqa check`` (the main job) and ``talkqa record``: generate, run the suite, show the checklist."""
from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import click

from talkqa.commands.documents import report_error


def _generate(paths: tuple[str, ...], out_dir: str, frozen: bool) -> list[Path]:
    """Generate (or, frozen, verify) the modules of ``paths``; the module paths to run.

    Only the documents given: each bad one is reported (and makes the command exit 2 in the end,
    see :mod:`talkqa.cli`), the good ones are generated and run; the command's output files
    (--html, --junit) are checked first, so a bad one cannot lose a run's checklist; never an
    empty list (pytest would collect the current folder).
    """
    from talkqa.commands.suite import generate_modules

    return generate_modules(paths, out_dir, frozen)


def _pytest(modules: list[Path], extra: list[str]) -> int:
    # anyio's pytest plugin imports trio (a third of a second per process); no generated test uses it
    argv = [sys.executable, "-m", "pytest", *map(str, modules), "-p", "no:cacheprovider", "-p", "no:anyio", *extra]
    return subprocess.call(argv)


def summarise(results_path: Path) -> tuple[list[str], Counter[str]]:
    """Checklist lines per document and flow, and the overall counts."""
    from talkqa.runtime.results import load

    entries = load(results_path)
    totals: Counter[str] = Counter(e["outcome"] for e in entries)
    by_flow: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for e in entries:
        by_flow[(e["document"], e["flow"])].append(e)
    lines: list[str] = []
    current_doc = None
    for (document, flow), items in sorted(by_flow.items(), key=lambda kv: (kv[0][0], min(e["line"] for e in kv[1]))):
        if document != current_doc:
            backends = sorted({e.get("backend") or "" for e in entries if e["document"] == document} - {""})
            how = {"cassettes": "replayed from its cassettes", "simulators": "live on the simulators",
                   "sandbox": "live on the configured systems"}
            lines.append(f"{document}  ({'; '.join(how.get(b, b) for b in backends) or 'not run'})")
            current_doc = document
        cells = []
        for label, kinds, direction in (
            ("forward", ("mapping",), "forward"),
            ("reverse", ("mapping",), "reverse"),
            ("fuzz", ("fuzz",), None),
            ("links", ("link", "match"), None),
        ):
            group = [e for e in items if e["kind"] in kinds and (direction is None or e["direction"] == direction)]
            if not group:
                continue
            ok = sum(e["outcome"] == "passed" for e in group)
            checked = sum(e["outcome"] in ("passed", "failed") for e in group)
            extra = []
            for state in ("failed", "pending", "skipped"):
                n = sum(e["outcome"] == state for e in group)
                if n:
                    extra.append(f"{n} {state}")
            cells.append(f"{label} {ok}/{checked}" + (f" ({', '.join(extra)})" if extra else ""))
        # a flow none of whose checks ran is not conforming: it was not checked
        if any(e["outcome"] == "failed" for e in items):
            mark = "✗"
        elif any(e["outcome"] == "passed" for e in items):
            mark = "✓"
        else:
            mark = "–"
        lines.append(f"  {mark} {flow}: " + "; ".join(cells))
        for e in items:
            if e["outcome"] in ("failed", "pending"):
                first = (e["message"] or "").strip().splitlines()[:1]
                lines.append(f"      {e['outcome']}: {e['document']}:{e['line']} {e['case_id']}" +
                             (f": {first[0][:160]}" if first else ""))
    return lines, totals


@click.command("check")
@click.argument("paths", nargs=-1, required=True)
@click.option("--out", "out_dir", default="generated_tests", show_default=True, help="Folder of the generated suite.")
@click.option("--frozen", is_flag=True, help="Do not regenerate: fail if the generated suite is stale.")
@click.option(
    "--backend",
    type=click.Choice(["auto", "cassettes", "simulators", "sandbox"]),
    default="auto",
    show_default=True,
    help="auto: each document's cassettes where it has recordings, the simulators otherwise; or replay only, "
    "the simulators only, or the configured sandboxes.",
)
@click.option("--sut", default="reference", show_default=True, help="'reference' or 'command:<shell command>'.")
@click.option("--strict", is_flag=True, help="Pending rows (no cassette yet) fail the run.")
@click.option("--html", "html_path", default=None, help="Also write the checklist report as one HTML file.")
@click.option("--junit", "junit_path", default=None, help="Also write JUnit XML: one case per row and direction.")
@click.option("-n", "workers", default=None, help="Run with pytest-xdist workers (e.g. 2 or auto).")
@click.option("-m", "markexpr", default=None, help="Only tests matching this pytest -m expression (e.g. 'not fuzz').")
@click.option("--results", "results_path", default=None, help="Also keep the results JSON (one entry per test).")
@click.option(
    "--fuzz-profile",
    type=click.Choice(["ci", "dev", "nightly"]),
    default=None,
    help="How hard fuzz tests try (default: ci when $CI is set, else dev).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show pytest's full output.")
def check(
    paths: tuple[str, ...],
    out_dir: str,
    frozen: bool,
    backend: str,
    sut: str,
    strict: bool,
    html_path: str | None,
    junit_path: str | None,
    workers: str | None,
    results_path: str | None,
    fuzz_profile: str | None,
    markexpr: str | None,
    verbose: bool,
) -> None:
    """Generate the checklist suite for PATHS, run it, and print the checklist per document and flow.

    Exit status: 0 when every checked row conforms, 1 when a row does not (or, with --strict, is
    pending), 2 for unreadable documents, 5 when nothing was checked at all.
    """
    modules = _generate(paths, out_dir, frozen)
    with tempfile.TemporaryDirectory(prefix="talkqa-") as tmp:
        results = Path(tmp) / "results.json"
        extra = [f"--talkqa-results={results}", f"--talkqa-backend={backend}", f"--talkqa-sut={sut}"]
        if strict:
            extra.append("--talkqa-strict")
        if junit_path:
            extra += [f"--junitxml={junit_path}", "-o", "junit_family=xunit1"]
        extra += ["-q", "--no-header", "-p", "no:randomly"] if not verbose else ["-v"]
        if workers:
            extra += ["-n", workers]
        if fuzz_profile:
            extra.append(f"--talkqa-fuzz-profile={fuzz_profile}")
        if markexpr:
            extra += ["-m", markexpr]
        code = _pytest(modules, extra)
        if not results.exists():
            report_error(f"pytest exited {code} before any checklist result was written")
            raise SystemExit(2)
        lines, totals = summarise(results)
        if results_path:
            import shutil

            shutil.copyfile(results, results_path)
        if html_path:
            from talkqa.report import write_report

            write_report(results, html_path)
    click.echo("\ntalkqa checklist")
    for line in lines:
        click.echo(line)
    click.echo(
        f"{totals['passed']} conform, {totals['failed']} do not, {totals['pending']} pending, "
        f"{totals['skipped']} not checkable automatically"
    )
    failed = totals["failed"] or (strict and totals["pending"])
    if failed:
        raise SystemExit(1)
    if not totals["passed"]:
        report_error("talkqa check: nothing was checked (every check was skipped or pending): not a pass")
        raise SystemExit(5)  # as pytest's "no tests ran"
    raise SystemExit(0)


@click.command("record")
@click.argument("paths", nargs=-1, required=True)
@click.option("--out", "out_dir", default="generated_tests", show_default=True, help="Folder of the generated suite.")
@click.option("--sandbox", is_flag=True, help="Record against the sandboxes in TALKQA_* settings, not the simulators.")
@click.option("-k", "keyword", default=None, help="Only tests matching this pytest -k expression.")
def record(paths: tuple[str, ...], out_dir: str, sandbox: bool, keyword: str | None) -> None:
    """Re-record the cassettes of PATHS (against the simulators, or --sandbox)."""
    modules = _generate(paths, out_dir, frozen=False)
    extra = ["--record-mode=rewrite", f"--talkqa-backend={'sandbox' if sandbox else 'simulators'}", "-q"]
    if keyword:
        extra += ["-k", keyword]
    before = _cassettes(modules)
    code = _pytest(modules, extra)
    after = _cassettes(modules)
    written = [p for p, stamp in after.items() if before.get(p) != stamp]
    if code == 0 and not written:
        report_error("talkqa record: nothing was recorded: no test of these documents made a request "
                     "(every check was skipped or deselected); see the skip reasons above")
        raise SystemExit(1)
    click.echo(f"{len(written)} cassette(s) written")
    raise SystemExit(code)


def _cassettes(modules: list[Path]) -> dict[Path, tuple[int, int]]:
    """Every cassette of ``modules`` with its (mtime, size), to tell what a recording wrote."""
    out: dict[Path, tuple[int, int]] = {}
    for module in modules:
        folder = module.parent / "cassettes" / module.stem
        if folder.is_dir():
            for path in folder.glob("*.yaml"):
                st = path.stat()
                out[path] = (st.st_mtime_ns, st.st_size)
    return out
