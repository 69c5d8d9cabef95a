"""What a system plugin offers talkqa: connectors, configuration, a simulator, replay settings.

A *system* is one vendor API (PowerOffice Go, Exact Online, ...). Everything specific to it lives
in one plugin, registered under the entry-point group ``talkqa.systems`` (see ``docs/systems.md``).
The runtime, the generator and the reference sync only ever talk to this interface.

Words used here:

* **system key**: a system as one side of a document addresses it: its slug, or ``slug#target``
  for the target side of a document whose two sides are the same system (a second tenant).
* **config**: whatever the plugin needs to reach one tenant (URLs, credentials); opaque to talkqa.
* **session**: the open HTTP clients of one config; hands out one connector per entity.
* **simulator**: the plugin's in-process stand-in for the real API, started once per test run.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from talkqa.connectors.base import FieldSpec, ResourceConnector

if TYPE_CHECKING:
    from generator.model import Document
    from talkqa.clock import Clock
    from talkqa.systems.admin import AdminClient


@dataclass(frozen=True)
class SystemKey:
    """``exact`` or ``hubspot#target``: a slug and a tenant ("" for the first/only one)."""

    slug: str
    tenant: str = ""

    @classmethod
    def parse(cls, text: str) -> SystemKey:
        slug, _, tenant = text.strip().lower().partition("#")
        return cls(slug, tenant)

    def __str__(self) -> str:
        return f"{self.slug}#{self.tenant}" if self.tenant else self.slug

    @property
    def env_prefix(self) -> str:
        """``TALKQA_EXACT_`` or ``TALKQA_HUBSPOT_TARGET_``: where its settings live in the environment."""
        parts = [self.slug, self.tenant] if self.tenant else [self.slug]
        return "TALKQA_" + "_".join(p.upper().replace("-", "_") for p in parts) + "_"


class SystemSession(ABC):
    """Open clients of one configured tenant; one connector per entity, made on first use."""

    @abstractmethod
    def connector(self, entity: str) -> ResourceConnector: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Close the HTTP clients."""


class SimulatorHandle(ABC):
    """A plugin's simulator, running for one test run (one per pytest-xdist worker)."""

    @abstractmethod
    def config(self, key: SystemKey) -> Any:
        """The config that reaches tenant ``key`` of this simulator."""

    @abstractmethod
    def reset(self) -> None:
        """Forget every record, token and fault (before each test)."""

    @abstractmethod
    def stop(self) -> None: ...

    def command_config(self, config: Any) -> Any:
        """The config an external sync process gets (e.g. its own OAuth grant). Default: the same."""
        return config

    def info(self) -> dict[str, Any]:
        """URLs and (fake) credentials, JSON-ready, for ``talkqa simulate``."""
        return {}

    def api_calls(self) -> int:
        """Requests this simulator answered since it started (resets keep counting): a run's cost."""
        return 0

    def faults_fired(self) -> int:
        """Requests a scheduled fault answered since the simulator started."""
        return 0

    def inject_faults(self, faults: list[dict[str, Any]]) -> bool:
        """Schedule ``faults`` (:class:`talkqa.simulators.faults.Fault` as dicts) on this simulator until
        its next reset; False when it cannot misbehave (the default)."""
        return False


class SystemPlugin(ABC):
    """One system: which entities it serves and how to reach them (live, simulated, replayed)."""

    #: the slug documents use for it (from their file names): ``exact``, ``powerofficego``
    slug: str = ""
    #: a name for people
    title: str = ""
    #: API calls the vendor allows per day (per app and company), None when it states no daily quota: a
    #: sandbox run's default API budget for the system (docs/sandboxes.md)
    daily_quota: int | None = None

    @abstractmethod
    def entities(self) -> Mapping[str, Mapping[str, FieldSpec]]:
        """The entities it serves, by the documents' entity label (aliases included), with their fields."""

    def serves(self, entity: str) -> bool:
        return entity.strip() in self.entities()

    # -- configuration ---------------------------------------------------------------------------
    def env_prefix(self, key: SystemKey) -> str:
        """Where its settings live in the environment (``TALKQA_HUBSPOT_``, ``TALKQA_HUBSPOT_TARGET_``)."""
        return key.env_prefix

    @abstractmethod
    def config_from_env(self, key: SystemKey, env: Mapping[str, str]) -> Any | None:
        """The config for a real API from ``TALKQA_<SLUG>_*`` variables; None when not configured."""

    @abstractmethod
    def replay_config(self, key: SystemKey) -> Any:
        """A config for replaying cassettes: URLs at ``.invalid`` hosts, placeholder credentials."""

    def command_env(self, key: SystemKey, config: Any, state_dir: Path | None = None) -> dict[str, str]:
        """``TALKQA_<SLUG>_*`` variables describing ``config`` to an external sync command; ``state_dir``
        is the command's own folder (e.g. for a token store that must outlive one run of it)."""
        return {}

    # -- running -----------------------------------------------------------------------------------
    @abstractmethod
    def start_simulator(
        self, *, clock: Clock, rate_limits: bool, documents: Iterable[Document] = (), in_process: bool = False
    ) -> SimulatorHandle:
        """Start this system's simulator (on 127.0.0.1 or in process). ``in_process``: nothing records
        cassettes, so a simulator may answer its connectors without HTTP."""

    @abstractmethod
    def open(self, key: SystemKey, config: Any, *, clock: Clock, seed: int = 0) -> SystemSession:
        """Open clients for ``config``."""

    def prepare(self, key: SystemKey, config: Any, admin: AdminClient) -> Any:
        """Set-up a test needs in a simulated tenant before records can be created, through ``admin``
        (:mod:`talkqa.systems.admin`: over HTTP when a cassette records or replays, so it holds it);
        returns the config to use. Default: nothing to do."""
        return config

    def wire_forms(self, connector: ResourceConnector, path: str, value: Any) -> list[Any]:
        """The forms ``value`` of ``path`` takes on the wire (for replaying a fuzz cassette with another
        value). Default: what the connector's ``mapper`` encodes, else the value itself."""
        mapper = getattr(connector, "mapper", None)
        if mapper is not None:
            from talkqa.connectors.codecs import set_path

            try:
                return list(mapper.encode(set_path({}, path, value)).values()) or [value]
            except (ValueError, TypeError):
                return [value]
        return [value]


class NotConfigured(LookupError):
    """A system the run needs has no configuration (the message says which variables to set)."""
