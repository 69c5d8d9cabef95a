"""The pytest plugin behind generated talkqa suites (registered by entry point ``talkqa``).

It acts only on items of generated modules (those carrying a ``talkqa_case`` mark): it adds
their options and fixtures, points their location at the document row, records the row in
JUnit XML, turns :class:`Unsupported` into a skip with its reason, and prints the checklist
summary at the end of the run.
"""

from __future__ import annotations

import gc
import itertools
import json
import re
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from talkqa.runtime.failures import FAILURE_KEY

if TYPE_CHECKING:
    from talkqa.runtime.backends import Backend
    from talkqa.runtime.failures import Failure

RESULTS = pytest.StashKey[Any]()
ORPHANS = pytest.StashKey[list]()

MARKERS = [
    "mapping: a checklist row of a flow's property table",
    "link: a link-policy check of a flow",
    "match: a match-rule check of a flow",
    "fuzz: a Hypothesis test that any value of a row's domain survives the sync",
    "forward: edits flow from the document's source system to its target",
    "reverse: edits flow back from the target system to the source",
    "links: a matching pair links",
    "near_miss: a near-miss does not link",
    "document(name, path): the dataflow document a test comes from",
    "flow(index, title): the flow (section) of the document a test checks",
    "talkqa_case(case): the checklist case data of a generated test",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    from talkqa.settings import SETTINGS

    group = parser.getgroup("talkqa", "talkqa generated conformance suites")
    group.addoption(
        "--talkqa-results",
        default=None,
        metavar="PATH",
        help="write the checklist outcome (one entry per generated test) as JSON to PATH",
    )
    group.addoption(
        "--talkqa-modules",
        default=None,
        metavar="PATH",
        help="collect only the generated modules listed in PATH (one path per line) from the folders given "
             "(talkqa check names a shard this way: naming each module costs pytest a folder walk per name)",
    )
    for setting in SETTINGS.values():  # each run setting (talkqa/settings.py), also as ini and [tool.talkqa]
        if setting.flag:
            group.addoption(setting.option, action="store_true", default=None, help=setting.help)
        else:
            group.addoption(setting.option, choices=setting.choices, default=None, metavar=setting.metavar,
                            help=setting.help)
        parser.addini(setting.ini, f"talkqa: default of {setting.option} (see docs/reference.md#settings)")


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    from talkqa.runtime.results import Results
    from talkqa.settings import SettingsError, resolve

    try:
        settings = resolve(config)
    except SettingsError as exc:
        raise pytest.UsageError(f"talkqa: {exc}") from None
    usage_problem = _usage_problem(config, settings)
    if usage_problem:
        raise pytest.UsageError(f"talkqa: {usage_problem}")
    WORKER_COST.clear()
    API_CALLS.clear()
    BATCH_COST.update(batches=0, runs=0, checks=0)
    results = config.stash[RESULTS] = Results()
    results.settings = {k: v for k, v in settings.items()}
    if settings["backend"] == "sandbox":  # the run's shared API budget lives here (talkqa.runtime.budget)
        import tempfile

        worker = getattr(config, "workerinput", {})
        config.stash[RUN_DIR] = worker.get("talkqa_run_dir") or tempfile.mkdtemp(prefix="talkqa-sandbox-")
        from talkqa.runtime.sandbox import CLEANUP

        CLEANUP.clear()
        FUZZ_PLAN.clear()
    if settings["backend"] == "sandbox" and getattr(config.option, "numprocesses", None) \
            and not hasattr(config, "workerinput"):
        # pytest-xdist: the controller collects nothing and a worker's usage error crashes it, so the
        # sandbox settings are checked here, from the generated modules named on the command line
        problems = _sandbox_problems(_documents_in(config.args, listed_modules(config)))
        if problems:
            raise pytest.UsageError("talkqa: --talkqa-backend=sandbox: " + "; ".join(problems))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: every worker of a sandbox run counts against the same API budget."""
    run_dir = node.config.stash.get(RUN_DIR, None)
    if run_dir:
        node.workerinput["talkqa_run_dir"] = run_dir


def _usage_problem(config: pytest.Config, settings: dict[str, Any]) -> str | None:
    """A mistake in how the run is set up that would make every test fail: said once, before any test."""
    import shutil

    if settings.get("faults", "none") != "none" and (settings["backend"] in ("cassettes", "sandbox")
                                                     or recording(config)):
        return "--talkqa-faults runs on the simulators only (not recording, not cassettes, not sandboxes)"
    sut = settings["sut"]
    if sut.startswith("command:"):
        if settings["backend"] == "cassettes":
            return ("an external sync (--talkqa-sut=command:...) cannot be replayed from cassettes: it is another "
                    "process whose requests no recording holds; use --talkqa-backend=simulators or sandbox")
        try:
            words = shlex.split(sut[len("command:"):])
        except ValueError as exc:
            return f"--talkqa-sut: the command cannot be split into words ({exc})"
        program = words[0] if words else ""
        if not program:
            return "--talkqa-sut: 'command:' names no command"
        if shutil.which(program) is None and not Path(program).is_file():
            return f"--talkqa-sut: the sync command {program!r} is not found (not on PATH, not a file)"
    return None


def pytest_report_header(config: pytest.Config) -> list[str]:
    """System plugins that failed to load, once per run (their systems fall back to the generic one)."""
    from talkqa.systems.registry import load_errors

    return [f"talkqa: {error} (its systems fall back to the generic system)" for error in load_errors()]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    results = _results_of(report)
    if results is not None:
        results.add(report)


_CONFIG: list[pytest.Config] = []


def _results_of(report: pytest.TestReport) -> Any:
    return _CONFIG[-1].stash.get(RESULTS, None) if _CONFIG else None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG.append(session.config)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """The collected suite (for the corpus, 74,000 items and 1,200 modules' cases) lives as long as the
    session: it is moved out of the garbage collector's reach (``gc.freeze``), which otherwise walks it on
    every full collection; a sync allocates enough to trigger them often, which made a test in one
    process holding the corpus suite about 1.5x as slow as in its module's own run (pytest-xdist's
    workers showed no such cost). Garbage made while collecting is collected first, and objects made by
    the tests are collected as usual. Hypothesis is imported first: the plugins it loads
    register their random generators, which it checks for referrers the collector can see."""
    import hypothesis  # noqa: F401

    gc.collect()
    gc.freeze()
    session.config.add_cleanup(gc.unfreeze)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """A failing talkqa test reports a :class:`Failure` record, and shows its message only (no
    plugin frames, no ``DOCUMENT`` dict: what a QA engineer acts on), as Sybil does."""
    report = yield
    case = _case(item)
    if case is None or call.excinfo is None or not report.failed:
        return report
    failure = failure_record(item, case, call.excinfo.value)
    report.user_properties.append((FAILURE_KEY, json.dumps(failure.to_json(), ensure_ascii=False)))
    if failure.kind != "error":
        report.longrepr = failure.render()
    return report


def failure_record(item: pytest.Item, case: dict[str, Any], exc: BaseException) -> Failure:
    """The record of a failing talkqa test: from its :class:`ChecklistFailure` (also inside the
    exception group Hypothesis raises for several distinct failures), else an error."""
    from talkqa.runtime.failures import ChecklistFailure, Failure

    found = _checklist_failure(exc)
    row = f"{case.get('source', '')} -> {case.get('target', '')}" if case.get("source") else case.get("id", "")
    where = dict(document=case["document"], line=case["line"], flow=case.get("flow_title", ""), row=row,
                 direction=case.get("direction", ""), reproduce=reproduce_command(item))
    if isinstance(found, ChecklistFailure):
        kind = found.kind
        if kind == "value" and case.get("kind") in ("link", "match"):
            kind = "link"
        notes = "\n".join(getattr(found, "__notes__", None) or getattr(exc, "__notes__", None) or [])
        blob = next((ln.strip() for ln in notes.splitlines() if "@reproduce_failure" in ln), None)
        return Failure(kind=kind, message=found.message, hypothesis=blob, **found.values(), **where)
    from talkqa.runtime.sut import SutFailed

    if isinstance(exc, SutFailed):
        return Failure(kind="sync-failed", message=f"{case['document']}:{case['line']}: {case.get('flow_title', '')}: "
                       f"the system under test failed while syncing:\n  {exc}", **where)
    text = f"{type(exc).__name__}: {exc}".strip()
    return Failure(kind="error", message=f"{case['document']}:{case['line']}: the check could not run: {text}",
                   **where)


def _checklist_failure(exc: BaseException) -> BaseException | None:
    from talkqa.runtime.failures import ChecklistFailure

    if isinstance(exc, ChecklistFailure):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _checklist_failure(inner)
            if found is not None:
                return found
    cause = exc.__cause__ or exc.__context__
    return _checklist_failure(cause) if isinstance(cause, BaseException) and cause is not exc else None


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: a worker's documents (the controller collects none) join the run's results."""
    results = node.config.stash.get(RESULTS, None)
    output = getattr(node, "workeroutput", None) or {}
    if results is not None and "talkqa_documents" in output:
        for doc in json.loads(output["talkqa_documents"]):
            results.documents.setdefault(doc["path"], doc)
    if "talkqa_cost" in output:
        for k, v in json.loads(output["talkqa_cost"]).items():
            WORKER_COST[k] = WORKER_COST.get(k, 0) + v


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    results = config.stash.get(RESULTS, None)
    if results is not None and hasattr(config, "workerinput"):
        config.workeroutput["talkqa_documents"] = json.dumps(list(results.documents.values()))
        if results.outcomes:
            config.workeroutput["talkqa_cost"] = json.dumps(_cost())
    elif results is not None:
        if results.outcomes:
            summary = results.summary()
            settings = results.settings
            code, why = summary.exit_code(strict=bool(settings.get("strict")), min_checked=settings.get("min-checked"))
            if session.exitstatus == 0 and code != 0:
                session.exitstatus = code
                config.stash[VERDICT] = why
        path = config.getoption("--talkqa-results", None)
        if path:
            results.write(path)  # also when nothing ran: a reader sees an empty run, not a missing file
    if _CONFIG and _CONFIG[-1] is config:
        _CONFIG.pop()


VERDICT = pytest.StashKey[str]()
#: The cost reported by pytest-xdist workers (added to the controller's own).
WORKER_COST: dict[str, int] = {}


def _cost() -> dict[str, int]:
    from talkqa.runtime.sandbox import CLEANUP
    from talkqa.runtime.sut import RUNS

    return {"sut_runs": sum(RUNS.values()), **BATCH_COST, **{f"api:{k}": v for k, v in API_CALLS.items()},
            **{f"sandbox:{k}": v for k, v in CLEANUP.items()}, **{f"fuzzplan:{k}": v for k, v in FUZZ_PLAN.items()}}


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    import os

    results = config.stash.get(RESULTS, None)
    if results is None or not results.outcomes:
        return
    summary = results.summary()
    terminalreporter.section("talkqa checklist")
    # with --tb=no (talkqa check) the checklist is the only place a failure is shown: in full
    details = getattr(config.option, "tbstyle", "auto") == "no"
    for line in summary.lines(details=details):
        terminalreporter.write_line(line)
    cost = _cost()
    for k, v in WORKER_COST.items():
        cost[k] = cost.get(k, 0) + v
    if cost.get("sut_runs"):
        line = f"system under test: {cost['sut_runs']} run(s)"
        if cost.get("batches"):
            line += (f", {cost['runs']} of them in {cost['batches']} batch(es) that judged {cost['checks']} "
                     "check(s)")
        terminalreporter.write_line(line)
    calls = {k[4:]: v for k, v in cost.items() if k.startswith("api:") and not k.startswith("api:fault:")
             and not k.startswith("api:unfaulted:") and v}
    fired = {k[10:]: v for k, v in cost.items() if k.startswith("api:fault:")}
    from talkqa.settings import setting

    if fired and setting(config, "faults") != "none":
        unfaulted = sorted(k[14:] for k in cost if k.startswith("api:unfaulted:"))
        shown = ", ".join(f"{k} {v}" for k, v in sorted(fired.items()))
        terminalreporter.write_line(
            f"faults ({setting(config, 'faults')}) answered requests: {shown}"
            + (f"; no faults on {', '.join(unfaulted)} (its simulator cannot misbehave)" if unfaulted else ""))
    if calls:
        terminalreporter.write_line("API calls answered by the simulators (arranging, reading back and the sync): "
                                    + ", ".join(f"{k} {v}" for k, v in sorted(calls.items())))
    for line in sandbox_lines(config, cost):
        terminalreporter.write_line(line)
    for error in BATCH_ERRORS:
        terminalreporter.write_line(error, yellow=True)
    why = config.stash.get(VERDICT, None)
    if why:
        terminalreporter.write_line(f"talkqa: {why}", red=True)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in summary.annotations():
            terminalreporter.write_line(line)
    orphans = config.stash.get(ORPHANS, [])
    if orphans:
        terminalreporter.write_line(f"orphaned cassettes (their rows are gone from the documents): {len(orphans)}")
        for path in orphans:
            terminalreporter.write_line(f"    {_relative(path, config.rootpath)}")


def sandbox_lines(config: pytest.Config, cost: dict[str, int]) -> list[str]:
    """What a sandbox run spent (API calls per system against its budget), what it removed and left,
    and the fuzz examples it cut to fit the budget."""
    run_dir = config.stash.get(RUN_DIR, None)
    if not run_dir or not (Path(run_dir) / "budget.json").is_file():
        return []
    from talkqa.runtime.budget import RunBudget, budgets
    from talkqa.settings import setting
    from talkqa.systems.registry import plugins

    found = plugins()
    budget_of = budgets(setting(config, "api-budget"), lambda slug: getattr(found.get(slug), "daily_quota", None))
    calls = RunBudget(Path(run_dir) / "budget.json", budget_of).calls()
    out = []
    if calls:
        out.append("API calls made in the sandboxes (counted by talkqa's connectors; budget per system): "
                   + ", ".join(f"{k} {v} of {budget_of(k)}" for k, v in sorted(calls.items())))
    made = {k[len("sandbox:made:"):]: v for k, v in cost.items() if k.startswith("sandbox:made:")}
    if made:
        parts = []
        for system, n in sorted(made.items()):
            kept = cost.get(f"sandbox:kept:{system}", 0)
            part = f"{system} {n} created, {cost.get(f'sandbox:deleted:{system}', 0)} deleted"
            parts.append(part + (f", {kept} left (listed in {ledger_folder(config) / (system + '.jsonl')})"
                                 if kept else ""))
        out.append("sandbox records made by this run: " + "; ".join(parts))
    if cost.get("fuzzplan:tests"):
        out.append(f"fuzz examples cut to fit the API budget: {cost['fuzzplan:tests']} fuzz test(s) ran "
                   f"{cost['fuzzplan:planned']} of {cost['fuzzplan:full']} examples")
    return out


def _case(item: pytest.Item) -> dict[str, Any] | None:
    mark = item.get_closest_marker("talkqa_case")
    return mark.args[0] if mark else None


def backend_name(config: pytest.Config) -> str:
    """The backend asked for: an explicit ``--talkqa-backend``, ``simulators`` when recording, else
    ``auto`` (decided per module: its cassettes when it has any, the simulators otherwise)."""
    from talkqa.settings import setting

    chosen = setting(config, "backend")
    if setting(config, "faults") != "none":
        if recording(config) or chosen in ("cassettes", "sandbox"):
            raise pytest.UsageError("talkqa: --talkqa-faults runs on the simulators only (not recording, not "
                                    "cassettes, not sandboxes)")
        return "simulators"
    if recording(config):
        if chosen not in (None, "simulators", "sandbox"):
            raise pytest.UsageError("recording cassettes needs --talkqa-backend=simulators or sandbox")
        return chosen or "simulators"
    return chosen or "auto"


def recording(config: pytest.Config) -> bool:
    return (getattr(config.option, "record_mode", None) or "none") != "none"


MODE = pytest.StashKey[str]()
DOCUMENTS = pytest.StashKey[list]()


def item_backend(item: pytest.Item) -> str:
    """The backend a talkqa item runs on (``auto`` resolved at collection)."""
    return item.stash.get(MODE, None) or backend_name(item.config)


def has_recordings(module_path: Path) -> bool:
    """A generated module is replayed when its cassette folder holds at least one cassette."""
    from talkqa.runtime.cassettes import SUFFIX

    folder = module_path.parent / "cassettes" / module_path.stem
    return folder.is_dir() and any(folder.glob("*" + SUFFIX))


LISTED = pytest.StashKey[frozenset]()


def listed_modules(config: pytest.Config) -> frozenset[Path] | None:
    """The modules ``--talkqa-modules`` lists (resolved), or None when it is not given."""
    listing = config.getoption("talkqa_modules", None)
    if not listing:
        return None
    found = config.stash.get(LISTED, None)
    if found is None:
        try:
            lines = Path(listing).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise pytest.UsageError(f"talkqa: --talkqa-modules: {exc}") from None
        found = config.stash[LISTED] = frozenset(Path(line).resolve() for line in lines if line.strip())
    return found


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With ``--talkqa-modules``: a generated module not listed is not collected."""
    listed = listed_modules(config)
    if listed is None or not collection_path.name.startswith("test_") or collection_path.suffix != ".py":
        return None
    return True if collection_path.resolve() not in listed else None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    chosen = backend_name(config)
    config.stash[ORPHANS] = orphaned_cassettes(items)
    documents: dict[str, dict[str, Any]] = {}
    decided: dict[str, str] = {}
    for item in items:
        case = _case(item)
        if case is None:
            continue
        module = getattr(item, "module", None)
        if module is not None and hasattr(module, "DOCUMENT"):
            documents.setdefault(module.__name__, module.DOCUMENT)
        path = item.path
        if chosen == "auto":
            mode = decided.get(str(path))
            if mode is None:
                # an external sync cannot be replayed (it is another process): it always runs live
                replay = has_recordings(path) and _sut(config) == "reference"
                mode = decided[str(path)] = "cassettes" if replay else "simulators"
        else:
            mode = chosen
        item.stash[MODE] = mode
        module_name = getattr(module, "__name__", "")
        config.stash.setdefault(SELECTED, {}).setdefault(module_name, set()).add((case["kind"], case["id"]))
        # failures and reports point at the document row, as a QA engineer reads it
        # (its test name without computing pytest's own location, which costs a lookup of the source)
        item.location = (case["document"], case["line"] - 1, item.getmodpath())  # type: ignore[attr-defined,misc]
        item.user_properties += [
            ("row", f"{case['source']} -> {case['target']}" if case.get("source") else ""),
            ("check", case.get("check", "") if case["kind"] in ("link", "match") else ""),
            ("document", case["document"]),
            ("line", str(case["line"])),
            ("flow", case["flow_title"]),
            ("kind", case["kind"]),
            ("direction", case["direction"]),
            ("case_id", case["id"]),
            ("backend", mode),
        ]
        if mode == "cassettes" or recording(config):
            item.add_marker(pytest.mark.vcr)
            if mode == "cassettes":
                item.add_marker(pytest.mark.block_network)
    config.stash[DOCUMENTS] = list(documents.values())
    sandbox = [_case(item) for item in items if item.stash.get(MODE, None) == "sandbox"]
    config.stash[PLAN_TOTALS] = (sum(1 for c in sandbox if c and c["kind"] != "fuzz"),
                                 sum(1 for c in sandbox if c and c["kind"] == "fuzz"))
    if any(item.stash.get(MODE, None) == "sandbox" for item in items):
        problems = _sandbox_problems(list(documents.values()))
        if problems:
            message = "talkqa: --talkqa-backend=sandbox: " + "; ".join(problems)
            raise pytest.UsageError(message)
    results = config.stash.get(RESULTS, None)
    if results is not None:
        from talkqa.runtime.results import document_rows

        for document in documents.values():
            results.documents.setdefault(document["path"], document_rows(document))


def _documents_in(args: list[str], listed: frozenset[Path] | None = None) -> list[dict[str, Any]]:
    """The ``DOCUMENT`` of each generated module under ``args`` (files or folders; of a folder's modules,
    only those ``listed`` when given), read without importing."""
    import ast
    import contextlib

    paths: list[Path] = []
    for arg in args:
        path = Path(arg.split("::", 1)[0])
        if path.is_dir():
            paths += [p for p in sorted(path.rglob("test_*.py")) if listed is None or p.resolve() in listed]
        elif path.suffix == ".py":
            paths.append(path)
    out = []
    for path in paths:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DOCUMENT" for t in node.targets):
                value = node.value
                if isinstance(value, ast.Call) and value.args:  # generator 3: DOCUMENT = document("<json>")
                    value = value.args[0]
                with contextlib.suppress(ValueError, TypeError):
                    found = ast.literal_eval(value)
                    out.append(json.loads(found) if isinstance(found, str) else found)
                break
    return out


def _sandbox_problems(documents: list[dict[str, Any]]) -> list[str]:
    """Every system of the documents that the sandbox backend could not reach (missing settings)."""
    from generator.model import document_from_json
    from talkqa.systems.run import Systems

    docs = [document_from_json(d) for d in documents]
    systems = Systems(docs, mode="live")
    problems: list[str] = []
    for doc in docs:
        for problem in systems.unconfigured(doc):
            if problem not in problems:
                problems.append(problem)
    return problems


@pytest.hookimpl(optionalhook=True)
def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    from talkqa.runtime.cassettes import register

    register(vcr)


class Backends:
    """The run's backends, made on first use (a replay-only run starts no simulator)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._made: dict[str, Backend] = {}

    def get(self, name: str) -> Backend:
        if name not in self._made:
            from talkqa.runtime.backends import BACKENDS

            documents = [document_of(d) for d in self.config.stash.get(DOCUMENTS, [])]
            from talkqa.settings import setting

            self._made[name] = BACKENDS[name](
                sut=_sut(self.config), documents=documents, recording=recording(self.config)
            )
            if name == "simulators":
                self._made[name].faults = setting(self.config, "faults")  # type: ignore[attr-defined]
            if name == "sandbox":
                self._sandbox(self._made[name])
        return self._made[name]

    def _sandbox(self, backend: Any) -> None:
        """The run's API budget (shared by its workers) and the ledger of records left in the sandboxes."""
        import tempfile

        from talkqa.runtime.budget import RunBudget, budgets
        from talkqa.runtime.sandbox import Ledger
        from talkqa.settings import setting
        from talkqa.systems.registry import plugins

        found = plugins()

        def quota(slug: str) -> int | None:
            plugin = found.get(slug)
            return getattr(plugin, "daily_quota", None) if plugin is not None else None

        run_dir = self.config.stash.get(RUN_DIR, None) or tempfile.mkdtemp(prefix="talkqa-sandbox-")
        self.config.stash[RUN_DIR] = run_dir
        backend.use_budget(RunBudget(Path(run_dir) / "budget.json", budgets(setting(self.config, "api-budget"),
                                                                             quota)))
        backend.ledger = Ledger(ledger_folder(self.config))

    def made(self) -> list[Backend]:
        return list(self._made.values())

    def close(self) -> None:
        for backend in self._made.values():
            for slug, calls in backend.systems.api_calls().items():  # the cost line (pytest_terminal_summary)
                API_CALLS[slug] = API_CALLS.get(slug, 0) + calls
            for slug, fired in backend.systems.faults_fired().items():
                API_CALLS[f"fault:{slug}"] = API_CALLS.get(f"fault:{slug}", 0) + fired
            for slug in {*getattr(backend, "unfaulted", ()), *getattr(backend.systems, "unfaulted", ())}:
                API_CALLS[f"unfaulted:{slug}"] = 1
            backend.close()
        self._made.clear()


@pytest.fixture(scope="session")
def talkqa_backends(request: pytest.FixtureRequest) -> Iterator[Backends]:
    backends = Backends(request.config)
    yield backends
    backends.close()


@pytest.fixture
def talkqa_backend(request: pytest.FixtureRequest, talkqa_backends: Backends) -> Backend:
    """The backend of the current talkqa test."""
    return talkqa_backends.get(item_backend(request.node))


def _sut(config: pytest.Config) -> str:
    from talkqa.settings import setting

    return setting(config, "sut")


def reproduce_command(item: pytest.Item) -> str:
    """The command that re-runs this one test as this run did: every option that changes what it does."""
    from talkqa.runtime.fuzz import profile_name
    from talkqa.settings import setting

    fuzz = (_case(item) or {}).get("kind") == "fuzz"
    batch = setting(item.config, "batch")
    extra = []
    if setting(item.config, "faults") != "none":
        extra.append(f"--talkqa-faults={setting(item.config, 'faults')}")
    if setting(item.config, "conflict-winner") != "source":
        extra.append(f"--talkqa-conflict-winner={setting(item.config, 'conflict-winner')}")
    return reproduce(item.nodeid, backend=item_backend(item), sut=_sut(item.config),
                     fuzz_profile=profile_name(item.config) if fuzz else None,
                     strict=bool(setting(item.config, "strict")), batch=None if batch == "auto" else batch,
                     extra=extra)


def reproduce(nodeid: str, *, backend: str, sut: str = "reference", fuzz_profile: str | None = None,
              strict: bool = False, batch: str | None = None, extra: list[str] | None = None) -> str:
    """``pytest NODEID`` with the options given, quoted so that it pastes into a shell as one command
    (on one line: see :func:`talkqa.shell.quote`)."""
    from talkqa.shell import quote

    parts = ["pytest", nodeid, "-p", "no:randomly", f"--talkqa-backend={backend}"]
    if sut != "reference":
        parts.append(f"--talkqa-sut={sut}")
    if fuzz_profile:
        parts.append(f"--talkqa-fuzz-profile={fuzz_profile}")
    if strict:
        parts.append("--talkqa-strict")
    if batch:
        parts.append(f"--talkqa-batch={batch}")
    parts += extra or []
    return " ".join(quote(p) for p in parts)


_STATE_DIRS = itertools.count()
_DOCUMENTS: dict[int, tuple[dict[str, Any], Any]] = {}


def document_of(data: dict[str, Any]) -> Any:
    """The :class:`~generator.model.Document` of a generated module's ``DOCUMENT``, read once per module:
    every test of the module passes the same dict, and a document is immutable (reading a large one cost
    half a millisecond per test, and what its flows work out once was worked out again per test)."""
    found = _DOCUMENTS.get(id(data))
    if found is None or found[0] is not data:
        from generator.model import document_from_json

        found = _DOCUMENTS[id(data)] = (data, document_from_json(data))
    return found[1]


def state_dir(request: pytest.FixtureRequest, factory: pytest.TempPathFactory) -> Path:
    """Where this test's sync keeps its state: a fresh folder under the run's temporary root, named but not
    made. A sync that keeps files makes it (:class:`~talkqa.runtime.sut.CommandSut`); the reference sync
    keeps its state in memory, and making a folder per test (pytest's ``tmp_path``) cost a millisecond."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:40]
    return factory.getbasetemp() / "talkqa-state" / f"{name}-{next(_STATE_DIRS)}"


@pytest.fixture
def talkqa_check(
    request: pytest.FixtureRequest, talkqa_backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[dict[str, Any], dict[str, Any]], None]]:
    from vcr.errors import CannotOverwriteExistingCassetteException

    from talkqa.runtime.checks import CHECKS, Unsupported

    benches = []

    def run(document: dict[str, Any], case: dict[str, Any]) -> None:
        missing = recording_missing(request, case)
        if judged_in_batch(request, talkqa_backend, document, case):
            return
        doc = document_of(document)

        def check() -> None:
            bench = talkqa_backend.bench(doc, state_dir(request, tmp_path_factory), flow=case.get("flow"))
            benches.append(bench)
            from talkqa.settings import setting

            bench.conflict_winner = setting(request.config, "conflict-winner")  # type: ignore[attr-defined]
            try:
                CHECKS[case["kind"]](bench, case)
            finally:
                if getattr(talkqa_backend, "budget", None) is not None:
                    benches.remove(bench)
                    bench.close()  # a sandbox check removes its records before its cost is taken
            check_all_played(request)

        try:
            with answered_by(_cassette(request)):
                within_budget(request, talkqa_backend, doc, case, check)
        except Unsupported as exc:
            _skip(request, case, exc)
        except CannotOverwriteExistingCassetteException as exc:
            if missing:
                pending(request, case)
            missing_recording(request, case, exc)

    yield run
    for bench in benches:
        bench.close()


def _skip(request: pytest.FixtureRequest, case: dict[str, Any], exc: Exception) -> None:
    """A case that cannot be checked here: a skip whose reason is kept apart from its location."""
    from talkqa.runtime.results import REASON_KEY

    reason = str(exc)
    # some reasons carry their location already: the grouped reasons must not tell rows apart by it
    prefix = f"{case['document']}:{case['line']}: "
    reason = reason.removeprefix(prefix)
    request.node.user_properties.append((REASON_KEY, reason))
    pytest.skip(f"{prefix}{reason}")


def cassette_file(item: pytest.Item, name: str | None = None) -> Path:
    """Where pytest-recording keeps the cassette of ``item`` (or of the test named ``name`` beside it)."""
    from talkqa.runtime.cassettes import cassette_name

    module = Path(str(item.fspath))
    return module.parent / "cassettes" / module.stem / cassette_name(name or item.name)


def recording_missing(request: pytest.FixtureRequest, case: dict[str, Any]) -> bool:
    """In replay, whether this test has no cassette yet. The check still runs: one that cannot be
    checked says why (before any request); one that makes a request is *pending* (see :func:`pending`)."""
    if item_backend(request.node) != "cassettes" or case.get("skip"):
        return False
    return not cassette_file(request.node).exists()


def pending(request: pytest.FixtureRequest, case: dict[str, Any]) -> None:
    """A row new in the document, not recorded yet: skipped with that word, or a failure with
    ``--talkqa-strict``."""
    path = cassette_file(request.node)
    message = (
        f"pending: {case['document']}:{case['line']}: {case['id']} has no recording yet ({path.name}); "
        f"record it with: talkqa record {shlex.quote(case['document'])}"
    )
    from talkqa.runtime.failures import ChecklistFailure
    from talkqa.runtime.results import REASON_KEY
    from talkqa.settings import setting

    if setting(request.config, "strict"):
        raise ChecklistFailure(message, kind="pending")
    request.node.user_properties.append(
        (REASON_KEY, f"no recording yet: record it with: talkqa record {shlex.quote(case['document'])}"))
    pytest.skip(message)


def orphaned_cassettes(items: list[pytest.Item]) -> list[Path]:
    """Cassettes in the folders of the collected generated modules that no case of theirs uses."""
    expected: set[Path] = set()
    folders: set[Path] = set()
    seen_modules: set[str] = set()
    for item in items:
        module = getattr(item, "module", None)
        if module is None or module.__name__ in seen_modules or _case(item) is None:
            continue
        seen_modules.add(module.__name__)
        folder = cassette_file(item).parent
        if not folder.is_dir():  # no recording: nothing can be orphaned (and collection stays cheap)
            continue
        for kind, cases in getattr(module, "CASES", {}).items():
            for case in cases:
                expected.add(cassette_file(item, f"test_{kind}[{case['id']}]"))
        folders.add(folder)
    from talkqa.runtime.cassettes import SUFFIX

    return sorted(p for folder in folders if folder.is_dir() for p in folder.glob("*" + SUFFIX) if p not in expected)


def answered_by(cassette: Any) -> Any:
    """:func:`talkqa.runtime.replay_wire.answered_by` (imported when a test runs)."""
    from talkqa.runtime.replay_wire import answered_by as answered

    return answered(cassette)


def _cassette(request: pytest.FixtureRequest) -> Any:
    if request.node.get_closest_marker("vcr") is None:
        return None
    return request.getfixturevalue("vcr")


def check_all_played(request: pytest.FixtureRequest) -> None:
    """In replay, the sync must have made every recorded request (fewer means it skipped work)."""
    cassette = _cassette(request)
    if cassette is None or getattr(cassette, "record_mode", "none") != "none" or cassette.all_played:
        return
    case = request.node.get_closest_marker("talkqa_case").args[0]
    from talkqa.runtime.cassettes import unplayed
    from talkqa.runtime.failures import ChecklistFailure

    missing = unplayed(cassette)
    shown = "\n    ".join(missing[:5])
    raise ChecklistFailure(
        f"{case['document']}:{case['line']}: {case['flow_title']} [{case['id']}]\n"
        f"  requests changed: the sync made fewer requests than were recorded: {len(missing)} not replayed, e.g.\n"
        f"    {shown}\n"
        f"  re-record with: talkqa record {shlex.quote(case['document'])} (if the sync changed on purpose)",
        kind="requests-changed",
    )


def missing_recording(request: pytest.FixtureRequest, case: dict[str, Any], exc: Exception) -> None:
    from talkqa.runtime.failures import ChecklistFailure

    document = case["document"]
    raise ChecklistFailure(
        f"{document}:{case['line']}: {case['flow_title']} [{case['id']}]\n"
        f"  requests changed: the sync made a request its recording does not hold (it behaves differently from\n"
        f"  when it was recorded: a conformance failure, unless the sync changed on purpose; then re-record):\n"
        f"  {str(exc).strip().splitlines()[0]}\n"
        + "\n".join("  " + ln for ln in str(exc).strip().splitlines()[1:6] if ln.strip())
        + f"\n  re-record with: talkqa record {shlex.quote(document)}   (or: pytest {shlex.quote(request.node.nodeid)} "
        "--record-mode=rewrite)",
        kind="requests-changed",
    ) from None


@pytest.fixture
def talkqa_fuzz(
    request: pytest.FixtureRequest, talkqa_backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    from vcr.errors import CannotOverwriteExistingCassetteException

    from talkqa.runtime.checks import Unsupported
    from talkqa.runtime.fuzz import run_fuzz

    def run(document: dict[str, Any], case: dict[str, Any]) -> None:
        missing = recording_missing(request, case)
        if judged_in_batch(request, talkqa_backend, document, case):
            return
        doc = document_of(document)

        def fuzz() -> None:
            examples = planned_examples(request, talkqa_backend, doc)
            run_fuzz(request, talkqa_backend, doc, case, state_dir(request, tmp_path_factory), examples=examples)

        try:
            with answered_by(_cassette(request)):
                within_budget(request, talkqa_backend, doc, case, fuzz)
        except Unsupported as exc:
            _skip(request, case, exc)
        except CannotOverwriteExistingCassetteException as exc:
            if missing:
                pending(request, case)
            missing_recording(request, case, exc)

    return run


RUN_DIR = pytest.StashKey[str]()
PLAN_TOTALS = pytest.StashKey[tuple]()
#: Fuzz tests of this process whose examples were cut to fit the API budget: tests, examples run, full.
FUZZ_PLAN: dict[str, int] = {}
#: Edge values a fuzz test runs besides its drawn examples, as the budget plan counts them.
EDGE_ALLOWANCE = 5


def ledger_folder(config: pytest.Config) -> Path:
    """Where a sandbox run lists the records it could not remove (one JSON-lines file per system):
    ``$TALKQA_SANDBOX_LEDGER``, else ``.talkqa/sandbox`` under the run's root folder."""
    import os

    chosen = os.environ.get("TALKQA_SANDBOX_LEDGER")
    return Path(chosen) if chosen else Path(str(config.rootpath)) / ".talkqa" / "sandbox"


def _systems(document: Any) -> list[str]:
    """The names the transport counts a document's calls under: its system keys and their slugs."""
    keys = [document.system_key("source"), document.system_key("target")]
    return list(dict.fromkeys([*keys, *(k.split("#", 1)[0] for k in keys)]))


def budget_spent(exc: BaseException) -> BaseException | None:
    """The :class:`BudgetSpent` behind ``exc`` (also inside an exception group or as its cause)."""
    from talkqa.runtime.budget import BudgetSpent

    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, BudgetSpent):
            return current
        if isinstance(current, BaseExceptionGroup):
            todo += list(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if isinstance(linked, BaseException):
                todo.append(linked)
    return None


def within_budget(request: pytest.FixtureRequest, backend: Any, document: Any, case: dict[str, Any],
                  body: Callable[[], None]) -> None:
    """Run ``body`` (one check) on a sandbox within the run's API budget: a check whose system's budget is
    spent, before or while it runs, is skipped as "not run: API budget of SYSTEM spent (N calls)"; what it
    cost is noted for planning fuzz examples. Elsewhere ``body`` just runs."""
    budget = getattr(backend, "budget", None)
    if budget is None:
        body()
        return
    backend.test = request.node.nodeid
    systems = _systems(document)
    spent = budget.spent(systems, "example" if case["kind"] == "fuzz" else "check")
    if spent is not None:
        _skip(request, case, spent)
    before = dict(budget.local)
    benches = backend.benches
    try:
        body()
    except BaseException as exc:
        found = budget_spent(exc)
        if found is not None:
            _skip(request, case, found)
        raise
    finally:
        cost = {k: v - before.get(k, 0) for k, v in budget.local.items() if v - before.get(k, 0)}
        group = f"{document.path}#{case.get('flow')}#{case.get('direction', '')}"  # what decides a cost
        if case["kind"] == "fuzz":
            budget.note("example", cost, max(1, backend.benches - benches), group)
        else:
            budget.note("check", cost, 1, group)


def planned_examples(request: pytest.FixtureRequest, backend: Any, document: Any) -> int | None:
    """How many examples (edge values included) a fuzz test runs on a sandbox so that the rest of the run
    fits the API budget; None: all of them (elsewhere, or when they fit)."""
    budget = getattr(backend, "budget", None)
    if budget is None:
        return None
    from talkqa.runtime.fuzz import full_examples

    full = full_examples(request.config) + EDGE_ALLOWANCE
    checks, fuzz = request.config.stash.get(PLAN_TOTALS, (0, 0))
    planned = budget.plan(_systems(document), full, checks, fuzz)
    if planned >= full:
        return None
    FUZZ_PLAN["tests"] = FUZZ_PLAN.get("tests", 0) + 1
    FUZZ_PLAN["planned"] = FUZZ_PLAN.get("planned", 0) + planned
    FUZZ_PLAN["full"] = FUZZ_PLAN.get("full", 0) + full
    return planned


BATCHES = pytest.StashKey[dict]()
SELECTED = pytest.StashKey[dict]()


def batch_on(config: pytest.Config, backend: Backend) -> bool:
    """Whether batch mode judges this run's batchable checks (docs/reference.md#batch-mode)."""
    from talkqa.settings import setting

    mode = setting(config, "batch")
    if not backend.live or recording(config) or mode == "off":
        return False
    return mode == "on" or _sut(config).startswith("command:")


def judged_in_batch(request: pytest.FixtureRequest, backend: Any, document: dict[str, Any],
                    case: dict[str, Any]) -> bool:
    """Whether a batch judged this check: its verdict is raised (or its skip reported) here, by its own test."""
    from talkqa.runtime.checks import Unsupported

    verdict = batched(request, backend, document, case)
    if verdict is None:
        return False
    try:
        verdict.raise_it()
    except Unsupported as exc:
        _skip(request, case, exc)
    return True


def batched(request: pytest.FixtureRequest, backend: Backend, document: dict[str, Any],
            case: dict[str, Any]) -> Any:
    """The batch verdict of ``case`` (None: it runs per test). The first batched test of a module runs
    the batch for every selected batchable case of it."""
    if not batch_on(request.config, backend):
        return None
    from talkqa.runtime.batch import draw_values, run_batch

    cache = request.config.stash.setdefault(BATCHES, {})
    key = (backend.name, request.node.module.__name__)
    run = cache.get(key)
    if run is None:
        selected = request.config.stash.get(SELECTED, {}).get(request.node.module.__name__, set())
        module_cases = getattr(request.node.module, "CASES", {})
        cases = [c for kind in ("mapping", "fuzz", "link") for c in module_cases.get(kind, [])
                 if (kind, c["id"]) in selected]
        from talkqa.runtime.batch import BatchRun
        from talkqa.runtime.fuzz import empty_refused
        from talkqa.settings import setting

        doc = document_of(document)
        folder = request.config._tmp_path_factory.mktemp("batch")  # type: ignore[attr-defined]
        probes = iter(range(10**9))
        try:
            run = run_batch(
                lambda d: backend.bench(doc, d), doc, cases, folder,
                lambda domain, _case: draw_values(request.config, domain),
                look=lambda d: backend.bench(doc, d, prepare=False),
                empty_refused=lambda c: empty_refused(backend.bench(doc, folder / f"probe-{next(probes)}"), c),
                conflict_winner=setting(request.config, "conflict-winner"),
            )
            BATCH_ERRORS.extend(f"{document['path']}: {error}" for error in run.errors)
        except Exception as exc:  # the batch could not be arranged: every check runs per test, and says so
            run = BatchRun()
            BATCH_ERRORS.append(f"{document['path']}: batch mode fell back to one check at a time: "
                                f"{type(exc).__name__}: {exc}")
        cache[key] = run
        BATCH_COST["batches"] += 1
        BATCH_COST["runs"] += run.sync_runs
        BATCH_COST["checks"] += len(run.verdicts)
    verdict = run.verdicts.get((case["kind"], case["id"]))
    if verdict is not None and verdict.finding:
        from talkqa.runtime.failures import Finding, report_finding

        report_finding(request.node, Finding(case["document"], case["line"], verdict.finding))
    return verdict


#: What batches cost in this process: batches run, runs of the system under test, checks judged.
BATCH_COST: dict[str, int] = {"batches": 0, "runs": 0, "checks": 0}
#: Requests the simulators answered in this process, by system (talkqa's arranging and the sync's).
API_CALLS: dict[str, int] = {}
#: Batches that could not be arranged (their checks ran per test), shown at the end of the run.
BATCH_ERRORS: list[str] = []


def _relative(path: Path, root: Path) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return path
