"""Wire formats of dates and timestamps."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_MS_DATE_RE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_ISO_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_iso(text: str, *, naive_offset_minutes: int = 0) -> float:
    """Epoch seconds of an ISO 8601 date or date-time (up to 9 fraction digits); naive means UTC+offset."""
    m = _ISO_RE.match(text.strip())
    if not m:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}")
    day, hm, sec, frac, zone = m.groups()
    base = datetime.fromisoformat(f"{day}T{hm or '00:00'}:{sec or '00'}")
    micro = int((frac or "0")[:6].ljust(6, "0"))
    if zone is None:
        tz = timezone(timedelta(minutes=naive_offset_minutes))
    elif zone == "Z":
        tz = UTC
    else:
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return base.replace(microsecond=micro, tzinfo=tz).timestamp()


def to_ms_date(epoch: float) -> str:
    """Exact's ``/Date(ms)/``."""
    return f"/Date({round(epoch * 1000)})/"


def from_ms_date(text: str) -> float:
    """Epoch seconds of ``/Date(ms)/`` or ``/Date(ms+hhmm)/`` (the offset only annotates)."""
    m = _MS_DATE_RE.match(text)
    if not m:
        raise ValueError(f"not a /Date(ms)/ value: {text!r}")
    return int(m.group(1)) / 1000


def is_ms_date(value: object) -> bool:
    return isinstance(value, str) and bool(_MS_DATE_RE.match(value))


def to_timestamp7(epoch: float) -> str:
    """PowerOffice's ``2026-01-01T10:00:00.1234567Z`` (7 fraction digits, UTC)."""
    dt = datetime.fromtimestamp(epoch, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def to_date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


def parse_date(text: str) -> datetime:
    """A calendar date given as ``YYYY-MM-DD`` optionally followed by a midnight time."""
    m = _ISO_RE.match(text.strip())
    if not m:
        raise ValueError(f"not a date: {text!r}")
    return datetime.fromisoformat(m.group(1))
