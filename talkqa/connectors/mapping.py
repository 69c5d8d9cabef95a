"""Shared connector plumbing: canonical<->wire field maps, OData quoting, create-exactly-once."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from talkqa.connectors.base import ConnectorError, OutcomeUnknown, Record
from talkqa.connectors.codecs import TEXT, Codec, flatten, set_path

log = logging.getLogger("talkqa.connectors")


@dataclass(frozen=True)
class FieldMap:
    """One canonical path, where it lives on the wire, and its codec."""

    canonical: str
    wire: str
    codec: Codec = TEXT
    writable: bool = True


class RecordMapper:
    """Decodes wire records to canonical ones and canonical changes to wire paths."""

    def __init__(self, entity: str, maps: Iterable[FieldMap]) -> None:
        self.entity = entity
        self.maps = tuple(maps)
        self.by_canonical = {m.canonical: m for m in self.maps}
        # paths split once: decoding runs for every listed record
        self._plan = [(tuple(m.wire.split(".")), m.canonical, "." in m.canonical,
                       None if m.codec is TEXT else m.codec) for m in self.maps]

    def decode(self, wire: Mapping[str, Any]) -> Record:
        record: Record = {}
        for parts, canonical, nested, codec in self._plan:
            node: Any = wire
            for part in parts:
                if not isinstance(node, dict) or part not in node:  # JSON objects are dicts
                    break
                node = node[part]
            else:
                value = node if codec is None else codec.decode(node)
                if nested:
                    set_path(record, canonical, value)
                else:
                    record[canonical] = value
        return record

    def encode(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Canonical (nested) changes -> ``{wire path: wire value}``; unknown paths raise ValueError."""
        out: dict[str, Any] = {}
        for path, value in flatten(changes).items():
            m = self.by_canonical.get(path)
            if m is None or not m.writable:
                known = ", ".join(sorted(k for k, v in self.by_canonical.items() if v.writable))
                raise ValueError(f"{self.entity}: unknown or read-only field {path!r}; writable: {known}")
            out[m.wire] = m.codec.encode(value)
        return out

    def wire_names(self) -> list[str]:
        return [m.wire for m in self.maps]


_MAPPERS: dict[tuple[type, str], tuple[Mapping[str, Any], RecordMapper]] = {}


def mapper_for(owner: type, entity: str, fields: Mapping[str, Any],
               build: Callable[[], Iterable[FieldMap]]) -> RecordMapper:
    """The mapper of a connector class for ``fields`` (its field specs), built from ``build()`` once:
    a mapper never changes, and a test makes a connector per example."""
    found = _MAPPERS.get((owner, entity))
    if found is None or found[0] is not fields:
        found = _MAPPERS[(owner, entity)] = (fields, RecordMapper(entity, build()))
    return found[1]


def odata_string(value: str) -> str:
    """An OData string literal: ``'it''s'``."""
    return "'" + value.replace("'", "''") + "'"


def create_once(
    post: Callable[[], str],
    find: Callable[[], str | None] | None,
    where: str,
    *,
    attempts: int = 3,
) -> str:
    """Run a create so that it happens exactly once or fails clearly.

    When the outcome of ``post`` is unknown (no response), ``find`` (a lookup by external ref)
    decides: found means it was applied; not found means it was not, so it is sent again.
    Without ``find`` the unknown outcome is raised: repeating blindly could duplicate.
    """
    last: OutcomeUnknown | None = None
    for _ in range(attempts):
        try:
            return post()
        except OutcomeUnknown as exc:
            if find is None:
                raise OutcomeUnknown(f"{exc}; no external ref was given, so {where} cannot be checked "
                                     "and is not repeated", status=exc.status, retryable=False) from None
            last = exc
            try:
                found = find()
            except ConnectorError as lookup:
                raise ConnectorError(f"{exc}; checking by external ref failed too ({lookup}); the record may "
                                     "exist: look it up before creating again", status=lookup.status,
                                     retryable=True) from None
            if found is not None:
                log.info("%s: response lost but the record exists (found by external ref)", where)
                return found
            log.info("%s: response lost and the record does not exist; sending again", where)
    assert last is not None
    raise ConnectorError(f"{last}; gave up after {attempts} attempts (the record was not created)",
                         status=last.status, retryable=True)


def handed_out(best: int | None, since: int | None, started: float, lag: float) -> int | None:
    """The watermark (100-ns ticks) a poll hands out: the newest change it saw, capped at the time the
    listing started minus ``lag`` seconds, and never before the watermark it was given.

    Why the cap: a change committed while a listing runs may carry a stamp older than changes already
    read (a v1 contact under a parent listed too late, a record on a page already passed). With
    ``lag`` > 0 such changes are seen next time; the price is that changes of the last ``lag``
    seconds are handed out again (the sync must take a change twice anyway). ``lag`` = 0 (the
    default) keeps exact "after the newest seen" semantics, best when one clock drives both sides.
    """
    if best is None:
        return since
    if lag > 0:
        best = min(best, int((started - lag) * 10_000_000))
    if since is not None and best < since:
        return since
    return best
