"""Per-field codecs between wire values and canonical values, and nested-path helpers.

Canonical values are plain Python: strings, ints, bools, :class:`datetime.date` for dates,
timezone-aware :class:`datetime.datetime` for timestamps. Each codec has ``decode(wire)`` and
``encode(canonical)``; both map ``None`` to ``None``.

Wire formats handled:

* Exact Online ``"/Date(1641034800000)/"`` and ``"/Date(1641034800000+0100)/"`` (milliseconds since
  the epoch, UTC; the optional offset says in which zone the value was meant).
* ISO dates ``"2003-07-15"`` (PowerOffice v2 ``DateOfBirth``).
* PowerOffice v1 dates ``"1980-02-29T00:00:00"``.
* ISO timestamps with up to 7 fractional digits (``"2026-01-01T10:00:00.1234567Z"``), compared as
  integer 100-ns ticks so no precision is lost (see :func:`ticks`).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EXACT_DATE = re.compile(r"^/Date\((-?\d+)(?:([+-])(\d{2})(\d{2}))?\)/$")
_ISO_TS = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)


class CodecError(ValueError):
    """A wire value could not be decoded (the message names the value's shape, not secrets)."""


@dataclass(frozen=True)
class Codec:
    """A pair of functions; ``None`` always maps to ``None``."""

    name: str
    _decode: Callable[[Any], Any]
    _encode: Callable[[Any], Any]

    def decode(self, wire: Any) -> Any:
        return None if wire is None else self._decode(wire)

    def encode(self, value: Any) -> Any:
        return None if value is None else self._encode(value)


# --- Exact /Date(ms)/ ---------------------------------------------------------------------------

def parse_exact_datetime(wire: str) -> datetime:
    """``/Date(ms)/`` or ``/Date(ms+hhmm)/`` -> aware datetime (in the offset's zone, UTC if none)."""
    m = _EXACT_DATE.match(wire.strip()) if isinstance(wire, str) else None
    if not m:
        raise CodecError(f"not an Exact /Date(ms)/ value: {wire!r}")
    ms, sign, hh, mm = m.groups()
    moment = _EPOCH + timedelta(milliseconds=int(ms))
    if sign:
        offset = timedelta(hours=int(hh), minutes=int(mm))
        moment = moment.astimezone(timezone(offset if sign == "+" else -offset))
    return moment


def format_exact_datetime(value: datetime) -> str:
    """Aware (or naive = UTC) datetime -> ``/Date(ms)/`` (with its offset when not UTC)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    delta = aware - _EPOCH
    ms = delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000
    offset = aware.utcoffset() or timedelta(0)
    if not offset:
        return f"/Date({ms})/"
    sign = "+" if offset >= timedelta(0) else "-"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"/Date({ms}{sign}{minutes // 60:02d}{minutes % 60:02d})/"


def _exact_date_decode(wire: Any) -> date:
    if isinstance(wire, str) and wire.startswith("/Date("):
        return parse_exact_datetime(wire).date()
    return parse_timestamp(wire).date()  # Exact also accepts ISO on write; be lenient on read


def _exact_date_encode(value: date) -> str:
    """A date -> ``"2000-01-31T00:00:00"`` (Exact accepts ISO on write)."""
    if isinstance(value, datetime):
        value = value.date()
    return f"{value.isoformat()}T00:00:00"


EXACT_DATE = Codec("exact-date", _exact_date_decode, _exact_date_encode)
EXACT_DATE_MS = Codec(
    "exact-date-ms",
    _exact_date_decode,
    lambda d: format_exact_datetime(datetime(d.year, d.month, d.day, tzinfo=UTC)),
)
EXACT_DATETIME = Codec("exact-datetime", parse_exact_datetime, format_exact_datetime)


# --- ISO / PowerOffice --------------------------------------------------------------------------

def _match_iso(wire: Any) -> re.Match[str]:
    m = _ISO_TS.match(wire.strip()) if isinstance(wire, str) else None
    if not m:
        raise CodecError(f"not an ISO date/time: {wire!r}")
    return m


def _whole_seconds(m: re.Match[str], wire: Any) -> datetime:
    y, mo, d, h, mi, s, _frac, tz = m.groups()
    tzinfo = UTC
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        tzinfo = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        return datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), 0, tzinfo)
    except ValueError as exc:
        raise CodecError(f"not a valid date/time: {wire!r}") from exc


def parse_timestamp(wire: str) -> datetime:
    """ISO date or date-time (up to 9 fractional digits, Z or offset; naive = UTC) -> aware datetime.

    Digits beyond microseconds are dropped here; use :func:`ticks` to compare exactly.
    """
    m = _match_iso(wire)
    micro = int((m.group(7) or "0").ljust(6, "0")[:6])
    return _whole_seconds(m, wire).replace(microsecond=micro)


def ticks(wire: str) -> int:
    """An ISO timestamp -> 100-ns ticks since the epoch (keeps all 7 digits .NET sends)."""
    m = _match_iso(wire)
    frac = (m.group(7) or "").ljust(7, "0")[:7]
    delta = _whole_seconds(m, wire) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + int(frac)


def format_ticks(value: int, digits: int = 7) -> str:
    """100-ns ticks -> ``"2026-01-01T10:00:00.1234567Z"`` (``digits`` fractional digits, truncated)."""
    seconds, rest = divmod(value, 10_000_000)
    whole = _EPOCH + timedelta(seconds=seconds)
    text = whole.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{rest:07d}"[:digits]
    return text + "Z"


def _iso_date_decode(wire: Any) -> date:
    return parse_timestamp(wire).date()


ISO_DATE = Codec("iso-date", _iso_date_decode, lambda d: d.isoformat()[:10])
PO_V1_DATE = Codec("poweroffice-v1-date", _iso_date_decode, lambda d: f"{d.isoformat()[:10]}T00:00:00")
TEXT = Codec("text", lambda v: v, lambda v: v)


# --- nested paths -------------------------------------------------------------------------------

_MISSING = object()


def get_path(data: Mapping[str, Any] | None, path: str, default: Any = None) -> Any:
    """``get_path({"a": {"b": 1}}, "a.b") == 1``; missing parts (or a None parent) give ``default``."""
    if type(data) is dict and "." not in path:  # the common case: a top-level name of a plain dict
        return data.get(path, default)
    node: Any = data
    for part in path.split("."):
        # a plain dict first: the ABC check costs several times more, and nearly every record is one
        if (type(node) is not dict and not isinstance(node, Mapping)) or part not in node:
            return default
        node = node[part]
    return node


def has_path(data: Mapping[str, Any] | None, path: str) -> bool:
    return get_path(data, path, _MISSING) is not _MISSING


def set_path(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set a dotted path, creating (or replacing non-dict) parents; returns ``data``."""
    if "." not in path:
        data[path] = value
        return data
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value
    return data


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}, "c": 2}`` -> ``{"a.b": 1, "c": 2}`` (leaves only; empty dicts vanish)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in flat.items():
        set_path(out, path, value)
    return out
