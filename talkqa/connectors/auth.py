"""Token providers: PowerOffice Go client credentials and Exact Online OAuth2 with rotation.

PowerOffice (:class:`PowerOfficeAuth`): ``POST {token_url}`` with ``grant_type=client_credentials``,
``Authorization: Basic base64(appKey:clientKey)`` and ``Ocp-Apim-Subscription-Key``. The token is
cached until ``refresh_margin`` seconds before ``expires_in``; there is no refresh token, a new token
is simply requested. API calls carry the bearer token and the subscription key.

Exact (:class:`ExactAuth`): the access token lives 10 minutes and Exact refuses a refresh while it is
younger than 570 s, so it is refreshed only when ``age >= max(min_refresh_age, expires_in - margin)``.
Every refresh rotates the refresh token; the new pair is written atomically (temp file, fsync,
``os.replace``, mode 0600, under an exclusive lock on ``<store>.lock``) to the :class:`TokenStore`
*before* it is used, so the next process starts
from it (the access token is stored too, so that process does not refresh too early). A 401 from the
API triggers one refresh attempt. If a refresh is refused as "old refresh token used", the store is
re-read once in case another process rotated it; otherwise :class:`AuthFailed` says a new consent is
needed (a refresh whose response was lost cannot be recovered: Exact already revoked the old token).
"""
from __future__ import annotations

import base64
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from talkqa.connectors.base import AuthFailed, ConnectorError
from talkqa.connectors.http import SystemClient
from talkqa.connectors.secret import Secret
from talkqa.files import atomic_write
from talkqa.locks import FileLock, LockHeld, lock_path


class PowerOfficeAuth:
    """Client-credentials token for PowerOffice Go (shared by the v1 and v2 connectors)."""

    def __init__(
        self,
        client: SystemClient,
        token_url: str,
        app_key: Secret,
        client_key: Secret,
        subscription_key: Secret | None = None,
        *,
        refresh_margin: float = 60.0,
    ) -> None:
        self.client = client
        self.token_url = token_url
        self._app_key = app_key
        self._client_key = client_key
        self._subscription_key = subscription_key
        self.refresh_margin = refresh_margin
        self._token: Secret | None = None
        self._expires_at = 0.0
        self._lock = threading.RLock()
        self.tokens_fetched = 0
        for s in (app_key, client_key, subscription_key, self._basic()):
            client.redact.add(s)  # the Redactor also registers each value process-wide (KNOWN_SECRETS)

    def __repr__(self) -> str:
        return f"PowerOfficeAuth(token_url={self.token_url!r}, token={'***' if self._token else None})"

    def _key_headers(self) -> dict[str, str]:
        if self._subscription_key:
            return {"Ocp-Apim-Subscription-Key": self._subscription_key.reveal()}
        return {}

    def headers(self) -> dict[str, str]:
        with self._lock:
            if self._token is None or self.client.clock.now() >= self._expires_at:
                self._fetch()
            assert self._token is not None
            return {"Authorization": f"Bearer {self._token.reveal()}", **self._key_headers()}

    def on_unauthorized(self) -> None:
        with self._lock:
            self._token = None

    def _basic(self) -> str:
        return base64.b64encode(f"{self._app_key.reveal()}:{self._client_key.reveal()}".encode()).decode()

    def _fetch(self) -> None:
        basic = self._basic()
        try:
            resp = self.client.request(
                "POST", self.token_url, data={"grant_type": "client_credentials"},
                headers={"Authorization": f"Basic {basic}", **self._key_headers()},
                authenticated=False, idempotent=True, api="token",
            )
        except ConnectorError as exc:
            if exc.status in (400, 401, 403):
                raise AuthFailed(str(exc), status=exc.status) from None
            raise
        body = self.client.json(resp)
        token = body.get("access_token")
        if not token:
            raise AuthFailed(f"{self.client.system}: token response without access_token", status=resp.status_code)
        now = self.client.clock.now()
        lifetime = float(body.get("expires_in") or 600)
        self.client.redact.add(token)
        self._token = Secret(token)
        self._expires_at = now + max(lifetime - self.refresh_margin, lifetime / 2)
        self.tokens_fetched += 1


# --- Exact --------------------------------------------------------------------------------------

@dataclass
class TokenState:
    refresh_token: Secret
    access_token: Secret | None = None
    issued_at: float = 0.0
    expires_in: float = 600.0

    def __repr__(self) -> str:
        return f"TokenState(issued_at={self.issued_at}, expires_in={self.expires_in}, tokens='***')"


class TokenStoreLocked(LockHeld):
    """Another process kept the token store's lock for longer than the store's ``lock_timeout``."""

    def __str__(self) -> str:
        pid = self.pid if self.pid is not None else "?"
        return f"{self.path}: another process is writing this token store (pid {pid})"


class TokenStore:
    """A JSON file holding the current Exact token pair; written atomically, mode 0600, by one
    process at a time (an exclusive lock on ``<path>.lock`` while it is written; a writer waits up
    to ``lock_timeout`` seconds for another, then raises :class:`TokenStoreLocked`)."""

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout

    def lock(self) -> FileLock:
        """The store's write lock (not yet acquired)."""
        return FileLock(lock_path(self.path), label=str(self.path), error=TokenStoreLocked, mode=0o600)

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    def load(self) -> TokenState | None:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise AuthFailed(f"exact: token store {self.path} is unreadable ({type(exc).__name__})") from None
        if not raw.get("refresh_token"):
            return None
        access = raw.get("access_token")
        return TokenState(
            refresh_token=Secret(raw["refresh_token"]),
            access_token=Secret(access) if access else None,
            issued_at=float(raw.get("issued_at") or 0.0),
            expires_in=float(raw.get("expires_in") or 600.0),
        )

    def save(self, state: TokenState) -> None:
        payload = {
            "refresh_token": state.refresh_token.reveal(),
            "access_token": state.access_token.reveal() if state.access_token else None,
            "issued_at": state.issued_at,
            "expires_in": state.expires_in,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.lock()
        lock.acquire(self.lock_timeout)
        try:
            atomic_write(self.path, json.dumps(payload), mode=0o600)  # fsyncs the file and the rename
        finally:
            lock.release()


class ExactAuth:
    """Exact Online OAuth2 tokens: cached access token, rotation persisted to a :class:`TokenStore`."""

    def __init__(
        self,
        client: SystemClient,
        token_url: str,
        client_id: str,
        client_secret: Secret,
        *,
        refresh_token: Secret | None = None,
        store: TokenStore | None = None,
        min_refresh_age: float = 570.0,
        margin: float = 30.0,
        auto_consent: tuple[str, str] | None = None,
    ) -> None:
        self.client = client
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.store = store
        self.min_refresh_age = min_refresh_age
        self.margin = margin
        self.auto_consent = auto_consent  # (auth_url, redirect_uri): simulators consent without a browser
        self._lock = threading.RLock()
        self.refreshes = 0
        client.redact.add(client_secret)
        self._configured = refresh_token
        state = store.load() if store else None
        if state is None and refresh_token:
            state = TokenState(refresh_token=refresh_token)
        self._state = state
        self._remember(state)

    def __repr__(self) -> str:
        return f"ExactAuth(client_id={self.client_id!r}, store={self.store!r}, tokens='***')"

    def _remember(self, state: TokenState | None) -> None:
        if state:
            self.client.redact.add(state.refresh_token)
            self.client.redact.add(state.access_token)

    # -- what SystemClient calls -----------------------------------------------------------------
    def headers(self) -> dict[str, str]:
        with self._lock:
            state = self._require_state()
            if state.access_token is None or self._age(state) >= self._refresh_age(state):
                state = self._refresh()
            assert state.access_token is not None
            return {"Authorization": f"Bearer {state.access_token.reveal()}"}

    def on_unauthorized(self) -> None:
        with self._lock:
            self._refresh()

    # -- tokens ------------------------------------------------------------------------------------
    @property
    def state(self) -> TokenState | None:
        return self._state

    def _age(self, state: TokenState) -> float:
        return self.client.clock.now() - state.issued_at

    def _refresh_age(self, state: TokenState) -> float:
        return max(self.min_refresh_age, state.expires_in - self.margin)

    def _require_state(self) -> TokenState:
        if self._state is None and self.auto_consent is not None:
            self.authorize_via_redirect(*self.auto_consent)
        if self._state is None:
            raise AuthFailed("exact: no refresh token configured (set TALKQA_EXACT_REFRESH_TOKEN, a token "
                             "store, or authorize with a code first)")
        return self._state

    def _refresh(self) -> TokenState:
        state = self._require_state()
        try:
            return self._grant({"grant_type": "refresh_token", "refresh_token": state.refresh_token.reveal()})
        except AuthFailed as exc:
            if exc.status != 400:  # e.g. 401 "Access Token not expired": nothing else to try
                raise
            for candidate in self._fallbacks(state):
                self._state = candidate
                if candidate.access_token is not None and self._age(candidate) < self._refresh_age(candidate):
                    return candidate  # another process already refreshed: use its token
                try:
                    return self._grant({"grant_type": "refresh_token",
                                        "refresh_token": candidate.refresh_token.reveal()})
                except AuthFailed:
                    continue
            self._state = state
            hint = ("The refresh token was already used (a lost token response or another process)"
                    if "old refresh token" in str(exc).lower() else "The refresh token was refused")
            raise AuthFailed(f"{exc}. {hint}; authorize again to get a new one", status=exc.status) from None

    def _fallbacks(self, failed: TokenState) -> list[TokenState]:
        """Other refresh tokens worth one try: the store's (another process may have rotated it), then
        the configured one (a new consent set in the environment while an old store file remains)."""
        out: list[TokenState] = []
        stored = self.store.load() if self.store else None
        for candidate in (stored, TokenState(self._configured) if self._configured else None):
            if candidate is not None and candidate.refresh_token != failed.refresh_token and \
                    all(c.refresh_token != candidate.refresh_token for c in out):
                self._remember(candidate)
                out.append(candidate)
        return out

    def authorize_with_code(self, code: str, redirect_uri: str) -> None:
        """First consent: trade an authorization code (valid 3 minutes) for the first token pair."""
        self.client.redact.add(code)
        with self._lock:
            self._grant({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})

    def authorize_via_redirect(self, auth_url: str, redirect_uri: str) -> None:
        """Ask for consent and follow nothing: read the code from the 302 (only a simulator consents
        without a browser login; against the real Exact use :meth:`authorize_with_code`)."""
        with self._lock:
            resp = self.client.request(
                "GET", auth_url, authenticated=False, api="token",
                params={"client_id": self.client_id, "redirect_uri": redirect_uri, "response_type": "code",
                        "state": "talkqa"},
                ok=lambda r: r.status_code in (301, 302, 303, 307),
            )
            code = authorization_code_from_redirect(resp.headers.get("location", ""))
            self.client.redact.add(code)
            self.authorize_with_code(code, redirect_uri)

    def _grant(self, form: dict[str, str]) -> TokenState:
        form = {**form, "client_id": self.client_id, "client_secret": self._client_secret.reveal()}
        try:
            resp = self.client.request("POST", self.token_url, data=form, authenticated=False,
                                       idempotent=True, api="token")
        except ConnectorError as exc:
            if exc.status in (400, 401, 403):
                raise AuthFailed(f"exact: token {form['grant_type']} refused: {_tail(str(exc))}",
                                 status=exc.status) from None
            raise
        body = self.client.json(resp)
        access, refresh = body.get("access_token"), body.get("refresh_token")
        if not access or not refresh:
            raise AuthFailed("exact: token response lacks access_token or refresh_token", status=resp.status_code)
        self.client.redact.add(access)
        self.client.redact.add(refresh)
        new = TokenState(
            refresh_token=Secret(refresh), access_token=Secret(access),
            issued_at=self.client.clock.now(), expires_in=float(body.get("expires_in") or 600),
        )
        if self.store is not None:
            self.store.save(new)  # persist before use: the old refresh token is already revoked
        self._state = new
        self.refreshes += 1
        return new


def _tail(message: str) -> str:
    return message.split("failed with ", 1)[-1]


def authorization_code_from_redirect(location: str) -> str:
    """The ``code`` out of the redirect Exact (or its simulator) sends after consent."""
    values = parse_qs(urlparse(location).query).get("code")
    if not values:
        raise AuthFailed("exact: the consent redirect carries no code")
    return values[0]
