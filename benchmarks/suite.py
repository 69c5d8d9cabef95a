"""Benchmark: the main job, and the cost of one fuzz example four ways, each beside its floor and goal.

    .venv/bin/python benchmarks/suite.py [--examples N] [--case ID] [--no-suite] [--profile] [--corpus DIR]

1. The main job, ``talkqa check spec/ --frozen`` (default fuzz profile, replayed from the committed
   cassettes), against its floor: starting pytest and collecting the same module (``--collect-only``).
   Goal (issue 13): under 10 s. Then ``pytest generated_tests`` with the ci profile, ``-n 0`` and ``-n 2``.
2. One fuzz row, N examples, the same values and the same work per example as ``talkqa.runtime.fuzz``
   (a fresh bench per example, the check's flows synced, the read-back, the check of what was sent):

   * floor: the reference sync over in-memory systems (``talkqa.testing.memory``), no HTTP at all;
   * simulators: the in-process simulators (``SimulatorsBackend``, reset before every example).
     Goal: at most 2 ms per example;
   * replay: the cassette entered once with ``vcr_settings(recording=False)``; per example ``rewind()``
     and ``play_response`` wrapped to substitute the placeholder (the runtime's design). Goal: at most
     1.5x the simulators' figure;
   * replay without vcrpy: the connectors' httpx transport an ``httpx.MockTransport`` serving the same
     recorded responses (vcrpy's matching rule, the same substitution): what vcrpy itself costs;
   * the same document with both systems renamed to ones no plugin serves: the generic system's floor
     (in memory) and its simulator in process (what every corpus document but a few runs on).

   Each figure is the CPU time of this process (everything runs in it; the machine is shared).

   ``--profile`` prints where the replay's time goes (cProfile, top 25).

The machine is shared, so every figure is printed beside a floor measured in the same run.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import os
import pstats
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import vcr  # noqa: E402

from generator.model import document_from_json  # noqa: E402
from talkqa.runtime.backends import CassettesBackend  # noqa: E402
from talkqa.runtime.cassettes import JsonCassettes, cassette_name, fast_replay, register, vcr_settings  # noqa: E402
from talkqa.runtime.checks import _domain, _flow, _row  # noqa: E402
from talkqa.runtime.fuzz import one_example, placeholder, substitute  # noqa: E402
from talkqa.runtime.replay_wire import answered_by  # noqa: E402

SEED = REPO / "generated_tests"
GOAL_SIMULATORS_MS = 2.0  # issue 13: one fuzz example through the in-process simulators
GOAL_REPLAY_RATIO = 1.5  # replayed: at most this times the simulators' figure
GOAL_MAIN_JOB_S = 10.0  # issue 13: `talkqa check spec/` with the default profile
DEFAULT_CASE = "Contactperson.city->Contacts.City[forward]"


def seed_module() -> dict[str, Any]:
    ns: dict[str, Any] = {"__name__": "seed"}
    exec(compile((SEED / "test_powerofficego_exact.py").read_text(encoding="utf-8"), "seed", "exec"), ns)
    return ns


def cassette_path(case_id: str) -> Path:
    name = cassette_name(f"test_fuzz[{case_id}]")
    path = SEED / "cassettes" / "test_powerofficego_exact" / name
    if not path.exists():
        matches = [p for p in path.parent.glob("test_fuzz*.json") if case_id.split("[")[0].split(".")[1] in p.name]
        raise SystemExit(f"no cassette {path.name}; similar: {[m.name for m in matches][:5]}")
    return path


def strings(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    alphabet = "abcXYZ019 -_.'\"\\/æøåé🙂\t"
    return [f"v{i}-" + "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24))) for i in range(n)]


class InMemoryBackend(CassettesBackend):
    """The cassettes backend with an in-memory transport (what vcrpy replaces, without vcrpy): every httpx
    transport answers from ``transport`` while the backend lives, as vcrpy's patch does."""

    def __init__(self, transport: httpx.MockTransport, documents: list[Any]) -> None:
        super().__init__(documents=documents)
        self._patch = mock.patch.object(httpx.HTTPTransport, "handle_request",
                                        lambda _self, request: transport.handle_request(request))
        self._patch.start()

    def close(self) -> None:
        self._patch.stop()
        super().close()


class Recorded:
    """The cassette's interactions, served in memory with vcrpy's matching rule and play counts."""

    def __init__(self, path: Path) -> None:
        data = JsonCassettes.deserialize(path.read_text(encoding="utf-8"))
        self.items = []
        for i in data["interactions"]:
            req, resp = i["request"], i["response"]
            parts = urlsplit(req["uri"])
            key = (req["method"], parts.path, tuple(sorted(parse_qsl(parts.query, keep_blank_values=True))))
            self.items.append((key, resp))
        self.played = [False] * len(self.items)
        self.table: dict[str, Any] = {}

    def rewind(self) -> None:
        self.played = [False] * len(self.items)

    def handler(self, request: httpx.Request) -> httpx.Response:
        key = (request.method, request.url.path,
               tuple(sorted(parse_qsl(request.url.query.decode(), keep_blank_values=True))))
        for index, (k, resp) in enumerate(self.items):
            if not self.played[index] and k == key:
                self.played[index] = True
                out = substitute(resp, self.table)
                headers = [(n, v) for n, values in out["headers"].items() for v in values
                           if n.lower() != "content-encoding"]
                return httpx.Response(out["status"]["code"], headers=headers, content=out["body"]["string"])
        raise AssertionError(f"no recorded interaction for {key}")


def run_examples(backend: Any, document: Any, case: dict[str, Any], values: list[str], tmp: Path,
                 start_example: Callable[[dict[str, Any]], None], all_played: Callable[[], bool]) -> float:
    probe = backend.bench(document, tmp / "probe", prepare=False)
    flow, src, tgt = _flow(probe, case)
    row = _row(flow, case)
    p = placeholder(_domain(src, tgt, row, probe, flow), case["line"])
    forms = probe.wire_forms or (lambda _c, _p, v: [v])
    start = time.process_time()  # everything runs in this process: its CPU time, not the shared machine's wall
    for n, value in enumerate(values):
        table: dict[str, Any] = {}
        for conn, path in ((src, row.source), (tgt, row.target)):
            for a, b in zip(forms(conn, path, p), forms(conn, path, value), strict=True):
                if isinstance(a, str):
                    table[a] = b
        start_example(table)
        bench = backend.bench(document, tmp / f"ex{n}", flow=case["flow"])
        try:
            one_example(bench, case, value)
        finally:
            bench.close()
        assert all_played(), f"example {n}: not every recorded interaction was played"
    return time.process_time() - start


def fuzz_replay(document: Any, case: dict[str, Any], cassette: Path, values: list[str], tmp: Path) -> float:
    recorder = register(vcr.VCR())
    backend = CassettesBackend(documents=[document])
    try:
        with recorder.use_cassette(str(cassette), record_mode="none", **vcr_settings(recording=False)) as cas:
            original = cas.play_response
            state: dict[str, Any] = {"table": {}}
            cas.play_response = lambda req: substitute(original(req), state["table"])
            fast_replay(cas)

            def start_example(table: dict[str, Any]) -> None:
                cas.rewind()
                state["table"] = table

            with answered_by(cas):  # as the runtime replays: the cassette answers the clients (talkqa.wire)
                return run_examples(backend, document, case, values, tmp, start_example, lambda: cas.all_played)
    finally:
        backend.close()


def fuzz_memory(document: Any, case: dict[str, Any], cassette: Path, values: list[str], tmp: Path) -> float:
    recorded = Recorded(cassette)
    backend = InMemoryBackend(httpx.MockTransport(recorded.handler), [document])

    def start_example(table: dict[str, Any]) -> None:
        recorded.rewind()
        recorded.table = table

    try:
        return run_examples(backend, document, case, values, tmp, start_example, lambda: all(recorded.played))
    finally:
        backend.close()


def fuzz_floor(document: Any, case: dict[str, Any], cassette: Path, values: list[str], tmp: Path) -> float:
    """The floor: the same examples through the reference sync over in-memory systems (no HTTP, no
    simulator): fresh resources per example with the plugin's field specs, so the same values are valid."""
    from talkqa.runtime.bench import Bench
    from talkqa.systems.base import SystemKey
    from talkqa.systems.run import Systems
    from talkqa.testing.memory import MemoryResource

    systems = Systems([document], mode="replay")
    world: dict[tuple[str, str], MemoryResource] = {}

    def resolve(key: str, label: str) -> MemoryResource:
        found = world.get((key, label))
        if found is None:
            plugin = systems.plugin_for(SystemKey.parse(key), label)
            found = world[(key, label)] = MemoryResource(key, label, prefix=f"m{len(world)}",
                                                         fields=plugin.entities()[label])
        return found

    class Floor:
        live = True
        wire_forms = None

        def bench(self, document: Any, state_dir: Path, *, prepare: bool = True, flow: int | None = None) -> Bench:
            if prepare:
                world.clear()  # a fresh world per example, as the simulators are reset
            return Bench(document, resolve, state_dir, live=True)

    return run_examples(Floor(), document, case, values, tmp, lambda _table: None, lambda: True)


def fuzz_simulators(document: Any, case: dict[str, Any], cassette: Path, values: list[str], tmp: Path) -> float:
    from talkqa.runtime.backends import SimulatorsBackend

    backend = SimulatorsBackend(documents=[document])
    try:
        return run_examples(backend, document, case, values, tmp, lambda _table: None, lambda: True)
    finally:
        backend.close()


def suite_run(workers: str) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "generated_tests", "-q", "-p", "no:cacheprovider", "-n", workers,
         "--talkqa-fuzz-profile=ci"],
        cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    took = time.perf_counter() - start
    summary = [ln for ln in proc.stdout.splitlines() if re.search(r"\d+ (passed|failed|skipped)", ln)]
    return took, (summary[-1].strip("= ") if summary else f"exit {proc.returncode}")


def corpus_collection(corpus: Path) -> None:
    """The whole corpus generated into a temporary folder, then collected with -n 0 and -n 2."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "suite"
        subprocess.run([str(Path(sys.executable).with_name("talkqa")), "generate", str(corpus), "--out", str(out)],
                       cwd=REPO, check=True, capture_output=True)  # fmt: skip
        print(f"corpus-wide collection ({corpus}, generated into a temporary folder):")
        took = {}
        for workers in ("0", "2"):
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", str(out), "--collect-only", "-q", "-p", "no:cacheprovider",
                 "-n", workers],
                cwd=REPO, capture_output=True, text=True,
            )  # fmt: skip
            took[workers] = time.perf_counter() - start
            tail = [ln for ln in proc.stdout.splitlines() if "collected" in ln or "tests" in ln][-1:]
            said = tail[0].strip() if tail else f"exit {proc.returncode}"
            print(f"  -n {workers}: {took[workers]:.1f} s  ({said})", flush=True)
        print(f"  ratio -n 2 / -n 0: {took['2'] / took['0']:.2f}\n")


def main_job() -> None:
    """``talkqa check spec/`` as a user runs it (default fuzz profile), beside starting pytest and
    collecting the same module (the floor: what any run of it costs before the first test)."""
    talkqa = str(Path(sys.executable).with_name("talkqa"))
    env = {k: v for k, v in os.environ.items() if k != "CI"}  # the default profile is dev unless CI is set
    start = time.perf_counter()
    floor = subprocess.run([sys.executable, "-m", "pytest", "generated_tests", "--collect-only", "-q",
                            "-p", "no:cacheprovider"], cwd=REPO, capture_output=True, text=True, env=env)
    took_floor = time.perf_counter() - start
    start = time.perf_counter()
    proc = subprocess.run([talkqa, "check", "spec/", "--frozen"], cwd=REPO, capture_output=True, text=True,
                          env=env)  # fmt: skip
    took = time.perf_counter() - start
    said = [ln for ln in proc.stdout.splitlines() if "conform" in ln][-1:] or [f"exit {proc.returncode}"]
    print("main job, talkqa check spec/ (default fuzz profile, replayed):")
    print(f"  floor (start pytest, collect the module): {took_floor:5.1f} s  (exit {floor.returncode})")
    print(f"  talkqa check spec/:                       {took:5.1f} s  = {took / took_floor:.1f}x the floor  "
          f"({said[0]})")
    print(f"  goal < {GOAL_MAIN_JOB_S:.0f} s: " + verdict(took, GOAL_MAIN_JOB_S, "s") + "\n", flush=True)


def verdict(value: float, goal: float, unit: str) -> str:
    if value <= goal:
        return "met"
    return f"MISSED by {value - goal:.1f} {unit} ({value / goal:.1f}x the goal)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=200)
    ap.add_argument("--case", default=DEFAULT_CASE, help=f"fuzz case id (default {DEFAULT_CASE})")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-suite", action="store_true", help="skip the main job and the pytest runs of the seed")
    ap.add_argument("--profile", action="store_true", help="cProfile one replay round")
    ap.add_argument("--corpus", type=Path, default=None,
                    help="also collect the whole generated corpus with -n 0 and -n 2 (a folder of documents)")
    args = ap.parse_args(argv)

    if args.corpus is not None:
        corpus_collection(args.corpus)

    if not args.no_suite:
        main_job()
        print("seed suite, replay (pytest generated_tests -q --talkqa-fuzz-profile=ci):")
        n0, s0 = suite_run("0")
        print(f"  -n 0: {n0:.1f} s  ({s0})", flush=True)
        n2, s2 = suite_run("2")
        print(f"  -n 2: {n2:.1f} s  ({s2})")
        print(f"  ratio -n 2 / -n 0: {n2 / n0:.2f}\n", flush=True)

    ns = seed_module()
    document = document_from_json(ns["DOCUMENT"])
    (case,) = [c for c in ns["CASES"]["fuzz"] if c["id"] == args.case]
    cassette = cassette_path(args.case)
    values = strings(args.examples)
    # the same document with two systems no plugin serves: the generic system, its simulator in process
    generic = dataclasses.replace(
        document, path="generic-seed.rst",
        source_system=dataclasses.replace(document.source_system, slug="alpha"),
        target_system=dataclasses.replace(document.target_system, slug="beta"),
    )
    ways = [("floor: in-memory systems, no HTTP", fuzz_floor, document),
            ("simulators, in process", fuzz_simulators, document),
            ("replay (vcrpy)", fuzz_replay, document),
            ("replay without vcrpy (MockTransport)", fuzz_memory, document),
            ("generic: floor, in memory", fuzz_floor, generic),
            ("generic: simulator, in process", fuzz_simulators, generic)]
    times: dict[str, list[float]] = {name: [] for name, _, _ in ways}
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn, doc in ways:  # warm-up each
            fn(doc, case, cassette, values[:3], Path(tmp) / f"warm-{name}")
        for r in range(args.rounds):
            for name, fn, doc in ways if r % 2 == 0 else list(reversed(ways)):
                times[name].append(fn(doc, case, cassette, values, Path(tmp) / f"{name}{r}"))
            print(f"  round {r + 1}: " + ", ".join(f"{name} {times[name][-1]:.2f} s" for name, _, _ in ways),
                  flush=True)
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            fuzz_replay(document, case, cassette, values, Path(tmp) / "profile")
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
            print(out.getvalue())
    n = len(values)
    ms = {name: 1000 * min(t) / n for name, t in times.items()}
    floor, generic_floor = ms[ways[0][0]], ms[ways[4][0]]
    sim, replay, bare, generic_sim = ms[ways[1][0]], ms[ways[2][0]], ms[ways[3][0]], ms[ways[5][0]]
    interactions = len(JsonCassettes.deserialize(cassette.read_text(encoding="utf-8"))["interactions"])
    print(f"\nfuzz row {args.case}: {n} examples ({interactions} recorded interactions each), best of {args.rounds}, "
          "CPU time of this process (everything runs in it)")
    for name, _, doc in ways:
        base = generic_floor if doc is generic else floor
        print(f"  {name:40s} {ms[name]:6.2f} ms/example  {ms[name] / base:5.1f}x its floor")
    print(f"  simulators (PowerOffice Go, Exact Online): goal <= {GOAL_SIMULATORS_MS} ms: "
          + verdict(sim, GOAL_SIMULATORS_MS, "ms"))
    print(f"  generic simulator (every other system): goal <= {GOAL_SIMULATORS_MS} ms: "
          + verdict(generic_sim, GOAL_SIMULATORS_MS, "ms"))
    goal = GOAL_REPLAY_RATIO * sim
    print(f"  replay / simulators: {replay / sim:.2f}; goal <= {GOAL_REPLAY_RATIO}x ({goal:.2f} ms): "
          + verdict(replay, goal, "ms"))
    print(f"  vcrpy's own share of a replayed example: {replay - bare:.2f} ms ({replay / bare:.2f}x without it)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
