"""The client of set-up requests (:meth:`talkqa.systems.base.SystemPlugin.prepare`).

A plugin seeds what a simulated tenant needs (a parent record, a setting) through its simulator's admin
routes. Those requests go where the connectors' go: to a simulator answering in this process through the
wire (:mod:`talkqa.wire`: no httpx request, response and client machinery, which cost a millisecond per
set-up, and there is one per fuzz example), and to anything else (a simulator's server, a recording, a
replay: vcrpy sees httpx) over httpx. A plugin sees what it uses of an ``httpx.Client``: ``request``,
``get`` and ``post`` with ``json``, ``params`` and ``headers``, returning a response with
``status_code``, ``headers``, ``text``, ``json()`` and ``raise_for_status()``.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from typing import Any

import httpx

from talkqa.connectors.http import shared_ssl_context
from talkqa.wire import WireResponse, build_request


class AdminClient:
    """``request``/``get``/``post`` to a simulator in this process through the wire, else over httpx."""

    def __init__(self) -> None:
        self._http: httpx.Client | None = None

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(timeout=30, verify=shared_ssl_context(), trust_env=False)
        return self._http

    def request(self, method: str, url: str, *, json: Any = None, params: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None) -> httpx.Response | WireResponse:
        from talkqa.simulators.inprocess import transport_for

        local = transport_for(url)
        if local is None:
            return self.http.request(method, url, json=json, params=params, headers=headers)
        sent = dict(headers or {})
        content = None
        if json is not None:  # what httpx sends for json=: compact JSON, its content type
            content = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            sent.setdefault("content-type", "application/json")
            sent.setdefault("content-length", str(len(content)))
        return local.answer(build_request(method.upper(), url, params, content, None, sent))

    def get(self, url: str, **kwargs: Any) -> httpx.Response | WireResponse:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response | WireResponse:
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
