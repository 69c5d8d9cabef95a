"""``talkqa sync`` end to end: a subprocess against the in-process simulators, configured by a file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sync_sim.harness import CONTACTPERSON, ROOT, SEED_DOC, Harness

TALKQA = Path(sys.executable).with_name("talkqa")
SUMMARY = re.compile(
    r"^created (\d+), updated (\d+), linked (\d+), unchanged (\d+), conflicts (\d+), skipped (\d+), errors (\d+)$",
    re.M,
)


def config_file(h: Harness) -> Path:
    info = h.sims.info()
    creds = info["credentials"]
    po, ex = creds["poweroffice"], creds["exact"]
    config = {
        "poweroffice": {
            "v1_url": info["poweroffice"]["v1_url"],
            "v2_url": info["poweroffice"]["v2_url"],
            "token_url": info["poweroffice"]["token_url"],
            "app_key": po["application_key"],
            "client_key": po["client_key"],
            "subscription_key": po["subscription_key"],
            "v1_parent": f"Customer:{h.parent}",
        },
        "exact": {
            "url": info["exact"]["url"],
            "client_id": ex["client_id"],
            "client_secret": ex["client_secret"],
            "refresh_token": ex["refresh_token"],
            "division": ex["division"],
            "token_store": str(h.tmp / "exact-tokens.json"),  # shared with the harness: tokens rotate
        },
    }
    path = h.tmp / "talkqa.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def run(h: Harness, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALKQA_")}
    env |= {"COLUMNS": "400", "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [str(TALKQA), "sync", *args], cwd=h.tmp, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def summary(out: str) -> tuple[int, ...]:
    found = SUMMARY.findall(out)
    assert len(found) == 1, out
    return tuple(int(n) for n in found[0])


def test_cli_syncs_once_then_finds_nothing_to_do(h: Harness) -> None:
    h.contact_person(firstName="Ann", lastName="Aas", city="Oslo")
    h.supplier(IsPerson=True, FirstName="Siv", LastName="Sand")
    config, state = config_file(h), str(h.tmp / "cli.sqlite")
    first = run(h, str(SEED_DOC), "--once", "--state", state, "--config", str(config))
    assert first.returncode == 0, first.stdout + first.stderr
    assert summary(first.stdout) == (2, 0, 0, 0, 0, 0, 0)
    assert sorted(c["FirstName"] for c in h.exact_contacts().values()) == ["Ann", "Siv"]
    mark = h.mark()
    second = run(h, str(SEED_DOC), "--state", state, "--config", str(config))
    assert second.returncode == 0, second.stdout + second.stderr
    assert summary(second.stdout)[:2] == (0, 0)
    assert h.writes_since(mark) == []


def test_cli_exits_1_when_a_record_fails_and_still_syncs_the_others(h: Harness) -> None:
    h.contact_person(firstName="Long", lastName="City", city="X" * 80)  # Exact's City holds 60 characters
    h.contact_person(firstName="Ann", lastName="Aas")
    config, state = config_file(h), str(h.tmp / "cli.sqlite")
    result = run(h, str(SEED_DOC), "--state", state, "--config", str(config))
    assert result.returncode == 1, result.stdout + result.stderr
    created, *_, errors = summary(result.stdout)
    assert (created, errors) == (1, 1)
    assert "error: " in result.stdout and "City" in result.stdout
    assert [c["FirstName"] for c in h.exact_contacts().values()] == ["Ann"]


def test_cli_exits_2_for_a_bad_document(h: Harness) -> None:
    bad = h.tmp / "notes.rst"
    bad.write_text("Just some notes\n\nno dataflow here\n", encoding="utf-8")
    result = run(h, str(bad), "--state", str(h.tmp / "cli.sqlite"), "--config", str(config_file(h)))
    assert result.returncode == 2
    assert "not a dataflow document" in result.stdout + result.stderr
    assert h.exact_contacts() == {}


@pytest.mark.parametrize("content", [None, "{not json", '{"exact": {"url": "http://127.0.0.1:9"}}'])
def test_cli_exits_2_for_a_bad_config(h: Harness, content: str | None) -> None:
    config = h.tmp / "broken.json"
    if content is not None:
        config.write_text(content, encoding="utf-8")
    mark = h.mark()
    result = run(h, str(SEED_DOC), "--state", str(h.tmp / "cli.sqlite"), "--config", str(config))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "error" in (result.stdout + result.stderr).lower()
    assert h.requests_since(mark) == []


def test_cli_conflicts_shows_the_logged_conflict(h: Harness) -> None:
    ann = h.contact_person(firstName="Ann", lastName="Aas")
    h.sync()
    h.v1().update(ann, {"firstName": "Anna"})
    h.exact().update(h.target_of(CONTACTPERSON, ann), {"FirstName": "Annie"})
    assert h.sync().conflicts == 1
    result = run(h, str(SEED_DOC), "--conflicts", "--state", str(h.state_path))
    assert result.returncode == 0, result.stdout + result.stderr
    [line] = [ln for ln in result.stdout.splitlines() if ln.strip()]
    assert f"{ann}<->{h.target_of(CONTACTPERSON, ann)}" in line
    assert "FirstName: kept source 'Anna', lost target 'Annie'" in line
