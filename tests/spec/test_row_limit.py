"""A document with more table rows than the limit is refused before docutils reads it, with its line."""

from __future__ import annotations

import pytest

from generator import parser
from generator.errors import SpecError
from generator.parser import MAX_TABLE_ROWS, parse_text

HEAD = """\
======================
Alpha to Beta Dataflow
======================

Alpha Person to Beta Contact
----------------------------
Every Alpha Person will be synchronized with a Beta Contact.

The following properties are synchronized between a Alpha Person and a Beta Contact:

.. list-table::
   :header-rows: 1

   * - Alpha Person Property
     - Beta Contact Property
     - Beta Data Type
"""
ROW = '   * - p{n}\n     - P{n}\n     - "string"\n'


def document(rows: int) -> str:
    return HEAD + "".join(ROW.format(n=n) for n in range(rows))


def test_a_document_at_the_limit_is_read() -> None:
    doc = parse_text(document(MAX_TABLE_ROWS - 1), "spec/alpha-beta.rst")  # the header row counts too
    assert len(doc.flows[0].mappings) == MAX_TABLE_ROWS - 1


def test_a_document_over_the_limit_is_refused_before_docutils_with_the_line_of_the_row_too_many(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def docutils_must_not_run(*_: object) -> None:
        raise AssertionError("docutils read a document over the row limit")

    monkeypatch.setattr(parser, "parse_rst", docutils_must_not_run)
    text = document(20 * MAX_TABLE_ROWS)
    with pytest.raises(SpecError) as err:
        parse_text(text, "spec/alpha-beta.rst")
    header_line = HEAD.count("\n") - 2  # "   * - Alpha Person Property"
    assert err.value.line == header_line + 3 * MAX_TABLE_ROWS  # the first row past the limit
    assert "more than 5,000 table rows" in str(err.value)
