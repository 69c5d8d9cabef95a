"""A pytest plugin (``-p tests.report.break_sync``) that breaks the reference sync on purpose.

In the forward direction the sync writes the ``Email`` property upper-cased, so the generated
suite reports known failures for the ``... -> Contacts.Email`` rows (mapping forward and fuzz
forward) while every other row still conforms.
"""
from __future__ import annotations

from typing import Any

from talkqa.sync import engine

BROKEN = "Email"
_original = engine._FlowRun._forward_values


def _forward_values_shouting_email(self: Any, record: Any, *rest: Any) -> dict[str, Any]:
    values = _original(self, record, *rest)
    if isinstance(values.get(BROKEN), str):
        values[BROKEN] = values[BROKEN].upper() + "!"
    return values


engine._FlowRun._forward_values = _forward_values_shouting_email
