"""Under seeded random faults a connector completes each operation exactly once or raises a clear
error: a create whose response was lost is found again by its external ref, never silently repeated."""
from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from talkqa.connectors.base import AuthFailed, ConnectorError, OutcomeUnknown, ResourceConnector
from talkqa.connectors.registry import Connections, connector_for

from .conftest import Sims

KINDS = ("server_error", "drop_connection", "lost_response", "rate_limit_burst")


def _v1(sims: Sims, conns: Connections) -> tuple[ResourceConnector, Callable[[], list[dict[str, Any]]], str, str]:
    parent = sims.po.admin.seed("customers", {"name": "P"})["id"]
    c = connector_for("powerofficego", "Contactperson", conns.endpoints, connections=conns,
                      default_parent=f"Customer:{parent}")
    return c, lambda: sims.po.admin.records("contactpersons"), "externalCode", r"^/v1/"


def _v2(sims: Sims, conns: Connections) -> tuple[ResourceConnector, Callable[[], list[dict[str, Any]]], str, str]:
    c = connector_for("powerofficego", "Suppliers person", conns.endpoints, connections=conns)
    return c, lambda: sims.po.admin.records("suppliers"), "ExternalImportReference", r"^/v2/"


def _exact(sims: Sims, conns: Connections) -> tuple[ResourceConnector, Callable[[], list[dict[str, Any]]], str, str]:
    c = connector_for("exact", "Contacts", conns.endpoints, connections=conns)
    return c, lambda: sims.ex.admin.records("contacts"), "Notes", r"/crm/Contacts"


SETUPS = {"v1": _v1, "v2": _v2, "exact": _exact}
RECORDS = {
    "v1": lambda i: {"firstName": f"F{i}", "lastName": f"L{i}", "city": "Oslo"},
    "v2": lambda i: {"FirstName": f"F{i}", "LastName": f"L{i}", "MailAddress": {"City": "Oslo"}},
    "exact": lambda i: {"FirstName": f"F{i}", "LastName": f"L{i}", "City": "Oslo"},
}
CITY = {"v1": "city", "v2": "MailAddress.City", "exact": "City"}


def _admin(sims: Sims, which: str) -> Any:
    return sims.ex.admin if which == "exact" else sims.po.admin


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("which", sorted(SETUPS))
def test_random_faults_never_duplicate(which: str, seed: int, conns: Connections, fresh: Sims) -> None:
    connector, records, ref_field, path = SETUPS[which](fresh, conns)
    admin = _admin(fresh, which)
    rng = random.Random(seed)
    faults = [{"kind": k, "count": None, "probability": round(rng.uniform(0.05, 0.3), 2), "path": path}
              for k in KINDS]
    rng.shuffle(faults)
    admin.add_faults(*faults)
    created: dict[str, str | None] = {}
    updated: dict[str, bool] = {}
    for i in range(5):
        ref = f"r{seed}-{i}"
        try:
            created[ref] = connector.create(RECORDS[which](i), external_ref=ref)
        except ConnectorError as exc:
            assert str(exc).startswith(("powerofficego:", "exact:")), str(exc)
            created[ref] = None
            continue
        change = {"city": "Bergen"} if which == "v1" else {"City": "Bergen"} if which == "exact" \
            else {"MailAddress": {"City": "Bergen"}}
        try:
            connector.update(created[ref], change)  # type: ignore[arg-type]
            updated[ref] = True
        except ConnectorError:
            updated[ref] = False
    fired = sum(f["fired"] for f in admin.faults())
    admin.clear_faults()
    rows = records()
    for ref, rid in created.items():
        mine = [r for r in rows if r.get(ref_field) == ref]
        assert len(mine) <= 1, f"duplicate create for {ref}"
        if rid is not None:
            assert len(mine) == 1
            assert connector.find_by_external_ref(ref) == rid
            if updated.get(ref):
                got = connector.get(rid)
                key = CITY[which].split(".")
                assert (got[key[0]] if len(key) == 1 else got[key[0]][key[1]]) == "Bergen"
    assert fired > 0  # the faults really happened
    assert any(rid is not None for rid in created.values())


@pytest.mark.parametrize("which", sorted(SETUPS))
def test_lost_create_response_is_found_by_external_ref(which: str, conns: Connections, fresh: Sims) -> None:
    connector, records, ref_field, path = SETUPS[which](fresh, conns)
    admin = _admin(fresh, which)
    connector.find_by_external_ref("warm-up")  # tokens and division first
    admin.fault("lost_response", count=1, method="POST", path=path)
    rid = connector.create(RECORDS[which](1), external_ref="lost-1")
    assert [r[ref_field] for r in records()].count("lost-1") == 1
    assert connector.find_by_external_ref("lost-1") == rid
    posts = [r for r in admin.requests() if r["method"] == "POST" and "token" not in r["path"].lower()]
    assert len(posts) == 1 and posts[0]["fault"] == "lost_response"


@pytest.mark.parametrize("which", sorted(SETUPS))
def test_lost_create_response_without_external_ref_is_reported_not_repeated(
    which: str, conns: Connections, fresh: Sims
) -> None:
    connector, records, _, path = SETUPS[which](fresh, conns)
    admin = _admin(fresh, which)
    connector.find_by_external_ref("warm-up")
    admin.fault("lost_response", count=1, method="POST", path=path)
    with pytest.raises(OutcomeUnknown, match="cannot be checked and is not repeated"):
        connector.create(RECORDS[which](1))
    assert len(records()) == 1


def test_lost_exact_refresh_response_is_a_clear_auth_error(fresh: Sims, tmp_path: Path) -> None:
    from .conftest import endpoints_for

    with Connections(endpoints_for(fresh, tmp_path / "t.json"), clock=fresh.clock) as conns:
        c = connector_for("exact", "Contacts", conns.endpoints, connections=conns)
        c.find_by_external_ref("warm-up")
        fresh.clock.advance(600)
        fresh.ex.admin.fault("lost_response", count=1, path="/api/oauth2/token")
        with pytest.raises(AuthFailed, match=r"already used .* authorize again"):
            c.find_by_external_ref("x")


@pytest.mark.parametrize("which", sorted(SETUPS))
def test_an_access_token_expiring_mid_run_is_refreshed(which: str, conns: Connections, fresh: Sims) -> None:
    # the token_expiry fault: the token a request presents expires there (401); the connector gets a new
    # one (PowerOffice: client credentials again; Exact: the refresh token, rotated) and carries on
    connector, records, ref_field, path = SETUPS[which](fresh, conns)
    admin = _admin(fresh, which)
    connector.find_by_external_ref("warm-up")
    # every token expires at its second use (a freshly issued one is never expired on the spot)
    admin.add_faults({"kind": "token_expiry", "count": None, "probability": 1.0, "path": path})
    rid = connector.create(RECORDS[which](1), external_ref="exp-1")
    assert connector.find_by_external_ref("exp-1") == rid
    assert connector.get(rid)
    assert [r[ref_field] for r in records()].count("exp-1") == 1
    log = admin.requests()
    expired = [r for r in log if r["fault"] == "token_expiry"]
    assert len(expired) >= 3 and all(r["status"] == 401 for r in expired)
    tokens = [r for r in log if "token" in r["path"].lower() and r["method"] == "POST"]
    assert len(tokens) >= len(expired) + 1 and all(r["status"] == 200 for r in tokens)  # one per expiry
