"""Fuzzing one row: any value of the row's domain survives the sync unchanged, in one direction.

Live (simulators, sandbox): every Hypothesis example is a real arrange/sync/read-back.

Replay (cassettes), following the design measured in ``practice.md`` section 1: the cassette
holds one recorded run made with a *placeholder* value. It is entered once per test and
rewound per example; every recorded response that carries the placeholder (in either
system's wire form, e.g. ``/Date(ms)/``) has it replaced by the drawn value on the way out;
what the sync *sends* is captured at its connectors and checked there; and every recorded
interaction must be played, so a sync that skips a write fails.

``talkqa record`` (``--record-mode`` other than ``none``) runs the placeholder once, live,
and writes that cassette.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings

from generator.model import Document, Policy
from talkqa.connectors.base import ConnectorError
from talkqa.connectors.codecs import get_path, set_path
from talkqa.runtime import draws
from talkqa.runtime.bench import Bench
from talkqa.runtime.cassettes import fast_replay, unplayed
from talkqa.runtime.checks import (
    ChecklistFailure,
    Unsupported,
    _domain,
    _emptied_earlier,
    _flow,
    _row,
    _switched_off,
    _writable,
    id_path,
    linked_pair,
    linked_target,
    not_pinned,
    pinning_row,
    same,
)
from talkqa.runtime.failures import NOTHING_SENT, Finding, report_finding
from talkqa.runtime.values import BLANK, Domain, domain_gap, edge_examples, strategy
from talkqa.runtime.values import example as example_value

PROFILES = {
    "ci": {"max_examples": 25, "derandomize": True},
    "dev": {"max_examples": 50},
    "nightly": {"max_examples": 500},
}


def profile_name(config: pytest.Config) -> str:
    """The fuzz profile of the run: the setting (docs/reference.md#settings), else ci when $CI is set, else dev."""
    from talkqa.settings import setting

    return setting(config, "fuzz-profile") or ("ci" if os.environ.get("CI") else "dev")


def full_examples(config: pytest.Config) -> int:
    """Examples a fuzz test draws under the run's profile (its edge values come on top)."""
    return int(PROFILES[profile_name(config)]["max_examples"])


def fuzz_settings(config: pytest.Config, max_examples: int | None = None) -> settings:
    chosen = dict(PROFILES[profile_name(config)])
    if max_examples is not None:  # fewer, planned to fit a sandbox's API budget (talkqa.runtime.budget)
        chosen["max_examples"] = max(1, min(int(chosen["max_examples"]), max_examples))
    return settings(
        deadline=None,
        database=None if chosen.get("derandomize") else settings.default.database,
        print_blob=True,
        phases=[p for p in Phase if p is not Phase.explain],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        **chosen,
    )


def placeholder(domain: Domain, line: int) -> Any:
    """The value a fuzz cassette is recorded with: valid, and unlike any other arranged value."""
    if domain.kind == "string":
        text = f"TqFuzz{line}"
        return text[: domain.max_length] if domain.max_length else text
    return example_value(domain, line * 1000 + 999)


def _replace(value: Any, table: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return table.get(value, value)
    if isinstance(value, dict):
        return {k: _replace(v, table) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, table) for v in value]
    return value


_NOT_JSON = object()
#: recorded responses, parsed once: id -> (the response, its JSON or _NOT_JSON, its text, {keys: holds one})
_PARSED: dict[int, tuple[dict[str, Any], Any, str, dict[frozenset[str], bool]]] = {}


def _holds_any(value: Any, keys: frozenset[str]) -> bool:
    if isinstance(value, str):
        return value in keys
    if isinstance(value, dict):
        return any(_holds_any(v, keys) for v in value.values())
    if isinstance(value, list):
        return any(_holds_any(v, keys) for v in value)
    return False


def substitute(response: dict[str, Any], table: dict[str, Any]) -> dict[str, Any]:
    """A copy of a recorded response with every JSON string in ``table`` replaced (the response itself
    when it holds none of them). A recorded response is parsed once, however often it is played."""
    body = response.get("body", {}).get("string")
    if not body:
        return response
    cached = _PARSED.get(id(response))
    if cached is None or cached[0] is not response:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        try:
            data = json.loads(text)
        except ValueError:
            data = _NOT_JSON
        if len(_PARSED) > 4096:
            _PARSED.clear()
        cached = _PARSED[id(response)] = (response, data, text, {})
    _response, data, text, holds = cached
    if data is _NOT_JSON:
        return response
    keys = frozenset(table)
    if keys not in holds:
        holds[keys] = _holds_any(data, keys)
    if not holds[keys]:
        return response
    new = json.dumps(_replace(data, table), ensure_ascii=False)
    if new == text:
        return response
    out = copy.deepcopy(response)
    out["body"]["string"] = new.encode("utf-8") if isinstance(body, bytes) else new
    for name in out.get("headers", {}):
        if name.lower() == "content-length":
            out["headers"][name] = [str(len(new.encode("utf-8")))]
    return out


def one_example(bench: Bench, case: dict[str, Any], value: Any) -> None:
    """Arrange a record, carry ``value`` through the sync in the case's direction, check it arrived."""
    flow, src, tgt = _flow(bench, case)
    row = _row(flow, case)
    seed = case["line"] * 10 + 2
    head = f"{case['document']}:{case['line']}: {case['flow_title']}: {row.source} -> {row.target}"
    head += f" [{case['direction']}]"
    # fan-in: the rows before this one that feed the same target start empty (their value would win)
    earlier: dict[str, Any] = _emptied_earlier(src, flow, row) if case["direction"] == "forward" else {}
    if case["direction"] == "forward":
        # nothing is created (link_required), or the source property learns the target's id when linked
        # (pinned): link a pair, then edit the source
        if flow.policy is Policy.LINK_REQUIRED or pinning_row(flow, tgt, row):
            source_id, target_id, _created = linked_pair(bench, case, flow, src, tgt, seed, earlier or None)
            src.update(source_id, set_path({}, row.source, value))
            bench.sync()
        else:
            before = bench.ids(tgt)
            bench.create(src, bench.record_for(flow, "source", src, seed, {**earlier, row.source: value}))
            bench.sync()
            target_id = linked_target(bench, tgt, before, head)
        where_, system, path, record_id = "target", tgt, row.target, target_id
    else:
        source_id, target_id, _created = linked_pair(bench, case, flow, src, tgt, seed)
        tgt.update(target_id, set_path({}, row.target, value))
        bench.sync()
        where_, system, path, record_id = "source", src, row.source, source_id
    landed = get_path(system.get(record_id), path)  # replayed too, so recordings and replays ask the same
    if bench.live:
        if not same(landed, value):
            raise ChecklistFailure(f"{head}\n  sent {value!r}\n  the {where_} holds {landed!r}",
                                   expected=value, actual=landed)
        return
    sent = bench.sut_wrote(system.system, system.entity, record_id if case["direction"] == "reverse" else None, path)
    # an empty value may be left out of a create: sending nothing for it is carrying it
    if (sent and not same(sent[-1], value)) or (not sent and not same(value, None)):
        raise ChecklistFailure(
            f"{head}\n  the sync read {value!r}\n  and wrote {sent[-1]!r}" if sent
            else f"{head}\n  the sync read {value!r} but wrote no value for {system.entity}.{path}",
            expected=value, actual=sent[-1] if sent else NOTHING_SENT,
        )


def siblings_decide_empty(flow: Any, row: Any, domain: Domain) -> Domain:
    """No empty value for a row that shares its target with another row (fan-in) or its source with
    another target (fan-out): an empty value there is not carried as such, a sibling's value is
    (the first non-empty source wins), so the empty value is no example of this row."""
    rows = list(flow.syncable_rows)
    shared = sum(r.target == row.target for r in rows) > 1 or sum(r.source == row.source for r in rows) > 1
    return dataclasses.replace(domain, empty_ok=False) if shared and getattr(domain, "empty_ok", False) else domain


def empty_refused(bench: Bench, case: dict[str, Any]) -> str | None:
    """Why one of the row's systems refuses a record with the row's field empty or whitespace-only,
    though its field spec allows it (None: both accept it). Closes ``bench``."""
    try:
        flow, src, tgt = _flow(bench, case)
        row = _row(flow, case)
        for side, connector, path in (("source", src, row.source), ("target", tgt, row.target)):
            for blank in ("", BLANK):
                try:
                    bench.create(connector, bench.record_for(flow, side, connector, case["line"] * 10 + 3,
                                                             {path: blank}))
                except ConnectorError as exc:
                    return f"the {connector.system} {connector.entity} system refuses {blank!r} for {path}: {exc}"
        return None
    finally:
        bench.close()


def run_fuzz(request: pytest.FixtureRequest, backend: Any, document: Document, case: dict[str, Any],
             tmp_path: Path, examples: int | None = None) -> None:
    """``examples``: at most this many examples, edge values included (a sandbox's API budget); None:
    the profile's examples and every edge value."""
    probe = backend.bench(document, tmp_path / "probe", prepare=False)
    flow, src, tgt = _flow(probe, case)
    condition = probe.flow_predicate(flow)
    if condition is not None and condition.never:  # switched off: nothing to fuzz, only "nothing arrives"
        probe.close()
        bench = backend.bench(document, tmp_path / "switched-off", flow=case["flow"])
        try:
            _switched_off(bench, case, flow, src=bench.pair(flow)[0], tgt=bench.pair(flow)[1])
        finally:
            bench.close()
        return
    row = _row(flow, case)
    if row.source == id_path(src) or row.target == id_path(tgt):
        raise Unsupported("identifier row: the systems assign ids, so there is no value to fuzz (its mapping "
                          "test checks it)")
    if case["direction"] == "reverse":
        try:
            not_pinned(flow, tgt, row)
        except Unsupported:
            probe.close()
            raise
    _writable(src, tgt, row, case["direction"])
    domain = siblings_decide_empty(flow, row, _domain(src, tgt, row, probe, flow))
    gap = domain_gap(src.fields[row.source], tgt.fields[row.target])
    probe.close()
    recording = (getattr(request.config.option, "record_mode", None) or "none") != "none"
    cassette = request.getfixturevalue("vcr") if request.node.get_closest_marker("vcr") else None
    counter = iter(range(10**9))

    def bench_for_example() -> Bench:
        return backend.bench(document, tmp_path / f"example-{next(counter)}", flow=case["flow"])

    if recording or (cassette is None and not backend.live):
        value = placeholder(domain, case["line"])
        bench = bench_for_example()
        try:
            one_example(bench, case, value)
        finally:
            bench.close()
        return

    if cassette is not None:
        original = cassette.play_response
        p = placeholder(domain, case["line"])
        state: dict[str, dict[str, Any]] = {"table": {}}

        def play(req: Any) -> Any:
            return substitute(original(req), state["table"])

        cassette.play_response = play
        fast_replay(cassette)

    if domain.empty_ok and domain.kind == "string" and backend.live and cassette is None:
        refused = empty_refused(backend.bench(document, tmp_path / "empty-probe"), case)
        if refused:  # a rule the field specs do not state (required while another field holds a value)
            domain = dataclasses.replace(domain, empty_ok=False)
    values = strategy(domain)
    current = None
    filter_saw: list[Any] = []  # every candidate the filter below is asked about
    rejected = 0
    if case["direction"] == "reverse":
        # an edit to the value the origin already holds is no edit: the sync rightly writes nothing
        current = get_path(probe.record_for(flow, "source", src, case["line"] * 10 + 2), row.source)

        def other_than_current(v: Any) -> bool:
            nonlocal rejected
            filter_saw.append(draws.snapshot(v))
            equal = same(v, current)
            rejected += equal
            return not equal

        values = values.filter(other_than_current)

    edges = edge_examples(domain)
    drawn = None
    if examples is not None:
        edges = edges[: max(0, examples - 1)]
        drawn = examples - len(edges)
    explicit = [e for e in edges if case["direction"] != "reverse" or not same(e, current)]
    # what Hypothesis fed an earlier test with this strategy, when it would feed this one the same
    memo = draws.key_for(fuzz_settings(request.config, drawn), (domain, case["direction"] == "reverse"))
    fed: list[Any] = []

    @given(value=values)
    @fuzz_settings(request.config, drawn)
    def survives(value: Any) -> None:
        run_example(value)

    for edge in reversed(explicit):
        survives = example(value=edge)(survives)

    def run_example(value: Any) -> None:
        fed.append(draws.snapshot(value))
        if cassette is not None:
            cassette.rewind()
            state["table"] = {}
            forms = probe.wire_forms or (lambda _c, _p, v: [v])
            for conn, path in ((src, row.source), (tgt, row.target)):
                for a, b in zip(forms(conn, path, p), forms(conn, path, value), strict=True):
                    if isinstance(a, str):
                        state["table"][a] = b
        bench = bench_for_example()
        try:
            one_example(bench, case, value)
        except ChecklistFailure as exc:
            exc.example = value  # the last one raised is Hypothesis' minimal example
            raise
        finally:
            bench.close()
        if cassette is not None and not cassette.all_played:
            failure = ChecklistFailure(
                f"{case['document']}:{case['line']}: with {value!r} the sync made fewer requests than recorded; "
                "not made: " + ", ".join(unplayed(cassette)[:5]),
                kind="requests-changed",
            )
            failure.example = value
            raise failure

    try:
        again = draws.remembered(memo, (lambda v: same(v, current)) if case["direction"] == "reverse" else None)
        if again is not None:
            try:
                draws.feed(run_example, [*explicit, *again])
            except Exception:  # a failure: Hypothesis runs from the start, finds it again and shrinks it
                again = None
        if again is None:
            fed.clear()
            filter_saw.clear()
            rejected = 0
            survives()
            if fed[: len(explicit)] == explicit:  # Hypothesis runs the explicit examples first, in order
                draws.remember(memo, fed[len(explicit):], filter_saw, rejected)
    except Unsupported:
        raise
    finally:
        if cassette is not None:
            cassette.play_response = original
            cassette.rewind()
            for i in range(len(cassette)):
                cassette.play_counts[i] = 1  # the examples above played them all
    if gap:
        report_finding(request.node, Finding(case["document"], case["line"], gap))
