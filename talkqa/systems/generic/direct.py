"""A client that hands requests straight to the generic store, in process, without HTTP.

The simulators backend uses it when nothing records cassettes: the generic connector sends the same
requests (method, path, query, JSON body, auth headers) and gets the same answers and the same
errors as over HTTP, without building an httpx request per call (which cost most of a check's time).
Recording, replaying and external syncs go through HTTP (:class:`~.simulator.StoreTransport`, the
ASGI server).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode, urlsplit

from talkqa.clock import Clock
from talkqa.connectors.base import AuthFailed, ConnectorError, NotFound, ValidationFailed
from talkqa.connectors.http import Stats, error_detail
from talkqa.connectors.secret import Redactor
from talkqa.systems.generic.simulator import GenericStore, Req


@dataclass
class DirectResponse:
    status_code: int
    body: Any

    def json(self) -> Any:
        return self.body


class DirectClient:
    """What :class:`~talkqa.systems.generic.connector.GenericConnector` needs of a client."""

    def __init__(self, system: str, store: GenericStore, clock: Clock) -> None:
        self.system = system
        self.store = store
        self.clock = clock
        self.redact = Redactor()
        self.stats = Stats()
        self.auth: Any = None

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
        **_: Any,
    ) -> DirectResponse:
        method = method.upper()
        path, base = _split(url)
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":")).encode()
        elif data is not None:
            content = urlencode(data).encode()
        else:
            content = b""
        reauthed = False
        while True:
            sent = {k.lower(): v for k, v in (headers or {}).items()}
            if authenticated and self.auth is not None:
                sent.update({k.lower(): v for k, v in self.auth.headers().items()})
            self.stats.requests += 1
            status, body = self.store.answer(Req(method, path, query, sent, content, base))
            self.stats.by_status[status] += 1
            if status == 401 and authenticated and self.auth is not None and not reauthed:
                reauthed = True
                self.auth.on_unauthorized()
                continue
            if status < 400:
                return DirectResponse(status, body)  # the store hands out copies
            detail = self.redact(error_detail(body))[:300]
            msg = f"{self.system}: {method} {path} failed with HTTP {status}" + (f": {detail}" if detail else "")
            if status == 404:
                raise NotFound(msg, status=status)
            if status in (401, 403):
                raise AuthFailed(msg, status=status)
            if status in (400, 409, 422):
                raise ValidationFailed(msg, status=status)
            raise ConnectorError(msg, status=status)

    def json(self, resp: DirectResponse) -> Any:
        return resp.json()

    def close(self) -> None:
        pass


@lru_cache(maxsize=4096)
def _split(url: str) -> tuple[str, str]:
    """A URL's path, and the URL without its query (a connector asks the same few URLs again and again)."""
    parts = urlsplit(url)
    return parts.path, f"{parts.scheme}://{parts.netloc}{parts.path}"
