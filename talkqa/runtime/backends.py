"""Where a generated test's HTTP goes.

* ``cassettes`` (default): replayed from ``cassettes/`` beside the generated modules; nothing
  listens, the network is blocked, and URLs point at ``.invalid`` hosts. CI runs this.
* ``simulators``: in-process simulators (one pair per pytest-xdist worker), reset before
  every test. ``talkqa record`` runs this backend with cassette recording on.
* ``sandbox``: the endpoints configured in ``TALKQA_*`` environment variables or
  ``TALKQA_CONFIG`` (real vendor sandboxes); nothing is reset, records are created fresh.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from generator.model import Document
from talkqa.clock import FakeClock, TickingClock
from talkqa.connectors.base import ResourceConnector
from talkqa.connectors.config import Endpoints
from talkqa.connectors.http import shared_ssl_context
from talkqa.connectors.registry import Connections, connector_for
from talkqa.connectors.secret import Secret
from talkqa.runtime.bench import Bench
from talkqa.runtime.sut import CommandSut, ReferenceSut, Sut
from talkqa.simulators.arrange import arrange
from talkqa.sync import predicates

#: Credentials used while replaying (never real; the cassettes hold only scrubbed values).
REPLAY_INFO: dict[str, Any] = {
    "poweroffice": {"url": "http://poweroffice.talkqa.invalid"},
    "exact": {"url": "http://exact.talkqa.invalid"},
    "credentials": {
        "poweroffice": {"application_key": "replay", "client_key": "replay", "subscription_key": "replay"},
        "exact": {
            "client_id": "replay",
            "client_secret": "replay",
            "refresh_token": "replay",
            "redirect_uri": "http://localhost/replay",
        },
    },
}


class Backend:
    """Makes the per-test :class:`Bench`; ``live`` says whether read-backs mean anything."""

    name = "base"
    live = True

    def __init__(self, sut: str = "reference") -> None:
        self.sut = sut

    def endpoints(self) -> Endpoints:
        raise NotImplementedError

    def before_test(self) -> None:
        pass

    @functools.cached_property
    def admin_client(self) -> httpx.Client:
        """For set-up requests (one client: building an httpx client costs milliseconds)."""
        return httpx.Client(timeout=30, verify=shared_ssl_context())

    def close(self) -> None:
        if "admin_client" in self.__dict__:
            self.admin_client.close()

    def clock(self) -> Any:
        return FakeClock()

    def bench(self, document: Document, state_dir: Path, *, prepare: bool = True) -> Bench:
        """A bench for one test (or example). ``prepare=False`` only resolves connectors: no reset,
        no set-up requests (for looking at field specs before a test runs)."""
        endpoints = self.endpoints()
        if prepare:
            self.before_test()
            endpoints = self.endpoints()
            if self.arranges:
                systems = {document.source_system.slug, document.target_system.slug}
                endpoints = arrange(systems, self.admin_client, endpoints)
        connections = Connections(endpoints, clock=self.clock())
        cache: dict[tuple[str, str], ResourceConnector] = {}

        def resolve(slug: str, label: str) -> ResourceConnector:
            key = (slug, label)
            if key not in cache:
                cache[key] = connector_for(slug, label, endpoints, connections=connections)
            return cache[key]

        return Bench(document, resolve, state_dir, live=self.live, make_sut=self._sut_factory(endpoints))

    arranges = True

    def sut_endpoints(self, endpoints: Endpoints) -> Endpoints:
        """The endpoints an external sync gets (it must bring its own credentials where tokens rotate)."""
        return endpoints

    def _sut_factory(self, endpoints: Endpoints) -> Callable[..., Sut]:
        if self.sut == "reference":
            return lambda doc, resolve, state: ReferenceSut(doc, resolve, state, predicates.registry())
        if self.sut.startswith("command:"):
            command = self.sut[len("command:") :]

            def make(doc: Document, resolve: Any, state: Path) -> Sut:
                env = endpoint_env(self.sut_endpoints(endpoints), doc)
                env["TALKQA_EXACT_TOKEN_STORE"] = str(state / "exact-token.json")
                return CommandSut(command, env, state)

            return make
        raise ValueError(f"--talkqa-sut: expected 'reference' or 'command:<shell command>', got {self.sut!r}")


class SimulatorsBackend(Backend):
    name = "simulators"

    def __init__(self, sut: str = "reference") -> None:
        super().__init__(sut)
        from talkqa.simulators.launcher import start_simulators

        self.sims = start_simulators(clock=TickingClock(), rate_limits=True)

    def before_test(self) -> None:
        self.sims.reset()

    def clock(self) -> Any:
        return self.sims.clock

    def endpoints(self) -> Endpoints:
        ep = Endpoints.from_simulators(self.sims, token_store=None)
        assert ep.exact is not None
        return dataclasses.replace(ep, exact=dataclasses.replace(ep.exact, division=None))

    def sut_endpoints(self, endpoints: Endpoints) -> Endpoints:
        """An external sync is another OAuth client session: give it its own Exact grant, so the
        two rotating refresh-token chains do not revoke each other."""
        if endpoints.exact is None:
            return endpoints
        refresh = self.sims.exact.issue_refresh_token()
        self.sims.exact.age_tokens(self.sims.exact.settings.access_token_lifetime, refresh)
        exact = dataclasses.replace(endpoints.exact, refresh_token=Secret(refresh))
        return dataclasses.replace(endpoints, exact=exact)

    def close(self) -> None:
        super().close()
        self.sims.stop()


class CassettesBackend(Backend):
    name = "cassettes"
    live = False

    def endpoints(self) -> Endpoints:
        ep = Endpoints.from_simulators(REPLAY_INFO, token_store=None)
        assert ep.exact is not None
        return dataclasses.replace(ep, exact=dataclasses.replace(ep.exact, division=None))

    def _sut_factory(self, endpoints: Endpoints) -> Callable[..., Sut]:
        if self.sut != "reference":
            raise ValueError("an external --talkqa-sut runs live only: add --talkqa-backend=simulators or sandbox")
        return super()._sut_factory(endpoints)


class SandboxBackend(Backend):
    name = "sandbox"
    arranges = False

    def clock(self) -> Any:
        from talkqa.clock import SystemClock

        return SystemClock()

    def endpoints(self) -> Endpoints:
        return Endpoints.from_env()


def endpoint_env(endpoints: Endpoints, document: Document) -> dict[str, str]:
    """``TALKQA_*`` variables that describe ``endpoints`` to an external sync command."""
    env: dict[str, str] = {"TALKQA_DOCUMENT": document.path, "TALKQA_RATE_LIMITS": "1"}
    po, ex = endpoints.poweroffice, endpoints.exact
    if po is not None:
        env |= {
            "TALKQA_POWEROFFICE_V1_URL": po.v1_url,
            "TALKQA_POWEROFFICE_V2_URL": po.v2_url,
            "TALKQA_POWEROFFICE_TOKEN_URL": po.token_url,
            "TALKQA_POWEROFFICE_APP_KEY": po.app_key.reveal(),
            "TALKQA_POWEROFFICE_CLIENT_KEY": po.client_key.reveal(),
        }
        if po.subscription_key is not None:
            env["TALKQA_POWEROFFICE_SUBSCRIPTION_KEY"] = po.subscription_key.reveal()
        if po.v1_parent:
            env["TALKQA_POWEROFFICE_V1_PARENT"] = po.v1_parent
    if ex is not None:
        env |= {
            "TALKQA_EXACT_URL": ex.url,
            "TALKQA_EXACT_CLIENT_ID": ex.client_id,
            "TALKQA_EXACT_CLIENT_SECRET": ex.client_secret.reveal(),
        }
        if ex.refresh_token is not None:
            env["TALKQA_EXACT_REFRESH_TOKEN"] = ex.refresh_token.reveal()
    return env


BACKENDS: dict[str, type[Backend]] = {
    "cassettes": CassettesBackend,
    "simulators": SimulatorsBackend,
    "sandbox": SandboxBackend,
}
