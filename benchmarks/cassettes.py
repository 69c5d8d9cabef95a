"""Benchmark: loading the committed cassettes for replay, JSON (talkqa's format) against YAML.

    .venv/bin/python benchmarks/cassettes.py [--rounds N] [FOLDER]

Every cassette under FOLDER (default ``generated_tests/cassettes``) is loaded as a replay loads it:
the file read and vcrpy's ``deserialize`` with the serializer (requests built, bodies as bytes). The
YAML baseline is the same cassettes written with vcrpy's YAML serializer (the format talkqa used
before), so both load the same interactions. Best and median of N rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vcr.serialize import deserialize, serialize  # noqa: E402
from vcr.serializers import yamlserializer  # noqa: E402

from talkqa.runtime.cassettes import SUFFIX, JsonCassettes  # noqa: E402


def load_all(paths: list[Path], serializer: object) -> tuple[float, int]:
    start = time.perf_counter()
    interactions = 0
    for path in paths:
        requests, _responses = deserialize(path.read_text(encoding="utf-8"), serializer)
        interactions += len(requests)
    return time.perf_counter() - start, interactions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(REPO / "generated_tests" / "cassettes"))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    paths = sorted(Path(args.folder).rglob("*" + SUFFIX))
    if not paths:
        raise SystemExit(f"no {SUFFIX} cassette under {args.folder}")
    with tempfile.TemporaryDirectory() as tmp:
        yaml_paths = []
        for n, path in enumerate(paths):
            requests, responses = deserialize(path.read_text(encoding="utf-8"), JsonCassettes)
            out = Path(tmp) / f"{n}.yaml"
            out.write_text(serialize({"requests": requests, "responses": responses}, yamlserializer), encoding="utf-8")
            yaml_paths.append(out)
        times: dict[str, list[float]] = {"json": [], "yaml": []}
        counts = {}
        for _ in range(args.rounds):
            for name, files, serializer in (("json", paths, JsonCassettes), ("yaml", yaml_paths, yamlserializer)):
                seconds, counts[name] = load_all(files, serializer)
                times[name].append(seconds)
    size_json = sum(p.stat().st_size for p in paths)
    assert counts["json"] == counts["yaml"]
    print(f"{len(paths)} cassettes, {counts['json']} interactions, {size_json / 1e6:.2f} MB of JSON; "
          f"best / median of {args.rounds} rounds")
    for name in ("yaml", "json"):
        print(f"  {name}: {min(times[name]):.3f} s / {statistics.median(times[name]):.3f} s")
    print(f"  ratio json / yaml (best): {min(times['json']) / min(times['yaml']):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
