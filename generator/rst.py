"""docutils, configured for dataflow documents.

Three adjustments to stock docutils, all through its public extension points:

* ``list-table`` tolerates a table that has only its header row. The vendor's generator
  writes such tables for flows with no synchronized properties; stock docutils rejects
  them ("Insufficient data supplied ... required by list-table directive").
* No transforms run: only the parser builds the node tree (the document title stays a
  section, which is what the model reader wants), and nothing is read from disk
  (file insertion and raw are off, configuration files ignored).
* Nesting is bounded: a block (list item, block quote, table cell, directive body, section)
  nested more than :data:`MAX_NESTING` levels deep raises :class:`NestingTooDeep` with its
  line, instead of exhausting Python's stack (docutils parses nested blocks recursively,
  five or more frames per level). The parser's state classes are subclassed to count the
  levels, as docutils' own documentation of ``Parser.state_classes`` suggests.
"""

from __future__ import annotations

import io
from functools import cache
from typing import Any

from docutils import frontend, nodes, utils
from docutils.parsers.rst import Parser, directives, states
from docutils.parsers.rst.directives.tables import ListTable

#: Blocks nested deeper than this are refused (real documents nest 3 levels: section, table, cell).
MAX_NESTING = 32


class NestingTooDeep(Exception):
    """A block nested more than :data:`MAX_NESTING` levels deep (``line`` is 1-based)."""

    def __init__(self, line: int) -> None:
        super().__init__(f"blocks nested more than {MAX_NESTING} levels deep")
        self.line = line


class HeaderOnlyListTable(ListTable):
    """A list-table that accepts zero data rows under its header rows."""

    def check_table_dimensions(self, rows: list, header_rows: int, stub_columns: int) -> None:
        if header_rows and len(rows) == header_rows:
            return
        super().check_table_dimensions(rows, header_rows, stub_columns)


directives.register_directive("list-table", HeaderOnlyListTable)


class _CountingNestedStateMachine(states.NestedStateMachine):
    """A nested state machine that counts how deep it runs (on the document-wide memo)."""

    def run(self, input_lines: Any, input_offset: int, memo: Any, node: Any, match_titles: bool = True) -> Any:
        depth = getattr(memo, "talkqa_depth", 0) + 1
        if depth > MAX_NESTING:
            raise NestingTooDeep(input_offset + 1)
        memo.talkqa_depth = depth
        try:
            return super().run(input_lines, input_offset, memo, node, match_titles)
        finally:
            memo.talkqa_depth = depth - 1


class _Counting:
    """Mixin for the parser's states: nested parses use the counting machine and these states."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.nested_sm_kwargs = {"state_classes": COUNTING_STATE_CLASSES, "initial_state": "Body"}


def _counting(cls: type) -> type:
    # Same name (state machines look states up by class name); a cache of its own, so no stock
    # state machine is handed a counting one or the other way round.
    return type(cls.__name__, (_Counting, cls), {"nested_sm": _CountingNestedStateMachine, "nested_sm_cache": []})


COUNTING_STATE_CLASSES: tuple[type, ...] = tuple(_counting(cls) for cls in states.state_classes)


class BoundedParser(Parser):
    """The reStructuredText parser with nesting bounded at :data:`MAX_NESTING` levels."""

    def __init__(self, rfc2822: bool = False, inliner: Any = None) -> None:
        super().__init__(rfc2822=rfc2822, inliner=inliner)
        if not rfc2822:
            self.state_classes = COUNTING_STATE_CLASSES


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


_PARSER = BoundedParser()


def parse_rst(text: str, source_path: str) -> tuple[nodes.document, str]:
    """Parse ``text``; return the node tree and what docutils wrote to its warning stream.

    Raises :class:`NestingTooDeep` for blocks nested more than :data:`MAX_NESTING` levels deep.
    """
    settings = _settings().copy()
    stream = io.StringIO()
    settings.warning_stream = stream
    document = utils.new_document(source_path, settings)
    _PARSER.parse(text, document)
    return document, stream.getvalue()
