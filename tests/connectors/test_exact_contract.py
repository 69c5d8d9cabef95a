"""ExactContactsConnector against the Exact Online simulator."""
from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import unquote_plus

import pytest

from talkqa.connectors.auth import ExactAuth
from talkqa.connectors.base import AuthFailed, NotFound, ValidationFailed
from talkqa.connectors.exact import ExactContactsConnector
from talkqa.connectors.registry import Connections, connector_for

from .conftest import Sims, endpoints_for


def contacts(conns: Connections) -> ExactContactsConnector:
    c = connector_for("exact", "Contacts", conns.endpoints, connections=conns)
    assert isinstance(c, ExactContactsConnector)
    return c


def api_log(sims: Sims, fragment: str = "/crm/Contacts") -> list[dict]:
    return [r for r in sims.ex.admin.requests() if fragment in r["path"]]


def seed(sims: Sims, n: int, **extra: object) -> list[str]:
    ids = []
    for i in range(n):
        rec = sims.ex.admin.seed("contacts", {"FirstName": f"F{i}", "LastName": f"L{i}", **extra})
        ids.append(rec["ID"])
        sims.clock.advance(0.001)
    return ids


def test_create_get_round_trip_with_canonical_names_and_dates(conns: Connections, fresh: Sims) -> None:
    c = contacts(conns)
    record = {"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com", "Phone": "+4712345678",
              "City": "London", "Country": "GB", "BirthDate": date(1815, 12, 10)}
    cid = c.create(record, external_ref="ref-1")
    got = c.get(cid)
    assert {k: got[k] for k in record} == record
    assert got["Notes"] == "ref-1"  # the external ref field
    stored = fresh.ex.admin.state()["contacts"][cid]
    assert stored["BirthDate"].startswith("/Date(")  # wire format stays inside the connector


def test_division_comes_from_current_me_once(fresh: Sims, tmp_path: Path) -> None:
    with Connections(endpoints_for(fresh, tmp_path / "t.json", ask_division=True), clock=fresh.clock) as conns:
        c = contacts(conns)
        seed(fresh, 2)
        list(c.iter_all())
        c.changed_since(None)
        assert len(api_log(fresh, "/current/Me")) == 1
        assert c.division == fresh.launcher.credentials["exact"]["division"]


def test_paging_follows_next_sequentially(conns: Connections, fresh: Sims) -> None:
    ids = seed(fresh, 150)
    got = [ch.id for ch in contacts(conns).iter_all()]
    assert sorted(got) == sorted(ids) and len(set(got)) == 150
    pages = api_log(fresh)
    assert len(pages) == 3  # 60 + 60 + 30
    assert "$skiptoken" not in pages[0]["query"] and all("skiptoken" in p["query"] for p in pages[1:])
    assert "$select=ID,Modified," in unquote_plus(pages[0]["query"])


def test_changed_since_returns_only_later_changes_and_moves_the_watermark(conns: Connections, fresh: Sims) -> None:
    c = contacts(conns)
    ids = seed(fresh, 5)
    first = c.changed_since(None)
    assert len(first.changes) == 5 and first.watermark
    assert c.changed_since(first.watermark).changes == []
    fresh.clock.advance(5)
    c.update(ids[2], {"Phone": "+4799999999"})
    later = c.changed_since(first.watermark)
    assert [ch.id for ch in later.changes] == [ids[2]]
    assert later.watermark and later.watermark > first.watermark
    assert later.changes[0].record["Phone"] == "+4799999999"
    assert "$filter=Modified gt datetime'" in unquote_plus(api_log(fresh)[-1]["query"])


def test_update_is_partial(conns: Connections, fresh: Sims) -> None:
    c = contacts(conns)
    cid = c.create({"FirstName": "A", "LastName": "B", "City": "Oslo", "Email": "a@b.no"})
    c.update(cid, {"City": "Bergen", "BirthDate": date(2000, 1, 31)})
    got = c.get(cid)
    assert got["City"] == "Bergen" and got["Email"] == "a@b.no" and got["BirthDate"] == date(2000, 1, 31)
    put = [r for r in api_log(fresh) if r["method"] == "PUT"]
    assert len(put) == 1 and put[0]["status"] == 204


def test_find_by_external_ref(conns: Connections, fresh: Sims) -> None:
    c = contacts(conns)
    seed(fresh, 3)
    cid = c.create({"LastName": "X"}, external_ref="it's-ref")
    assert c.find_by_external_ref("it's-ref") == cid
    assert c.find_by_external_ref("other") is None


def test_errors_map_to_exceptions(conns: Connections, fresh: Sims) -> None:
    c = contacts(conns)
    with pytest.raises(NotFound, match=f"exact: GET /api/v1/{c.division}/crm/Contacts"):
        c.get(str(uuid.uuid4()))
    with pytest.raises(NotFound):
        c.get("not-a-guid")
    with pytest.raises(ValidationFailed, match="first name or last name"):
        c.create({"City": "Oslo"})
    with pytest.raises(ValidationFailed, match="Country"):
        c.create({"LastName": "X", "Country": "XX"})
    with pytest.raises(ValueError, match="unknown or read-only field 'Nope'"):
        c.create({"LastName": "X", "Nope": 1})


def _refresh_tokens(store: Path) -> str:
    return json.loads(store.read_text())["refresh_token"]


def test_token_expiry_mid_run_refreshes_once_and_persists_the_rotation(fresh: Sims, tmp_path: Path) -> None:
    store = tmp_path / "tokens.json"
    ep = endpoints_for(fresh, store)
    with Connections(ep, clock=fresh.clock) as conns:
        c = contacts(conns)
        seed(fresh, 70)
        assert len(list(c.iter_all())) == 70
        auth = conns.client("exact").auth
        assert isinstance(auth, ExactAuth) and auth.refreshes == 1  # from the launcher's refresh token
        first = _refresh_tokens(store)
        fresh.clock.advance(300)
        list(c.iter_all())
        assert auth.refreshes == 1  # still young: no refresh before 570 s
        fresh.clock.advance(290)  # 590 s old: nearly expired -> refresh, not a 401
        assert len(list(c.iter_all())) == 70
        assert auth.refreshes == 2
        second = _refresh_tokens(store)
        assert second != first
        assert not [r for r in fresh.ex.admin.requests() if r["status"] == 401]
        assert oct(store.stat().st_mode & 0o777) == "0o600"
    # a new process starts from the store: no consent and no early refresh
    ep2 = endpoints_for(fresh, store, consent=False)
    with Connections(ep2, clock=fresh.clock) as conns2:
        assert len(list(contacts(conns2).iter_all())) == 70
        auth2 = conns2.client("exact").auth
        assert isinstance(auth2, ExactAuth) and auth2.refreshes == 0
        fresh.clock.advance(600)
        assert len(list(contacts(conns2).iter_all())) == 70
        assert auth2.refreshes == 1 and _refresh_tokens(store) != second
    token_calls = [r for r in fresh.ex.admin.requests() if r["path"] == "/api/oauth2/token"]
    assert [r["status"] for r in token_calls] == [200, 200, 200]  # 3 refreshes (the launcher grants in-process)


def test_a_revoked_token_gives_one_refresh_attempt_then_a_clear_auth_error(conns: Connections, fresh: Sims) -> None:
    c = contacts(conns)
    seed(fresh, 1)
    list(c.iter_all())
    fresh.ex.admin.reset()  # every token is gone on the server
    fresh.clock.advance(600)
    with pytest.raises(AuthFailed, match="refused") as info:
        list(c.iter_all())
    assert "Invalid refresh token" in str(info.value)
    statuses = [(r["path"].rsplit("/", 1)[-1], r["status"]) for r in fresh.ex.admin.requests()]
    # the expired token is refreshed first: refused; the configured token is tried once more; no loop
    assert statuses == [("token", 400), ("token", 400)]


def test_rate_limit_is_respected_without_429(fresh: Sims, tmp_path: Path) -> None:
    fresh.ex.admin.settings(page_size=1)
    seed(fresh, 70)
    with Connections(endpoints_for(fresh, tmp_path / "t.json"), clock=fresh.clock) as conns:
        start = fresh.clock.now()
        assert len(list(contacts(conns).iter_all())) == 70
        assert fresh.clock.now() - start >= 60  # 71 calls at 60 a minute
    assert [r for r in fresh.ex.admin.requests() if r["status"] == 429] == []


def test_429_recovery_waits_for_the_minutely_reset(fresh: Sims, tmp_path: Path) -> None:
    seed(fresh, 130)
    ep = endpoints_for(fresh, tmp_path / "t.json", rate_limits=False)  # no client-side limiter
    with Connections(ep, clock=fresh.clock) as conns:
        c = contacts(conns)
        fresh.ex.admin.fault("rate_limit_burst", count=1, path="/crm/Contacts")
        assert len(list(c.iter_all())) == 130
    log = fresh.ex.admin.requests()
    limited = [i for i, r in enumerate(log) if r["status"] == 429]
    assert len(limited) == 1
    assert log[limited[0] + 1]["time"] - log[limited[0]]["time"] >= 60  # reset is 60 s after the 429


def test_a_401_on_the_api_triggers_exactly_one_refresh_attempt(conns: Connections, fresh: Sims) -> None:
    c = contacts(conns)
    seed(fresh, 1)
    list(c.iter_all())
    fresh.ex.admin.reset()  # the server forgets every token while ours is still young
    with pytest.raises(AuthFailed, match="Invalid refresh token"):
        list(c.iter_all())
    statuses = [(r["path"].rsplit("/", 1)[-1], r["status"]) for r in fresh.ex.admin.requests()]
    assert statuses == [("Contacts", 401), ("token", 400), ("token", 400)]  # own token, then the configured one


def test_a_stale_token_store_falls_back_to_the_configured_refresh_token(fresh: Sims, tmp_path: Path) -> None:
    store = tmp_path / "tokens.json"
    seed(fresh, 3)
    with Connections(endpoints_for(fresh, store), clock=fresh.clock) as conns:
        assert len(list(contacts(conns).iter_all())) == 3
    stale = _refresh_tokens(store)
    fresh.clock.advance(86_400)
    fresh.launcher.reset()  # a new consent: the stored tokens are dead, the environment has a new one
    seed(fresh, 2)
    with Connections(endpoints_for(fresh, store, consent=False), clock=fresh.clock) as conns:
        assert len(list(contacts(conns).iter_all())) == 2
    assert _refresh_tokens(store) not in (stale, fresh.launcher.credentials["exact"]["refresh_token"])


def test_token_expires_in_the_middle_of_paging(conns: Connections, fresh: Sims) -> None:
    seed(fresh, 130)
    c = contacts(conns)
    pages = c.iter_all()
    first = [next(pages) for _ in range(60)]  # page one read; the access token is now fresh
    fresh.clock.advance(620)  # expired before page two
    rest = list(pages)
    assert len({ch.id for ch in first + rest}) == 130
    log = fresh.ex.admin.requests()
    assert [r["path"].rsplit("/", 1)[-1] for r in log] == ["token", "Contacts", "token", "Contacts", "Contacts"]
    assert all(r["status"] in (200, 204) for r in log)  # refreshed before the call, never a 401
