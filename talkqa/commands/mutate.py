"""``talkqa mutate``: run the generated suite against the mutant catalogue and report what kills each mutant.

The unmutated suite runs first and must pass (a failing baseline would make every mutant look
killed). Then pytest runs once per mutant, in replay mode, with ``-p talkqa.mutants.plugin`` and
``TALKQA_MUTANT=<spec>``; a test that passed in the baseline and fails (or, in replay, makes a
request the cassette does not hold) under the mutant kills it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import click

from generator.errors import SpecError
from generator.model import Document, Flow
from talkqa.commands.check import _generate, _pytest
from talkqa.commands.documents import read_documents, report_bad_input, report_error
from talkqa.mutants.catalogue import CATALOGUE, Fields, UnknownMutant, broken_rows, parse_spec
from talkqa.mutants.catalogue import inapplicable as why_inapplicable
from talkqa.mutants.plugin import ENV
from talkqa.shell import talkqa_command

KILLING = ("failed",)
NOT_APPLICABLE = "n/a"  # aimed at flow checks none of which could be tried, or at rows of a kind absent here
SHOWN_ROWS = 8
TAGS = {("mapping", "forward"): "fwd", ("mapping", "reverse"): "rev", ("fuzz", "forward"): "fuzz→",
        ("fuzz", "reverse"): "fuzz←"}


@dataclass
class Verdict:
    """What one mutant run showed."""

    mutant: str
    summary: str
    result: str  # killed | survived | error
    seconds: float
    killers: list[dict[str, Any]] = field(default_factory=list)
    expected_rows: list[str] = field(default_factory=list)  # document:line, row-specific mutants only
    missed_rows: list[str] = field(default_factory=list)  # expected rows no test of theirs flagged
    extra_rows: list[str] = field(default_factory=list)  # other rows whose assertions failed
    unchecked_rows: list[str] = field(default_factory=list)  # broken rows with no test passing in the baseline
    expected_checks: list[str] = field(default_factory=list)  # flow checks meant to kill it (passing in baseline)
    missed_checks: list[str] = field(default_factory=list)  # of those, the ones no flow's test flagged
    message: str = ""

    @property
    def unrecorded(self) -> int:
        return sum(bool(k.get("divergence")) for k in self.killers)

    @property
    def on_target(self) -> bool | None:
        if self.result != "killed":
            return None
        if self.expected_rows:
            return not self.missed_rows and not self.extra_rows
        if self.expected_checks:
            return not self.missed_checks
        return None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "failed": len(self.killers), "unrecorded": self.unrecorded,
                "on_target": self.on_target}


# -- running pytest -------------------------------------------------------------------------------


@contextlib.contextmanager
def _output_to(path: Path | None) -> Iterator[None]:
    """Send this process's (and so pytest's) stdout and stderr to ``path`` for the block."""
    if path is None:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
    finally:
        os.close(saved[0])
        os.close(saved[1])


@contextlib.contextmanager
def _mutant_env(spec: str | None) -> Iterator[None]:
    old = os.environ.pop(ENV, None)
    if spec:
        os.environ[ENV] = spec
    try:
        yield
    finally:
        os.environ.pop(ENV, None)
        if old is not None:
            os.environ[ENV] = old


def run_suite(
    modules: list[Path], spec: str | None, work: Path, extra: list[str], log: Path | None,
    settings: tuple[str, ...] = (),
) -> tuple[int, list[dict[str, Any]] | None]:
    """One pytest run of ``modules`` (against mutant ``spec``, or the reference sync) with the run
    options ``settings`` (a mutant's, e.g. a fault profile); its exit code and results entries (None
    when pytest wrote none)."""
    from talkqa.runtime.results import load

    name = spec or "baseline" + "".join(f"-{s.lstrip('-').replace('=', '-')}" for s in settings)
    results = work / f"results-{name}.json".replace("@", "-").replace(":", "-")
    results.unlink(missing_ok=True)
    # auto: each module replays its cassettes where it has recordings, else runs on the simulators
    # (a fault profile among ``settings`` makes it the simulators everywhere)
    argv = [f"--talkqa-results={results}", "--talkqa-backend=auto", "-p", "talkqa.mutants.plugin", *extra,
            *settings]
    with _mutant_env(spec), _output_to(log):
        code = _pytest(modules, argv)
    return code, (load(results) if results.exists() else None)


# -- judging --------------------------------------------------------------------------------------


def _row_key(entry: dict[str, Any]) -> str:
    """The row a test's outcome is about: its own, unless its failure names another row of its document
    (``doc.rst:39: ...``: a check that arranges through another row, and fails on that row)."""
    named = re.match(rf"{re.escape(str(entry['document']))}:(\d+):", entry.get("message") or "")
    return f"{entry['document']}:{named.group(1) if named else entry['line']}"


def judge(
    spec: str,
    baseline: list[dict[str, Any]],
    entries: list[dict[str, Any]] | None,
    expected: list[str],
    seconds: float,
    message: str = "",
) -> Verdict:
    """Compare a mutant run with the baseline: the tests that passed before and fail now kill it."""
    mutant, _ = parse_spec(spec)
    verdict = Verdict(spec, mutant.summary, "error", round(seconds, 1), expected_rows=expected, message=message)
    if entries is None:
        return verdict
    passed = {e["nodeid"] for e in baseline if e["outcome"] == "passed"}
    verdict.killers = [
        {k: e[k] for k in ("document", "line", "case_id", "kind", "direction", "outcome", "nodeid")}
        | {"message": _first_line(e.get("message")), "divergence": bool(e.get("divergence"))}
        for e in entries
        if e["nodeid"] in passed and e["outcome"] in KILLING
    ]
    verdict.result = "killed" if verdict.killers else "survived"
    if expected:
        # a row is flagged by any of its tests failing; an assertion failure on another row is off
        # target, a replay divergence there (*) is not: it flags the requests, not that row's value
        # (rows none of whose tests passed in the baseline cannot flag anything: they are set aside)
        checked = {_row_key(e) for e in baseline if e["outcome"] == "passed" and e["kind"] in ("mapping", "fuzz")}
        verdict.unchecked_rows = [r for r in expected if r not in checked]
        verdict.expected_rows = [r for r in expected if r in checked]
        rows = [k for k in verdict.killers if k["kind"] in ("mapping", "fuzz")]
        hit = {_row_key(k) for k in rows}
        asserted = {_row_key(k) for k in rows if not k["divergence"]}
        verdict.missed_rows = sorted(set(verdict.expected_rows) - hit, key=_sort_row)
        verdict.extra_rows = sorted(asserted - set(expected), key=_sort_row)
    if mutant.checks:
        # a mutant aimed at a flow check: on target when each such check (that passed in the baseline
        # somewhere) failed on some flow by its assertion, not only by a replay divergence
        ran = {_check_of(e) for e in baseline if e["outcome"] == "passed" and e["kind"] == "link"}
        verdict.expected_checks = [c for c in mutant.checks if c in ran]
        flagged = {_check_of(k) for k in verdict.killers if k["kind"] == "link" and not k["divergence"]}
        verdict.missed_checks = [c for c in verdict.expected_checks if c not in flagged]
        if verdict.result == "survived" and not verdict.expected_checks:
            # the checks it is aimed at cannot be tried on these documents (set aside in the baseline, with
            # their reasons): nothing here could kill it, so it is not counted as a survivor, nor as killed
            verdict.result = NOT_APPLICABLE
            verdict.message = (f"{', '.join(mutant.checks)} passed nowhere in the baseline (not checkable on "
                               "these documents): nothing here can kill it")
    return verdict


def _check_of(entry: dict[str, Any]) -> str:
    """The flow check a link test runs: ``Person->Contact[clears-both-ways]`` is ``clears-both-ways``."""
    return entry.get("case_id", "").rpartition("[")[2].rstrip("]")


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0][:300] if lines else ""


def _sort_row(key: str) -> tuple[str, int]:
    document, _, line = key.rpartition(":")
    return document, int(line)


# -- the table ------------------------------------------------------------------------------------


def _lines_of(rows: list[str]) -> str:
    return ", ".join(r.rpartition(":")[2] for r in rows)


def target_cell(v: Verdict) -> str:
    note = f" ({_lines_of(v.unchecked_rows)}: no passing test to flag it)" if v.unchecked_rows else ""
    return _target_cell(v) + note


def _target_cell(v: Verdict) -> str:
    if v.result == NOT_APPLICABLE:
        return "-"
    if not v.expected_rows and v.expected_checks:
        if v.result != "killed":
            return f"no: {', '.join(v.expected_checks)} passed"
        if v.on_target:
            return f"yes: {', '.join(v.expected_checks)}"
        return f"no: missed {', '.join(v.missed_checks)}"
    if not v.expected_rows:
        return "-"
    if v.result != "killed":
        return f"no: rows {_lines_of(v.expected_rows)} unflagged"
    if v.on_target:
        return f"yes: rows {_lines_of(v.expected_rows)}"
    parts = []
    if v.missed_rows:
        parts.append(f"missed {_lines_of(v.missed_rows)}")
    if v.extra_rows:
        parts.append(f"also {_lines_of(v.extra_rows)}")
    return "no: " + "; ".join(parts)


def killer_groups(v: Verdict) -> list[str]:
    """One line per document row (or flow check) that killed the mutant, with the tests' tags."""
    groups: dict[tuple[str, int, str], list[str]] = {}
    for k in v.killers:
        label, _, check = k["case_id"].partition("[")
        if k["kind"] in ("mapping", "fuzz"):
            tag = TAGS.get((k["kind"], k["direction"]), k["kind"])
            label = label.replace("<-", "->")
        else:
            tag = check.rstrip("]")
        if k.get("divergence"):
            tag += "*"
        groups.setdefault((k["document"], k["line"], label), []).append(tag)
    return [f"{doc}:{line} {label} [{' '.join(tags)}]" for (doc, line, label), tags in sorted(groups.items())]


def table(verdicts: list[Verdict]) -> list[str]:
    width = max([len(v.mutant) for v in verdicts] + [6])
    out = [f"{'mutant':<{width}}  {'result':<8}  {'failed':>6}  {'time':>6}  on target (rows it breaks)"]
    for v in verdicts:
        failed = str(len(v.killers)) + (f" ({v.unrecorded}*)" if v.unrecorded else "")
        out.append(f"{v.mutant:<{width}}  {v.result:<8}  {failed:>6}  {v.seconds:>5.0f}s  {target_cell(v)}")
        groups = killer_groups(v)
        out += [f"    {g}" for g in groups[:SHOWN_ROWS]]
        if len(groups) > SHOWN_ROWS:
            out.append(f"    ... and {len(groups) - SHOWN_ROWS} more (--json lists them all)")
        if v.result in ("error", NOT_APPLICABLE):
            out.append(f"    {'error' if v.result == 'error' else 'not applicable'}: {v.message}")
    return out


# -- the command ----------------------------------------------------------------------------------


def _field_lookup(document: Document, work: Path) -> Any:
    """A function giving a flow's (source fields, target fields) from the connectors, as the sync sees them."""
    from talkqa.runtime.backends import CassettesBackend

    backend = CassettesBackend(documents=[document])  # the generic system learns its schema from them
    bench = backend.bench(document, work / "fields", prepare=False)

    def fields(flow: Flow) -> tuple[Fields, Fields] | None:
        try:
            src, tgt = bench.pair(flow)
        except LookupError:
            return None
        return src.fields, tgt.fields

    return fields


def _specs(only: tuple[str, ...], per_row: bool, documents: list[Document]) -> list[str]:
    specs = list(only) or list(CATALOGUE)
    if per_row:
        several = len(documents) > 1
        for name in [n for n in dict.fromkeys(s.partition("@")[0] for s in specs) if CATALOGUE[n].row_specific]:
            for doc in documents:
                for flow in doc.flows:
                    for row in flow.syncable_rows:
                        where = f"{Path(doc.path).stem}:{row.line}" if several else str(row.line)
                        specs.append(f"{name}@{where}")
    return list(dict.fromkeys(specs))


def _baseline(modules: list[Path], work: Path, extra: list[str], log: Path | None, settings: tuple[str, ...],
              documents: list[Document], out_dir: str) -> list[dict[str, Any]]:
    """The unmutated suite's results with the run options ``settings``; exits 2 when it does not pass."""
    shown = f" ({' '.join(settings)})" if settings else ""
    click.echo(f"baseline: the unmutated suite{shown} ...", err=True)
    code, baseline = run_suite(modules, None, work, extra, log, settings)
    bad = [e for e in baseline or [] if e["outcome"] in KILLING]
    if baseline is None or bad or code not in (0, 5):
        report_error(f"talkqa mutate: the baseline{shown} (the unmutated reference sync) does not pass, so no "
                     "mutant result would mean anything. Fix it first; see the failures with: "
                     + talkqa_command("check", [d.path for d in documents], f"--out={out_dir}"))
        for e in bad:
            where = f"{e['document']}:{e['line']} {e['case_id']}"
            report_error(f"  {e['outcome']}: {where}: {_first_line(e['message'])}")
        if log is not None and log.exists() and (baseline is None or not bad):
            report_error("\n".join(log.read_text(errors="replace").splitlines()[-20:]))
        raise SystemExit(2)
    if not any(e["outcome"] == "passed" for e in baseline):
        report_error(f"talkqa mutate: no test passed in the baseline{shown}: nothing can kill a mutant")
        raise SystemExit(2)
    return baseline


@click.command("mutate")
@click.argument("paths", nargs=-1, required=True)
@click.option("--out", "out_dir", default="generated_tests", show_default=True, help="Folder of the generated suite.")
@click.option("--frozen", is_flag=True, help="Use the generated suite as it is (fail if it is stale).")
@click.option("--only", multiple=True, metavar="NAME[@LINE]", help="Run only these mutants (repeatable).")
@click.option("--per-row", is_flag=True, help="Also one mutant per row for each row-specific mutant (NAME@LINE).")
@click.option("-n", "workers", default=None, help="pytest-xdist workers per run (e.g. 2 or auto).")
@click.option("-k", "keyword", default=None, help="Only the tests matching this pytest -k expression.")
@click.option(
    "--fuzz-profile", type=click.Choice(["ci", "dev", "nightly"]), default="ci", show_default=True,
    help="How hard fuzz tests try (ci: 25 derandomised examples, so kill tables repeat).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as JSON instead of the table.")
@click.option("-v", "--verbose", is_flag=True, help="Show pytest's output.")
def mutate(
    paths: tuple[str, ...],
    out_dir: str,
    frozen: bool,
    only: tuple[str, ...],
    per_row: bool,
    workers: str | None,
    keyword: str | None,
    fuzz_profile: str,
    as_json: bool,
    verbose: bool,
) -> None:
    """Run the generated suite of PATHS against each mutant of the reference sync.

    Prints, per mutant, whether the suite killed it, by which tests (document:line and case id), and
    for row-specific mutants whether those are the tests of the rows it breaks (* marks a test that
    failed because the sync made a request the cassette does not hold). Exit status: 0 when every
    mutant is killed, 1 when one survives (or its run fails), 2 when the baseline does not pass or
    the arguments are wrong.
    """
    documents: list[Document] = []
    for item in read_documents(paths):  # each bad one reported; the good ones are still mutated
        if isinstance(item, SpecError):
            report_bad_input(item)
        else:
            documents.append(item)
    if not documents:
        raise SystemExit(2)
    try:
        specs = _specs(only, per_row, documents)
        for spec in specs:
            parse_spec(spec)
    except UnknownMutant as exc:
        report_error(str(exc))
        raise SystemExit(2) from None
    modules = _generate(tuple(d.path for d in documents), out_dir, frozen)
    extra = ["-q", "--no-header", "-p", "no:randomly", f"--talkqa-fuzz-profile={fuzz_profile}"]
    extra += ["-n", workers] if workers else []
    extra += ["-k", keyword] if keyword else []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="talkqa-mutate-") as tmp:
        work = Path(tmp)
        lookups = [_field_lookup(doc, work) for doc in documents]
        expected: dict[str, list[str]] = {}
        for spec in specs:
            rows = sorted(
                {f"{doc.path}:{row.line}" for doc, look in zip(documents, lookups, strict=True)
                 for row in broken_rows(spec, doc, look)},
                key=_sort_row,
            )
            if CATALOGUE[spec.partition("@")[0]].row_specific and not rows:
                if spec in only:
                    report_error(f"{spec}: selects no row of {', '.join(d.path for d in documents)}")
                    raise SystemExit(2)
                report_error(f"{spec}: breaks no row of these documents (e.g. no partner row to swap with); skipped")
                continue
            expected[spec] = rows
        log = None if verbose else work / "pytest.log"
        # one baseline per set of run options the chosen mutants need (a mutant is judged against the
        # reference sync run the same way: under the same faults)
        baselines: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for settings in dict.fromkeys([(), *(CATALOGUE[s.partition("@")[0]].settings for s in expected)]):
            if settings == () and expected and all(CATALOGUE[s.partition("@")[0]].settings for s in expected):
                continue  # every mutant chosen runs with options: the plain baseline judges none of them
            baselines[settings] = _baseline(modules, work, extra, log, settings, documents, out_dir)
        verdicts = []
        for spec, rows in expected.items():
            settings = CATALOGUE[spec.partition("@")[0]].settings
            click.echo(f"mutant {spec}{' (' + ' '.join(settings) + ')' if settings else ''} ...", err=True)
            t0 = time.monotonic()
            code, entries = run_suite(modules, spec, work, extra, log, settings)
            message = "" if entries is not None else f"pytest exited {code} without results"
            if entries is None and log is not None and log.exists():
                message += ": " + " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
            verdict = judge(spec, baselines[settings], entries, rows, time.monotonic() - t0, message)
            why_not = why_inapplicable(spec, documents, lookups)
            if verdict.result == "survived" and why_not:
                # nothing it breaks occurs here: not a survivor, nor killed
                verdict.result = NOT_APPLICABLE
                verdict.message = f"it changes nothing these documents have ({why_not})"
            verdicts.append(verdict)
        baseline = baselines[next(iter(baselines))]
    total = time.monotonic() - started
    survived = [v for v in verdicts if v.result not in ("killed", NOT_APPLICABLE)]
    inapplicable = [v.mutant for v in verdicts if v.result == NOT_APPLICABLE]
    if as_json:
        passed = sum(e["outcome"] == "passed" for e in baseline)
        click.echo(json.dumps({"schema": "talkqa-mutate/1", "baseline_passed": passed, "seconds": round(total, 1),
                               "mutants": [v.as_dict() for v in verdicts]}, indent=1, ensure_ascii=False))
    else:
        click.echo("\ntalkqa mutate")
        for line in table(verdicts):
            click.echo(line)
        killed = len(verdicts) - len(survived) - len(inapplicable)
        click.echo(f"{killed}/{len(verdicts) - len(inapplicable)} mutants killed in {total:.0f}s"
                   + (f"; surviving: {', '.join(v.mutant for v in survived)}" if survived else "")
                   + (f"; not applicable here: {', '.join(inapplicable)}" if inapplicable else ""))
    raise SystemExit(1 if survived else 0)
