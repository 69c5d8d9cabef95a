"""Configuration sources, the token store and the registry."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from talkqa.clock import FakeClock
from talkqa.connectors.auth import TokenState, TokenStore
from talkqa.connectors.base import UnsupportedEntity
from talkqa.connectors.config import ConfigError, Endpoints
from talkqa.connectors.exact import ExactContactsConnector
from talkqa.connectors.poweroffice import ContactPersonV1Connector, SupplierPersonV2Connector
from talkqa.connectors.registry import connector_for, supported
from talkqa.connectors.secret import Secret

from .conftest import Sims

ENV = {
    "TALKQA_POWEROFFICE_V1_URL": "https://api.example.test/",
    "TALKQA_POWEROFFICE_V2_URL": "https://goapi.example.test/v2",
    "TALKQA_POWEROFFICE_TOKEN_URL": "https://goapi.example.test/OAuth/Token",
    "TALKQA_POWEROFFICE_APP_KEY": "app-key-value",
    "TALKQA_POWEROFFICE_CLIENT_KEY": "client-key-value",
    "TALKQA_POWEROFFICE_SUBSCRIPTION_KEY": "sub-key-value",
    "TALKQA_POWEROFFICE_V1_PARENT": "Supplier:42",
    "TALKQA_EXACT_URL": "https://start.example.test",
    "TALKQA_EXACT_CLIENT_ID": "cid",
    "TALKQA_EXACT_CLIENT_SECRET": "csecret-value",
    "TALKQA_EXACT_REFRESH_TOKEN": "refresh-value",
    "TALKQA_EXACT_DIVISION": "123456",
    "TALKQA_EXACT_TOKEN_STORE": "/tmp/x/tokens.json",
}


def test_from_env_reads_every_variable_and_wraps_secrets() -> None:
    ep = Endpoints.from_env(ENV)
    po, ex = ep.poweroffice, ep.exact
    assert po is not None and ex is not None
    assert po.v1_url == "https://api.example.test" and po.v2_url.endswith("/v2") and po.v1_parent == "Supplier:42"
    assert isinstance(po.app_key, Secret) and po.app_key.reveal() == "app-key-value"
    assert po.subscription_key is not None and po.subscription_key.reveal() == "sub-key-value"
    assert ex.api_url == "https://start.example.test/api/v1"
    assert ex.token_url == "https://start.example.test/api/oauth2/token"
    assert ex.division == 123456 and ex.token_store == Path("/tmp/x/tokens.json")
    assert ex.refresh_token is not None and ex.refresh_token.reveal() == "refresh-value"
    assert po.rate_limits and ex.rate_limits
    assert "value" not in repr(ep)
    assert not Endpoints.from_env({**ENV, "TALKQA_RATE_LIMITS": "0"}).exact.rate_limits  # type: ignore[union-attr]
    assert Endpoints.from_env({}).poweroffice is None


def test_missing_settings_are_named_without_values() -> None:
    env = {k: v for k, v in ENV.items() if k != "TALKQA_POWEROFFICE_CLIENT_KEY"}
    with pytest.raises(ConfigError, match="TALKQA_POWEROFFICE_CLIENT_KEY") as info:
        Endpoints.from_env(env)
    assert "app-key-value" not in str(info.value)
    with pytest.raises(ConfigError, match="DIVISION must be a number"):
        Endpoints.from_env({**ENV, "TALKQA_EXACT_DIVISION": "abc"})


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_from_file(tmp_path: Path, suffix: str) -> None:
    data = {"poweroffice": {"v1_url": "http://a/v1", "v2_url": "http://a/v2", "token_url": "http://a/t",
                            "app_key": "k1", "client_key": "k2"},
            "exact": {"url": "http://b", "client_id": "c", "client_secret": "s", "division": 7}}
    path = tmp_path / f"talkqa{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(data))
    else:
        path.write_text('[poweroffice]\nv1_url = "http://a/v1"\nv2_url = "http://a/v2"\ntoken_url = "http://a/t"\n'
                        'app_key = "k1"\nclient_key = "k2"\n[exact]\nurl = "http://b"\nclient_id = "c"\n'
                        'client_secret = "s"\ndivision = 7\n')
    ep = Endpoints.from_env({"TALKQA_CONFIG": str(path)})
    assert ep.poweroffice and ep.poweroffice.client_key.reveal() == "k2" and ep.poweroffice.subscription_key is None
    assert ep.exact and ep.exact.division == 7
    with pytest.raises(ConfigError, match="cannot read config file"):
        Endpoints.from_file(tmp_path / "missing.toml")


def test_from_simulators_object_info_and_file(sims: Sims, tmp_path: Path) -> None:
    launcher = sims.launcher
    path = tmp_path / "simulators.json"
    path.write_text(json.dumps(launcher.info()))
    for source in (launcher, launcher.info(), str(path)):
        ep = Endpoints.from_simulators(source, token_store=tmp_path / "t.json")
        assert ep.poweroffice and ep.poweroffice.v2_url == f"{launcher.poweroffice.url}/v2"
        assert ep.poweroffice.app_key.reveal() == launcher.credentials["poweroffice"]["application_key"]
        assert ep.exact and ep.exact.url == launcher.exact.url
        assert ep.exact.division == launcher.credentials["exact"]["division"]
        assert ep.exact.redirect_uri == launcher.credentials["exact"]["redirect_uri"]
    assert Endpoints.from_simulators(launcher).exact.token_store is None  # type: ignore[union-attr]
    with pytest.raises(ConfigError):
        Endpoints.from_simulators(str(tmp_path / "absent.json"))


def test_token_store_round_trip_is_private_and_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = TokenStore(tmp_path / "sub" / "tokens.json")
    assert store.load() is None
    store.save(TokenState(Secret("r1"), Secret("a1"), issued_at=10.0, expires_in=600))
    loaded = store.load()
    assert loaded and loaded.refresh_token.reveal() == "r1" and loaded.access_token and loaded.issued_at == 10.0
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        store.save(TokenState(Secret("r2")))
    monkeypatch.undo()
    assert store.load().refresh_token.reveal() == "r1"  # type: ignore[union-attr]
    # no temp file left (the lock file stays: removing it would let two writers lock two files)
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["tokens.json", "tokens.json.lock"]


def test_registry_supported_aliases_and_shared_clients() -> None:
    assert ("powerofficego", "Contactperson") in supported() and ("exact", "Contacts") in supported()
    ep = Endpoints.from_env(ENV)
    clock = FakeClock()
    a = connector_for("powerofficego", "Contactperson", ep, clock=clock)
    b = connector_for("powerofficego", "Suppliers (human data)", ep, clock=clock)
    c = connector_for("exact", "Contacts", ep, clock=clock)
    assert isinstance(a, ContactPersonV1Connector) and isinstance(b, SupplierPersonV2Connector)
    assert isinstance(c, ExactContactsConnector)
    assert a.http is b.http  # one client per system
    assert a.default_parent == ("Supplier", "42")
    with pytest.raises(UnsupportedEntity, match=r"supported: exact/Contacts, powerofficego/Contactperson"):
        connector_for("exact", "Invoices", ep)
    with pytest.raises(UnsupportedEntity):
        connector_for("visma", "Contacts", ep)
