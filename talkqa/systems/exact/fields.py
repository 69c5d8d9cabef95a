"""Exact Online field constraints, as :class:`FieldSpec` keyed by canonical path.

Lengths marked ``# guess`` are not documented by the vendor; they are plausible values of ours.
"""
from __future__ import annotations

from talkqa.fields import FieldSpec


def _specs(*specs: FieldSpec) -> dict[str, FieldSpec]:
    return {s.path: s for s in specs}


# Exact Online crm/Contacts. "Provide at least first name or last name": neither alone is required;
# the simulator checks the pair. Exact documents no lengths for these: all are guesses.
EXACT_CONTACT_FIELDS: dict[str, FieldSpec] = _specs(
    FieldSpec("FirstName", max_length=50),  # guess
    FieldSpec("LastName", max_length=50),  # guess
    FieldSpec("Email", kind="email", max_length=255),  # guess
    FieldSpec("Phone", kind="phone", max_length=30),  # guess
    FieldSpec("City", max_length=60),  # guess
    FieldSpec("Country", kind="country", max_length=2),
    FieldSpec("BirthDate", kind="date"),
    FieldSpec("Notes", max_length=4000),  # guess
    FieldSpec("BusinessEmail", kind="email", max_length=255),  # guess
    FieldSpec("Mobile", kind="phone", max_length=30),  # guess
    FieldSpec("BusinessMobile", kind="phone", max_length=30),  # guess
    FieldSpec("BusinessPhone", kind="phone", max_length=30),  # guess
    FieldSpec("FullName", read_only=True),  # FirstName + " " + LastName, computed by Exact
)
