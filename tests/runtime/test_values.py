"""What fuzzing draws (``talkqa.runtime.values``): empty and whitespace-only text exactly where both
fields may be empty, mixed case for every text field, e-mails included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from talkqa.fields import FieldSpec
from talkqa.runtime.values import BLANK, MIXED_CASE_EMAIL, Domain, clearable, edge_examples, strategy


def found(domain: Domain, test: object) -> bool:
    """Whether the domain's strategy draws a value passing ``test`` within a few hundred examples."""
    seen: list[bool] = []

    @settings(max_examples=300, derandomize=True, database=None)
    @given(strategy(domain))
    def draw(value: object) -> None:
        seen.append(bool(test(value)))  # type: ignore[operator]

    draw()
    return any(seen)


def test_empty_and_whitespace_only_text_is_drawn_where_both_fields_may_be_empty() -> None:
    domain = Domain("string", 60, empty_ok=True)
    assert found(domain, lambda v: v == "")
    assert found(domain, lambda v: v != "" and v.strip() == "")
    assert "" in edge_examples(domain) and BLANK in edge_examples(domain)


@settings(max_examples=200, derandomize=True, database=None)
@given(st.data(), st.integers(min_value=1, max_value=300))
def test_never_an_empty_value_where_a_field_must_hold_one(data: st.DataObject, length: int) -> None:
    domain = Domain("string", length)
    assert all(v.strip() for v in edge_examples(domain))
    value = data.draw(strategy(domain))
    assert value != "" and len(value) <= length


def test_emails_are_drawn_in_mixed_case() -> None:
    domain = Domain("email", 255)
    assert found(domain, lambda v: v != v.lower())
    assert found(domain, lambda v: v == v.lower())
    assert edge_examples(domain) == [MIXED_CASE_EMAIL]
    assert edge_examples(Domain("email", 10)) == []  # it does not fit


def test_free_text_is_drawn_in_mixed_case() -> None:
    assert found(Domain("string", 60), lambda v: v != v.lower() and v != v.upper())


@given(st.booleans(), st.booleans(), st.booleans(), st.sampled_from(["string", "email", "boolean", "date"]))
def test_a_field_is_clearable_only_when_its_spec_allows_no_value(nullable: bool, required: bool, read_only: bool,
                                                                 kind: str) -> None:
    spec = FieldSpec("x", kind=kind, nullable=nullable, required_on_create=required, read_only=read_only)
    assert clearable(spec) == (nullable and not required and not read_only and kind != "boolean")
