"""The reference sync at scale: a cold sync and an unchanged second cycle through the simulators,
with the same sync over in-memory resources as the baseline measured in the same run.

    .venv/bin/python benchmarks/sync.py [--records 10000] [--parents 100] [--flows both|v1|v2]

Seeds (through the admin channel, rate limits off on both sides) ``--records`` v1 contact persons
spread over ``--parents`` customers and ``--records`` person suppliers, then runs the seed document
``spec/powerofficego-exact.rst`` twice. Prints, per cycle: records per second, HTTP requests per source
record (counted from the simulators' request logs, token calls included, split by endpoint), and the
write requests; then records/s over HTTP divided by records/s in memory.

Goals: <= 1.1 requests per record on the cold cycle; 0 writes on the second cycle.

The simulators set TCP_NODELAY on their accepted sockets (without it each request on a kept-alive
connection waited ~40 ms for Nagle + delayed ACK, which measured the loopback, not the sync).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from generator.model import Document
from generator.parser import parse_file
from talkqa.clock import TickingClock
from talkqa.connectors.base import ResourceConnector
from talkqa.connectors.config import Endpoints
from talkqa.connectors.registry import Connections, connector_for
from talkqa.simulators.launcher import Simulators, start_simulators
from talkqa.sync.engine import Summary, SyncEngine
from talkqa.sync.state import SyncState
from talkqa.testing.memory import MemoryResource

ROOT = Path(__file__).resolve().parents[1]
SEED_DOC = ROOT / "spec" / "powerofficego-exact.rst"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
GOAL_REQUESTS_PER_RECORD = 1.1




# ----- the data -------------------------------------------------------------------------------------


def person(i: int) -> dict[str, Any]:
    return {"firstName": f"F{i}", "lastName": f"L{i}", "emailAddress": f"p{i}@example.com",
            "phoneNumber": f"+47{40000000 + i}", "city": "Oslo", "residenceCountryCode": "NO",
            "dateOfBirth": "1980-02-29T00:00:00"}


def supplier(i: int) -> dict[str, Any]:
    return {"IsPerson": True, "FirstName": f"S{i}", "LastName": f"L{i}", "EmailAddress": f"s{i}@example.com",
            "PhoneNumber": f"+47{90000000 + i}", "DateOfBirth": "2003-07-15",
            "MailAddress": {"City": "Bergen", "ZipCode": "5003", "CountryCode": "SE"}}


def seed(sims: Simulators, records: int, parents: int, flows: str) -> str:
    po = sims.poweroffice.admin
    ids = [po.seed("customers", {"name": f"Customer {p}"})["id"] for p in range(max(parents, 1))]
    if flows in ("both", "v1"):
        for i in range(records):
            po.seed("contactpersons", {"partyId": ids[i % len(ids)], **person(i)})
    if flows in ("both", "v2"):
        for i in range(records):
            po.seed("suppliers", supplier(i))
    return f"Customer:{ids[0]}"


def memory_world(records: int, flows: str) -> dict[tuple[str, str], MemoryResource]:
    """The same records, canonical (dates decoded), in memory."""
    v1 = MemoryResource("powerofficego", "Contactperson", prefix="cp")
    v2 = MemoryResource("powerofficego", "Suppliers person", prefix="s")
    exact = MemoryResource("exact", "Contacts", prefix="c")
    if flows in ("both", "v1"):
        for i in range(records):
            v1.put({**person(i), "dateOfBirth": date(1980, 2, 29)})
    if flows in ("both", "v2"):
        for i in range(records):
            v2.put({**supplier(i), "DateOfBirth": date(2003, 7, 15)})
    return {("powerofficego", "Contactperson"): v1, ("powerofficego", "Suppliers person"): v2,
            ("exact", "Contacts"): exact}


# ----- measuring ------------------------------------------------------------------------------------


@dataclass
class Cycle:
    seconds: float
    summary: Summary
    requests: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    @property
    def writes(self) -> int:
        return sum(n for k, n in self.requests.items() if k.split(" ", 1)[0] in WRITES and "token" not in k)


_PATTERNS = [
    (re.compile(r"^/v1/(Customer|Supplier)/\d+/Contact/?$"), r"/v1/\1/{parent}/Contact/"),
    (re.compile(r"^/v2/Suppliers/\d+$"), "/v2/Suppliers/{id}"),
    (re.compile(r"^/api/v1/\d+/crm/Contacts\(guid'[^']+'\)$"), "/api/v1/{division}/crm/Contacts(guid)"),
    (re.compile(r"^/api/v1/\d+/crm/Contacts$"), "/api/v1/{division}/crm/Contacts"),
]


def endpoint(entry: dict[str, Any]) -> str:
    path = entry["path"]
    for pattern, name in _PATTERNS:
        if pattern.match(path):
            path = pattern.sub(name, path)
            break
    if "token" in path.lower():
        path = "token"
    return f"{entry['method']} {path}"


def log_marks(sims: Simulators) -> tuple[int, int]:
    return len(sims.poweroffice.admin.requests()), len(sims.exact.admin.requests())


def requests_since(sims: Simulators, mark: tuple[int, int]) -> Counter[str]:
    entries = sims.poweroffice.admin.requests()[mark[0]:] + sims.exact.admin.requests()[mark[1]:]
    return Counter(endpoint(e) for e in entries)


def timed(run: Callable[[], Summary]) -> tuple[float, Summary]:
    t0 = time.perf_counter()
    summary = run()
    return time.perf_counter() - t0, summary


def run_http(document: Document, records: int, parents: int, flows: str) -> tuple[Cycle, Cycle, int]:
    sims = start_simulators(clock=TickingClock(), rate_limits=False)
    try:
        t0 = time.perf_counter()
        parent = seed(sims, records, parents, flows)
        print(f"  seeded in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        ep = Endpoints.from_simulators(sims, rate_limits=False, token_store=None, v1_parent=parent)
        with Connections(ep, clock=sims.clock) as conns:
            cache: dict[tuple[str, str], ResourceConnector] = {}

            def resolve(slug: str, label: str) -> ResourceConnector:
                if (slug, label) not in cache:
                    cache[(slug, label)] = connector_for(slug, label, ep, connections=conns)
                return cache[(slug, label)]

            engine = SyncEngine(document, resolve, SyncState())
            cycles = []
            for _ in range(2):
                mark = log_marks(sims)
                seconds, summary = timed(engine.run_once)
                cycles.append(Cycle(seconds, summary, requests_since(sims, mark)))
            contacts = len(sims.exact.admin.records("contacts"))
        return cycles[0], cycles[1], contacts
    finally:
        sims.stop()


def run_memory(document: Document, records: int, flows: str) -> tuple[Cycle, Cycle]:
    resources = memory_world(records, flows)
    engine = SyncEngine(document, lambda slug, label: resources[(slug, label)], SyncState())
    cycles = []
    for _ in range(2):
        before = sum(r.writes for r in resources.values())
        seconds, summary = timed(engine.run_once)
        writes = sum(r.writes for r in resources.values()) - before
        cycles.append(Cycle(seconds, summary, Counter({"POST memory writes": writes})))
    return cycles[0], cycles[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000, help="source records per flow")
    parser.add_argument("--parents", type=int, default=100, help="customers the v1 contact persons belong to")
    parser.add_argument("--flows", choices=("both", "v1", "v2"), default="both",
                        help="seed both flows (default) or only one (v1 alone shows its cost without supplier parents)")
    args = parser.parse_args(argv)
    document = parse_file(str(SEED_DOC))
    sources = args.records * (2 if args.flows == "both" else 1)

    print(f"in-memory baseline: {sources} source records ...", file=sys.stderr)
    mem_cold, mem_warm = run_memory(document, args.records, args.flows)
    print("simulators over HTTP ...", file=sys.stderr)
    cold, warm, contacts = run_http(document, args.records, args.parents, args.flows)

    print(f"\nReference sync of {SEED_DOC.name}: {args.records} records per flow ({args.flows}), "
          f"{args.parents} v1 parent customers; rate limits off")
    head = f"{'cycle':<26}{'seconds':>9}{'records/s':>11}{'requests':>10}{'req/record':>12}{'writes':>8}"
    print(head)
    print("-" * len(head))
    for label, cycle in (("cold, HTTP", cold), ("second, HTTP", warm),
                         ("cold, in memory", mem_cold), ("second, in memory", mem_warm)):
        memory = "memory" in label
        requests = "-" if memory else str(cycle.total)
        per = "-" if memory else f"{cycle.total / sources:.4f}"
        print(f"{label:<26}{cycle.seconds:>9.2f}{sources / cycle.seconds:>11.0f}{requests:>10}{per:>12}"
              f"{cycle.writes:>8}")
    print(f"\nratio records/s HTTP / in memory: cold {mem_cold.seconds / cold.seconds:.3f}, "
          f"second {mem_warm.seconds / warm.seconds:.3f}")
    print(f"Exact contacts after the run: {contacts} (expected {sources})")
    for label, cycle in (("cold", cold), ("second", warm)):
        print(f"\n{label} cycle requests by endpoint (summary: {cycle.summary.as_dict()})")
        for name, n in cycle.requests.most_common():
            print(f"  {n:>7}  {name}")
    per = cold.total / sources
    print(f"\ngoal: cold requests/record <= {GOAL_REQUESTS_PER_RECORD}: {'met' if per <= 1.1 else 'MISSED'} "
          f"({per:.4f}); second-cycle writes == 0: {'met' if warm.writes == 0 else 'MISSED'} ({warm.writes})")
    errors = cold.summary.errors + warm.summary.errors
    if errors:
        print(f"{len(errors)} errors, first: {errors[0]}", file=sys.stderr)
    return 1 if errors or contacts != sources else 0


if __name__ == "__main__":
    raise SystemExit(main())
