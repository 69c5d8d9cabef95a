"""Benchmark: the seed suite in replay, and fuzz examples/second through vcrpy replay vs in memory.

    .venv/bin/python benchmarks/suite.py [--examples N] [--case ID] [--no-suite]

1. ``pytest generated_tests -q`` (replay from the committed cassettes), ``-n 0`` and ``-n 2``.
2. One fuzz row, N examples, two ways, in this process, with the same values and the same work per
   example as ``talkqa.runtime.fuzz`` (a fresh bench, the sync, the read-back, the check of what the
   sync sent, every recorded interaction played):

   * replay: the cassette entered once with ``vcr_settings(recording=False)``; per example
     ``rewind()`` and ``play_response`` wrapped to substitute the placeholder (the runtime's design);
   * in memory (baseline): no vcrpy; the connectors' and the arranging client's httpx transport is an
     ``httpx.MockTransport`` serving the same recorded responses (first unplayed interaction with the
     same method, path and query, as vcrpy's matching does; the same substitution function).

   The difference is the cost of vcrpy's patching, matching and response building. Goal: replay /
   in memory <= 2.5. ``--profile`` prints where the replay's time goes (cProfile, top 25).
"""

from __future__ import annotations

import argparse
import cProfile
import io
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
from talkqa.runtime.cassettes import JsonCassettes, cassette_name, register, vcr_settings  # noqa: E402
from talkqa.runtime.checks import _domain, _flow, _row  # noqa: E402
from talkqa.runtime.fuzz import one_example, placeholder, substitute  # noqa: E402

SEED = REPO / "generated_tests"
GOAL = 2.5
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
    start = time.perf_counter()
    for n, value in enumerate(values):
        table: dict[str, Any] = {}
        for conn, path in ((src, row.source), (tgt, row.target)):
            for a, b in zip(forms(conn, path, p), forms(conn, path, value), strict=True):
                if isinstance(a, str):
                    table[a] = b
        start_example(table)
        bench = backend.bench(document, tmp / f"ex{n}")
        try:
            one_example(bench, case, value)
        finally:
            bench.close()
        assert all_played(), f"example {n}: not every recorded interaction was played"
    return time.perf_counter() - start


def fuzz_replay(document: Any, case: dict[str, Any], cassette: Path, values: list[str], tmp: Path) -> float:
    recorder = register(vcr.VCR())
    backend = CassettesBackend(documents=[document])
    try:
        with recorder.use_cassette(str(cassette), record_mode="none", **vcr_settings(recording=False)) as cas:
            original = cas.play_response
            state: dict[str, Any] = {"table": {}}
            cas.play_response = lambda req: substitute(original(req), state["table"])

            def start_example(table: dict[str, Any]) -> None:
                cas.rewind()
                state["table"] = table

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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=200)
    ap.add_argument("--case", default=DEFAULT_CASE, help=f"fuzz case id (default {DEFAULT_CASE})")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-suite", action="store_true", help="skip the pytest runs of the seed suite")
    ap.add_argument("--profile", action="store_true", help="cProfile one replay round")
    ap.add_argument("--corpus", type=Path, default=None,
                    help="also collect the whole generated corpus with -n 0 and -n 2 (a folder of documents)")
    args = ap.parse_args(argv)

    if args.corpus is not None:
        corpus_collection(args.corpus)

    if not args.no_suite:
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
    replay_t: list[float] = []
    memory_t: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        fuzz_memory(document, case, cassette, values[:3], Path(tmp) / "warm-m")  # warm-up both
        fuzz_replay(document, case, cassette, values[:3], Path(tmp) / "warm-r")
        for r in range(args.rounds):
            steps = [(fuzz_replay, replay_t), (fuzz_memory, memory_t)]
            for fn, sink in steps if r % 2 == 0 else reversed(steps):
                sink.append(fn(document, case, cassette, values, Path(tmp) / f"{fn.__name__}{r}"))
            print(f"  round {r + 1}: replay {replay_t[-1]:.2f} s, in memory {memory_t[-1]:.2f} s", flush=True)
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            fuzz_replay(document, case, cassette, values, Path(tmp) / "profile")
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
            print(out.getvalue())
    best_r, best_m = min(replay_t), min(memory_t)
    n = len(values)
    interactions = len(JsonCassettes.deserialize(cassette.read_text(encoding="utf-8"))["interactions"])
    print(f"\nfuzz row {args.case}: {n} examples x {interactions} recorded interactions, best of {args.rounds}")
    print(f"  replay (vcrpy):       {n / best_r:8.1f} examples/s  ({1000 * best_r / n:.1f} ms/example)")
    print(f"  in memory (baseline): {n / best_m:8.1f} examples/s  ({1000 * best_m / n:.1f} ms/example)")
    ratio = best_r / best_m
    print(f"  ratio replay / in memory: {ratio:.2f}; goal <= {GOAL}: {'met' if ratio <= GOAL else 'MISSED'}")
    return 0



if __name__ == "__main__":
    raise SystemExit(main())
