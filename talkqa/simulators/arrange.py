"""What a checklist test must set up in a simulated system before it can create records there.

System specifics live here, looked up by system slug: PowerOffice Go v1 contact persons are
children of a customer or supplier, so a test needs a parent first. The set-up goes through
the simulator's admin routes over HTTP (``/_admin/seed/...``), so a cassette records it and a
replay gets the same ids back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import httpx

from talkqa.connectors.config import Endpoints

Arranger = Callable[[httpx.Client, Endpoints], Endpoints]


def _poweroffice(client: httpx.Client, endpoints: Endpoints) -> Endpoints:
    po = endpoints.poweroffice
    if po is None or po.v1_parent:
        return endpoints
    base = po.token_url.rsplit("/OAuth/", 1)[0]
    reply = client.post(f"{base}/_admin/seed/customers", json={"name": "talkqa parent customer"})
    reply.raise_for_status()
    parent = f"Customer:{reply.json()['id']}"
    return dataclasses.replace(endpoints, poweroffice=dataclasses.replace(po, v1_parent=parent))


ARRANGERS: dict[str, Arranger] = {"powerofficego": _poweroffice}


def arrange(systems: set[str], client: httpx.Client, endpoints: Endpoints) -> Endpoints:
    """Prepare each simulated system the test uses; return the endpoints to use."""
    for slug in sorted(systems):
        if slug in ARRANGERS:
            endpoints = ARRANGERS[slug](client, endpoints)
    return endpoints
