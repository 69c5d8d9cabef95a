"""The mutant catalogue: small, named, deliberately broken copies of the reference sync.

Each mutant is a patch of :class:`talkqa.sync.engine._FlowRun` applied in-process (see
:func:`activate`); nothing here names a system, entity or property of a particular document.
Mutants that break particular rows pick them from the model: by default the first row(s) of
each flow, or the row at a document line given after ``@`` (``drop-property@29``, or
``drop-property@powerofficego-exact:29`` when several documents are in play).

A spec is ``NAME`` or ``NAME@[DOC-STEM:]LINE``; :func:`parse_spec` reads it.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.model import Document, Flow
from generator.model import Mapping as Row
from talkqa.connectors.base import FieldSpec, Record
from talkqa.connectors.codecs import flatten, get_path, set_path
from talkqa.sync import engine as _engine
from talkqa.sync.state import decode_value

Fields = Mapping[str, FieldSpec]


class UnknownMutant(ValueError):
    """The spec names no mutant of the catalogue (or selects rows of one that selects none)."""


@dataclass(frozen=True)
class Selector:
    """Which row a row-specific mutant breaks: a document line, optionally of one document (by stem)."""

    line: int
    stem: str | None = None

    def matches(self, document_path: str, row: Row) -> bool:
        return row.line == self.line and (self.stem is None or self.stem == Path(document_path).stem)

    def __str__(self) -> str:
        return f"{self.stem}:{self.line}" if self.stem else str(self.line)


@dataclass(frozen=True)
class Mutant:
    """One entry of the catalogue.

    ``install`` patches a freshly built :class:`_FlowRun` (called at the end of its ``__init__``);
    ``rows`` (row-specific mutants only) names the rows of a flow the mutant breaks, from the
    model and the connectors' field specs: the rows ``install`` changes (chosen the same way), and the rows
    whose value that change keeps from arriving (``swap-values``: fan-in rows behind a crossed row).
    """

    name: str
    summary: str
    install: Callable[[Any, Selector | None], None]
    rows: Callable[[str, Flow, Fields, Fields, Selector | None], list[Row]] | None = None
    expect: str = ""
    checks: tuple[str, ...] = ()  # the flow checks (link-check names) meant to kill it: "on target" when they do
    #: pytest options its runs need (``--talkqa-faults=transient``: a mutant only faults can reveal); the
    #: baseline it is judged against runs with the same options
    settings: tuple[str, ...] = ()
    #: a process-wide patch held while the mutant is active (entered once by :func:`activate`)
    patch: Callable[[], contextlib.AbstractContextManager[None]] | None = None
    #: what a flow needs for this mutant to change anything the checks could see (a row of some kind),
    #: said as ``(flow, source fields, target fields) -> why not, or None``; None: any flow
    applies: Callable[[Flow, Fields, Fields], str | None] | None = None

    @property
    def row_specific(self) -> bool:
        return self.rows is not None


# -- choosing rows ----------------------------------------------------------------------------------


def _kind(fields: Fields, path: str) -> str | None:
    spec = fields.get(path)
    return spec.kind if spec is not None else None


def _carries(src: Fields, tgt: Fields, row: Row) -> bool:
    """Whether the sync writes a value for ``row`` (its target is a field the system lets it write: not an
    identifier the system assigns, as in ``id -> Id``), so forgetting or crossing it can show."""
    spec = tgt.get(row.target)
    return spec is None or not spec.read_only


def drop_rows(document_path: str, flow: Flow, src: Fields, tgt: Fields, selector: Selector | None) -> list[Row]:
    """The rows ``drop-property`` removes: every row of the flow's first mapped target the sync writes, or
    the selected row."""
    rows = flow.syncable_rows
    if selector is not None:
        return [r for r in rows if selector.matches(document_path, r)]
    first = next((r for r in rows if _carries(src, tgt, r)), None)
    return [r for r in rows if r.target == first.target] if first is not None else []


def swap_rows(document_path: str, flow: Flow, src: Fields, tgt: Fields, selector: Selector | None) -> list[Row]:
    """The two rows ``swap-values`` crosses: a row (the selected one, else the first that has a partner)
    and the next row after it (cyclically, in document order) with another source and target of the
    same field kinds on both sides, so the crossed values stay valid for the connectors."""
    rows = [r for r in flow.syncable_rows if _carries(src, tgt, r)]
    starts = [r for r in rows if selector.matches(document_path, r)] if selector is not None else rows
    for a in starts:
        i = rows.index(a)
        for b in rows[i + 1 :] + rows[:i]:
            if (
                b.source != a.source
                and b.target != a.target
                and _kind(src, a.source) == _kind(src, b.source)
                and _kind(tgt, a.target) == _kind(tgt, b.target)
            ):
                return [a, b]
    return []


def swap_broken(document_path: str, flow: Flow, src: Fields, tgt: Fields, selector: Selector | None) -> list[Row]:
    """The rows ``swap-values`` breaks: the two it crosses, and each row fed after the other crossed row in
    a crossed target's fan-in. A target fed by several rows takes the first non-empty source; a test of a
    later row empties the sources of the rows before it, but the crossed row now feeding that target reads
    the other source, which the test does not empty, so it wins over the later row's value."""
    pair = swap_rows(document_path, flow, src, tgt, selector)
    if not pair:
        return []
    rows = list(flow.syncable_rows)
    a, b = pair
    out = [a, b]
    for here, other in ((a, b), (b, a)):  # ``other``'s source now feeds ``here``'s target at ``other``'s place
        at = rows.index(other)
        out += [r for r in rows[at + 1:] if r.target == here.target and r not in out]
    return out


def _document_path(run: Any) -> str:
    return run.talkqa_document_path


def _rebuild(run: Any, replace: Mapping[Row, Row | None]) -> None:
    """Rebuild the run's row tables with rows replaced (``None``: dropped)."""
    rows = [replace.get(r, r) for r in run.flow.syncable_rows]
    run.targets = {}
    for row in rows:
        if row is not None:
            run.targets.setdefault(row.target, []).append(row)
    reverse = [replace.get(r, r) for r in run.flow.reverse_rows]
    run.reverse = {row.target: row for row in reverse if row is not None}


def _chosen(run: Any, pick: Callable[..., list[Row]], selector: Selector | None) -> list[Row]:
    return pick(_document_path(run), run.flow, run.src.fields, run.tgt.fields, selector)


# -- patches of a flow run --------------------------------------------------------------------------


def _install_drop(run: Any, selector: Selector | None) -> None:
    _rebuild(run, dict.fromkeys(_chosen(run, drop_rows, selector)))


def _install_swap(run: Any, selector: Selector | None) -> None:
    pair = _chosen(run, swap_rows, selector)
    if pair:
        a, b = pair
        _rebuild(run, {a: dataclasses.replace(a, target=b.target), b: dataclasses.replace(b, target=a.target)})


def _install_one_way(run: Any, selector: Selector | None) -> None:
    run.reverse = {}  # no row carries target edits back: they are reset to the source's value


class _DistortingConnector:
    """A connector whose writes pass every value through ``fn`` (what the sync sends is wrong)."""

    def __init__(self, inner: Any, fn: Callable[[Any], Any]) -> None:
        self._inner = inner
        self._fn = fn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def create(self, record: Record, *, external_ref: str | None = None) -> str:
        return self._inner.create(_map_leaves(record, self._fn), external_ref=external_ref)

    def update(self, record_id: str, changes: Record) -> None:
        self._inner.update(record_id, _map_leaves(changes, self._fn))


def _map_leaves(value: Any, fn: Callable[[Any], Any]) -> Any:
    if isinstance(value, dict):
        return {k: _map_leaves(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_leaves(v, fn) for v in value]
    return fn(value)


def _on_strings(fn: Callable[[str], str]) -> Callable[[Any], Any]:
    return lambda v: fn(v) if isinstance(v, str) else v


def _shift_date(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value - dt.timedelta(days=1)  # UTC midnight read as local time west of UTC
    return value


def _distort(fn: Callable[[Any], Any]) -> Callable[[Any, Selector | None], None]:
    def install(run: Any, selector: Selector | None) -> None:
        run.src = _DistortingConnector(run.src, fn)
        run.tgt = _DistortingConnector(run.tgt, fn)

    return install


class _StateView:
    """The sync state as a mutant sees it: ``overrides`` replace some of its methods."""

    def __init__(self, inner: Any, **overrides: Callable[..., Any]) -> None:
        self._inner = inner
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _install_forget_links(run: Any, selector: Selector | None) -> None:
    state = run.state

    def add_link(flow: str, source_id: str, target_resource: str, target_id: str) -> None:
        # the stored link is ignored, not gone: replace it so the store's unique keys hold
        with state.transaction():
            state.unlink_source(flow, source_id)
            state.unlink_target(target_resource, target_id)
            state.add_link(flow, source_id, target_resource, target_id)

    run.state = _StateView(
        state, link_for_source=lambda *a: None, link_for_target=lambda *a: None, add_link=add_link
    )


def _install_echo(run: Any, selector: Selector | None) -> None:
    # no fingerprints: every value read looks like a fresh edit, so the sync writes back what it read
    run.state = _StateView(run.state, fingerprints=lambda *a: {})


def _duplicate_source_change(self: Any, change: Any, tgt_changed: dict[str, Record]) -> str | None:
    if self.predicate is not None and not self.predicate(change.record):
        self.summary.skipped[f"{self.flow.title}: condition not met"] += 1
        return None
    if self.state.link_for_source(self.key, change.id) is None:
        return self._establish(change)
    self.state.unlink_source(self.key, change.id)  # forget the old link so the new one can be stored
    return self._create(change)  # a new target record instead of updating the linked one


def _install_duplicate(run: Any, selector: Selector | None) -> None:
    run._source_change = _duplicate_source_change.__get__(run)


def _wrap_write(run: Any, change: Callable[[Any, Record, Record], tuple[Record, Record]]) -> None:
    """Every update of a linked pair passes through ``change(run, to_source, to_target)`` first."""
    write = run._write

    def _write(source_id: str, target_id: str, to_source: Record, to_target: Record) -> None:
        to_source, to_target = change(run, flatten(to_source), flatten(to_target))
        write(source_id, target_id, _nested(to_source), _nested(to_target))

    run._write = _write


def _nested(flat: Record) -> Record:
    out: Record = {}
    for path, value in flat.items():
        set_path(out, path, value)
    return out


def _no_empties(run: Any, to_source: Record, to_target: Record) -> tuple[Record, Record]:
    keep = {p: v for p, v in to_source.items() if v not in (None, "")}
    return keep, {p: v for p, v in to_target.items() if v not in (None, "")}


def _null_siblings(run: Any, to_source: Record, to_target: Record) -> tuple[Record, Record]:
    """An update of one side also empties the other mapped properties of that side."""
    if to_target:
        to_target = {**dict.fromkeys(run.targets), **to_target}
    if to_source:
        to_source = {**dict.fromkeys(r.source for rows in run.targets.values() for r in rows), **to_source}
    return to_source, to_target


def _replaced(connector: Any, mapped: set[str], changes: Record) -> Record:
    """``changes`` as a whole record: every other field the connector may empty is sent empty."""
    ref = getattr(connector, "external_ref_field", None)
    wiped = {p: None for p, spec in connector.fields.items()
             if p not in mapped and p != ref and not spec.read_only and spec.nullable
             and not spec.required_on_create and spec.kind != "boolean"}
    return {**wiped, **changes}


def _wipe_unmapped(run: Any, to_source: Record, to_target: Record) -> tuple[Record, Record]:
    """An update replaces the whole record with the mapped values: fields no row maps are lost."""
    sources = {r.source for rows in run.targets.values() for r in rows}
    if to_target:
        to_target = _replaced(run.tgt, set(run.targets), to_target)
    if to_source:
        to_source = _replaced(run.src, sources, to_source)
    return to_source, to_target


def _replace_nested(run: Any, to_source: Record, to_target: Record) -> tuple[Record, Record]:
    """A write into a nested object replaces the whole object: its other fields are sent empty."""

    def replaced(connector: Any, changes: Record) -> Record:
        prefixes = {p.partition(".")[0] for p in changes if "." in p}
        wiped = {p: None for p, spec in connector.fields.items()
                 if p.partition(".")[0] in prefixes and "." in p and not spec.read_only}
        return {**wiped, **changes} if prefixes else changes

    return replaced(run.src, to_source), replaced(run.tgt, to_target)


def _install_skip_missing_nested(run: Any, selector: Selector | None) -> None:
    """Writes into a nested object the record does not have yet are dropped (the sync expects it there)."""
    write = run._write

    def kept(connector: Any, record_id: str, changes: Record) -> Record:
        flat = flatten(changes)
        nested = {p for p in flat if "." in p}
        if not nested:
            return flat
        current = connector.get(record_id)

        def present(prefix: str) -> bool:  # the object holds some value (a decoder may give empty ones)
            held = current.get(prefix)
            return isinstance(held, dict) and any(v not in (None, "") for v in flatten(held).values())

        return {p: v for p, v in flat.items() if "." not in p or present(p.partition(".")[0])}

    def _write(source_id: str, target_id: str, to_source: Record, to_target: Record) -> None:
        write(source_id, target_id, _nested(kept(run.src, source_id, to_source)),
              _nested(kept(run.tgt, target_id, to_target)))

    run._write = _write


class _Caseless(str):
    """A stored fingerprint that compares equal to any text differing only in case."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self.casefold() == other.casefold()

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__


def _install_case_blind(run: Any, selector: Selector | None) -> None:
    # edits are found by comparing fingerprints: compared without case, a case-only edit is no edit
    fingerprints = run.state.fingerprints
    run.state = _StateView(
        run.state, fingerprints=lambda *a: {k: _Caseless(v) for k, v in fingerprints(*a).items()}
    )


class _FirstPageConnector:
    """A connector whose listing of changes stops after its system's first page (the watermark still
    moves past every change, so the rest are never seen)."""

    def __init__(self, inner: Any, size: int) -> None:
        self._inner = inner
        self._size = size

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def changed_since(self, watermark: str | None) -> Any:
        page = self._inner.changed_since(watermark)
        return dataclasses.replace(page, changes=list(page.changes)[: self._size])


def _install_first_page_only(run: Any, selector: Selector | None) -> None:
    from talkqa.runtime.teeth import page_size

    for side in ("src", "tgt"):
        connector = getattr(run, side)
        size = page_size(connector)
        if size is not None:
            setattr(run, side, _FirstPageConnector(connector, size))


def _install_conflict_target_wins(run: Any, selector: Selector | None) -> None:
    """When both sides edited a property, the source's edit is not seen: the target's value is carried
    back over it and nothing is logged (the source's edit is lost silently, against the source-wins rule)."""
    reconcile = run._reconcile

    def _reconcile(source_id: str, target_id: str, src_rec: Record | None, tgt_rec: Record | None) -> None:
        if src_rec is not None and tgt_rec is not None:
            src_fp = run.state.fingerprints(run.key, _engine.SOURCE, source_id)
            tgt_fp = run.state.fingerprints(run.key, _engine.TARGET, target_id)
            hidden = _nested(flatten(src_rec))
            for target, row in run.reverse.items():
                edited_there = target in tgt_fp and _engine._fp(get_path(tgt_rec, target)) != tgt_fp[target]
                edited_here = row.source in src_fp and _engine._fp(get_path(src_rec, row.source)) != src_fp[row.source]
                if edited_there and edited_here:
                    set_path(hidden, row.source, decode_value(src_fp[row.source]))
            src_rec = hidden
        reconcile(source_id, target_id, src_rec, tgt_rec)

    run._reconcile = _reconcile


def _install_conflict_unlogged(run: Any, selector: Selector | None) -> None:
    # the source still wins, but the losing target edit is not written to the conflict log
    run.state = _StateView(run.state, log_conflict=lambda *a, **k: None)


class _RateLimitedSkip(Exception):
    """A request of the mutant's sync got 429: the mutant gives up on the record instead of waiting."""


_SKIPPING = contextvars.ContextVar("talkqa_mutant_skip_on_429", default=False)


@contextlib.contextmanager
def _give_up_on_429() -> Iterator[None]:
    """While a ``skip-on-429`` flow run handles a record, a 429 answer raises instead of being waited out
    (the client's other requests, e.g. a test arranging records, still wait as told)."""
    from talkqa.connectors.http import SystemClient

    wait = SystemClient._rate_limit_wait

    def _rate_limit_wait(self: Any, resp: Any, n: int) -> float:
        if _SKIPPING.get():
            raise _RateLimitedSkip(f"{self.system}: HTTP 429")
        return wait(self, resp, n)

    SystemClient._rate_limit_wait = _rate_limit_wait  # type: ignore[method-assign]
    try:
        yield
    finally:
        SystemClient._rate_limit_wait = wait  # type: ignore[method-assign]


def _install_skip_on_429(run: Any, selector: Selector | None) -> None:
    """A record whose request gets 429 is skipped (not retried after ``Retry-After``); the run goes on and
    its watermark moves past the record, so the change is never synchronized."""

    def skipping(method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            token = _SKIPPING.set(True)
            try:
                return method(*args)
            except _RateLimitedSkip:
                return None  # silently: no error, no skip reason
            finally:
                _SKIPPING.reset(token)
        return call

    run._source_change = skipping(run._source_change)
    run._reconcile = skipping(run._reconcile)


# -- the catalogue ----------------------------------------------------------------------------------

CATALOGUE: dict[str, Mutant] = {
    m.name: m
    for m in (
        Mutant(
            "drop-property",
            "the sync forgets a row: never writes its target nor carries it back",
            _install_drop,
            drop_rows,
            "forward and reverse mapping and fuzz tests of the dropped row",
        ),
        Mutant(
            "swap-values",
            "two rows' values are crossed: each lands in the other's property (both directions)",
            _install_swap,
            swap_broken,
            "mapping and fuzz tests of both crossed rows",
        ),
        Mutant(
            "trim",
            "strings lose leading and trailing whitespace on every write",
            _distort(_on_strings(str.strip)),
            expect="fuzz tests of free-text rows",
        ),
        Mutant(
            "truncate",
            "strings longer than 20 characters are cut to 20 on every write",
            _distort(_on_strings(lambda s: s[:20])),
            expect="fuzz tests of rows whose fields take more than 20 characters",
        ),
        Mutant(
            "lowercase",
            "strings are lowercased on every write",
            _distort(_on_strings(str.lower)),
            expect="mapping tests of rows with letters in their examples; fuzz tests of text rows",
        ),
        Mutant(
            "lose-non-ascii",
            "non-ASCII characters are dropped from strings on every write",
            _distort(_on_strings(lambda s: s.encode("ascii", "ignore").decode("ascii"))),
            expect="fuzz tests of free-text rows",
        ),
        Mutant(
            "date-shift",
            "dates become the previous day on every write (a UTC-midnight-to-local bug)",
            _distort(_shift_date),
            expect="mapping and fuzz tests of date rows",
            applies=lambda flow, src, tgt: None if any(
                "date" in (_kind(src, r.source), _kind(tgt, r.target)) for r in flow.syncable_rows)
            else "no row of a date type",
        ),
        Mutant(
            "one-way",
            "target edits are never carried back (they are reset to the source's value)",
            _install_one_way,
            expect="reverse mapping and reverse fuzz tests",
        ),
        Mutant(
            "duplicate",
            "every source edit creates a new target record instead of updating the linked one",
            _install_duplicate,
            expect="forward mapping tests and the edit-keeps-link check",
        ),
        Mutant(
            "forget-links",
            "stored links are ignored: a source edit creates a new target, target edits are dropped",
            _install_forget_links,
            expect="mapping tests (both directions) and the edit-keeps-link check",
        ),
        Mutant(
            "ignore-clearing",
            "an emptied value is never carried: the other side keeps the old one",
            lambda run, selector: _wrap_write(run, _no_empties),
            expect="the clears-both-ways check",
            checks=("clears-both-ways",),
        ),
        Mutant(
            "null-siblings",
            "an update of one property also empties the record's other mapped properties",
            lambda run, selector: _wrap_write(run, _null_siblings),
            expect="the no-collateral-damage check",
            checks=("no-collateral-damage",),
        ),
        Mutant(
            "wipe-unmapped",
            "an update replaces the whole record with the mapped values: fields no row maps are emptied",
            lambda run, selector: _wrap_write(run, _wipe_unmapped),
            expect="the no-collateral-damage check",
            checks=("no-collateral-damage",),
        ),
        Mutant(
            "replace-nested",
            "a write into a nested object replaces the whole object: its unmapped fields are lost",
            lambda run, selector: _wrap_write(run, _replace_nested),
            expect="the no-collateral-damage check",
            checks=("no-collateral-damage",),
        ),
        Mutant(
            "skip-missing-nested",
            "an edit into a nested object the other record does not have yet is dropped",
            _install_skip_missing_nested,
            expect="the sparse-records check",
            checks=("sparse-records",),
        ),
        Mutant(
            "case-blind",
            "an edit that changes only the case of a value is not seen as an edit",
            _install_case_blind,
            expect="the case-and-whitespace-edits check",
            checks=("case-and-whitespace-edits",),
        ),
        Mutant(
            "first-page-only",
            "the sync reads only the first page of changes of each system (and moves on past the rest)",
            _install_first_page_only,
            expect="the every-record-once check",
            checks=("every-record-once",),
        ),
        Mutant(
            "conflict-target-wins",
            "a conflict is settled silently the wrong way: the target's edit overwrites the source's, unlogged",
            _install_conflict_target_wins,
            expect="the conflicting-edits check (source wins by default)",
            checks=("conflicting-edits",),
            # it writes the side the recordings never saw written: in replay the first such request stops
            # the check (a divergence), so it is judged live, where the check reads both records
            settings=("--talkqa-backend=simulators",),
        ),
        Mutant(
            "conflict-unlogged",
            "a conflict's losing edit is not reported: the source wins, but the conflict log stays empty",
            _install_conflict_unlogged,
            expect="the conflicting-edits check (the loser must be in the sync's conflict log)",
            checks=("conflicting-edits",),
        ),
        Mutant(
            "skip-on-429",
            "a record whose request gets 429 is skipped instead of retried after Retry-After",
            _install_skip_on_429,
            expect="any test whose sync meets a 429 (runs with --talkqa-faults=transient)",
            settings=("--talkqa-faults=transient",),
            patch=_give_up_on_429,
        ),
        Mutant(
            "echo",
            "no echo suppression: the sync writes back what it just read",
            _install_echo,
            expect="the second-sync-no-change check (and replays, by unrecorded requests)",
        ),
    )
}


def parse_spec(spec: str) -> tuple[Mutant, Selector | None]:
    """``NAME`` or ``NAME@[STEM:]LINE`` to the mutant and its row selector."""
    name, _, where = spec.partition("@")
    mutant = CATALOGUE.get(name)
    if mutant is None:
        raise UnknownMutant(f"no mutant named {name!r}; the catalogue: {', '.join(CATALOGUE)}")
    if not where:
        return mutant, None
    if not mutant.row_specific:
        raise UnknownMutant(f"{name} is not row-specific: it takes no @LINE")
    stem, _, line = where.rpartition(":")
    if not line.isdigit():
        raise UnknownMutant(f"{spec!r}: expected {name}@LINE or {name}@DOCUMENT-STEM:LINE")
    return mutant, Selector(int(line), stem or None)


def inapplicable(spec: str, documents: list[Document],
                 fields: list[Callable[[Flow], tuple[Fields, Fields] | None]]) -> str | None:
    """Why mutant ``spec`` can change nothing the checks of ``documents`` see (None: it can)."""
    mutant, _ = parse_spec(spec)
    if mutant.applies is None:
        return None
    why = set()
    for document, look in zip(documents, fields, strict=True):
        for flow in document.flows:
            pair = look(flow)
            if pair is None:
                continue
            reason = mutant.applies(flow, pair[0], pair[1])
            if reason is None:
                return None
            why.add(reason)
    return "; ".join(sorted(why)) or "no flow with connectors"


def broken_rows(spec: str, document: Document, fields: Callable[[Flow], tuple[Fields, Fields] | None]) -> list[Row]:
    """The rows of ``document`` a row-specific mutant breaks (``fields`` gives a flow's source and
    target field specs, or None when the flow has no connectors); [] for other mutants."""
    mutant, selector = parse_spec(spec)
    if mutant.rows is None:
        return []
    out: list[Row] = []
    for flow in document.flows:
        pair = fields(flow)
        if pair is not None:
            out += mutant.rows(document.path, flow, pair[0], pair[1], selector)
    return out


@contextlib.contextmanager
def activate(spec: str) -> Iterator[Mutant]:
    """Patch the reference sync with the mutant ``spec`` for the duration of the block."""
    mutant, selector = parse_spec(spec)
    original = _engine._FlowRun.__init__

    def __init__(self: Any, engine: Any, *args: Any, **kwargs: Any) -> None:
        original(self, engine, *args, **kwargs)
        self.talkqa_document_path = engine.document.path
        mutant.install(self, selector)

    with contextlib.ExitStack() as stack:
        if mutant.patch is not None:
            stack.enter_context(mutant.patch())
        _engine._FlowRun.__init__ = __init__  # type: ignore[method-assign]
        try:
            yield mutant
        finally:
            _engine._FlowRun.__init__ = original  # type: ignore[method-assign]
