"""The pytest plugin behind generated talkqa suites (registered by entry point ``talkqa``).

It acts only on items of generated modules (those carrying a ``talkqa_case`` mark): it adds
their options and fixtures, points their location at the document row, records the row in
JUnit XML, turns :class:`Unsupported` into a skip with its reason, and prints the checklist
summary at the end of the run.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from talkqa.runtime.backends import Backend

#: Names of the backends (kept here so the plugin imports nothing heavy until a talkqa test runs).
BACKEND_NAMES = ("auto", "cassettes", "sandbox", "simulators")
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
    group = parser.getgroup("talkqa", "talkqa generated conformance suites")
    group.addoption(
        "--talkqa-backend",
        choices=BACKEND_NAMES,
        default=None,
        help="where HTTP goes: auto (default: a module's cassettes where it has recordings, else the simulators), "
        "cassettes (replay only), simulators (in-process), sandbox (TALKQA_<SYSTEM>_* endpoints). "
        "Recording (--record-mode other than none) implies simulators.",
    )
    group.addoption(
        "--talkqa-fuzz-profile",
        choices=("ci", "dev", "nightly"),
        default=None,
        help="how hard fuzz tests try: ci (25 derandomised examples; default when $CI is set), dev (50), nightly (500)",
    )
    group.addoption(
        "--talkqa-results",
        default=None,
        metavar="PATH",
        help="write the checklist outcome (one entry per generated test) as JSON to PATH",
    )
    group.addoption(
        "--talkqa-strict",
        action="store_true",
        help="a row with no recording yet (pending) fails instead of being skipped as pending",
    )
    group.addoption(
        "--talkqa-sut",
        default="reference",
        help="the system under test: 'reference' (talkqa's reference sync) or 'command:<shell command>'",
    )


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    from talkqa.runtime.results import Results

    config.stash[RESULTS] = Results()


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


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    results = config.stash.get(RESULTS, None)
    path = config.getoption("--talkqa-results", None)
    if results is not None and path and not hasattr(config, "workerinput"):
        results.write(path)
    if _CONFIG and _CONFIG[-1] is config:
        _CONFIG.pop()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    results = config.stash.get(RESULTS, None)
    if results is None or not results.outcomes:
        return
    terminalreporter.section("talkqa checklist")
    for line in results.matrix():
        terminalreporter.write_line(line)
    orphans = config.stash.get(ORPHANS, [])
    if orphans:
        terminalreporter.write_line(f"orphaned cassettes (their rows are gone from the documents): {len(orphans)}")
        for path in orphans:
            terminalreporter.write_line(f"    {_relative(path, config.rootpath)}")


def _case(item: pytest.Item) -> dict[str, Any] | None:
    mark = item.get_closest_marker("talkqa_case")
    return mark.args[0] if mark else None


def backend_name(config: pytest.Config) -> str:
    """The backend asked for: an explicit ``--talkqa-backend``, ``simulators`` when recording, else
    ``auto`` (decided per module: its cassettes when it has any, the simulators otherwise)."""
    chosen = config.getoption("--talkqa-backend")
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
    folder = module_path.parent / "cassettes" / module_path.stem
    return folder.is_dir() and any(folder.glob("*.yaml"))


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
        path = Path(str(item.fspath))
        if chosen == "auto":
            mode = decided.get(str(path))
            if mode is None:
                # an external sync cannot be replayed (it is another process): it always runs live
                replay = has_recordings(path) and config.getoption("--talkqa-sut") == "reference"
                mode = decided[str(path)] = "cassettes" if replay else "simulators"
        else:
            mode = chosen
        item.stash[MODE] = mode
        # failures and reports point at the document row, as a QA engineer reads it
        item.location = (case["document"], case["line"] - 1, item.location[2])  # type: ignore[misc]
        item.user_properties += [
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


@pytest.hookimpl(optionalhook=True)
def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    from talkqa.runtime.cassettes import talkqa_query

    vcr.register_matcher("talkqa_query", talkqa_query)


class Backends:
    """The run's backends, made on first use (a replay-only run starts no simulator)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._made: dict[str, Backend] = {}

    def get(self, name: str) -> Backend:
        if name not in self._made:
            from generator.model import document_from_json
            from talkqa.runtime.backends import BACKENDS

            documents = [document_from_json(d) for d in self.config.stash.get(DOCUMENTS, [])]
            self._made[name] = BACKENDS[name](
                sut=self.config.getoption("--talkqa-sut"), documents=documents, recording=recording(self.config)
            )
        return self._made[name]

    def made(self) -> list[Backend]:
        return list(self._made.values())

    def close(self) -> None:
        for backend in self._made.values():
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


def reproduce_command(item: pytest.Item) -> str:
    parts = ["pytest", item.nodeid, f"--talkqa-backend={item_backend(item)}"]
    sut = item.config.getoption("--talkqa-sut")
    if sut and sut != "reference":
        parts.append(f"--talkqa-sut={sut}")
    return shlex.join(parts)


@pytest.fixture
def talkqa_check(
    request: pytest.FixtureRequest, talkqa_backend: Backend, tmp_path: Any
) -> Iterator[Callable[[dict[str, Any], dict[str, Any]], None]]:
    from vcr.errors import CannotOverwriteExistingCassetteException

    from generator.model import document_from_json
    from talkqa.runtime.checks import CHECKS, ChecklistFailure, Unsupported

    benches = []

    def run(document: dict[str, Any], case: dict[str, Any]) -> None:
        missing = recording_missing(request, case)
        try:
            bench = talkqa_backend.bench(document_from_json(document), tmp_path, flow=case.get("flow"))
            benches.append(bench)
            CHECKS[case["kind"]](bench, case)
            check_all_played(request)
        except Unsupported as exc:
            pytest.skip(f"{case['document']}:{case['line']}: {exc}")
        except ChecklistFailure as exc:
            raise ChecklistFailure(f"{exc}\n  reproduce: {reproduce_command(request.node)}") from None
        except CannotOverwriteExistingCassetteException as exc:
            if missing:
                pending(request, case)
            missing_recording(request, case, exc)

    yield run
    for bench in benches:
        bench.close()


def cassette_file(item: pytest.Item, name: str | None = None) -> Path:
    """Where pytest-recording keeps the cassette of ``item`` (or of the test named ``name`` beside it)."""
    from pytest_recording.plugin import get_default_cassette_name

    module = Path(str(item.fspath))
    return module.parent / "cassettes" / module.stem / f"{get_default_cassette_name(None, name or item.name)}.yaml"


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
    if request.config.getoption("--talkqa-strict"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def orphaned_cassettes(items: list[pytest.Item]) -> list[Path]:
    """Cassettes in the folders of the collected generated modules that no case of theirs uses."""
    expected: set[Path] = set()
    folders: set[Path] = set()
    seen_modules: set[str] = set()
    for item in items:
        module = getattr(item, "module", None)
        if _case(item) is None or module is None or module.__name__ in seen_modules:
            continue
        seen_modules.add(module.__name__)
        for kind, cases in getattr(module, "CASES", {}).items():
            for case in cases:
                expected.add(cassette_file(item, f"test_{kind}[{case['id']}]"))
        folders.add(cassette_file(item).parent)
    return sorted(p for folder in folders if folder.is_dir() for p in folder.glob("*.yaml") if p not in expected)


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

    missing = unplayed(cassette)
    shown = "\n    ".join(missing[:5])
    pytest.fail(
        f"{case['document']}:{case['line']}: {case['flow_title']} [{case['id']}]\n"
        f"  the sync made fewer requests than were recorded: {len(missing)} not replayed, e.g.\n    {shown}\n"
        f"  reproduce: {reproduce_command(request.node)}",
        pytrace=False,
    )


def missing_recording(request: pytest.FixtureRequest, case: dict[str, Any], exc: Exception) -> None:
    document = case["document"]
    pytest.fail(
        f"{document}:{case['line']}: {case['flow_title']} [{case['id']}]\n"
        f"  the sync made a request its recording does not hold (it behaves differently from when it was\n"
        f"  recorded: a conformance failure, unless the sync changed on purpose; then re-record):\n"
        f"  {str(exc).strip().splitlines()[0]}\n"
        + "\n".join("  " + ln for ln in str(exc).strip().splitlines()[1:6] if ln.strip())
        + f"\n  re-record: talkqa record {shlex.quote(document)}   (or: pytest {shlex.quote(request.node.nodeid)} "
        "--record-mode=rewrite)",
        pytrace=False,
    )


@pytest.fixture
def talkqa_fuzz(
    request: pytest.FixtureRequest, talkqa_backend: Backend, tmp_path: Any
) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    from vcr.errors import CannotOverwriteExistingCassetteException

    from generator.model import document_from_json
    from talkqa.runtime.checks import ChecklistFailure, Unsupported
    from talkqa.runtime.fuzz import run_fuzz

    def run(document: dict[str, Any], case: dict[str, Any]) -> None:
        missing = recording_missing(request, case)
        try:
            run_fuzz(request, talkqa_backend, document_from_json(document), case, tmp_path)
        except Unsupported as exc:
            pytest.skip(f"{case['document']}:{case['line']}: {exc}")
        except ChecklistFailure as exc:
            # the same exception object: Hypothesis' notes (the minimal failing value) stay attached
            exc.args = (f"{exc.args[0] if exc.args else exc}\n  reproduce: {reproduce_command(request.node)}",)
            raise
        except CannotOverwriteExistingCassetteException as exc:
            if missing:
                pending(request, case)
            missing_recording(request, case, exc)

    return run


def _relative(path: Path, root: Path) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return path
