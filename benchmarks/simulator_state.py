"""Write throughput of the simulators with a state file, at small and large state sizes, against the
in-memory simulators (no state file) measured in the same run.

    .venv/bin/python benchmarks/simulator_state.py [--sizes 100,20000] [--requests 500] [--rounds 3]

For each size N: the Exact simulator holds N contacts (seeded through the admin channel in memory;
for the state-file run they are then written as the simulator's state file and the simulator is
restarted from it, so what is measured is a simulator *resuming* a large state). Then
``--rounds`` rounds of ``--requests`` write requests go over HTTP on one kept-alive connection,
alternately creating a contact and updating the one just created (each is one ``changed()``),
after a short warm-up (the first write after loading rewrites the file in the current format).
Prints the best round's requests/second in memory and with the state file, their ratio, and the
state file's size at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from talkqa.simulators.launcher import Simulators, start_simulators

WARMUP = 20


def seed(sims: Simulators, n: int) -> None:
    admin = sims.exact.admin
    for i in range(n):
        admin.seed("contacts", {"FirstName": f"First{i}", "LastName": f"Last{i}", "Email": f"p{i}@example.com",
                                "City": "Oslo", "Country": "NO", "Phone": f"+47 {i:08d}"})


def access_token(sims: Simulators) -> str:
    refresh = sims.exact.issue_refresh_token()  # fresh tokens, not aged: usable at once
    return str(sims.exact.state["auth"]["refresh"][refresh]["access"])


def writes(sims: Simulators, requests: int, rounds: int) -> float:
    """Requests per second of alternating creates and updates over HTTP (the best of ``rounds``)."""
    division = sims.credentials["exact"]["division"]
    url = f"{sims.exact.url}/api/v1/{division}/crm/Contacts"
    with httpx.Client(headers={"Authorization": f"Bearer {access_token(sims)}"}) as client:

        def one(i: int, last: list[str]) -> None:
            if i % 2 == 0:
                r = client.post(url, json={"FirstName": f"New{i}", "LastName": "Bench", "City": "Bergen"})
                assert r.status_code == 201, r.text
                last[:] = [r.json()["d"]["ID"]]
            else:
                r = client.put(f"{url}(guid'{last[0]}')", json={"City": f"Molde{i}"})
                assert r.status_code == 204, r.text

        last: list[str] = []
        for i in range(WARMUP):
            one(i, last)
        best = 0.0
        for _ in range(rounds):
            started = time.perf_counter()
            for i in range(requests):
                one(i, last)
            best = max(best, requests / (time.perf_counter() - started))
        return best


def measure(size: int, requests: int, rounds: int, state_dir: Path | None) -> tuple[float, int]:
    """(requests/s, state file bytes) for one size, in memory (``state_dir`` None) or with a file."""
    sims = start_simulators(rate_limits=False)
    try:
        seed(sims, size)
        keys: dict[str, Any] = {"poweroffice": sims.credentials["poweroffice"], "exact": sims.credentials["exact"]}
        state = json.loads(json.dumps(sims.exact.state))
    finally:
        sims.stop()
    if state_dir is None:
        sims = start_simulators(rate_limits=False)
        sims.exact.state = state
    else:
        state_dir.mkdir(parents=True)
        (state_dir / "keys.json").write_text(json.dumps({
            "poweroffice": keys["poweroffice"],
            "exact": {k: v for k, v in keys["exact"].items() if k != "refresh_token"},
        }), encoding="utf-8")  # fmt: skip
        (state_dir / "exact.json").write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
        sims = start_simulators(rate_limits=False, state_dir=state_dir)
    try:
        assert len(sims.exact.state["collections"]["contacts"]) == size
        rate = writes(sims, requests, rounds)
        file_bytes = (state_dir / "exact.json").stat().st_size if state_dir else 0
        return rate, file_bytes
    finally:
        sims.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,20000", help="state sizes (contacts), comma-separated")
    parser.add_argument("--requests", type=int, default=500, help="timed write requests per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per measurement (the best is shown)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"best of {args.rounds} rounds of {args.requests} write requests (create/update alternating), "
          "one connection")
    print(f"{'contacts':>9} {'in memory req/s':>16} {'state file req/s':>17} {'file/memory':>12} {'file size':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            memory, _ = measure(size, args.requests, args.rounds, None)
            filed, file_bytes = measure(size, args.requests, args.rounds, Path(tmp) / f"state-{size}")
            print(f"{size:>9} {memory:>16.0f} {filed:>17.0f} {filed / memory:>12.2f} {file_bytes / 1e6:>8.1f} MB")


if __name__ == "__main__":
    main()
