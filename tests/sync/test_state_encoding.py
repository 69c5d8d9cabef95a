"""The fingerprint text of a value is the canonical JSON of its tagged form, whatever path computes it
(text and None take a shortcut), and decodes back to the value."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from talkqa.sync.state import _tag, decode_value, encode_value

scalars = st.none() | st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.dates() \
    | st.datetimes()
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner,
                                                                                           max_size=3), max_leaves=8)


@given(values)
def test_encoding_is_the_canonical_json_of_the_tagged_value(value: Any) -> None:
    assert encode_value(value) == json.dumps(_tag(value), sort_keys=True, ensure_ascii=False)


@given(values)
def test_encoding_round_trips(value: Any) -> None:
    back = decode_value(encode_value(value))
    assert back == value if not isinstance(value, tuple) else list(value)


def test_a_date_never_encodes_as_its_text() -> None:
    assert encode_value(date(2024, 1, 2)) != encode_value("2024-01-02")
    assert encode_value(datetime(2024, 1, 2, 3, 4)) != encode_value("2024-01-02T03:04:00")
