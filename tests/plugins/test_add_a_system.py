"""Adding a system, exactly as docs/systems.md says: the toy CRM plugin (``tests/plugins/toycrm.py``).

* registered at run time (:func:`talkqa.systems.registry.register`, from a ``-p`` pytest plugin), three
  documents naming it are generated and run end to end against the simulators, then recorded and
  replayed from cassettes: every row checkable passes;
* its entity is served by the plugin, another entity of the same system by the generic system, and the
  target side of a ``toycrm-toycrm`` document is a second tenant;
* found through an entry point of an installed distribution (a ``.dist-info`` on ``sys.path``), and a
  broken entry point is reported by :func:`~talkqa.systems.registry.load_errors` without breaking the
  other systems.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator.parser import parse_file
from talkqa.cli import main
from talkqa.clock import FakeClock
from talkqa.runtime.results import load
from talkqa.systems import registry
from talkqa.systems.base import NotConfigured, SystemKey
from talkqa.systems.generic import GenericSystem
from talkqa.systems.generic.connector import GenericConnector
from talkqa.systems.run import Systems
from tests.plugins import toycrm

ROOT = Path(__file__).resolve().parents[2]
REGISTER = "tests.plugins.toycrm_pytest"  # ``-p`` plugin: registry.register(toycrm.plugin) at import


def _doc(source: str, target: str, sections: str) -> str:
    title = f"{source} to {target} Dataflow"
    return (f"{'=' * len(title)}\n{title}\n{'=' * len(title)}\n\nGenerated: 2024-01-01 00:00:00\n\n"
            "Introduction\n------------\n\n"
            f"This technical document provides a detailed overview of the Sesam Talk data flow from {source} to "
            f"{target}.\n\n{sections}")


def _section(source: str, target: str, policy: str, rows: list[tuple[str, str, str]], *, two_way: bool) -> str:
    heading = f"{source} to {target}"
    text = f"{heading}\n{'-' * len(heading)}\n{policy}\n\n"
    if two_way:
        text += (f"Once a link between a {source} and a {target} is established, it will keep in sync between the "
                 "two systems, regardless of where it is edited.\n\n")
    text += (f"The following properties are synchronized between a {source} and a {target}:\n\n"
             ".. list-table::\n   :header-rows: 1\n\n"
             f"   * - {source} Property\n     - {target} Property\n     - {target.split()[0]} Data Type\n")
    return text + "".join(f"   * - {s}\n     - {t}\n     - \"{ty}\"\n" for s, t, ty in rows) + "\n"


DOCUMENTS = {
    # Ledger (no plugin: the generic system) -> the toy's Person (the plugin) and Company (generic)
    "ledger-toycrm.rst": _doc("Ledger", "Toycrm", _section(
        "Ledger Contact", "Toycrm Person", "Every Ledger Contact will be synchronized with a Toycrm Person.",
        [("fullName", "name", "string"), ("email", "email", "string"),
         ("id", "ledgerId", "string"),  # id -> X: Person.ledgerId holds the Contact's id
         ("toycrmId", "id", "integer")],  # X -> id: two-way, so Contact.toycrmId learns the Person's id
        two_way=True) + _section(
        "Ledger Organisation", "Toycrm Company", "Every Ledger Organisation will be synchronized with a Toycrm "
        "Company.", [("name", "companyName", "string")], two_way=False)),
    # a conditional flow (the wording "is of type X", its field named by the toy's profile) and a conditional row
    "toycrm-ledger.rst": _doc("Toycrm", "Ledger", _section(
        "Toycrm Person", "Ledger Contact", "When a Toycrm Person is of type Agent, it will be synchronized with a "
        "Ledger Contact.", [("name", "fullName", "string"),
                            ("email", "email (Dependant on having work in emailKind)", "string")], two_way=False)),
    # the same system on both sides: the target is a second tenant (toycrm#target)
    "toycrm-toycrm.rst": _doc("Toycrm", "Toycrm", _section(
        "Toycrm Person", "Toycrm Person", "Every Toycrm Person will be synchronized with a Toycrm Person.",
        [("name", "name", "string"), ("email", "email", "string"), ("id", "ledgerId", "string")], two_way=False)),
}
#: the toy's profile: which field "is of type X" reads (docs/systems.md, "Conditions")
PROFILE = '[conventions]\ntype_field = "role"\n'

#: what the toy run may skip, by case id: the reasons of docs/systems.md, "Rows that are not checked"
EXPECTED_SKIPS = {
    ("fuzz", "Contact.id->Person.ledgerId[forward]"): "identifier row: the systems assign ids, so there is no value",
    ("fuzz", "Contact.id<-Person.ledgerId[reverse]"): "identifier row: the systems assign ids, so there is no value",
    ("mapping", "Contact.toycrmId<-Person.id[reverse]"): "identifier row: ids are assigned by each system",
    ("fuzz", "Person.email->Contact.email[forward]"): "conditional row: its mapping test checks it with the "
                                                      "condition held and not held",
    ("fuzz", "Person.id->Person.ledgerId[forward]"): "identifier row: the systems assign ids, so there is no value",
    # the checks beyond one value per row (docs/generated-suite.md), where they cannot apply:
    ("link", "Contact->Person[every-record-once]"): "volume: the toycrm Person connector states no page size",
    ("link", "Person->Person[every-record-once]"): "volume: the toycrm Person connector states no page size",
    ("link", "Person->Contact[clears-both-ways]"): "line 24 (name -> fullName): Person.name is required",
    ("link", "Contact->Person[sparse-records]"): "sparse records: no row of this flow can be tried",
    ("link", "Organisation->Company[sparse-records]"): "no nested object on either side",
    ("link", "Person->Contact[sparse-records]"): "no nested object on either side",
    ("link", "Person->Person[sparse-records]"): "no nested object on either side",
    **{("link", f"{pair}[conflicting-edits]"): "conflicting edits: a one-way flow carries no target edit back"
       for pair in ("Organisation->Company", "Person->Contact", "Person->Person")},
}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``spec/`` with the three documents, ``profiles/toycrm.toml``, and the generated ``suite/``."""
    base = tmp_path_factory.mktemp("toycrm")
    (base / "spec").mkdir()
    for name, text in DOCUMENTS.items():
        (base / "spec" / name).write_text(text, encoding="utf-8")
    (base / "profiles").mkdir()
    (base / "profiles" / "toycrm.toml").write_text(PROFILE, encoding="utf-8")
    done = CliRunner().invoke(main, ["generate", str(base / "spec"), "--out", str(base / "suite")],
                              env={"TALKQA_CACHE_DIR": str(base / "cache")})
    assert done.exit_code == 0, done.output
    return base


def run_suite(base: Path, name: str, *args: str) -> list[dict[str, Any]]:
    """Run the generated suite in a pytest subprocess with the toy registered; its results JSON."""
    results = base / f"{name}.json"
    env = {**os.environ, "TALKQA_PROFILES": str(base / "profiles"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(base / "suite"), "-p", "no:cacheprovider", "-q", "-p", REGISTER,
         f"--talkqa-results={results}", "--talkqa-fuzz-profile=ci", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
    )
    assert results.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return load(results)


def outcomes(results: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["kind"], r["case_id"]): r for r in results}


@pytest.fixture(scope="module")
def simulated(base: Path) -> dict[tuple[str, str], dict[str, Any]]:
    return outcomes(run_suite(base, "simulators", "--talkqa-backend=simulators"))


def test_every_checkable_row_of_the_toy_documents_passes_against_the_simulators(
    simulated: dict[tuple[str, str], dict[str, Any]],
) -> None:
    failed = {k: r["message"] for k, r in simulated.items() if r["outcome"] not in ("passed", "skipped")}
    assert not failed, failed
    skipped = {k: r["message"] for k, r in simulated.items() if r["outcome"] == "skipped"}
    assert set(skipped) == set(EXPECTED_SKIPS), skipped
    for key, reason in EXPECTED_SKIPS.items():
        assert reason in skipped[key], (key, skipped[key])
    # every row is checked in its forward direction, the link checks of every flow pass
    rows = {(r["document"], r["line"]) for r in simulated.values() if r["kind"] == "mapping"}
    forward = {(r["document"], r["line"]) for r in simulated.values()
               if r["kind"] == "mapping" and r["direction"] == "forward" and r["outcome"] == "passed"}
    assert forward == rows and len(rows) == 10
    links = [r for k, r in simulated.items() if r["kind"] == "link" and k not in EXPECTED_SKIPS]
    assert len(links) == 12 + 13 and all(r["outcome"] == "passed" for r in links)
    # the conditional flow's third check, the conditional row, the plugin's id both ways, the generic Company
    assert simulated[("link", "Person->Contact[skips-when-condition-fails]")]["outcome"] == "passed"
    assert simulated[("mapping", "Person.email->Contact.email[forward]")]["outcome"] == "passed"
    assert simulated[("mapping", "Contact.id->Person.ledgerId[forward]")]["outcome"] == "passed"
    assert simulated[("mapping", "Contact.toycrmId->Person.id[forward]")]["outcome"] == "passed"
    assert simulated[("mapping", "Organisation.name->Company.companyName[forward]")]["outcome"] == "passed"
    assert simulated[("link", "Person->Person[creates-one-per-source]")]["outcome"] == "passed"  # two tenants


@pytest.fixture(scope="module")
def replayed(base: Path) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[tuple[str, str], dict[str, Any]]]:
    """The mapping and link tests recorded against the simulators, then replayed from the cassettes."""
    recorded = outcomes(run_suite(base, "record", "--talkqa-backend=simulators", "--record-mode=rewrite",
                                  "-m", "not fuzz"))
    return recorded, outcomes(run_suite(base, "replay", "--talkqa-backend=cassettes", "-m", "not fuzz"))


def test_recorded_cassettes_replay_at_the_invalid_hosts_and_hold_no_key(
    base: Path, replayed: tuple[dict[tuple[str, str], dict[str, Any]], dict[tuple[str, str], dict[str, Any]]],
) -> None:
    recorded, replay = replayed
    passed = {k for k, r in recorded.items() if r["outcome"] == "passed"}
    assert len(passed) == 25 + 13  # 13 of the checks beyond one value per row apply to the toy documents
    assert {k for k, r in replay.items() if r["outcome"] == "passed"} == passed
    cassettes = list((base / "suite" / "cassettes").rglob("*.json"))
    text = "".join(p.read_text(encoding="utf-8") for p in cassettes)
    assert "http://toycrm.talkqa.local/main/people" in text and "http://toycrm.talkqa.local/target/people" in text
    assert "toy-key-not-secret" not in text  # the key went to the client's redactor: scrubbed by value
    keys = {v for p in cassettes for i in json.loads(p.read_text(encoding="utf-8"))["interactions"]
            for v in i["request"]["headers"].get("x-api-key", [])}
    assert keys == {"REDACTED"}


def test_a_replay_has_no_pending_row(
    replayed: tuple[dict[tuple[str, str], dict[str, Any]], dict[tuple[str, str], dict[str, Any]]],
) -> None:
    _recorded, replay = replayed
    assert {k: r["message"] for k, r in replay.items() if r["outcome"] == "pending"} == {}


# -- in process: who serves what -----------------------------------------------------------------------


@pytest.fixture
def toy_registered() -> Iterator[None]:
    registry.register(toycrm.plugin)
    try:
        yield
    finally:
        registry.unregister(toycrm.SLUG)


def test_the_plugin_serves_its_entity_and_the_generic_system_the_rest(base: Path, toy_registered: None) -> None:
    docs = [parse_file(base / "spec" / name) for name in DOCUMENTS]
    systems = Systems(docs, clock=FakeClock())
    try:
        assert registry.plugin("toycrm") is toycrm.plugin
        assert systems.plugin_for(SystemKey("toycrm"), "Person") is toycrm.plugin
        assert systems.plugin_for(SystemKey.parse("toycrm#target"), "Person") is toycrm.plugin
        assert isinstance(systems.plugin_for(SystemKey("toycrm"), "Company"), GenericSystem)
        assert isinstance(systems.plugin_for(SystemKey("ledger"), "Contact"), GenericSystem)
        assert systems.describe(docs[0]) == [
            ("ledger", "Contact", "generic (from the documents)"), ("toycrm", "Person", "Toy CRM"),
            ("ledger", "Organisation", "generic (from the documents)"),
            ("toycrm", "Company", "generic (from the documents)"),
        ]
        binding = systems.bind(docs[2])  # toycrm-toycrm
        source, target = binding.resolve("toycrm", "Person"), binding.resolve("toycrm#target", "Person")
        assert isinstance(source, toycrm.PersonConnector) and isinstance(target, toycrm.PersonConnector)
        assert (source.url, target.url) == (f"{toycrm.ORIGIN}/main/people", f"{toycrm.ORIGIN}/target/people")
        made = source.create({"name": "Ada"})
        assert target.find_by_external_ref("nothing") is None and list(target.iter_all()) == []
        assert source.get(made) == {"id": 1, "name": "Ada"}
        binding.close()
        company = systems.bind(docs[0]).resolve("toycrm", "Company")
        assert isinstance(company, GenericConnector) and set(company.fields) == {"id", "companyName"}
    finally:
        systems.close()
    assert registry.plugin("toycrm") is toycrm.plugin
    registry.unregister("toycrm")
    assert registry.plugin("toycrm") is None
    unregistered = Systems(docs, clock=FakeClock())
    assert isinstance(unregistered.plugin_for(SystemKey("toycrm"), "Person"), GenericSystem)


def test_settings_come_from_its_prefix_and_reach_an_external_sync(base: Path, toy_registered: None) -> None:
    plugin = toycrm.plugin
    second = SystemKey.parse("toycrm#target")
    assert plugin.env_prefix(SystemKey("toycrm")) == "TALKQA_TOYCRM_"
    assert plugin.env_prefix(second) == "TALKQA_TOYCRM_TARGET_"
    docs = [parse_file(base / "spec" / "toycrm-toycrm.rst")]
    unset = (r"toycrm#target \(Toy CRM\) is not configured: set TALKQA_TOYCRM_TARGET_\* variables "
             r"\(see docs/systems.md\)")
    with pytest.raises(NotConfigured, match=unset):
        Systems(docs, mode="live", env={"TALKQA_TOYCRM_URL": "https://toy.example"}).bind(docs[0]).resolve(
            "toycrm#target", "Person")
    env = {"TALKQA_TOYCRM_URL": "https://toy.example/a", "TALKQA_TOYCRM_API_KEY": "k-first",
           "TALKQA_TOYCRM_TARGET_URL": "https://toy.example/b", "TALKQA_TOYCRM_TARGET_API_KEY": "k-second"}
    first = plugin.config_from_env(SystemKey("toycrm"), env)
    assert first is not None and (first.url, first.api_key.reveal()) == ("https://toy.example/a", "k-first")
    other = plugin.config_from_env(second, env)
    assert other is not None and (other.url, other.api_key.reveal()) == ("https://toy.example/b", "k-second")
    # what command_env hands an external sync reads back as the same config
    assert plugin.config_from_env(second, plugin.command_env(second, other)) == toycrm.ToyConfig(
        "https://toy.example/b", other.api_key)
    assert plugin.replay_config(second).url == "http://toycrm.talkqa.invalid/target"


# -- entry points -----------------------------------------------------------------------------------------

PROBE = """
import json
from talkqa.systems import registry
from talkqa.systems.base import SystemKey
from talkqa.systems.run import Systems

systems = Systems([])
print(json.dumps({
    "plugins": {slug: type(p).__module__ + "." + type(p).__name__ for slug, p in registry.plugins().items()},
    "errors": registry.load_errors(),
    "serves": {f"{slug}/{entity}": systems.plugin_for(SystemKey(slug), entity).slug
               for slug, entity in (("exact", "Contacts"), ("powerofficego", "Contactperson"),
                                    ("toycrm", "Person"), ("toycrm", "Company"))},
}))
"""


def install(site: Path, name: str, entry_points: dict[str, str]) -> None:
    """What installing a distribution leaves for importlib.metadata: a ``.dist-info`` with its entry points."""
    info = site / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n", encoding="utf-8")
    lines = "".join(f"{key} = {value}\n" for key, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{registry.GROUP}]\n{lines}", encoding="utf-8")


def probe(site: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=site, capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_an_installed_distribution_is_found_through_its_entry_point(tmp_path: Path) -> None:
    install(tmp_path, "talkqa_toycrm", {"toycrm": "tests.plugins.toycrm:plugin"})
    found = probe(tmp_path)
    assert found["errors"] == []
    assert found["plugins"] == {
        "exact": "talkqa.systems.exact.ExactPlugin",
        "powerofficego": "talkqa.systems.powerofficego.PowerOfficePlugin",
        "toycrm": "tests.plugins.toycrm.ToyCrmPlugin",
    }
    assert found["serves"] == {"exact/Contacts": "exact", "powerofficego/Contactperson": "powerofficego",
                               "toycrm/Person": "toycrm", "toycrm/Company": "generic"}


def test_a_broken_entry_point_is_reported_and_breaks_no_other_system(tmp_path: Path) -> None:
    (tmp_path / "toy_broken.py").write_text("raise RuntimeError('broken on purpose')\n", encoding="utf-8")
    install(tmp_path, "talkqa_broken", {"broken": "toy_broken:plugin", "notaplugin": "string:ascii_letters",
                                        "toycrm": "tests.plugins.toycrm:ToyCrmPlugin"})  # a class works too
    found = probe(tmp_path)
    assert found["errors"] == [
        "entry point talkqa.systems:broken failed to load: RuntimeError: broken on purpose",
        "entry point talkqa.systems:notaplugin is not a SystemPlugin (str)",
    ]
    assert set(found["plugins"]) == {"exact", "powerofficego", "toycrm"}
    assert found["serves"]["exact/Contacts"] == "exact" and found["serves"]["toycrm/Person"] == "toycrm"
