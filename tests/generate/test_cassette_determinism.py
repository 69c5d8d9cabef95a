"""Cassettes are deterministic JSON: recording twice with no change in the sync writes the same bytes.

(a) The seed document recorded twice with ``talkqa record`` against the simulators (fresh processes,
so other random ports, other fake credentials, another wall-clock time), and a third time for two of
its tests only (``-k``: other tests before them, another clock history): the same files, byte for
byte, none naming a port of 127.0.0.1, and they replay.
(b) :func:`talkqa.runtime.cassettes.normalise` on cassettes written here by hand, and through vcrpy
with an httpx ``MockTransport`` standing for a server that hands out ids: two recordings that differ
only in what is volatile give the same text; a server id is renamed in the later request that uses it,
so the cassette still replays; a client's own id is kept; binary bodies survive.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr

from talkqa.clock import FakeClock, TickingClock
from talkqa.runtime.cassettes import JsonCassettes, normalise, register, vcr_settings
from tests.generate.helpers import REPO

SEED_DOCUMENT = "spec/powerofficego-exact.rst"
SUBSET = "LastName and reverse and mapping"  # two tests in the middle of the module


def record(out: Path, cache: Path, *args: str) -> dict[str, bytes]:
    proc = subprocess.run(
        [sys.executable, "-m", "talkqa", "record", SEED_DOCUMENT, "--out", str(out), *args],
        cwd=REPO, capture_output=True, text=True, timeout=900,
        env={**os.environ, "TALKQA_CACHE_DIR": str(cache), "PYTHONHASHSEED": "random"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    folder = out / "cassettes"
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], ...]:
    tmp = tmp_path_factory.mktemp("determinism")
    first = record(tmp / "first", tmp / "cache1")
    second = record(tmp / "second", tmp / "cache2")
    subset = record(tmp / "subset", tmp / "cache3", "-k", SUBSET)
    return first, second, subset


def test_recording_twice_writes_the_same_bytes(recordings: tuple[dict[str, bytes], ...]) -> None:
    first, second, _ = recordings
    committed = {str(p.relative_to(REPO / "generated_tests" / "cassettes"))
                 for p in (REPO / "generated_tests" / "cassettes").rglob("*.json")}
    # one cassette per test of the seed, as committed
    assert set(first) == committed and all(name.endswith(".json") for name in first), sorted(first)[:3]
    assert sorted(first) == sorted(second)
    changed = [name for name in first if first[name] != second[name]]
    assert not changed, f"{len(changed)} cassettes differ between two recordings, e.g. {changed[:3]}"


def test_a_test_recorded_alone_is_recorded_the_same(recordings: tuple[dict[str, bytes], ...]) -> None:
    first, _, subset = recordings
    assert len(subset) == 2
    for name, data in subset.items():
        assert data == first[name], f"{name}: recorded alone it differs from the full recording"


def test_nothing_volatile_is_left(recordings: tuple[dict[str, bytes], ...]) -> None:
    first, _, _ = recordings
    text = b"".join(first.values()).decode("ascii")  # ASCII only: vcrpy writes in the locale's encoding
    assert not re.search(r"127\.0\.0\.1:\d|localhost:\d", text)
    assert not re.search(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d \w{3} \d{4}", text), "an HTTP date"
    for name, data in first.items():
        cassette = json.loads(data)
        for i in cassette["interactions"]:
            headers = {h.lower() for h in i["request"]["headers"]} | {h.lower() for h in i["response"]["headers"]}
            assert not headers & {"date", "server", "host", "user-agent", "content-length"}, name


def test_the_recording_replays(recordings: tuple[dict[str, bytes], ...], tmp_path: Path) -> None:
    """The renamed cassettes replay (hosts, server ids and the division included): the mapping tests."""
    first, _, _ = recordings
    suite = tmp_path / "suite"
    for name, data in first.items():
        (suite / "cassettes" / name).parent.mkdir(parents=True, exist_ok=True)
        (suite / "cassettes" / name).write_bytes(data)
    for module in ("conftest.py", "test_powerofficego_exact.py"):
        (suite / module).write_bytes((REPO / "generated_tests" / module).read_bytes())
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(suite), "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         "-p", "no:xdist", "--talkqa-backend=cassettes", "-m", "not fuzz"],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert " passed" in proc.stdout and " failed" not in proc.stdout, proc.stdout[-1500:]
    assert "pending" not in proc.stdout, proc.stdout[-1500:]  # every test found its recording


# -- (b) the normalisation, on cassettes made here ----------------------------------------------------


class Server:
    """A server on a loopback port that hands out UUIDs and stamps its answers (an id it generated is
    read back by the client, which then asks for it by path)."""

    def __init__(self, port: int, seed: int) -> None:
        self.origin = f"http://127.0.0.1:{port}"
        self.ids = (str(uuid.UUID(int=seed * 1000 + n, version=4)) for n in itertools.count(1))
        self.client_id = f"sim-{seed:08x}"

    def answer(self, request: httpx.Request) -> httpx.Response:
        headers = {"date": f"Tue, 0{request.url.port % 9 + 1} Dec 2026 10:00:00 GMT", "server": "uvicorn",
                   "content-type": "application/json"}
        if request.url.path == "/items" and request.method == "POST":
            new = next(self.ids)
            body = {"ID": new, "self": f"{self.origin}/items(guid'{new}')"}
            return httpx.Response(201, json=body, headers={**headers, "location": f"{self.origin}/items/{new}"})
        return httpx.Response(200, json={"path": request.url.path, "query": str(request.url.query, "ascii")},
                              headers=headers)


CLIENT_OWN = "6f1c1a2b-0000-4000-8000-0000000000aa"  # an id the client sends first (a constant of its own)


def use(client: httpx.Client, origin: str, client_id: str, *, back: bool = True) -> None:
    client.post(f"{origin}/token", data={"grant_type": "refresh_token", "client_id": client_id})
    client.get(f"{origin}/types?type={CLIENT_OWN}")
    for _ in range(2):
        made = client.post(f"{origin}/items", json={"name": "x"}).json()["ID"]
        client.get(f"{origin}/items(guid'{made}')?expand=all")
    if back:  # a query naming the origin (percent-encoded): it cannot replay at another host
        client.get(f"{origin}/echo?back={origin.replace(':', '%3A').replace('/', '%2F')}")
    client.get(f"{origin}/echo?type={CLIENT_OWN}")


def record_with(tmp_path: Path, port: int, seed: int, *, back: bool = True) -> Path:
    server = Server(port, seed)
    path = tmp_path / f"run{seed}.json"
    with (
        register(vcr.VCR()).use_cassette(str(path), record_mode="all", **vcr_settings(recording=True)),
        httpx.Client(transport=httpx.MockTransport(server.answer)) as client,
    ):
        use(client, server.origin, server.client_id, back=back)
    return path


def test_two_recordings_differing_in_volatile_values_only_are_the_same(tmp_path: Path) -> None:
    one, two = record_with(tmp_path, 41111, 1), record_with(tmp_path, 52222, 2)
    assert "41111" not in one.read_text() and "sim-00000001" not in one.read_text()
    assert one.read_bytes() == two.read_bytes()


def test_a_server_id_is_renamed_wherever_it_appears_and_a_client_id_is_kept(tmp_path: Path) -> None:
    data = json.loads(record_with(tmp_path, 41111, 1).read_text())
    requests = [i["request"] for i in data["interactions"]]
    responses = [json.loads(i["response"]["body"]["string"]) for i in data["interactions"]]
    created = [r["ID"] for r in responses if "ID" in r]
    assert len(set(created)) == 2 and all(re.fullmatch(r"00000000-0000-4000-8000-\d{12}", c) for c in created)
    for made in created:  # the later request path carries the renamed id, as a replay will ask for it
        assert any(f"guid'{made}'" in r["uri"] for r in requests)
    assert f"type={CLIENT_OWN}" in requests[1]["uri"] and f"type={CLIENT_OWN}" in requests[-1]["uri"]
    assert "client_id=client-1" in requests[0]["body"]
    assert all(r["uri"].startswith("http://loopback-1.talkqa.invalid/") for r in requests)
    assert "back=http%3A%2F%2Floopback-1.talkqa.invalid" in requests[-2]["uri"]


def test_a_normalised_cassette_replays_a_client_that_follows_the_ids(tmp_path: Path) -> None:
    path = record_with(tmp_path, 41111, 1, back=False)
    never = httpx.MockTransport(lambda request: httpx.Response(599))
    with (
        register(vcr.VCR()).use_cassette(str(path), record_mode="none", **vcr_settings(recording=False)) as played,
        httpx.Client(transport=never) as client,
    ):
        use(client, "http://replay.talkqa.invalid", "replay", back=False)  # host and client id: not matched
        assert played.all_played


def test_normalising_again_changes_nothing_and_keeps_new_values_apart() -> None:
    def interaction(uri: str, body: str) -> dict[str, Any]:
        return {
            "request": {"method": "GET", "uri": uri, "body": None, "headers": {"host": ["x"]}},
            "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": body}},
        }

    server_id = "0f0e0d0c-1111-4222-8333-444455556666"
    once = normalise({"interactions": [interaction("http://127.0.0.1:9/a", json.dumps({"id": server_id}))]})
    assert normalise(once) == once
    # a raw value added later never takes a name already given
    other = "aaaaaaaa-1111-4222-8333-444455556666"
    more = normalise({"interactions": [*once["interactions"],
                                       interaction("http://127.0.0.1:7/b", json.dumps({"id": other}))]})
    uris = [i["request"]["uri"] for i in more["interactions"]]
    assert uris == ["http://loopback-1.talkqa.invalid/a", "http://loopback-2.talkqa.invalid/b"]
    bodies = [i["response"]["body"]["string"] for i in more["interactions"]]
    assert bodies[0] != bodies[1] and server_id not in "".join(bodies) and other not in "".join(bodies)


def test_a_binary_body_survives_the_json_format() -> None:
    raw = bytes(range(256))
    cassette = {"interactions": [{
        "request": {"method": "POST", "uri": "http://api.test/blob", "body": raw, "headers": {}},
        "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": b"\xff\xfe" + raw}},
    }]}  # fmt: skip
    text = JsonCassettes.serialize(cassette)
    text.encode("ascii")
    back = JsonCassettes.deserialize(text)["interactions"][0]
    assert back["request"]["body"] == raw and back["response"]["body"]["string"] == b"\xff\xfe" + raw


def test_a_fake_clock_rewinds_to_where_it_started() -> None:
    for clock in (FakeClock(start=100.0), TickingClock(start=100.0, tick=1.0)):
        first = clock.now()
        clock.advance(50)
        clock.now()
        clock.rewind()
        assert clock.now() == first
