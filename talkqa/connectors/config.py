"""Where the systems are and how to log in: built from the environment, a config file, or the simulators.

Environment variables (all optional; a system is configured when its URL is set):

PowerOffice Go (slug ``powerofficego``)
  ``TALKQA_POWEROFFICE_V1_URL``            v1 API base (real: ``https://api.poweroffice.net``; simulator ``{url}/v1``)
  ``TALKQA_POWEROFFICE_V2_URL``            v2 API base (real: ``https://goapi.poweroffice.net/v2``)
  ``TALKQA_POWEROFFICE_TOKEN_URL``         token endpoint (real: ``https://goapi.poweroffice.net/OAuth/Token``)
  ``TALKQA_POWEROFFICE_APP_KEY``           application key (secret)
  ``TALKQA_POWEROFFICE_CLIENT_KEY``        client key (secret)
  ``TALKQA_POWEROFFICE_SUBSCRIPTION_KEY``  APIM subscription key (secret)
  ``TALKQA_POWEROFFICE_V1_PARENT``         default parent for new v1 contact persons: ``Customer:<id>`` or
                                           ``Supplier:<id>`` (a ``parent=`` argument to the connector wins)
Exact Online (slug ``exact``)
  ``TALKQA_EXACT_URL``                     host, e.g. ``https://start.exactonline.nl`` (API under ``/api/v1``)
  ``TALKQA_EXACT_CLIENT_ID``               OAuth client id
  ``TALKQA_EXACT_CLIENT_SECRET``           OAuth client secret (secret)
  ``TALKQA_EXACT_REFRESH_TOKEN``           first refresh token (secret); the token store wins once it exists
  ``TALKQA_EXACT_DIVISION``                division number; asked from ``current/Me`` when unset
  ``TALKQA_EXACT_TOKEN_STORE``             file holding the rotated tokens (default ``.talkqa/exact-tokens.json``)
Both
  ``TALKQA_RATE_LIMITS``                   ``0`` turns the client-side rate limiters off (benchmarks)
  ``TALKQA_CONFIG``                        a TOML or JSON file with the same settings (see :meth:`Endpoints.from_file`)

The config file (never committed; ``.talkqa/`` is the usual place) has two tables::

    [poweroffice]
    v1_url = "..."; v2_url = "..."; token_url = "..."; app_key = "..."; client_key = "..."
    subscription_key = "..."; v1_parent = "Customer:1"
    [exact]
    url = "..."; client_id = "..."; client_secret = "..."; refresh_token = "..."; division = 123456
    token_store = ".talkqa/exact-tokens.json"

Secrets are kept in :class:`~talkqa.connectors.secret.Secret`, whose repr is ``'***'``.
"""
from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from talkqa.connectors.secret import Secret, secret_or_none

DEFAULT_TOKEN_STORE = Path(".talkqa/exact-tokens.json")
SIMULATORS_FILE = Path(".talkqa/simulators.json")


class ConfigError(ValueError):
    """The configuration is incomplete or malformed (messages never include secret values)."""


@dataclass(frozen=True, eq=False)
class PowerOfficeConfig:
    v1_url: str
    v2_url: str
    token_url: str
    app_key: Secret
    client_key: Secret
    subscription_key: Secret | None = None
    v1_parent: str | None = None  # "Customer:<id>" / "Supplier:<id>"
    rate_limits: bool = True
    # (requests, seconds) per API; the documented vendor limits
    v1_limit: tuple[int, float] = (50, 1.0)
    v2_limit: tuple[int, float] = (10, 1.0)


@dataclass(frozen=True, eq=False)
class ExactConfig:
    url: str
    client_id: str
    client_secret: Secret
    refresh_token: Secret | None = None
    division: int | None = None
    token_store: Path | None = DEFAULT_TOKEN_STORE
    rate_limits: bool = True
    minute_limit: tuple[int, float] = (60, 60.0)
    redirect_uri: str | None = None  # set for simulators only: they consent without a browser

    @property
    def api_url(self) -> str:
        return f"{self.url.rstrip('/')}/api/v1"

    @property
    def token_url(self) -> str:
        return f"{self.url.rstrip('/')}/api/oauth2/token"

    @property
    def auth_url(self) -> str:
        return f"{self.url.rstrip('/')}/api/oauth2/auth"


@dataclass(frozen=True, eq=False)
class Endpoints:
    """Configuration of every system; either part may be None (not configured)."""

    poweroffice: PowerOfficeConfig | None = None
    exact: ExactConfig | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    # -- sources ---------------------------------------------------------------------------------
    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Endpoints:
        env = os.environ if env is None else env
        if env.get("TALKQA_CONFIG"):
            return cls.from_file(env["TALKQA_CONFIG"], rate_limits=_flag(env.get("TALKQA_RATE_LIMITS")))
        po = ex = None
        limits = _flag(env.get("TALKQA_RATE_LIMITS"))
        if env.get("TALKQA_POWEROFFICE_V1_URL") or env.get("TALKQA_POWEROFFICE_V2_URL"):
            po = _poweroffice({
                "v1_url": env.get("TALKQA_POWEROFFICE_V1_URL"),
                "v2_url": env.get("TALKQA_POWEROFFICE_V2_URL"),
                "token_url": env.get("TALKQA_POWEROFFICE_TOKEN_URL"),
                "app_key": env.get("TALKQA_POWEROFFICE_APP_KEY"),
                "client_key": env.get("TALKQA_POWEROFFICE_CLIENT_KEY"),
                "subscription_key": env.get("TALKQA_POWEROFFICE_SUBSCRIPTION_KEY"),
                "v1_parent": env.get("TALKQA_POWEROFFICE_V1_PARENT"),
            }, limits, "TALKQA_POWEROFFICE_")
        if env.get("TALKQA_EXACT_URL"):
            ex = _exact({
                "url": env.get("TALKQA_EXACT_URL"),
                "client_id": env.get("TALKQA_EXACT_CLIENT_ID"),
                "client_secret": env.get("TALKQA_EXACT_CLIENT_SECRET"),
                "refresh_token": env.get("TALKQA_EXACT_REFRESH_TOKEN"),
                "division": env.get("TALKQA_EXACT_DIVISION"),
                "token_store": env.get("TALKQA_EXACT_TOKEN_STORE"),
            }, limits, "TALKQA_EXACT_")
        return cls(po, ex)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, rate_limits: bool = True) -> Endpoints:
        p = Path(path)
        try:
            text = p.read_text()
            raw = json.loads(text) if p.suffix == ".json" else tomllib.loads(text)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read config file {p}: {type(exc).__name__}") from None
        return cls.from_mapping(raw, rate_limits=rate_limits)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], *, rate_limits: bool = True) -> Endpoints:
        po_raw, ex_raw = raw.get("poweroffice"), raw.get("exact")
        po = _poweroffice(po_raw, rate_limits, "poweroffice.") if po_raw else None
        ex = _exact(ex_raw, rate_limits, "exact.") if ex_raw else None
        return cls(po, ex)

    @classmethod
    def from_simulators(
        cls,
        info: Any = None,
        *,
        rate_limits: bool = True,
        token_store: str | os.PathLike[str] | None = None,
        v1_parent: str | None = None,
    ) -> Endpoints:
        """From the running simulators: the launcher object (``.poweroffice.url``, ``.exact.url``,
        ``.credentials``), its info dict, or the path of ``.talkqa/simulators.json`` (the default)."""
        if info is None or isinstance(info, str | os.PathLike):
            path = Path(info) if info is not None else SIMULATORS_FILE
            try:
                info = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise ConfigError(f"cannot read simulator info {path}: {type(exc).__name__}") from None
        po_url = _pick(info, "poweroffice", "url")
        ex_url = _pick(info, "exact", "url")
        creds = _creds(info)
        po_creds = _section(creds, "poweroffice", "powerofficego")
        ex_creds = _section(creds, "exact")
        po = ex = None
        if po_url:
            base = str(po_url).rstrip("/")
            po = _poweroffice({
                "v1_url": f"{base}/v1", "v2_url": f"{base}/v2", "token_url": f"{base}/OAuth/Token",
                "app_key": _first(po_creds, "app_key", "application_key", "appKey"),
                "client_key": _first(po_creds, "client_key", "clientKey"),
                "subscription_key": _first(po_creds, "subscription_key", "subscriptionKey"),
                "v1_parent": v1_parent,
            }, rate_limits, "simulator poweroffice ")
        if ex_url:
            ex = _exact({
                "url": str(ex_url).rstrip("/"),
                "client_id": _first(ex_creds, "client_id", "clientId"),
                "client_secret": _first(ex_creds, "client_secret", "clientSecret"),
                "refresh_token": _first(ex_creds, "refresh_token", "refreshToken"),
                "division": _first(ex_creds, "division"),
                "token_store": str(token_store) if token_store is not None else None,
            }, rate_limits, "simulator exact ")
            # simulator tokens must not land in the real token store
            ex = dataclasses.replace(ex, token_store=Path(token_store) if token_store else None,
                                     redirect_uri=_first(ex_creds, "redirect_uri", "redirectUri"))
        return cls(po, ex)


# --- helpers ------------------------------------------------------------------------------------

def _flag(value: str | None, default: bool = True) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() not in {"0", "false", "no", "off"}


def _need(raw: Mapping[str, Any], key: str, prefix: str) -> str:
    value = raw.get(key)
    if value in (None, ""):
        raise ConfigError(f"missing setting {prefix}{key.upper() if prefix.endswith('_') else key}")
    return value.reveal() if isinstance(value, Secret) else str(value)


def _poweroffice(raw: Mapping[str, Any], rate_limits: bool, prefix: str) -> PowerOfficeConfig:
    v1 = raw.get("v1_url") or ""
    v2 = raw.get("v2_url") or ""
    if not v1 and not v2:
        raise ConfigError(f"missing setting {prefix}V1_URL / V2_URL")
    return PowerOfficeConfig(
        v1_url=str(v1).rstrip("/"),
        v2_url=str(v2).rstrip("/"),
        token_url=_need(raw, "token_url", prefix),
        app_key=Secret(_need(raw, "app_key", prefix)),
        client_key=Secret(_need(raw, "client_key", prefix)),
        subscription_key=secret_or_none(raw.get("subscription_key")),
        v1_parent=raw.get("v1_parent") or None,
        rate_limits=rate_limits,
    )


def _exact(raw: Mapping[str, Any], rate_limits: bool, prefix: str) -> ExactConfig:
    division = raw.get("division")
    try:
        div = int(division) if division not in (None, "") else None
    except (TypeError, ValueError):
        raise ConfigError(f"setting {prefix}DIVISION must be a number") from None
    store = raw.get("token_store")
    return ExactConfig(
        url=_need(raw, "url", prefix).rstrip("/"),
        client_id=_need(raw, "client_id", prefix),
        client_secret=Secret(_need(raw, "client_secret", prefix)),
        refresh_token=secret_or_none(raw.get("refresh_token")),
        division=div,
        token_store=Path(store) if store else DEFAULT_TOKEN_STORE,
        rate_limits=rate_limits,
    )


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def _pick(info: Any, section: str, key: str) -> Any:
    for name in (section, "powerofficego" if section == "poweroffice" else section):
        part = _get(info, name)
        if part is not None:
            value = _get(part, key)
            if value:
                return value
    return None


def _creds(info: Any) -> Any:
    return _get(info, "credentials") or {}


def _section(creds: Any, *names: str) -> Any:
    for name in names:
        part = _get(creds, name)
        if part:
            return part
    return creds


def _first(obj: Any, *keys: str) -> Any:
    for key in keys:
        value = _get(obj, key)
        if value not in (None, ""):
            return value
    return None
