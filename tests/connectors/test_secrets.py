"""No secret (key, client secret, access or refresh token) in any repr, str, exception or log record."""
from __future__ import annotations

import dataclasses
import logging
import pickle
from pathlib import Path
from typing import Any

import pytest

from talkqa.connectors.auth import TokenStore
from talkqa.connectors.base import ConnectorError
from talkqa.connectors.config import Endpoints
from talkqa.connectors.registry import Connections, connector_for
from talkqa.connectors.secret import Redactor, Secret

from .conftest import Sims, endpoints_for


def test_secret_wrapper_hides_its_value() -> None:
    s = Secret("hunter2-very-secret")
    assert repr(s) == "'***'" and str(s) == "'***'" and f"{s}" == "'***'" and f"{s!r}" == "'***'"
    assert "hunter2" not in repr({"key": s}) and s.reveal() == "hunter2-very-secret"
    with pytest.raises(TypeError):
        pickle.dumps(s)
    with pytest.raises(AttributeError):
        s._value = "x"  # type: ignore[misc]
    assert Redactor([s, "tok-123456"])("a hunter2-very-secret b tok-123456") == "a *** b ***"


def _texts_of(exc: BaseException) -> list[str]:
    out: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out += [str(current), repr(current), repr(current.args)]
        current = current.__cause__ or current.__context__
    return out


def test_no_secret_leaks_anywhere(fresh: Sims, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    texts: list[str] = []
    objects: list[Any] = []
    errors: list[BaseException] = []

    ep = endpoints_for(fresh, tmp_path / "tokens.json")
    with Connections(ep, clock=fresh.clock) as conns:
        parent = fresh.po.admin.seed("customers", {"name": "P"})["id"]
        v1 = connector_for("powerofficego", "Contactperson", ep, connections=conns, default_parent=f"Customer:{parent}")
        v2 = connector_for("powerofficego", "Suppliers person", ep, connections=conns)
        ex = connector_for("exact", "Contacts", ep, connections=conns)
        v1.create({"firstName": "A", "lastName": "B"}, external_ref="r1")
        v2.create({"FirstName": "A", "LastName": "B"}, external_ref="r2")
        ex.create({"LastName": "B"}, external_ref="r3")
        for call in (lambda: v1.create({"firstName": "A"}), lambda: v2.get("999999"),
                     lambda: ex.create({"City": "x"}), lambda: ex.get("0" * 8 + "-0000-0000-0000-" + "0" * 12)):
            with pytest.raises(ConnectorError) as info:
                call()
            errors.append(info.value)
        fresh.clock.advance(700)
        fresh.ex.admin.fault("lost_response", count=1, path="/api/oauth2/token")
        with pytest.raises(ConnectorError) as info:
            list(ex.iter_all())  # refresh lost -> clear auth error
        errors.append(info.value)
        objects += [ep, ep.poweroffice, ep.exact, conns, v1, v2, ex, conns.client("exact"),
                    conns.client("powerofficego"), conns.client("exact").auth, conns.client("powerofficego").auth,
                    TokenStore(tmp_path / "tokens.json"), TokenStore(tmp_path / "tokens.json").load()]

    bad_keys = dataclasses.replace(ep, poweroffice=dataclasses.replace(
        ep.poweroffice, client_key=Secret("wrong-client-key-0001")))  # type: ignore[arg-type]
    with Connections(bad_keys, clock=fresh.clock) as conns2:
        with pytest.raises(ConnectorError) as info:
            list(connector_for("powerofficego", "Suppliers person", bad_keys, connections=conns2).iter_all())
        assert "invalid_client" in str(info.value) or "Client integration not found" in str(info.value)
        errors.append(info.value)

    env = Endpoints.from_env({"TALKQA_EXACT_URL": "http://127.0.0.1:1", "TALKQA_EXACT_CLIENT_ID": "id",
                              "TALKQA_EXACT_CLIENT_SECRET": fresh.launcher.credentials["exact"]["client_secret"]})
    objects += [env, env.exact]

    secret_values = [*fresh.secrets(), "wrong-client-key-0001"]
    assert len(secret_values) > 8
    for obj in objects:
        texts += [repr(obj), str(obj)]
    for exc in errors:
        texts += _texts_of(exc)
    for record in caplog.records:
        texts += [record.getMessage(), repr(record.args)]
    assert len(caplog.records) > 10
    for text in texts:
        for value in secret_values:
            assert value not in text, f"secret leaked into: {text[:200]}"
