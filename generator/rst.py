"""docutils, configured for dataflow documents.

Two adjustments to stock docutils, both through its public extension points:

* ``list-table`` tolerates a table that has only its header row. The vendor's generator
  writes such tables for flows with no synchronized properties; stock docutils rejects
  them ("Insufficient data supplied ... required by list-table directive").
* No transforms run: only the parser builds the node tree (the document title stays a
  section, which is what the model reader wants), and nothing is read from disk
  (file insertion and raw are off, configuration files ignored).
"""

from __future__ import annotations

import io
from functools import cache

from docutils import frontend, nodes, utils
from docutils.parsers.rst import Parser, directives
from docutils.parsers.rst.directives.tables import ListTable


class HeaderOnlyListTable(ListTable):
    """A list-table that accepts zero data rows under its header rows."""

    def check_table_dimensions(self, rows: list, header_rows: int, stub_columns: int) -> None:
        if header_rows and len(rows) == header_rows:
            return
        super().check_table_dimensions(rows, header_rows, stub_columns)


directives.register_directive("list-table", HeaderOnlyListTable)


@cache
def _settings() -> frontend.Values:
    settings = frontend.get_default_settings(Parser)
    settings.report_level = 5
    settings.halt_level = 5
    settings.file_insertion_enabled = False
    settings.raw_enabled = False
    settings._disable_config = True
    settings.character_level_inline_markup = False
    return settings


_PARSER = Parser()


def parse_rst(text: str, source_path: str) -> tuple[nodes.document, str]:
    """Parse ``text``; return the node tree and what docutils wrote to its warning stream."""
    settings = _settings().copy()
    stream = io.StringIO()
    settings.warning_stream = stream
    document = utils.new_document(source_path, settings)
    _PARSER.parse(text, document)
    return document, stream.getvalue()
