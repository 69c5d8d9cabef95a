"""Starting both simulators with fresh fake credentials, and describing how to reach them."""
from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from talkqa.clock import Clock
from talkqa.simulators.exact import ExactKeys, ExactSettings, ExactSimulator
from talkqa.simulators.poweroffice import PowerOfficeKeys, PowerOfficeSettings, PowerOfficeSimulator

REDIRECT_URI = "http://127.0.0.1/talkqa/oauth/callback"  # never called: the simulator consents at once
KEYS_FILE = "keys.json"


def _fresh_keys() -> dict[str, Any]:
    return {
        "poweroffice": {
            "application_key": f"sim-app-{secrets.token_hex(8)}",
            "client_key": f"sim-client-{secrets.token_hex(8)}",
            "subscription_key": f"sim-sub-{secrets.token_hex(8)}",
        },
        "exact": {
            "client_id": f"sim-{secrets.token_hex(8)}",
            "client_secret": f"sim-secret-{secrets.token_hex(12)}",
            "redirect_uri": REDIRECT_URI,
            "division": 100000 + secrets.randbelow(900000),
        },
    }


def _load_or_create_keys(state_dir: Path | None) -> dict[str, Any]:
    """Fresh fake keys; with a state directory the first run's keys are kept so stored tokens stay valid."""
    if state_dir is None:
        return _fresh_keys()
    path = state_dir / KEYS_FILE
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    keys = _fresh_keys()
    state_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(keys, indent=2), encoding="utf-8")
    return keys


class Simulators:
    """Both simulators, running. ``credentials`` holds the fake keys plus a usable Exact refresh token."""

    def __init__(self, poweroffice: PowerOfficeSimulator, exact: ExactSimulator, keys: dict[str, Any]) -> None:
        self.poweroffice = poweroffice
        self.exact = exact
        self.clock: Clock = exact.clock
        self.credentials: dict[str, Any] = {
            "poweroffice": dict(keys["poweroffice"]),
            "exact": {**keys["exact"], "refresh_token": None},
        }

    def bootstrap_exact(self) -> str:
        """Grant Exact tokens once (as after a user's consent) and keep the refresh token in ``credentials``.

        Done in-process, so a cassette recording a test never holds it. The tokens are then aged by
        one access-token lifetime, as for a connector resuming from a stored refresh token: its first
        refresh is accepted (not "Access Token not expired").
        """
        refresh = self.exact.issue_refresh_token()
        self.exact.age_tokens(self.exact.settings.access_token_lifetime)
        self.credentials["exact"]["refresh_token"] = refresh
        return refresh

    def reset(self) -> None:
        """Clear both simulators' records, tokens, logs, faults and settings; issue a new refresh token."""
        self.poweroffice.admin.reset()
        self.exact.admin.reset()
        self.bootstrap_exact()

    def stop(self) -> None:
        self.poweroffice.stop()
        self.exact.stop()

    def info(self) -> dict[str, Any]:
        """URLs and credentials as JSON-ready data (the shape ``.talkqa/simulators.json`` holds)."""
        po, ex = self.poweroffice.url, self.exact.url
        return {
            "poweroffice": {"url": po, "token_url": f"{po}/OAuth/Token", "v1_url": f"{po}/v1", "v2_url": f"{po}/v2"},
            "exact": {"url": ex, "auth_url": f"{ex}/api/oauth2/auth", "token_url": f"{ex}/api/oauth2/token",
                      "api_url": f"{ex}/api/v1"},
            "credentials": json.loads(json.dumps(self.credentials)),
            "note": "Fake credentials generated for the simulators; not real secrets.",
        }

    def describe(self) -> str:
        """Human-readable URLs and (fake) credentials."""
        info = self.info()
        po, ex = info["credentials"]["poweroffice"], info["credentials"]["exact"]
        lines = [
            "PowerOffice Go simulator",
            f"  token:  POST {info['poweroffice']['token_url']}",
            f"  v1:     {info['poweroffice']['v1_url']}",
            f"  v2:     {info['poweroffice']['v2_url']}",
            f"  application key:  {po['application_key']}",
            f"  client key:       {po['client_key']}",
            f"  subscription key: {po['subscription_key']}",
            "Exact Online simulator",
            f"  auth:   {info['exact']['auth_url']}",
            f"  token:  {info['exact']['token_url']}",
            f"  api:    {info['exact']['api_url']}/{ex['division']}/crm/Contacts",
            f"  client id:     {ex['client_id']}",
            f"  client secret: {ex['client_secret']}",
            f"  redirect uri:  {ex['redirect_uri']}",
            f"  division:      {ex['division']}",
            f"  refresh token: {ex['refresh_token']}",
            "(fake credentials generated for this run; not real secrets)",
        ]
        return "\n".join(lines)

    def __enter__(self) -> Simulators:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_simulators(
    *,
    clock: Clock | None = None,
    rate_limits: bool = True,
    state_dir: str | Path | None = None,
    seed: int = 0,
    port_poweroffice: int = 0,
    port_exact: int = 0,
) -> Simulators:
    """Start PowerOffice Go and Exact Online simulators on 127.0.0.1 and return them running."""
    state_path = Path(state_dir) if state_dir is not None else None
    keys = _load_or_create_keys(state_path)
    po_keys, ex_keys = keys["poweroffice"], keys["exact"]
    po = PowerOfficeSimulator(
        PowerOfficeKeys(po_keys["application_key"], po_keys["client_key"], po_keys["subscription_key"]),
        settings=PowerOfficeSettings(rate_limits=rate_limits), clock=clock, seed=seed, port=port_poweroffice,
        state_file=str(state_path / "powerofficego.json") if state_path else None,
    )
    ex = ExactSimulator(
        ExactKeys(ex_keys["client_id"], ex_keys["client_secret"], ex_keys["redirect_uri"], int(ex_keys["division"])),
        settings=ExactSettings(rate_limits=rate_limits), clock=po.clock, seed=seed, port=port_exact,
        state_file=str(state_path / "exact.json") if state_path else None,
    )
    po.start()
    try:
        ex.start()
    except BaseException:
        po.stop()
        raise
    sims = Simulators(po, ex, keys)
    try:
        sims.bootstrap_exact()
    except BaseException:
        sims.stop()
        raise
    return sims
