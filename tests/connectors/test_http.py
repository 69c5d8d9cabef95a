"""SystemClient against httpx.MockTransport: retries, waits, limits, error mapping (no sockets, no sleeps)."""
from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import httpx
import pytest

from talkqa.clock import FakeClock
from talkqa.connectors.base import AuthFailed, ConnectorError, NotFound, OutcomeUnknown, ValidationFailed
from talkqa.connectors.http import RetryPolicy, SystemClient

Handler = Callable[[httpx.Request], httpx.Response]
URL = "http://127.0.0.1:9/v2/Suppliers"


def make(handler: Handler, clock: FakeClock, **kw: object) -> SystemClient:
    return SystemClient("powerofficego", clock=clock, transport=httpx.MockTransport(handler), **kw)  # type: ignore[arg-type]


def scripted(*steps: object, clock: FakeClock | None = None) -> tuple[Handler, list[float], FakeClock]:
    """A handler that plays ``steps`` in order (a Response, or an exception to raise)."""
    clock = clock or FakeClock()
    seen: list[float] = []
    queue = list(steps)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(clock.now())
        step = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(step, Exception):
            raise step
        assert isinstance(step, httpx.Response)
        return step

    return handler, seen, clock


def test_5xx_is_retried_with_backoff_on_the_fake_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_real_sleep(seconds: float) -> None:
        raise AssertionError("slept for real")

    monkeypatch.setattr(time, "sleep", no_real_sleep)
    handler, seen, clock = scripted(httpx.Response(503), httpx.Response(502), httpx.Response(200, json=[]))
    client = make(handler, clock)
    assert client.request("GET", URL).status_code == 200
    assert client.stats.requests == 3 and client.stats.retries == 2
    assert seen[1] - seen[0] >= 0.25 and seen[2] - seen[1] >= 0.5  # exponential (base 0.5, jitter >= x0.5)


def test_backoff_jitter_is_reproducible_per_seed() -> None:
    def delays(seed: int) -> list[float]:
        handler, seen, clock = scripted(httpx.Response(500))
        with pytest.raises(ConnectorError):
            make(handler, clock, seed=seed).request("GET", URL)
        return [b - a for a, b in itertools.pairwise(seen)]

    assert delays(1) == delays(1)
    assert delays(1) != delays(2)


def test_retries_are_bounded_and_the_message_names_system_method_path() -> None:
    handler, seen, clock = scripted(httpx.Response(500, json={"title": "boom"}))
    client = make(handler, clock, retry=RetryPolicy(max_attempts=4))
    with pytest.raises(ConnectorError) as info:
        client.request("GET", URL, params={"PageNumber": 1})
    assert len(seen) == 4
    assert info.value.retryable and info.value.status == 500
    assert "powerofficego: GET /v2/Suppliers" in str(info.value) and "boom" in str(info.value)


def test_retry_after_is_honoured() -> None:
    handler, seen, clock = scripted(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200))
    make(handler, clock).request("GET", URL)
    assert seen[1] - seen[0] >= 7.0


def spent(reset_ms: int) -> dict[str, str]:
    return {"X-RateLimit-Minutely-Remaining": "0", "X-RateLimit-Minutely-Reset": str(reset_ms)}


def test_exact_minutely_reset_in_epoch_ms_is_honoured_on_429() -> None:
    clock = FakeClock()
    reset_ms = int((clock.now() + 42.5) * 1000)
    handler, seen, _ = scripted(
        httpx.Response(429, headers=spent(reset_ms)),
        httpx.Response(200), clock=clock,
    )
    client = SystemClient("exact", clock=clock, transport=httpx.MockTransport(handler))
    client.request("GET", URL)
    assert seen[1] >= reset_ms / 1000 and seen[1] - seen[0] < 43.0


def test_spent_minutely_budget_makes_the_next_request_wait_without_a_429() -> None:
    clock = FakeClock()
    reset_ms = int((clock.now() + 30) * 1000)
    handler, seen, _ = scripted(
        httpx.Response(200, headers=spent(reset_ms)),
        httpx.Response(200, headers={"X-RateLimit-Minutely-Remaining": "59",
                                     "X-RateLimit-Minutely-Reset": str(reset_ms + 60_000)}), clock=clock,
    )
    client = SystemClient("exact", clock=clock, transport=httpx.MockTransport(handler))
    client.request("GET", URL)
    client.request("GET", URL)
    assert seen[1] >= reset_ms / 1000
    assert client.stats.rate_limited == 0


def test_a_wait_longer_than_allowed_raises_instead_of_sleeping() -> None:
    handler, seen, clock = scripted(httpx.Response(429, headers={"Retry-After": "86400"}))
    with pytest.raises(ConnectorError, match="wait 86400 s"):
        make(handler, clock).request("GET", URL)
    assert len(seen) == 1


def test_persistent_429_gives_up_after_the_bound() -> None:
    handler, seen, clock = scripted(httpx.Response(429, headers={"Retry-After": "1"}))
    with pytest.raises(ConnectorError, match="still rate limited") as info:
        make(handler, clock, retry=RetryPolicy(max_rate_limited=3)).request("GET", URL)
    assert len(seen) == 4 and info.value.status == 429


def test_get_survives_a_dropped_connection() -> None:
    handler, seen, clock = scripted(httpx.RemoteProtocolError("Server disconnected"), httpx.Response(200))
    assert make(handler, clock).request("GET", URL).status_code == 200
    assert len(seen) == 2


@pytest.mark.parametrize("failure", [
    httpx.RemoteProtocolError("Server disconnected without sending a response."),
    httpx.ReadTimeout("timed out"),
    httpx.Response(500),
    httpx.Response(503),
])
def test_post_with_unknown_outcome_is_not_repeated(failure: object) -> None:
    handler, seen, clock = scripted(failure, httpx.Response(201, json={"Id": 1}))
    with pytest.raises(OutcomeUnknown) as info:
        make(handler, clock).request("POST", URL, json_body={"x": 1})
    assert len(seen) == 1
    assert "may or may not have been applied" in str(info.value)


def test_post_is_repeated_when_it_surely_was_not_sent() -> None:
    handler, seen, clock = scripted(httpx.ConnectError("refused"), httpx.Response(429), httpx.Response(201))
    assert make(handler, clock).request("POST", URL, json_body={}).status_code == 201
    assert len(seen) == 3


@pytest.mark.parametrize(("status", "body", "error", "text"), [
    (404, {"title": "Object(s) not found", "detail": "Supplier with id = 12345 not found."}, NotFound, "12345"),
    (400, {"type": "x", "title": "Supplier validation error(s)", "detail": "ExternalImportReference is already in use"},
     ValidationFailed, "already in use"),
    (400, {"error": {"code": "", "message": {"lang": "", "value": "Provide at least first name"}}},
     ValidationFailed, "first name"),
    (403, {"statusCode": 403, "message": "Forbidden"}, AuthFailed, "Forbidden"),
    (415, None, ConnectorError, "HTTP 415"),
])
def test_error_shapes_map_to_exceptions(status: int, body: object, error: type[Exception], text: str) -> None:
    response = httpx.Response(status, json=body) if body is not None else httpx.Response(status)
    handler, seen, clock = scripted(response)
    with pytest.raises(error) as info:
        make(handler, clock).request("PATCH", URL + "/12345", json_body=[])
    assert text in str(info.value) and "PATCH /v2/Suppliers/12345" in str(info.value)
    assert len(seen) == 1


class CountingAuth:
    def __init__(self) -> None:
        self.generation = 0
        self.invalidated = 0

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer t{self.generation}"}

    def on_unauthorized(self) -> None:
        self.invalidated += 1
        self.generation += 1


def test_401_triggers_exactly_one_reauth() -> None:
    clock = FakeClock()
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["Authorization"])
        return httpx.Response(200) if request.headers["Authorization"] == "Bearer t1" else httpx.Response(401)

    client = make(handler, clock)
    auth = CountingAuth()
    client.auth = auth
    assert client.request("GET", URL).status_code == 200
    assert sent == ["Bearer t0", "Bearer t1"] and auth.invalidated == 1

    auth.generation = 5  # now every token is refused
    with pytest.raises(AuthFailed):
        client.request("GET", URL)
    assert auth.invalidated == 2  # one more attempt, not a loop


def test_client_side_limiter_keeps_under_the_vendor_rate() -> None:
    clock = FakeClock()
    times: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(clock.now())
        return httpx.Response(200)

    client = make(handler, clock, limits={"v2": (10, 1.0)})
    for _ in range(35):
        client.request("GET", URL, api="v2")
    for i, t in enumerate(times):
        assert sum(1 for u in times[i:] if u < t + 1.0) <= 10
    assert times[-1] - times[0] >= 3.0


def test_request_counter_counts_every_exchange() -> None:
    handler, seen, clock = scripted(httpx.Response(500), httpx.Response(200))
    client = make(handler, clock)
    client.request("GET", URL)
    client.request("GET", URL)
    assert client.stats.requests == len(seen) == 3
    assert client.stats.by_status[200] == 2 and client.stats.by_status[500] == 1


def test_a_far_reset_header_does_not_block_silently() -> None:
    clock = FakeClock()
    far = int((clock.now() + 86_400) * 1000)  # the daily budget is spent until tomorrow
    handler, seen, _ = scripted(
        httpx.Response(200, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(far)}),
        httpx.Response(429, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(far)}), clock=clock,
    )
    client = SystemClient("exact", clock=clock, transport=httpx.MockTransport(handler))
    client.request("GET", URL)
    with pytest.raises(ConnectorError, match="asks to wait 86400 s"):
        client.request("GET", URL)
    assert seen[1] - seen[0] < 1.0
