"""``talkqa check`` (the main job) and ``talkqa record``: generate, run the suite, show the checklist."""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import click

from talkqa.commands.documents import report_error
from talkqa.settings import BACKENDS, FUZZ_PROFILES


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
    with tempfile.TemporaryDirectory(prefix="talkqa-modules-") as tmp:
        # anyio's pytest plugin imports trio (a third of a second per process); no generated test uses it
        argv = [sys.executable, "-m", "pytest", *_collect_args(modules, Path(tmp)), "-p", "no:cacheprovider",
                "-p", "no:anyio", *extra]
        return subprocess.call(argv)


def _collect_args(modules: list[Path], tmp: Path) -> list[str]:
    """What pytest is told to collect: a single module, or the modules' folders with the modules listed
    in a file (``--talkqa-modules``, which the plugin's ``pytest_ignore_collect`` reads). pytest walks a
    folder once per argument naming a file in it, so naming each of a thousand modules cost minutes."""
    if len(modules) == 1:
        return [str(modules[0])]
    listing = tmp / "modules.txt"
    listing.write_text("".join(f"{m.resolve()}\n" for m in modules), encoding="utf-8")
    return [*sorted({str(m.parent) for m in modules}), f"--talkqa-modules={listing}"]


@click.command("check")
@click.argument("paths", nargs=-1, required=True)
@click.option("--out", "out_dir", default="generated_tests", show_default=True, help="Folder of the generated suite.")
@click.option("--frozen", is_flag=True, help="Do not regenerate: fail if the generated suite is stale.")
@click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default=None,
    help="auto (default): each document's cassettes where it has recordings, the simulators otherwise; or replay only, "
    "the simulators only, or the configured sandboxes.",
)
@click.option("--sut", default=None, help="'reference' (default) or 'command:<shell command>'.")
@click.option("--strict", is_flag=True, default=None, help="Pending rows (no cassette yet) fail the run.")
@click.option("--min-checked", "min_checked", default=None, metavar="PCT",
              help="Fail the run when fewer than PCT% of the documents' rows were checked.")
@click.option("--html", "html_path", default=None, help="Also write the checklist report as one HTML file.")
@click.option("--junit", "junit_path", default=None, help="Also write JUnit XML: one case per row and direction.")
@click.option("-n", "workers", default=None, help="Run with pytest-xdist workers (e.g. 2 or auto).")
@click.option("-m", "markexpr", default=None, help="Only tests matching this pytest -m expression (e.g. 'not fuzz').")
@click.option("--results", "results_path", default=None, help="Also keep the results JSON (one entry per test).")
@click.option(
    "--fuzz-profile",
    type=click.Choice(FUZZ_PROFILES),
    default=None,
    help="How hard fuzz tests try (default: ci when $CI is set, else dev).",
)
@click.option("--shard", "shard", default=None, metavar="K/N",
              help="Run only shard K of N: the documents split into N balanced parts (merge with talkqa merge).")
@click.option("--durations", "durations_path", default=None, metavar="RESULTS_JSON",
              help="With --shard: balance by the test times in an earlier results JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Show pytest's full output.")
def check(
    paths: tuple[str, ...],
    out_dir: str,
    frozen: bool,
    backend: str | None,
    sut: str | None,
    strict: bool | None,
    min_checked: str | None,
    html_path: str | None,
    junit_path: str | None,
    workers: str | None,
    results_path: str | None,
    fuzz_profile: str | None,
    markexpr: str | None,
    shard: str | None,
    durations_path: str | None,
    verbose: bool,
) -> None:
    """Generate the checklist suite for PATHS, run it, and print the checklist per document and flow.

    Options not given come from pytest's ini or [tool.talkqa] in pyproject.toml (docs/reference.md#settings).
    Exit status: 0 when rows were checked and every checked row conforms, 1 when a row does not (or, with
    --strict, is pending; or fewer rows than --min-checked were checked), 2 for unreadable documents or a
    mistake in the options, 5 when nothing was checked at all.
    """
    chosen = _shard_of(shard, durations_path)
    modules = _generate(paths, out_dir, frozen)
    if chosen is not None:
        from talkqa.shards import assign

        k, n, durations = chosen
        modules = assign(modules, n, durations)[k - 1]
        click.echo(f"shard {k}/{n}: {len(modules)} document(s)", err=True)
        if not modules:
            _empty_shard(k, n, results_path)
    with tempfile.TemporaryDirectory(prefix="talkqa-") as tmp:
        results = Path(tmp) / "results.json"
        # the checklist (printed by the plugin, see talkqa/verdicts.py) shows failures in full: --tb=no
        extra = [f"--talkqa-results={results}", "--tb=no", "-rN", "-p", "no:randomly", "-p", "no:warnings"]
        for option, value in (("--talkqa-backend", backend), ("--talkqa-sut", sut),
                              ("--talkqa-fuzz-profile", fuzz_profile), ("--talkqa-min-checked", min_checked)):
            if value is not None:
                extra.append(f"{option}={value}")
        if strict:
            extra.append("--talkqa-strict")
        if junit_path:
            extra += [f"--junitxml={junit_path}", "-o", "junit_family=xunit1"]
        extra += ["-q", "--no-header"] if not verbose else ["-v"]
        if workers:
            extra += ["-n", workers]
        if markexpr:
            extra += ["-m", markexpr]
        code = _pytest(modules, extra)
        if code == 4:  # pytest's usage error: its one-line message is printed above
            raise SystemExit(2)
        if code in (2, 3):
            report_error(f"pytest exited {code} (interrupted, or an error while collecting: see above): not a verdict")
            raise SystemExit(2)
        if not results.exists():
            report_error(f"pytest exited {code} before any checklist result was written")
            raise SystemExit(2)
        if results_path:
            import shutil

            shutil.copyfile(results, results_path)
        if html_path:
            from talkqa.report import write_report

            write_report(results, html_path)
    raise SystemExit(code if code in (0, 1, 5) else 1)


def _shard_of(shard: str | None, durations_path: str | None) -> tuple[int, int, dict[str, float]] | None:
    """``--shard`` and ``--durations`` read before anything runs (a mistake is exit 2)."""
    if shard is None:
        if durations_path:
            report_error("--durations: only with --shard")
            raise SystemExit(2)
        return None
    from talkqa.runtime.results import load_run
    from talkqa.shards import durations_by_module, parse_shard

    try:
        k, n = parse_shard(shard)
    except ValueError as exc:
        report_error(str(exc))
        raise SystemExit(2) from None
    durations: dict[str, float] = {}
    if durations_path:
        try:
            durations = durations_by_module(load_run(durations_path))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            report_error(f"{durations_path}: --durations: not a results JSON ({exc})")
            raise SystemExit(2) from None
    return k, n, durations


def _empty_shard(k: int, n: int, results_path: str | None) -> None:
    """More shards than documents: this one has nothing to run, which is not a failure of the gate
    (the merged results judge the run); its results file is written empty so the merge finds it."""
    if results_path:
        from talkqa.runtime.results import Results

        Results().write(results_path)
    click.echo(f"shard {k}/{n} has no document to check (more shards than documents)")
    raise SystemExit(0)


@click.command("merge")
@click.argument("results_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--results", "results_path", default=None, help="Write the merged results JSON here.")
@click.option("--html", "html_path", default=None, help="Write the checklist report of the merged results.")
@click.option("--junit", "junit_path", default=None, help="Write JUnit XML of the merged results.")
def merge(results_files: tuple[Path, ...], results_path: str | None, html_path: str | None,
          junit_path: str | None) -> None:
    """Join the results JSONs of shards (talkqa check --shard K/N --results ...) into one checklist.

    Prints the checklist as one run would and exits as `talkqa check` does (0, 1, 5; 2 for an
    unreadable results file).
    """
    import json

    from talkqa.files import atomic_write
    from talkqa.runtime.results import load_run
    from talkqa.shards import merge as merge_runs
    from talkqa.verdicts import summarise_run

    runs = []
    for path in results_files:
        try:
            run = load_run(path)
        except (OSError, ValueError) as exc:
            report_error(f"{path}: not a results JSON ({exc})")
            raise SystemExit(2) from None
        if not isinstance(run, dict) or not isinstance(run.get("outcomes"), list):
            report_error(f"{path}: not a results JSON (no outcomes)")
            raise SystemExit(2)
        runs.append(run)
    merged = merge_runs(runs)
    text = json.dumps(merged, indent=1, ensure_ascii=False)
    with tempfile.TemporaryDirectory(prefix="talkqa-") as tmp:
        out = Path(results_path) if results_path else Path(tmp) / "results.json"
        atomic_write(out, text, fsync=False)
        if html_path:
            from talkqa.report import write_report

            write_report(out, html_path)
    if junit_path:
        from talkqa.junit import write_junit

        write_junit(merged, junit_path)
    summary = summarise_run(merged)
    click.echo("talkqa checklist (merged from " + ", ".join(str(p) for p in results_files) + ")")
    for line in summary.lines(details=True):
        click.echo(line)
    settings = merged.get("settings") or {}
    code, why = summary.exit_code(strict=bool(settings.get("strict")), min_checked=settings.get("min-checked"))
    if code:
        click.echo(f"talkqa: {why}")
    raise SystemExit(code)


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
    from talkqa.runtime.cassettes import SUFFIX

    out: dict[Path, tuple[int, int]] = {}
    for module in modules:
        folder = module.parent / "cassettes" / module.stem
        if folder.is_dir():
            for path in folder.glob("*" + SUFFIX):
                st = path.stat()
                out[path] = (st.st_mtime_ns, st.st_size)
    return out
