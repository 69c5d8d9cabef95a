"""The pytest plugin behind generated talkqa suites (registered by entry point ``talkqa``).

It acts only on items of generated modules (those carrying a ``talkqa_case`` mark): it adds
their options and fixtures, points their location at the document row, records the row in
JUnit XML, turns :class:`Unsupported` into a skip with its reason, and prints the checklist
summary at the end of the run.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from talkqa.runtime.backends import Backend

#: Names of the backends (kept here so the plugin imports nothing heavy until a talkqa test runs).
BACKEND_NAMES = ("cassettes", "sandbox", "simulators")

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
        help="where HTTP goes: cassettes (replay, default), simulators (in-process), sandbox (TALKQA_* endpoints). "
        "Recording (--record-mode other than none) implies simulators.",
    )
    group.addoption(
        "--talkqa-sut",
        default="reference",
        help="the system under test: 'reference' (talkqa's reference sync) or 'command:<shell command>'",
    )


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)


def _case(item: pytest.Item) -> dict[str, Any] | None:
    mark = item.get_closest_marker("talkqa_case")
    return mark.args[0] if mark else None


def backend_name(config: pytest.Config) -> str:
    chosen = config.getoption("--talkqa-backend")
    recording = (getattr(config.option, "record_mode", None) or "none") != "none"
    if recording:
        if chosen not in (None, "simulators", "sandbox"):
            raise pytest.UsageError("recording cassettes needs --talkqa-backend=simulators or sandbox")
        return chosen or "simulators"
    return chosen or "cassettes"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    uses_cassettes = backend_name(config) == "cassettes" or (
        (getattr(config.option, "record_mode", None) or "none") != "none"
    )
    for item in items:
        case = _case(item)
        if case is None:
            continue
        # failures and reports point at the document row, as a QA engineer reads it
        item.location = (case["document"], case["line"] - 1, item.location[2])  # type: ignore[misc]
        item.user_properties += [
            ("document", case["document"]),
            ("line", str(case["line"])),
            ("flow", case["flow_title"]),
            ("kind", case["kind"]),
            ("direction", case["direction"]),
        ]
        if uses_cassettes:
            item.add_marker(pytest.mark.vcr)
            if backend_name(config) == "cassettes":
                item.add_marker(pytest.mark.block_network)


@pytest.fixture(scope="session")
def talkqa_backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    from talkqa.runtime.backends import BACKENDS

    name = backend_name(request.config)
    backend = BACKENDS[name](sut=request.config.getoption("--talkqa-sut"))
    yield backend
    backend.close()


def reproduce_command(item: pytest.Item) -> str:
    backend = item.config.getoption("--talkqa-backend")
    extra = f" --talkqa-backend={backend}" if backend else ""
    return f"pytest {shlex.quote(item.nodeid)}{extra}"


@pytest.fixture
def talkqa_check(
    request: pytest.FixtureRequest, talkqa_backend: Backend, tmp_path: Any
) -> Iterator[Callable[[dict[str, Any], dict[str, Any]], None]]:
    from generator.model import document_from_json
    from talkqa.runtime.checks import CHECKS, ChecklistFailure, Unsupported

    benches = []

    def run(document: dict[str, Any], case: dict[str, Any]) -> None:
        bench = talkqa_backend.bench(document_from_json(document), tmp_path)
        benches.append(bench)
        try:
            CHECKS[case["kind"]](bench, case)
        except Unsupported as exc:
            pytest.skip(f"{case['document']}:{case['line']}: {exc}")
        except ChecklistFailure as exc:
            raise ChecklistFailure(f"{exc}\n  reproduce: {reproduce_command(request.node)}") from None

    yield run
    for bench in benches:
        bench.close()


@pytest.fixture
def talkqa_fuzz(
    request: pytest.FixtureRequest, talkqa_backend: Backend, tmp_path: Any
) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    from generator.model import document_from_json
    from talkqa.runtime.checks import Unsupported
    from talkqa.runtime.fuzz import run_fuzz

    def run(document: dict[str, Any], case: dict[str, Any]) -> None:
        try:
            run_fuzz(request, talkqa_backend, document_from_json(document), case, tmp_path)
        except Unsupported as exc:
            pytest.skip(f"{case['document']}:{case['line']}: {exc}")

    return run
