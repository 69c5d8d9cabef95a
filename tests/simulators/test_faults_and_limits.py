"""Fault injection (each kind, targeting, seeded probability) and the vendors' rate limits."""
from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sim_clients import ExactClient, PowerOfficeClient

from talkqa.simulators.faults import Fault, FaultPlan
from talkqa.simulators.launcher import Simulators
from talkqa.simulators.ratelimit import next_utc_midnight

SUPPLIER = {"Name": "Acme AS"}


def test_rate_limit_burst_then_recovers(po: PowerOfficeClient, simulators: Simulators) -> None:
    simulators.poweroffice.admin.fault("rate_limit_burst", count=2, path="^/v2/")
    codes = [po.request("GET", "/v2/Suppliers").status_code for _ in range(3)]
    assert codes == [429, 429, 204]
    log = simulators.poweroffice.admin.requests()
    assert [e["fault"] for e in log if e["path"] == "/v2/Suppliers"] == ["rate_limit_burst"] * 2 + [None]
    assert log[0]["path"] == "/OAuth/Token" and log[0]["fault"] is None


def test_server_error_targets_method_and_path(po: PowerOfficeClient, simulators: Simulators) -> None:
    simulators.poweroffice.admin.fault("server_error", status=503, method="POST", path=r"^/v2/Suppliers$", count=None)
    assert po.request("GET", "/v2/Suppliers").status_code == 204
    r = po.request("POST", "/v2/Suppliers", json=SUPPLIER)
    assert r.status_code == 503 and r.json()["status"] == 503
    assert po.request("POST", "/v2/Suppliers", json=SUPPLIER).status_code == 503
    assert simulators.poweroffice.admin.state()["suppliers"] == {}


def test_slow_advances_the_fake_clock(exact: ExactClient, simulators: Simulators) -> None:
    simulators.exact.admin.fault("slow", seconds=30)
    before = simulators.clock.now()
    assert exact.request("GET", exact.contacts).status_code == 200
    assert simulators.clock.now() == before + 30


def test_drop_connection_sends_nothing_and_applies_nothing(po: PowerOfficeClient, simulators: Simulators) -> None:
    simulators.poweroffice.admin.fault("drop_connection", method="POST")
    with pytest.raises(httpx.TransportError):
        po.request("POST", "/v2/Suppliers", json=SUPPLIER)
    assert simulators.poweroffice.admin.state()["suppliers"] == {}
    assert po.request("POST", "/v2/Suppliers", json=SUPPLIER).status_code == 201


def test_lost_response_applies_the_request(exact: ExactClient, simulators: Simulators) -> None:
    simulators.exact.admin.fault("lost_response", method="POST")
    with pytest.raises(httpx.TransportError):
        exact.request("POST", exact.contacts, json={"LastName": "Ghost"})
    records = simulators.exact.admin.records("contacts")
    assert [r["LastName"] for r in records] == ["Ghost"]
    entry = simulators.exact.admin.requests()[-1]
    assert entry["fault"] == "lost_response" and entry["status"] == 201


def test_probability_is_reproducible_for_a_seed() -> None:
    def run(seed: int) -> list[bool]:
        plan = FaultPlan(seed)
        plan.add(Fault("server_error", count=None, probability=0.5))
        return [plan.pick("GET", "/x") is not None for _ in range(64)]

    assert run(1) == run(1)
    assert run(1) != run(2)
    assert 10 < sum(run(1)) < 54


def test_fault_validation() -> None:
    with pytest.raises(ValueError):
        Fault("meteor")
    with pytest.raises(ValueError):
        Fault("slow", probability=2)
    with pytest.raises(ValueError):
        Fault.from_dict({"kind": "slow", "bogus": 1})


def test_poweroffice_v2_limit_is_10_per_second(simulators: Simulators) -> None:
    po = PowerOfficeClient(simulators)
    codes = [po.request("GET", "/v2/Suppliers").status_code for _ in range(11)]
    assert codes == [204] * 10 + [429]
    r = po.request("GET", "/v2/Suppliers")
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert r.json() == {"statusCode": "429", "message": "Rate limit is exceeded. Try again in 1 seconds."}
    simulators.clock.sleep(1)
    assert po.request("GET", "/v2/Suppliers").status_code == 204


def test_poweroffice_v1_limit_is_50_per_second(simulators: Simulators) -> None:
    po = PowerOfficeClient(simulators)
    codes = [po.request("GET", "/v1/Customer").status_code for _ in range(51)]
    assert codes == [200] * 50 + [429]


def test_rate_limits_can_be_switched_off(simulators: Simulators) -> None:
    simulators.poweroffice.admin.settings(rate_limits=False)
    po = PowerOfficeClient(simulators)
    assert all(po.request("GET", "/v2/Suppliers").status_code == 204 for _ in range(25))


def test_exact_minutely_limit_and_headers(simulators: Simulators) -> None:
    exact = ExactClient(simulators)
    now_ms = int(simulators.clock.now() * 1000)
    first = exact.request("GET", exact.contacts)
    assert first.headers["X-RateLimit-Minutely-Limit"] == "60"
    assert first.headers["X-RateLimit-Minutely-Remaining"] == "59"
    assert int(first.headers["X-RateLimit-Minutely-Reset"]) == now_ms + 60_000  # epoch milliseconds
    assert first.headers["X-RateLimit-Limit"] == "5000" and first.headers["X-RateLimit-Remaining"] == "4999"
    assert int(first.headers["X-RateLimit-Reset"]) % 86_400_000 == 0  # UTC midnight, in ms
    for _ in range(59):
        assert exact.request("GET", exact.contacts).status_code == 200
    over = exact.request("GET", exact.contacts)
    assert over.status_code == 429
    assert over.headers["X-RateLimit-Minutely-Remaining"] == "0"
    assert "X-RateLimit-Limit" not in over.headers and "X-RateLimit-Remaining" not in over.headers
    simulators.clock.sleep(60)
    again = exact.request("GET", exact.contacts)
    assert again.status_code == 200 and again.headers["X-RateLimit-Remaining"] == "4939"


def test_exact_daily_limit(simulators: Simulators) -> None:
    simulators.exact.admin.settings(per_day=3)
    exact = ExactClient(simulators)
    codes = [exact.request("GET", exact.contacts).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))  # 1970 to 2100
def test_the_daily_window_ends_at_the_next_utc_midnight(moment: float) -> None:
    end = datetime.fromtimestamp(next_utc_midnight(moment), UTC)
    assert (end.hour, end.minute, end.second, end.microsecond) == (0, 0, 0, 0)
    assert 0 < next_utc_midnight(moment) - moment <= 86_400
