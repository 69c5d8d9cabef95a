"""The systems of one run: which plugin serves each (system, entity), and how to reach it.

``Systems`` is what the test backends, ``talkqa sync`` and the benchmarks use; it is the only
place that turns a document's (system key, entity label) into a connector:

* a registered plugin (:mod:`talkqa.systems.registry`) serves the entities it lists;
* every other (system, entity) is served by the generic system built from the run's documents.

Three ways to reach a system (``mode``): ``simulators`` (each plugin's simulator, started on
first use and reset before each test), ``replay`` (placeholder configs for cassettes), ``live``
(configs from ``TALKQA_<SLUG>_*`` variables).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.model import Document, Flow
from talkqa.clock import Clock, SystemClock
from talkqa.connectors.base import ResourceConnector
from talkqa.systems import registry
from talkqa.systems.admin import AdminClient
from talkqa.systems.base import NotConfigured, SimulatorHandle, SystemKey, SystemPlugin, SystemSession
from talkqa.systems.generic import GenericSystem

MODES = ("simulators", "replay", "live")
Resolver = Callable[[str, str], ResourceConnector]


@dataclass
class Binding:
    """One document's connectors: resolve (system key, entity label) -> connector, and close."""

    resolve: Resolver
    sessions: list[SystemSession] = field(default_factory=list)
    configs: dict[tuple[str, str], tuple[SystemPlugin, SystemKey, Any]] = field(default_factory=dict)

    def close(self) -> None:
        for session in self.sessions:
            session.close()
        self.sessions.clear()


class Systems:
    """Plugins, simulators and configs for the documents of one run."""

    def __init__(
        self,
        documents: Iterable[Document],
        *,
        mode: str = "simulators",
        clock: Clock | None = None,
        rate_limits: bool = True,
        env: Mapping[str, str] | None = None,
        plugins: Mapping[str, SystemPlugin] | None = None,
        in_process: bool = False,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.documents = list(documents)
        self.mode = mode
        self.clock: Clock = clock or SystemClock()
        self.rate_limits = rate_limits
        self.in_process = in_process  # nothing records: simulators may answer without HTTP
        self.env = dict(os.environ if env is None else env)
        self.plugins = dict(registry.plugins() if plugins is None else plugins)
        self.generic = GenericSystem(self.documents)
        self._handles: dict[str, SimulatorHandle] = {}
        self._faults: list[dict[str, Any]] = []  # what inject_faults scheduled: a simulator started later gets it
        self.unfaulted: set[str] = set()  # slugs of simulators that cannot misbehave
        self._admin: AdminClient | None = None

    # -- who serves what ------------------------------------------------------------------------
    def plugin_for(self, key: SystemKey, entity: str) -> SystemPlugin:
        plugin = self.plugins.get(key.slug)
        if plugin is not None and plugin.serves(entity):
            return plugin
        return self.generic

    def resources(self, document: Document, flow: Flow) -> set[tuple[str, ...]]:
        """Names of the records ``flow`` reads and writes, for :func:`talkqa.sync.engine.related_flows`.
        A generic entity keeps its records apart from the system's others (one table per entity path);
        a plugin's entities may share records (two labels for one API, a parent and its children), so
        all of a plugin system's entities are one resource."""
        out: set[tuple[str, ...]] = set()
        for side, label in (("source", flow.source_label), ("target", flow.target_label)):
            key = SystemKey.parse(document.system_key(side))
            plugin = self.plugin_for(key, label)
            if plugin is self.generic:
                out.add((str(key), "generic", self.generic.profile(key.slug).entity_path(label)))
            else:
                out.add((str(key), plugin.slug))
        return out

    def describe(self, document: Document) -> list[tuple[str, str, str]]:
        """(system key, entity, who serves it) for every side of every flow of ``document``."""
        out = []
        for flow in document.flows:
            for side, label in (("source", flow.source_label), ("target", flow.target_label)):
                key = SystemKey.parse(document.system_key(side))
                plugin = self.plugin_for(key, label)
                who = plugin.title if plugin is not self.generic else "generic (from the documents)"
                row = (str(key), label, who)
                if row not in out:
                    out.append(row)
        return out

    def unconfigured(self, document: Document) -> list[str]:
        """Live mode: why each system of ``document`` cannot be reached (read from settings only, no
        request made); empty when every one is configured."""
        out: list[str] = []
        for flow in document.flows:
            for side, label in (("source", flow.source_label), ("target", flow.target_label)):
                key = SystemKey.parse(document.system_key(side))
                plugin = self.plugin_for(key, label)
                try:
                    config = plugin.config_from_env(key, self.env)
                except (ValueError, LookupError) as exc:
                    problem = f"{key} ({plugin.title}): {exc}"
                else:
                    problem = None if config is not None else (
                        f"{key} ({plugin.title}) is not configured: set {plugin.env_prefix(key)}* variables "
                        "(see docs/systems.md)")
                if problem and problem not in out:
                    out.append(problem)
        return out

    # -- simulators -----------------------------------------------------------------------------
    def handle(self, plugin: SystemPlugin) -> SimulatorHandle:
        name = plugin.slug
        if name not in self._handles:
            handle = self._handles[name] = plugin.start_simulator(
                clock=self.clock, rate_limits=self.rate_limits, documents=self.documents, in_process=self.in_process
            )
            if self._faults and not handle.inject_faults([dict(f) for f in self._faults]):
                self.unfaulted.add(name)
        return self._handles[name]

    def inject_faults(self, faults: list[dict[str, Any]]) -> list[str]:
        """Schedule ``faults`` on every started simulator (until the next reset), and on each simulator
        started later in the same test (its first one included); the slugs of those that cannot
        misbehave."""
        self._faults = [dict(f) for f in faults]
        self.unfaulted |= {slug for slug, handle in self._handles.items()
                           if not handle.inject_faults([dict(f) for f in faults])}
        return sorted(self.unfaulted)

    def api_calls(self) -> dict[str, int]:
        """Requests each started simulator answered in this run, by system slug."""
        return {slug: handle.api_calls() for slug, handle in sorted(self._handles.items())}

    def faults_fired(self) -> dict[str, int]:
        """Requests a scheduled fault answered, by system slug."""
        return {slug: handle.faults_fired() for slug, handle in sorted(self._handles.items())}

    def reset(self) -> None:
        """Before a test: every started simulator forgets everything."""
        for handle in self._handles.values():
            handle.reset()

    @property
    def admin(self) -> AdminClient:
        """The client of set-up requests (:meth:`SystemPlugin.prepare`, :mod:`talkqa.systems.admin`): a
        simulator answering in process answers them in process too (the same request to the same app,
        without a socket or httpx objects); anything else, a recording or a replay included, goes through
        httpx."""
        if self._admin is None:
            self._admin = AdminClient()
        return self._admin

    # -- configs ------------------------------------------------------------------------------------
    def config(self, plugin: SystemPlugin, key: SystemKey, *, prepare: bool) -> Any:
        if self.mode == "replay":
            config = plugin.replay_config(key)
        elif self.mode == "simulators":
            config = self.handle(plugin).config(key)
        else:
            config = plugin.config_from_env(key, self.env)
            if config is None:
                raise NotConfigured(
                    f"{key} ({plugin.title}) is not configured: set {plugin.env_prefix(key)}* variables "
                    "(see docs/systems.md)"
                )
        if prepare and self.mode != "live":
            config = plugin.prepare(key, config, self.admin)
        return config

    def command_config(self, plugin: SystemPlugin, config: Any) -> Any:
        if self.mode == "simulators":
            return self.handle(plugin).command_config(config)
        return config

    def bind(self, document: Document, *, prepare: bool = True, seed: int = 0) -> Binding:
        """Connectors for one document (one test, or one fuzz example): configs made on first use."""
        binding = Binding(resolve=lambda k, e: ResourceConnector)  # replaced below
        sessions: dict[tuple[str, str], SystemSession] = {}
        connectors: dict[tuple[str, str], ResourceConnector] = {}

        def resolve(key_text: str, entity: str) -> ResourceConnector:
            cached = connectors.get((key_text, entity))
            if cached is not None:
                return cached
            key = SystemKey.parse(key_text)
            plugin = self.plugin_for(key, entity)
            skey = (str(key), plugin.slug)
            session = sessions.get(skey)
            if session is None:
                config = self.config(plugin, key, prepare=prepare)
                binding.configs[skey] = (plugin, key, config)
                session = sessions[skey] = plugin.open(key, config, clock=self.clock, seed=seed)
                binding.sessions.append(session)
            connector = connectors[(key_text, entity)] = session.connector(entity)
            if key.tenant:  # a second tenant of one system is another system to the checks (writes, messages)
                connector.system = str(key)  # type: ignore[misc]
            return connector

        binding.resolve = resolve
        return binding

    def prepare_document(self, document: Document, binding: Binding, flows: Collection[int] | None = None) -> None:
        """Make every config of the document now (in document order), so set-up requests happen before
        the test's own, in the same order each time (a cassette depends on it). ``flows``: only the
        systems of these flows (a check's scope, :func:`talkqa.sync.engine.related_flows`)."""
        for index, flow in enumerate(document.flows):
            if flows is not None and index not in flows:
                continue
            for side, label in (("source", flow.source_label), ("target", flow.target_label)):
                binding.resolve(document.system_key(side), label)

    def command_env(self, document: Document, binding: Binding, state_dir: Path | None = None) -> dict[str, str]:
        """``TALKQA_*`` variables describing every system of ``document`` to an external sync."""
        # client-side limiters on, except against simulators whose own rate limits are off
        limits = "1" if self.rate_limits or self.mode != "simulators" else "0"
        env: dict[str, str] = {"TALKQA_DOCUMENT": document.path, "TALKQA_RATE_LIMITS": limits}
        self.prepare_document(document, binding)
        for plugin, key, config in binding.configs.values():
            env |= plugin.command_env(key, self.command_config(plugin, config), state_dir)
        return env

    def close(self) -> None:
        for handle in self._handles.values():
            handle.stop()
        self._handles.clear()
        if self._admin is not None:
            self._admin.close()
            self._admin = None
