"""Round trips of the wire codecs and the nested-path helpers (property-based)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from talkqa.connectors.codecs import (
    EXACT_DATE,
    EXACT_DATE_MS,
    ISO_DATE,
    PO_V1_DATE,
    CodecError,
    flatten,
    format_exact_datetime,
    format_ticks,
    get_path,
    has_path,
    parse_exact_datetime,
    set_path,
    ticks,
    unflatten,
)

# timing checks are not what these tests are about (the machine may be busy with other suites)
relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets)


@relaxed
@given(dates)
def test_date_codecs_round_trip(d: date) -> None:
    for codec in (EXACT_DATE, EXACT_DATE_MS, ISO_DATE, PO_V1_DATE):
        assert codec.decode(codec.encode(d)) == d


@relaxed
@given(moments)
def test_exact_datetime_round_trip_keeps_instant_and_offset(m: datetime) -> None:
    m = m.replace(microsecond=m.microsecond // 1000 * 1000)  # /Date()/ carries milliseconds
    back = parse_exact_datetime(format_exact_datetime(m))
    assert back == m
    assert back.utcoffset() == m.utcoffset()


def test_exact_wire_examples() -> None:
    assert EXACT_DATE.decode("/Date(1641034800000)/") == date(2022, 1, 1)
    assert parse_exact_datetime("/Date(1641034800000)/") == datetime(2022, 1, 1, 11, 0, tzinfo=UTC)
    plus = parse_exact_datetime("/Date(1641034800000+0100)/")
    assert plus == datetime(2022, 1, 1, 11, 0, tzinfo=UTC) and plus.hour == 12
    assert EXACT_DATE.encode(date(2000, 1, 31)) == "2000-01-31T00:00:00"
    assert EXACT_DATE_MS.encode(date(1970, 1, 2)) == "/Date(86400000)/"


def test_poweroffice_wire_examples() -> None:
    assert PO_V1_DATE.decode("1980-02-29T00:00:00") == date(1980, 2, 29)
    assert PO_V1_DATE.encode(date(1980, 2, 29)) == "1980-02-29T00:00:00"
    assert ISO_DATE.decode("2003-07-15") == date(2003, 7, 15)
    assert ISO_DATE.encode(date(2003, 7, 15)) == "2003-07-15"
    assert ISO_DATE.decode(None) is None and ISO_DATE.encode(None) is None


@pytest.mark.parametrize("bad", ["", "/Date(abc)/", "2003-13-45", "yesterday", "/Date(1+01)/"])
def test_bad_wire_values_raise_codec_error(bad: str) -> None:
    with pytest.raises(CodecError):
        EXACT_DATE.decode(bad) if bad.startswith("/") else ISO_DATE.decode(bad)


@relaxed
@given(st.integers(min_value=0, max_value=4_102_444_800 * 10_000_000))
def test_ticks_round_trip_seven_digits(t: int) -> None:
    assert ticks(format_ticks(t)) == t


def test_ticks_keep_dotnet_precision_and_order() -> None:
    a, b = "2026-01-01T10:00:00.1234567Z", "2026-01-01T10:00:00.1234568Z"
    assert ticks(a) < ticks(b)
    assert format_ticks(ticks(a), 3) == "2026-01-01T10:00:00.123Z"
    assert ticks("2026-01-01T11:00:00+01:00") == ticks("2026-01-01T10:00:00Z")


keys = st.text(alphabet="abcXYZ_", min_size=1, max_size=5)
paths = st.lists(keys, min_size=1, max_size=4).map(".".join)
leaves = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.booleans())


@relaxed
@given(st.dictionaries(paths, leaves, max_size=8))
def test_set_then_get_every_path(flat: dict[str, object]) -> None:
    data: dict[str, object] = {}
    written: list[tuple[str, object]] = []
    for path, value in flat.items():
        set_path(data, path, value)
        assert get_path(data, path) == value
        written = [(p, v) for p, v in written if not _related(p, path)] + [(path, value)]
        for p, v in written:  # every unrelated earlier path is untouched
            assert has_path(data, p) and get_path(data, p) == v


def _related(a: str, b: str) -> bool:
    sa, sb = a.split("."), b.split(".")
    n = min(len(sa), len(sb))
    return sa[:n] == sb[:n]


@relaxed
@given(st.recursive(leaves, lambda inner: st.dictionaries(keys, inner, min_size=1, max_size=3), max_leaves=10))
def test_flatten_unflatten_round_trip(tree: object) -> None:
    if not isinstance(tree, dict):
        tree = {"x": tree}
    assert unflatten(flatten(tree)) == tree


def test_set_path_creates_parents_and_get_path_defaults() -> None:
    data: dict[str, object] = {"MailAddress": None}
    set_path(data, "MailAddress.City", "Oslo")
    assert data == {"MailAddress": {"City": "Oslo"}}
    assert get_path(data, "MailAddress.CountryCode", "NO") == "NO"
    assert get_path({"a": None}, "a.b") is None
