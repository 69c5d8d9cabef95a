"""The in-process transport steps a simulator's answer by hand when nothing in it waits, and runs it on its
event loop otherwise, with the same answers either way."""
from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.responses import JSONResponse

from talkqa.clock import FakeClock, SystemClock
from talkqa.simulators.faults import Fault
from talkqa.simulators.inprocess import InProcessTransport
from talkqa.simulators.poweroffice import PowerOfficeKeys, PowerOfficeSettings, PowerOfficeSimulator
from talkqa.wire import build_request


def _echo_transport(steppable: bool, wait_for: Any = None) -> InProcessTransport:
    async def handler(request: Request) -> JSONResponse:
        if wait_for is not None:
            await wait_for()
        body = await request.body()
        return JSONResponse({"path": request.url.path, "query": dict(request.query_params),
                             "body": body.decode("utf-8")}, status_code=201)

    return InProcessTransport(None, handler, (lambda: steppable) if steppable else None)


@given(path=st.from_regex(r"/[a-z]{1,8}(/[a-z0-9]{1,4}){0,2}", fullmatch=True),
       query=st.dictionaries(st.text("abc", min_size=1, max_size=3), st.text(max_size=5), max_size=3),
       body=st.text(max_size=20))
def test_stepped_and_looped_answers_are_the_same(path: str, query: dict[str, str], body: str) -> None:
    answers = []
    for steppable in (True, False):
        transport = _echo_transport(steppable)
        try:
            request = build_request("POST", f"http://127.0.0.1:9{path}", params=query, content=body.encode(),
                                    data=None, headers={})
            response = transport.answer(request)
            answers.append((response.status_code, json.loads(response.content)))
        finally:
            transport.shutdown()
    assert answers[0] == answers[1]
    assert answers[0][0] == 201 and answers[0][1]["body"] == body


def test_an_answer_that_waits_for_a_future_is_finished_on_the_loop() -> None:
    holder: dict[str, Any] = {}

    async def wait() -> None:
        await holder["future"]  # not done when the hand-stepping reaches it

    transport = _echo_transport(True, wait)
    try:
        future = holder["future"] = transport._loop.create_future()
        transport._loop.call_soon(future.set_result, None)
        request = build_request("POST", "http://127.0.0.1:9/x", params=None, content=b"late", data=None, headers={})
        response = transport.answer(request)
        assert response.status_code == 201 and json.loads(response.content)["body"] == "late"
    finally:
        transport.shutdown()


@pytest.mark.parametrize("clock, real, steppable", [
    (FakeClock(), False, True),  # a slow fault on a fake clock moves the clock: nothing waits
    (FakeClock(), True, False),  # a fault that sleeps for real needs the loop
    (SystemClock(), False, False),
])
def test_a_simulator_is_steppable_unless_a_fault_sleeps_for_real(clock: Any, real: bool, steppable: bool) -> None:
    sim = PowerOfficeSimulator(PowerOfficeKeys("app", "client", "sub"), settings=PowerOfficeSettings(), clock=clock)
    assert sim.answers_without_waiting()
    sim.faults.add(Fault("slow", seconds=0.01, real=real))
    assert sim.answers_without_waiting() is steppable
    sim.faults.clear()
    assert sim.answers_without_waiting()
