"""The simulators' state file as snapshot + journal: what is read back always equals the state in
memory (after every step of a real workload over HTTP), a write appends a line whatever the size,
the file is compacted, a torn last line is ignored, the old one-object format still loads, and the
state survives a SIGKILLed ``talkqa simulate``."""

from __future__ import annotations

import copy
import dataclasses
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from talkqa.clock import FakeClock
from talkqa.connectors.config import Endpoints
from talkqa.connectors.registry import Connections, connector_for
from talkqa.simulators.core import Simulator
from talkqa.simulators.launcher import Simulators, start_simulators
from talkqa.simulators.state import FORMAT_KEY, StateJournal, Tracked


def persisted(sim: Simulator) -> dict[str, Any]:
    """What a restarted simulator would read (no file yet: its empty state)."""
    assert sim.state_file is not None
    loaded = StateJournal(sim.state_file).load()
    return sim.empty_state() if loaded is None else loaded


def live(sim: Simulator) -> dict[str, Any]:
    return json.loads(json.dumps(sim.state))


def assert_persisted(sims: Simulators, step: str) -> None:
    for sim in (sims.poweroffice, sims.exact):
        assert persisted(sim) == live(sim), f"{sim.slug}: the state file differs from memory after {step}"


# -- the journal itself ----------------------------------------------------------------------------------


def journal_state(tmp_path: Path, **options: Any) -> tuple[StateJournal, Tracked]:
    journal = StateJournal(tmp_path / "state.json", **options)
    state = journal.attach({"collections": {"people": {}}, "auth": {"tokens": {}}, "meta": {}})
    journal.flush(state)  # the first flush writes the snapshot
    return journal, state


def test_every_kind_of_change_is_journaled(tmp_path: Path) -> None:
    journal, state = journal_state(tmp_path)
    people = state["collections"]["people"]
    people["1"] = {"name": "Ann", "tags": ["a"]}
    people["2"] = {"name": "Bob"}
    state["meta"]["next"] = 3
    state["auth"]["tokens"]["t1"] = 100.0
    journal.flush(state)
    people["1"]["name"] = "Anna"  # in place, after a read
    people.get("1")["tags"].append("b")  # type: ignore[index]
    del people["2"]
    people.setdefault("3", {"name": "Cy"})
    state["meta"].update(next=4, other="x")
    assert state["auth"]["tokens"].pop("t1") == 100.0
    state["meta"].setdefault("cursors", {})["c1"] = [1, 2]  # a new container, then an entry in it
    state["collections"]["places"] = {"p": {"city": "Oslo"}}  # a new table
    journal.flush(state)
    assert journal.load() == json.loads(json.dumps(state))
    assert journal.compactions == 1, "all of this was appended, not rewritten"
    state["collections"]["places"].clear()
    state["meta"]["cursors"]["c2"] = [3]
    journal.flush(state)
    assert journal.load() == json.loads(json.dumps(state))


def test_a_read_that_changed_nothing_writes_nothing(tmp_path: Path) -> None:
    journal, state = journal_state(tmp_path)
    state["collections"]["people"]["1"] = {"name": "Ann"}
    journal.flush(state)
    before = journal.path.read_bytes()
    assert state["collections"]["people"]["1"]["name"] == "Ann"
    journal.flush(state)
    assert journal.path.read_bytes() == before


def test_a_write_appends_about_one_record_whatever_the_size(tmp_path: Path) -> None:
    journal, state = journal_state(tmp_path, compact_min_bytes=1 << 30)
    people = state["collections"]["people"]
    sizes = []
    for n in range(3000):
        people[str(n)] = {"name": f"Person {n}", "city": "Oslo", "n": n}
        journal.flush(state)
        if n in (10, 2999):
            sizes.append(journal.sizes[1])
            people[str(n)]["city"] = "Bergen"
            journal.flush(state)
            sizes[-1] = journal.sizes[1] - sizes[-1]
    assert sizes[0] == sizes[1] - 3 * (len("2999") - len("10")), f"bytes per update: {sizes}"
    assert journal.compactions == 1
    assert journal.load() == json.loads(json.dumps(state))


def test_the_journal_is_compacted_once_it_outgrows_the_snapshot(tmp_path: Path) -> None:
    journal, state = journal_state(tmp_path, compact_min_bytes=10_000)
    people = state["collections"]["people"]
    for n in range(2000):
        people[str(n % 50)] = {"name": f"Person {n}"}
        journal.flush(state)
        snapshot, appended = journal.sizes
        assert appended <= max(10_000, snapshot) + 200
    assert journal.compactions > 2
    assert journal.path.stat().st_size < 20_000, "compaction keeps the file near the size of the state"
    assert journal.load() == json.loads(json.dumps(state))


def test_a_torn_last_line_is_ignored_and_a_corrupt_middle_line_is_not(tmp_path: Path) -> None:
    journal, state = journal_state(tmp_path)
    state["collections"]["people"]["1"] = {"name": "Ann"}
    journal.flush(state)
    good = journal.load()
    path = journal.path
    path.write_bytes(path.read_bytes() + b'{"s":["collections","people","2"],"v":{"na')  # killed mid-write
    assert StateJournal(path).load() == good
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join([lines[0], b"{not json", *lines[1:]]))
    with pytest.raises(ValueError, match=r"state.json:2: corrupt"):
        StateJournal(path).load()


def test_the_old_one_object_format_still_loads(tmp_path: Path) -> None:
    old = {"auth": {"tokens": {"abc": 1.0}}, "collections": {"people": {"1": {"name": "Ann"}}}, "meta": {"n": 2}}
    path = tmp_path / "state.json"
    path.write_text(json.dumps(old, sort_keys=True), encoding="utf-8")
    journal = StateJournal(path)
    assert journal.load() == old
    state = journal.attach(journal.load() or {})
    state["collections"]["people"]["2"] = {"name": "Bob"}
    journal.flush(state)  # the first write after loading rewrites the file in the new format
    assert json.loads(path.read_text(encoding="utf-8").splitlines()[0])[FORMAT_KEY] == 1
    assert journal.load() == {**old, "collections": {"people": {"1": {"name": "Ann"}, "2": {"name": "Bob"}}}}


def test_copies_of_tracked_state_are_plain(tmp_path: Path) -> None:
    _, state = journal_state(tmp_path)
    state["collections"]["people"]["1"] = {"name": "Ann"}
    deep = copy.deepcopy(state["collections"])
    assert type(deep) is dict and type(deep["people"]) is dict and deep == {"people": {"1": {"name": "Ann"}}}
    assert type(copy.copy(state["meta"])) is dict


# -- a real workload ------------------------------------------------------------------------------------


@pytest.fixture
def sims(tmp_path: Path) -> Iterator[Simulators]:
    launcher = start_simulators(clock=FakeClock(), rate_limits=False, state_dir=tmp_path / "state")
    try:
        yield launcher
    finally:
        launcher.stop()


def test_the_file_equals_memory_after_every_step_of_a_workload(sims: Simulators, tmp_path: Path) -> None:
    clock = sims.clock
    assert isinstance(clock, FakeClock)
    assert_persisted(sims, "start")
    parent = sims.poweroffice.admin.seed("customers", {"name": "Parent"})["id"]
    for i in range(130):  # more than two Exact pages: paging cursors are state too
        sims.exact.admin.seed("contacts", {"FirstName": f"F{i}", "LastName": f"L{i}"})
        clock.advance(0.001)
    assert_persisted(sims, "seeding")
    ep = Endpoints.from_simulators(sims, rate_limits=False, token_store=tmp_path / "tokens.json",
                                   v1_parent=f"Customer:{parent}")  # fmt: skip
    assert ep.exact is not None
    consent = dataclasses.replace(ep, exact=dataclasses.replace(ep.exact, refresh_token=None))
    with Connections(consent, clock=clock) as conns:
        v1 = connector_for("powerofficego", "Contactperson", consent, connections=conns)
        v2 = connector_for("powerofficego", "Suppliers person", consent, connections=conns)
        ex = connector_for("exact", "Contacts", consent, connections=conns)
        person = v1.create({"firstName": "Ann", "lastName": "Aas"}, external_ref="r1")
        supplier = v2.create({"FirstName": "Siv", "LastName": "Sand"}, external_ref="r2")
        contact = ex.create({"FirstName": "Per", "LastName": "Pan"}, external_ref="r3")
        assert_persisted(sims, "creates (tokens, consent code)")
        v1.update(person, {"city": "Oslo"})
        v2.update(supplier, {"LastName": "Strand"})
        ex.update(contact, {"City": "Bergen"})
        assert_persisted(sims, "updates")
        assert len(list(ex.iter_all())) == 131  # reads: the paging cursors are saved with the next write
        clock.advance(700)  # every access token expires: refreshes rotate the Exact tokens
        ex.update(contact, {"City": "Molde"})
        v2.update(supplier, {"FirstName": "Sivert"})
        assert sims.exact.state["meta"]["cursors"], "paging left cursors to save"
        assert_persisted(sims, "paging, then a token refresh and writes")
    sims.exact.age_tokens(60)
    assert_persisted(sims, "ageing tokens in place")
    record = sims.exact.admin.records("contacts")[0]
    response = httpx.delete(
        f"{sims.exact.url}/api/v1/{sims.credentials['exact']['division']}/crm/Contacts(guid'{record['ID']}')",
        headers={"Authorization": f"Bearer {_access_token(sims)}"},
    )
    assert response.status_code == 204
    assert_persisted(sims, "a delete")
    sims.reset()
    assert_persisted(sims, "reset")


def _access_token(sims: Simulators) -> str:
    refresh = sims.exact.issue_refresh_token()
    return str(sims.exact.state["auth"]["refresh"][refresh]["access"])


def test_the_state_survives_a_killed_simulate(tmp_path: Path) -> None:
    state_dir, info = tmp_path / "state", tmp_path / "sims.json"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from talkqa.cli import main; main()", "simulate", "--no-rate-limits",
         "--state-dir", str(state_dir), "--info-file", str(info)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # blocks until the command has printed its credentials; no sleeping
            if line.startswith("(fake credentials"):
                break
        data = json.loads(info.read_text(encoding="utf-8"))
        ex = data["credentials"]["exact"]
        token = httpx.post(data["exact"]["token_url"], data={
            "grant_type": "refresh_token", "refresh_token": ex["refresh_token"],
            "client_id": ex["client_id"], "client_secret": ex["client_secret"]}).json()  # fmt: skip
        url = f"{data['exact']['api_url']}/{ex['division']}/crm/Contacts"
        with httpx.Client(headers={"Authorization": f"Bearer {token['access_token']}"}) as client:
            ids = [client.post(url, json={"FirstName": f"F{i}", "LastName": "K"}).json()["d"]["ID"]
                   for i in range(40)]  # fmt: skip
            assert client.put(f"{url}(guid'{ids[0]}')", json={"City": "Oslo"}).status_code == 204
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    again = start_simulators(rate_limits=False, state_dir=state_dir)
    try:
        contacts = again.exact.admin.state()["contacts"]
        assert sorted(contacts) == sorted(ids) and contacts[ids[0]]["City"] == "Oslo"
        assert token["refresh_token"] in again.exact.state["auth"]["refresh"], "rotated tokens survive too"
    finally:
        again.stop()
