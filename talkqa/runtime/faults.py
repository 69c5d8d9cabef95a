"""Fault profiles for live checks (``--talkqa-faults=PROFILE``): the simulators misbehave as real APIs
do, and every check must still conform: the sync converges with nothing skipped, duplicated or lost.

A profile is a list of simulator faults (:class:`talkqa.simulators.faults.Fault`) scheduled on every
simulator that supports them, again after each reset (so each test meets them from its first
request, drawn from the simulator's seeded random: a run is repeatable). The admin channel
(arranging through ``/_admin``) is never faulted; talkqa's own requests through the connectors are,
and the connectors' retries must carry them, as they carry the sync's.

=============  =================================================================================
profile        faults on every API request (probability per request)
=============  =================================================================================
``none``       none (the default)
``transient``  429 with ``Retry-After`` (5 %), 503 (5 %), a lost response to a read (3 %), the access
               token expiring (2 % of the requests that present a token used before: 401, and the
               connector must get a new one: client credentials again, or the rotating refresh token)
``hostile``    ``transient``, and a lost response to a write (2 %) and a dropped connection (2 %)
=============  =================================================================================

A lost response to a write is the hard one: the request took effect, the client saw nothing. A sync
must find out (read back, or look the record up by its reference) rather than write again.
"""
from __future__ import annotations

from typing import Any

PROFILES: dict[str, list[dict[str, Any]]] = {
    "none": [],
    "transient": [
        {"kind": "rate_limit_burst", "count": None, "probability": 0.05},
        {"kind": "server_error", "status": 503, "count": None, "probability": 0.05},
        {"kind": "lost_response", "count": None, "probability": 0.03, "method": "GET"},
        {"kind": "token_expiry", "count": None, "probability": 0.02},
    ],
}
PROFILES["hostile"] = [
    *PROFILES["transient"],
    {"kind": "lost_response", "count": None, "probability": 0.02, "method": "POST|PUT|PATCH"},
    {"kind": "drop_connection", "count": None, "probability": 0.02},
]


def faults_of(profile: str) -> list[dict[str, Any]]:
    """The faults of ``profile`` (fresh dicts: a simulator counts what fired)."""
    return [dict(f) for f in PROFILES[profile]]
