"""Connector listing throughput against the simulators, with a bare-httpx baseline in the same run.

    .venv/bin/python benchmarks/connectors.py [--records 10000] [--parents 100]

For each resource: seed ``--records`` records through the admin side channel (rate limits off), list
them all through the connector (``iter_all``), then list the same pages with bare ``httpx`` requests
(same URLs, JSON parsed, nothing decoded). Prints records/second, HTTP requests per record and the
time ratio connector / baseline. v1 contact persons are spread over ``--parents`` customers; each
resource is measured on freshly reset simulators (v2 suppliers are v1 parents too).

The simulators set TCP_NODELAY on every accepted socket (without it each small response on a
kept-alive connection waited ~40 ms for Nagle + delayed ACK, which hid the client's own cost).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from talkqa.connectors.config import Endpoints
from talkqa.connectors.registry import Connections, connector_for
from talkqa.simulators.launcher import Simulators, start_simulators

# ----- seeding ------------------------------------------------------------------------------------

def seed_v1(sims: Simulators, n: int, parents: int) -> None:
    admin = sims.poweroffice.admin
    ids = [admin.seed("customers", {"name": f"Customer {p}"})["id"] for p in range(parents)]
    for i in range(n):
        admin.seed("contactpersons", {"partyId": ids[i % parents], "firstName": f"F{i}", "lastName": f"L{i}",
                                      "emailAddress": f"p{i}@example.com", "city": "Oslo",
                                      "residenceCountryCode": "NO", "dateOfBirth": "1980-02-29T00:00:00"})


def seed_v2(sims: Simulators, n: int, parents: int) -> None:
    admin = sims.poweroffice.admin
    for i in range(n):
        admin.seed("suppliers", {"IsPerson": True, "FirstName": f"F{i}", "LastName": f"L{i}",
                                 "EmailAddress": f"s{i}@example.com", "DateOfBirth": "2003-07-15",
                                 "MailAddress": {"City": "Bergen", "ZipCode": "5003", "CountryCode": "NO"}})


def seed_exact(sims: Simulators, n: int, parents: int) -> None:
    admin = sims.exact.admin
    for i in range(n):
        admin.seed("contacts", {"FirstName": f"F{i}", "LastName": f"L{i}", "Email": f"e{i}@example.com",
                                "City": "Utrecht", "Country": "NL", "BirthDate": "/Date(946684800000)/"})


# ----- bare httpx baselines -----------------------------------------------------------------------

def bare_v1(client: httpx.Client, ep: Endpoints, headers: dict[str, str]) -> Iterator[dict[str, Any]]:
    assert ep.poweroffice is not None
    base = ep.poweroffice.v1_url
    for kind in ("Customer", "Supplier"):
        parents = client.get(f"{base}/{kind}", params={"$skip": 0, "$top": 50000}, headers=headers).json()["data"]
        for parent in parents:
            skip = 0
            while True:
                body = client.get(f"{base}/{kind}/{parent['id']}/Contact/", params={"$skip": skip, "$top": 5000},
                                  headers=headers).json()
                yield from body["data"]
                skip += len(body["data"])
                if len(body["data"]) < 5000 or skip >= body["count"]:
                    break


def bare_v2(client: httpx.Client, ep: Endpoints, headers: dict[str, str]) -> Iterator[dict[str, Any]]:
    assert ep.poweroffice is not None
    page = 1
    while True:
        resp = client.get(f"{ep.poweroffice.v2_url}/Suppliers", params={"PageNumber": page, "PageSize": 5000},
                          headers=headers)
        if resp.status_code == 204:
            return
        yield from resp.json()
        if not json.loads(resp.headers["X-Pagination"]).get("NextPageLink"):
            return
        page += 1


def bare_exact(client: httpx.Client, ep: Endpoints, headers: dict[str, str]) -> Iterator[dict[str, Any]]:
    assert ep.exact is not None
    select = "ID,Modified,FirstName,LastName,Email,Phone,City,Country,BirthDate,Notes"
    url: str | None = f"{ep.exact.api_url}/{ep.exact.division}/crm/Contacts"
    params: dict[str, str] | None = {"$select": select}
    while url:
        body = client.get(url, params=params, headers=headers).json()["d"]
        yield from body["results"]
        url, params = body.get("__next"), None


CASES: list[tuple[str, str, str, Callable[..., None], Callable[..., Iterator[dict[str, Any]]]]] = [
    ("powerofficego", "Contactperson", "v1 contact persons", seed_v1, bare_v1),
    ("powerofficego", "Suppliers person", "v2 person suppliers", seed_v2, bare_v2),
    ("exact", "Contacts", "Exact contacts", seed_exact, bare_exact),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--parents", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side; the best is kept")
    args = parser.parse_args(argv)

    sims = start_simulators(rate_limits=False)
    rows = []
    try:
        for slug, entity, label, seed, bare in CASES:
            sims.reset()
            t0 = time.perf_counter()
            seed(sims, args.records, args.parents)
            seeded = time.perf_counter() - t0
            ep = Endpoints.from_simulators(sims, rate_limits=False)
            took = base = float("inf")
            with Connections(ep) as conns, httpx.Client(trust_env=False, timeout=60) as plain:
                connector = connector_for(slug, entity, ep, connections=conns)
                client = conns.client(slug)
                assert client.auth is not None
                headers = client.auth.headers()  # token fetched outside the timings
                counted: list[httpx.Request] = []
                plain.event_hooks["request"] = [counted.append]
                for r in range(args.repeat):  # alternate the order; keep the best of each
                    for which in ((0, 1) if r % 2 == 0 else (1, 0)):
                        if which == 0:
                            before = client.stats.requests
                            t0 = time.perf_counter()
                            n = sum(1 for _ in connector.iter_all())
                            took = min(took, time.perf_counter() - t0)
                            requests = client.stats.requests - before
                        else:
                            counted.clear()
                            t0 = time.perf_counter()
                            bn = sum(1 for _ in bare(plain, ep, headers))
                            base = min(base, time.perf_counter() - t0)
            if n != args.records or bn != args.records:
                print(f"warning: {label}: listed {n} (baseline {bn}) of {args.records}", file=sys.stderr)
            rows.append((label, n, took, requests, base, len(counted), seeded))
    finally:
        sims.stop()

    print(f"\nListing {args.records} records per resource (rate limits off; best of {args.repeat})")
    head = (f"{'resource':<22}{'records':>8}{'conn s':>9}{'rec/s':>10}{'req':>6}{'req/rec':>9}"
            f"{'bare s':>9}{'bare rec/s':>12}{'bare req':>9}{'ratio':>7}")
    print(head)
    print("-" * len(head))
    for label, n, took, requests, base, breq, _ in rows:
        print(f"{label:<22}{n:>8}{took:>9.2f}{n / took:>10.0f}{requests:>6}{requests / max(n, 1):>9.4f}"
              f"{base:>9.2f}{n / base:>12.0f}{breq:>9}{took / base:>7.2f}")
    print("ratio = connector time / bare httpx time for the same pages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
