"""The admin channel over HTTP, state-file persistence, server lifecycle and the simulate command."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sim_clients import ExactClient, PowerOfficeClient

from talkqa.clock import FakeClock, SystemClock
from talkqa.simulators.exact import ExactKeys, ExactSimulator
from talkqa.simulators.launcher import Simulators, start_simulators


def test_admin_over_http(simulators: Simulators) -> None:
    with httpx.Client(base_url=simulators.poweroffice.url) as http:
        seeded = http.post("/_admin/seed/suppliers", json={"Name": "Acme AS", "IsPerson": False})
        assert seeded.status_code == 201 and isinstance(seeded.json()["Id"], int)
        state = http.get("/_admin/state").json()
        assert list(state["suppliers"]) == [str(seeded.json()["Id"])]
        assert http.post("/_admin/seed/nothing", json={}).status_code == 404
        assert http.post("/_admin/settings", json={"v2_rate_per_second": 3}).json()["v2_rate_per_second"] == 3
        assert http.post("/_admin/settings", json={"nope": 1}).status_code == 400
        assert http.post("/_admin/settings", json={"v2_rate_per_second": "x"}).status_code == 400
        before = simulators.clock.now()
        assert http.post("/_admin/clock/advance", json={"seconds": 5}).json()["now"] == before + 5
        faults = http.post("/_admin/faults", json={"kind": "server_error", "path": "^/v2/", "count": 1})
        assert faults.status_code == 201 and faults.json()[0]["kind"] == "server_error"
        assert http.post("/_admin/faults", json={"kind": "bogus"}).status_code == 400
        po = PowerOfficeClient(simulators)
        assert po.request("GET", "/v2/Suppliers").status_code == 500
        log = http.get("/_admin/requests").json()
        assert [e["path"] for e in log] == ["/OAuth/Token", "/v2/Suppliers"]
        assert {"method", "path", "query", "status", "time", "fault"} <= set(log[-1])
        assert "authorization" not in json.dumps(log).lower()
        assert http.post("/_admin/reset").status_code == 200
        assert http.get("/_admin/state").json() == {"customers": {}, "suppliers": {}, "contactpersons": {}}
        assert http.get("/_admin/requests").json() == []
        assert http.get("/_admin/settings").json()["v2_rate_per_second"] == 10


def test_clock_advance_needs_a_fake_clock() -> None:
    sim = ExactSimulator(ExactKeys("c", "s", "http://127.0.0.1/cb", 1), clock=SystemClock())
    sim.start()
    try:
        r = httpx.post(f"{sim.url}/_admin/clock/advance", json={"seconds": 1})
        assert r.status_code == 409
    finally:
        sim.stop()


def test_reset_issues_a_working_refresh_token(simulators: Simulators) -> None:
    old = simulators.credentials["exact"]["refresh_token"]
    simulators.reset()
    assert simulators.credentials["exact"]["refresh_token"] != old
    ExactClient(simulators)  # refreshing with the new token succeeds at once


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    sims = start_simulators(clock=clock, state_dir=tmp_path)
    try:
        po, ex = PowerOfficeClient(sims), ExactClient(sims)
        supplier = po.request("POST", "/v2/Suppliers", json={"Name": "Acme AS"}).json()
        contact = ex.request("POST", ex.contacts, json={"LastName": "Kept"}).json()["d"]
        creds = json.loads(json.dumps(sims.credentials))
        po.http.close()
        ex.http.close()
    finally:
        sims.stop()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exact.json", "keys.json", "powerofficego.json"]
    clock.advance(600)
    again = start_simulators(clock=clock, state_dir=tmp_path)
    try:
        assert again.credentials["poweroffice"] == creds["poweroffice"]
        assert again.poweroffice.admin.state()["suppliers"][str(supplier["Id"])]["Name"] == "Acme AS"
        assert again.exact.admin.state()["contacts"][contact["ID"]]["LastName"] == "Kept"
        # the first run's refresh token (rotated by ExactClient) still works after the restart
        again.credentials["exact"]["refresh_token"] = creds["exact"]["refresh_token"]
        ex2 = ExactClient(again)
        assert ex2.request("GET", ex2.one(contact["ID"])).status_code == 200
    finally:
        again.stop()


def test_servers_use_free_ports_and_stop_closes_them() -> None:
    sims = start_simulators(clock=FakeClock())
    port = sims.exact.port
    assert port and port != sims.poweroffice.port
    sims.stop()
    with socket.socket() as s, pytest.raises(OSError):
        s.connect(("127.0.0.1", port))


def test_describe_lists_urls_and_fake_credentials(simulators: Simulators) -> None:
    text = simulators.describe()
    assert simulators.poweroffice.url in text and simulators.exact.url in text
    assert simulators.credentials["poweroffice"]["subscription_key"] in text
    assert "fake" in text


def test_simulate_command_writes_info_and_stops_on_sigint(tmp_path: Path) -> None:
    info = tmp_path / "sims.json"
    code = "from talkqa.cli import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "simulate", "--no-rate-limits", "--info-file", str(info),
         "--state-dir", str(tmp_path / "state")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:  # blocks until the command prints; no sleeping
            lines.append(line)
            if line.startswith("(fake credentials"):
                break
        data = json.loads(info.read_text())
        token_url = data["poweroffice"]["token_url"]
        creds = data["credentials"]["poweroffice"]
        r = httpx.post(token_url, data={"grant_type": "client_credentials"},
                       auth=(creds["application_key"], creds["client_key"]))
        assert r.status_code == 200
        assert data["credentials"]["exact"]["refresh_token"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_invalid_setting_values_are_refused(simulators: Simulators) -> None:
    with pytest.raises(ValueError):
        simulators.poweroffice.admin.settings(v1_post_update="upsert")
    with pytest.raises(ValueError):
        simulators.exact.admin.settings(page_size=0)
    assert simulators.poweroffice.admin.settings()["v1_post_update"] == "replace"
