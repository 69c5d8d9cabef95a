"""SameValues answers as a linear scan with ``same`` would: the buckets only skip values that cannot match."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from talkqa.runtime.checks import SameValues, same, same_bucket

# values of every kind a field holds, with texts that read as numbers or dates, so buckets meet edge cases
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", " ", "5", "5.0", " 5 ", "1e3", "1000", "nan", "inf", "2024-01-02", "True", "x", "X"]),
    st.text(max_size=4),
    st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2024, 1, 3)),
    st.lists(st.integers(0, 2), max_size=2),
)


def _linear_take(left: list[Any], value: Any) -> bool:
    hit = next((i for i, g in enumerate(left) if same(g, value)), None)
    if hit is None:
        return False
    left.pop(hit)
    return True


@given(VALUES, VALUES)
def test_values_with_different_buckets_are_never_the_same(a: Any, b: Any) -> None:
    ka, kb = same_bucket(a), same_bucket(b)
    if ka is not None and kb is not None and ka != kb:
        assert not same(a, b)


@given(st.lists(VALUES, max_size=12), st.lists(VALUES, max_size=12))
def test_lookups_and_takes_agree_with_a_linear_scan(held: list[Any], asked: list[Any]) -> None:
    bag = SameValues(held)
    left = list(held)
    for value in asked:
        assert (value in bag) == any(same(v, value) for v in left)
        assert bag.take(value) == _linear_take(left, value)
        assert bag.values() == left
