"""The document, rendered by docutils' html5 writer, with every table row marked by its results.

The doctree is marked before it is written (:class:`_MarkingWriter`): every data row of every
table gets a state class, an id and the attributes ``data-talkqa-state`` / ``data-line``, a
status column, and (when not every check conforms) a detail row below it; every flow section
gets a panel of its link-policy checks under its title. Results are placed by source line: a
row's line is the first line of any of its descendants (as :mod:`generator.parser` reads it), a
flow's line is its title's line.
"""
from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from docutils import nodes
from docutils.core import publish_parts
from docutils.writers import html5_polyglot

from generator.rst import BoundedParser  # (importing it registers the header-only list-table too)
from talkqa.report.model import (
    NOT_RUN,
    SYMBOL,
    WORD,
    Entry,
    check_label,
    check_order,
    worst,
)
from talkqa.verdicts import failure_of

SETTINGS = {
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "_disable_config": True,
    "embed_stylesheet": True,
    "stylesheet_path": "minimal.css",
    "stylesheet": None,
    "report_level": 5,
    "halt_level": 5,
    "output_encoding": "unicode",
    "syntax_highlight": "none",
    "math_output": "HTML",
    "character_level_inline_markup": False,
    "table_style": "",
}


@dataclass
class Rendered:
    """One document's HTML and what the marking did."""

    title: str
    body: str
    stylesheet: str
    placed: list[Entry] = field(default_factory=list)
    unplaced: list[Entry] = field(default_factory=list)
    rows: dict[int, str] = field(default_factory=dict)  # line -> state


def anchor(doc_index: int, line: int) -> str:
    return f"talkqa-d{doc_index}-L{line}"


def first_line(node: nodes.Node) -> int | None:
    lines = [n.line for n in node.findall(nodes.Element) if n.line]
    return min(lines) if lines else None


def section_line(section: nodes.section) -> int | None:
    title = section.next_node(nodes.title)
    if title is None or not title.line:
        return None
    return max(1, title.line - 1)


def render_document(text: str, source_path: str, entries: Sequence[Entry], doc_index: int) -> Rendered:
    """Render ``text`` (the document at ``source_path``) with ``entries`` (its results) marked."""
    marker = _Marker(entries, doc_index)
    writer = _MarkingWriter(marker)
    overrides = dict(SETTINGS, warning_stream=io.StringIO())
    parts = publish_parts(source=text, source_path=source_path, parser=BoundedParser(), writer=writer,
                          settings_overrides=overrides)
    return Rendered(
        title=parts["title"],
        body=parts["html_title"] + parts["html_subtitle"] + parts["docinfo"] + parts["body"],
        stylesheet=parts["stylesheet"],
        placed=marker.placed,
        unplaced=[e for e in entries if id(e) not in {id(p) for p in marker.placed}],
        rows=marker.rows,
    )


class _Marker:
    def __init__(self, entries: Sequence[Entry], doc_index: int) -> None:
        self.by_line: dict[int, list[Entry]] = defaultdict(list)
        for e in entries:
            self.by_line[int(e["line"])].append(e)
        self.doc_index = doc_index
        self.placed: list[Entry] = []
        self.rows: dict[int, str] = {}

    def __call__(self, document: nodes.document) -> None:
        for image in list(document.findall(nodes.image)):  # no external assets: an image becomes its text
            image.replace_self(nodes.inline(text=f"[image: {image.get('alt') or image.get('uri', '')}]"))
        for table in list(document.findall(nodes.table)):
            self._table(table)
        for section in list(document.findall(nodes.section)):
            self._section(section)

    # -- tables ------------------------------------------------------------------------------------

    def _table(self, table: nodes.table) -> None:
        for tgroup in table.findall(nodes.tgroup):
            body = tgroup.next_node(nodes.tbody)
            if body is None:
                continue
            cols = int(tgroup.get("cols", 0)) + 1
            tgroup["cols"] = cols
            specs = [c for c in tgroup.children if isinstance(c, nodes.colspec)]
            spec = nodes.colspec(colwidth=max(1, min((c.get("colwidth", 10) for c in specs), default=10)))
            tgroup.insert(tgroup.index(specs[-1]) + 1 if specs else 0, spec)
            head = tgroup.next_node(nodes.thead)
            if head is not None:
                for row in head.findall(nodes.row):
                    row.append(nodes.entry("", nodes.paragraph(text="Checked"), classes=["talkqa-head"]))
            for row in list(body.children):
                if isinstance(row, nodes.row):
                    self._row(row, cols)

    def _row(self, row: nodes.row, cols: int) -> None:
        line = first_line(row)
        results = sorted(self.by_line.pop(line, []), key=check_order) if line is not None else []
        self.placed.extend(results)
        state = worst(e["outcome"] for e in results)
        row["classes"] += ["talkqa-row", f"talkqa-{state}"]
        row["talkqa_state"] = state
        if line is not None:
            row["talkqa_line"] = line
            row["ids"].append(anchor(self.doc_index, line))
            self.rows[line] = state
        verdict = nodes.paragraph()
        verdict += nodes.inline(text=f"{SYMBOL[state]} {WORD[state]}", classes=["talkqa-state-word", f"talkqa-{state}"])
        cell = nodes.entry("", verdict, classes=["talkqa-status", f"talkqa-{state}"])
        if results:
            badges = nodes.paragraph(classes=["talkqa-badges"])
            for e in results:
                badges += nodes.inline(
                    text=f"{check_label(e)} {SYMBOL[e['outcome']]}",
                    classes=["talkqa-badge", f"talkqa-{e['outcome']}"],
                )
                badges += nodes.Text(" ")
            cell += badges
        row.append(cell)
        findings = [e for e in results if e["outcome"] != "passed"]
        if findings:
            entry = nodes.entry("", morecols=cols - 1)
            for e in findings:
                entry += finding(e)
            detail = nodes.row("", entry, classes=["talkqa-detail", f"talkqa-{state}"])
            detail["talkqa_detail"] = line
            parent = row.parent
            parent.insert(parent.index(row) + 1, detail)

    # -- flows -------------------------------------------------------------------------------------

    def _section(self, section: nodes.section) -> None:
        line = section_line(section)
        if line is None:
            return
        section["ids"].append(anchor(self.doc_index, line))
        results = sorted(self.by_line.pop(line, []), key=check_order)
        if not results:
            return
        self.placed.extend(results)
        state = worst(e["outcome"] for e in results)
        panel = nodes.container(classes=["talkqa-flow-checks", f"talkqa-{state}"])
        panel["talkqa_flow_state"] = state
        title = nodes.paragraph()
        title += nodes.strong(text="Link policy checks: ")
        title += nodes.inline(text=f"{SYMBOL[state]} {WORD[state]}", classes=["talkqa-state-word", f"talkqa-{state}"])
        panel += title
        items = nodes.bullet_list()
        for e in results:
            item = nodes.list_item()
            head = nodes.paragraph()
            head += nodes.inline(text=f"{SYMBOL[e['outcome']]} {WORD[e['outcome']]}",
                                 classes=["talkqa-badge", f"talkqa-{e['outcome']}"])
            head += nodes.Text(f" {check_label(e)} ({e['kind']})")
            item += head
            if e["outcome"] != "passed":
                item += finding(e, with_label=False)
            items += item
        panel += items
        title_node = section.next_node(nodes.title)
        section.insert(section.index(title_node) + 1, panel)


def finding(e: Entry, with_label: bool = True) -> nodes.container:
    """What a QA engineer needs about one result that does not conform (or could not be checked)."""
    state = e["outcome"]
    box = nodes.container(classes=["talkqa-finding", f"talkqa-{state}"])
    f = failure_of(e)
    head = nodes.paragraph()
    if with_label:
        head += nodes.strong(text=f"{check_label(e)} ({e['kind']}): ", classes=[f"talkqa-{state}"])
    head += nodes.inline(text=f"{WORD[state]}", classes=[f"talkqa-{state}"])
    if state == "failed":
        headline = f.headline.removeprefix(f"{e.get('document')}:{e.get('line')}: ").removeprefix(f"{e.get('flow')}: ")
        head += nodes.Text(f" — {headline}")
    box += head
    if state != "failed":
        reason = "\n".join([f.headline, *f.details]).strip() if e.get("message") else ""
        if reason:
            box += nodes.literal_block(text=reason)
        return box
    fields = nodes.field_list()

    def add(name: str, value: str | None, css: str, code: bool = True) -> None:
        if not value:
            return
        body = nodes.paragraph()
        body += nodes.literal(text=value) if code else nodes.Text(value)
        fields.append(nodes.field("", nodes.field_name(text=name), nodes.field_body("", body, classes=[css])))

    add("Direction", f"{e.get('direction', '')} ({e['kind']})", "talkqa-direction", code=False)
    add("Kind of failure", f.kind, "talkqa-failure-kind", code=False)
    add("Expected", f.expected, "talkqa-expected")
    add("Actual", f.actual, "talkqa-actual")
    add("Minimal failing value", f.minimal, "talkqa-minimal")
    add("Reproduce", f.reproduce, "talkqa-reproduce")
    add("Hypothesis", f.hypothesis, "talkqa-hypothesis")
    box += fields
    if not (f.expected and f.actual) and f.details:
        box += nodes.literal_block(text="\n".join(f.details))
    return box


class _Translator(html5_polyglot.HTMLTranslator):
    """The html5 translator, writing the marks of rows as ``data-`` attributes."""

    def visit_row(self, node: nodes.row) -> None:
        atts: dict[str, str] = {}
        if "talkqa_state" in node.attributes:
            atts["data-talkqa-state"] = node["talkqa_state"]
        if "talkqa_line" in node.attributes:
            atts["data-line"] = str(node["talkqa_line"])
        if "talkqa_detail" in node.attributes and node["talkqa_detail"] is not None:
            atts["data-detail-for"] = str(node["talkqa_detail"])
        self.body.append(self.starttag(node, "tr", "", **atts))
        node.column = 0

    def visit_container(self, node: nodes.container) -> None:
        atts = {}
        if "talkqa_flow_state" in node.attributes:
            atts["data-talkqa-state"] = node["talkqa_flow_state"]
        node.html5tagname = "div"
        self.body.append(self.starttag(node, "div", CLASS="docutils container", **atts))


class _MarkingWriter(html5_polyglot.Writer):
    def __init__(self, mark: _Marker) -> None:
        super().__init__()
        self.translator_class = _Translator
        self._mark = mark

    def translate(self) -> None:
        self._mark(self.document)
        super().translate()


__all__ = ["NOT_RUN", "Rendered", "anchor", "finding", "render_document"]
