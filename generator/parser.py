"""Read a dataflow document into the mapping model.

docutils builds the node tree (:mod:`generator.rst`); this module walks its sections,
paragraphs and list-tables, and reads the vendor's wording with :mod:`generator.wording`.
Every data row of every list-table becomes a :class:`Mapping` or a :class:`MatchRule`
carrying its 1-based line. A sentence that is not recognised becomes a diagnostic,
never silently dropped. Input that cannot be a dataflow document raises
:class:`SpecError` with the line to blame.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from docutils import nodes

from generator import wording as w
from generator.errors import SpecError
from generator.model import (
    Condition,
    ConditionClause,
    Diagnostic,
    Document,
    Flow,
    Mapping,
    MatchRule,
    Policy,
    Severity,
    SystemRef,
    normalise_type,
)
from generator.rst import NestingTooDeep, parse_rst

#: Documents larger than this are refused before docutils sees them (real ones are < 0.1 MB).
MAX_BYTES = 5 * 1024 * 1024

_FILE_NAME = re.compile(r"^(?P<a>[a-z0-9]+)-(?P<b>[a-z0-9]+)$")
_ROW_IN_ERROR = re.compile(r"row (\d+) does not contain the same number of items as row 1 \((\d+) vs (\d+)\)")


def slugify(name: str) -> str:
    """``PowerOffice GO`` -> ``powerofficego``."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def content_hash(text: str) -> str:
    """sha256 of the text without its ``Generated:`` line and with normalised line ends."""
    lines = [ln for ln in text.replace("\r\n", "\n").split("\n") if not w.GENERATED.match(ln.strip())]
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def decode(data: bytes, path: str) -> str:
    """Bytes -> text, or a SpecError naming the line of the first bad byte."""
    if len(data) > MAX_BYTES:
        raise SpecError(path, 1, f"file too large ({len(data):,} bytes; the limit is {MAX_BYTES:,})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SpecError(path, line, f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise SpecError(path, 1, "empty document")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise SpecError(path, line, "not a text document (NUL character)")
    return text


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def read_document(path: str | Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of the document at ``path``: a regular file of at most ``limit`` bytes.

    Never blocks and never reads more than ``limit + 1`` bytes: a FIFO, a device (``/dev/zero``),
    a socket or a folder is refused from ``fstat`` of the opened file, and a file that grows past
    the limit while it is read is refused too. Raises SpecError (line 1) for all of these and for
    a file that cannot be opened (missing, a symlink loop, no permission).
    """
    name = str(path)
    try:
        fd = os.open(path, OPEN_FLAGS)
    except (OSError, ValueError) as exc:
        raise SpecError(name, 1, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return read_fd(fd, name, limit)
    finally:
        os.close(fd)


#: How a document is opened: read-only, never blocking on a FIFO, not inherited by children.
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def read_fd(fd: int, name: str, limit: int = MAX_BYTES) -> bytes:
    """The bytes of the open file ``fd`` (``name`` for messages), as :func:`read_document` reads them."""
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SpecError(name, 1, f"not a document: {_kind(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise SpecError(name, 1, f"file too large ({info.st_size:,} bytes; the limit is {limit:,})")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise SpecError(name, 1, f"file too large (more than {limit:,} bytes; the limit is {limit:,})")
        return b"".join(chunks)
    except OSError as exc:
        raise SpecError(name, 1, f"cannot read: {exc.strerror or exc}") from None


def parse_file(path: str | Path) -> Document:
    """Parse the document at ``path``; raises SpecError for bad input and for a file that cannot be
    read as a document (see :func:`read_document`)."""
    return parse_text(decode(read_document(path), str(path)), str(path))


#: Table rows (list-table items) one document may hold. The corpus's largest has 293; a document of
#: 100,000 rows took docutils minutes and gigabytes, so it is refused before docutils reads it.
MAX_TABLE_ROWS = 5_000
_ROW_START = re.compile(r"^[ \t]*\* -", re.MULTILINE)


def _check_row_count(text: str, path: str) -> None:
    for count, m in enumerate(_ROW_START.finditer(text), start=1):
        if count > MAX_TABLE_ROWS:
            line = text.count("\n", 0, m.start()) + 1
            raise SpecError(path, line, f"more than {MAX_TABLE_ROWS:,} table rows in one document: split it "
                                        "(the limit keeps a hostile document from taking minutes and gigabytes)")


def parse_text(text: str, path: str = "<string>") -> Document:
    """Parse document ``text``; ``path`` names it in messages and supplies the system slugs.

    Every failure is a SpecError: blocks nested too deeply (with their line), and, as a last
    resort, an unexpected exception in the reader, reported as an internal error on line 1 so
    that one document never aborts a command that reads many.
    """
    text = text.removeprefix("\ufeff")
    _check_row_count(text, path)
    try:
        tree, warnings = parse_rst(text, path)
        return _Reader(path, text, tree, warnings).read()
    except SpecError:
        raise
    except NestingTooDeep as exc:
        raise SpecError(path, exc.line, f"malformed reStructuredText: {exc}") from None
    except RecursionError:
        raise SpecError(path, 1, "malformed reStructuredText: nested too deeply to read") from None
    except Exception as exc:  # a bug, but one document's: report it as that document's error
        raise SpecError(path, 1, f"internal error reading the document ({type(exc).__name__}: {exc}); "
                        "please report it with the document") from None


# ---------------------------------------------------------------------------------------------


def _title_line(section: nodes.section) -> int:
    title = section[0]
    return max(1, (title.line or 1) - 1)


def _first_line(node: nodes.Node) -> int | None:
    lines = [n.line for n in node.findall(nodes.Element) if n.line]
    return min(lines) if lines else None


def _cell_text(entry: nodes.entry) -> str:
    return w.normalise_space(entry.astext())


def _split_qualifiers(label: str) -> tuple[str, tuple[str, ...]]:
    quals: list[str] = []
    while m := w.QUALIFIER.search(label):
        if not label[: m.start()].strip():
            break
        quals.insert(0, m.group("q").strip())
        label = label[: m.start()]
    return label.strip(), tuple(quals)


@dataclass
class _Systems:
    source: SystemRef
    target: SystemRef

    def strip(self, label: str, system: SystemRef) -> tuple[str, str] | None:
        """Split ``label`` into (system spelling, rest) when it starts with ``system``."""
        words = label.split(" ")
        spellings = {slugify(system.name), system.slug} - {""}
        for k in range(len(words) - 1, 0, -1):
            head = " ".join(words[:k])
            if slugify(head) in spellings:
                return head, " ".join(words[k:]).strip()
        return ("", label) if not system.name else None


@dataclass
class _FlowBuilder:
    title: str
    line: int
    source_entity: str
    target_entity: str
    source_qualifiers: tuple[str, ...]
    target_qualifiers: tuple[str, ...]
    source_system_name: str
    target_system_name: str
    policy: Policy = Policy.UNKNOWN
    two_way: bool = False
    condition: str | None = None
    created_if_connected: tuple[str, ...] | None = None
    merge: bool = False
    create_if_missing: bool = False
    match: list[MatchRule] = field(default_factory=list)
    mappings: list[Mapping] = field(default_factory=list)
    expect_table: str | None = None

    def build(self) -> Flow:
        policy = self.policy
        if policy is Policy.ALWAYS and self.merge and self.create_if_missing:
            policy = Policy.MERGE_OR_CREATE
        return Flow(
            title=self.title,
            line=self.line,
            source_entity=self.source_entity,
            target_entity=self.target_entity,
            source_qualifiers=self.source_qualifiers,
            target_qualifiers=self.target_qualifiers,
            source_system_name=self.source_system_name,
            target_system_name=self.target_system_name,
            policy=policy,
            two_way=self.two_way,
            condition=self.condition,
            created_if_connected=self.created_if_connected,
            match=tuple(self.match),
            mappings=tuple(self.mappings),
        )


class _Reader:
    def __init__(self, path: str, text: str, tree: nodes.document, warnings: str) -> None:
        self.path = path
        self.text = text
        self.tree = tree
        self.warnings = warnings
        self.diagnostics: list[Diagnostic] = []

    def diag(self, severity: Severity, line: int, code: str, message: str) -> None:
        self.diagnostics.append(Diagnostic(severity, line, code, message))

    def fail(self, line: int, message: str) -> SpecError:
        return SpecError(self.path, line, message)

    # -- document ------------------------------------------------------------------------------

    def read(self) -> Document:
        self._raise_on_docutils_errors()
        sections = [s for s in self.tree.children if isinstance(s, nodes.section)]
        if not sections:
            raise self.fail(1, "not a dataflow document (no section titles; expected '<A> to <B> Dataflow')")
        top = sections[0]
        title = w.normalise_space(top[0].astext())
        m = w.DOC_TITLE.match(title)
        if not m:
            raise self.fail(_title_line(top), f"not a dataflow document (title {title!r} is not '<A> to <B> Dataflow')")
        systems = self._systems(m.group("a").strip(), m.group("b").strip(), _title_line(top))
        generated: str | None = None
        flows: list[Flow] = []
        # The flows are sections nested under the title section (or, in some older documents,
        # siblings of it); walk every section in document order.
        for section in self.tree.findall(nodes.section):
            if section is top:
                generated = self._preamble(section)
                continue
            heading = w.normalise_space(section[0].astext())
            if heading.rstrip(".") == "Introduction":
                self._introduction(section)
                continue
            flows.append(self._flow(section, heading, systems))
        if generated is None:
            self.diag(Severity.WARNING, _title_line(top), "no-generated", "no 'Generated:' timestamp")
        if not flows:
            self.diag(Severity.INFO, _title_line(top), "no-flows", "the document describes no flows")
        return Document(
            path=self.path,
            title=title,
            source_system=systems.source,
            target_system=systems.target,
            generated=generated,
            content_hash=content_hash(self.text),
            flows=tuple(flows),
            diagnostics=tuple(sorted(self.diagnostics, key=lambda d: (d.line, d.code))),
        )

    def _raise_on_docutils_errors(self) -> None:
        for msg in self.tree.findall(nodes.system_message):
            if msg["level"] >= 3:
                text = w.normalise_space(msg.children[0].astext()) if msg.children else "RST error"
                line = msg.get("line") or 1
                row = _ROW_IN_ERROR.search(text)
                if row:  # blame the row, not the directive
                    line = self._row_line(line, int(row.group(1)))
                    text = f"table row {row.group(1)} has {row.group(2)} cells, row 1 has {row.group(3)}"
                raise self.fail(line, f"malformed reStructuredText: {text}")
            line = msg.get("line") or 1
            text = w.normalise_space(msg.children[0].astext()) if msg.children else ""
            if "underline too short" in text:
                self.diag(Severity.INFO, line, "short-underline", text)
            elif "Duplicate implicit target name" in text:
                self.diag(Severity.INFO, line, "repeated-title", f"{text} (kept as a separate flow)")
            else:
                self.diag(Severity.WARNING, line, "rst-warning", text)

    def _row_line(self, directive_line: int, row: int) -> int:
        """The line of the ``row``-th ``* -`` item after a list-table directive (1-based)."""
        seen = 0
        lines = self.text.splitlines()
        for i in range(directive_line - 1, len(lines)):
            if lines[i].lstrip().startswith("* "):
                seen += 1
                if seen == row:
                    return i + 1
        return directive_line

    def _systems(self, a_name: str, b_name: str, line: int) -> _Systems:
        stem = Path(self.path).stem
        fm = _FILE_NAME.match(stem)
        a_slug, b_slug = (fm.group("a"), fm.group("b")) if fm else (slugify(a_name), slugify(b_name))
        for name, slug, side in ((a_name, a_slug, "source"), (b_name, b_slug, "target")):
            if not name:
                self.diag(
                    Severity.WARNING,
                    line,
                    "blank-system-name",
                    f"the {side} system's name is blank; slug {slug!r} taken from the file name"
                    if slug
                    else f"the {side} system's name is blank and the file name gives no slug",
                )
        return _Systems(SystemRef(a_name, a_slug), SystemRef(b_name, b_slug))

    def _own_children(self, section: nodes.section) -> list[nodes.Node]:
        return [c for c in section.children[1:] if not isinstance(c, nodes.section)]

    def _preamble(self, section: nodes.section) -> str | None:
        generated = None
        for child in self._own_children(section):
            if isinstance(child, nodes.paragraph):
                m = w.GENERATED.match(w.normalise_space(child.astext()))
                if m:
                    generated = m.group("stamp")
                    continue
                self._unrecognised(child)
        return generated

    def _introduction(self, section: nodes.section) -> None:
        for child in self._own_children(section):
            if isinstance(child, nodes.paragraph):
                for sentence in w.sentences(child.astext()):
                    if not any(p.match(sentence) for p in w.INTRO_SENTENCES):
                        self.diag(
                            Severity.WARNING,
                            child.line or _title_line(section),
                            "unrecognised-sentence",
                            f"unrecognised sentence: {sentence!r}",
                        )
            elif isinstance(child, nodes.table):
                raise self.fail(_first_line(child) or 1, "a table in the Introduction section")

    def _unrecognised(self, node: nodes.Node) -> None:
        self.diag(
            Severity.WARNING,
            node.line or 1,
            "unrecognised-sentence",
            f"unrecognised text: {w.normalise_space(node.astext())[:200]!r}",
        )

    # -- flows ---------------------------------------------------------------------------------

    def _flow(self, section: nodes.section, heading: str, systems: _Systems) -> Flow:
        line = _title_line(section)
        b = self._flow_header(heading, systems, line)
        for child in self._own_children(section):
            if isinstance(child, nodes.paragraph):
                for sentence in w.sentences(child.astext()):
                    self._sentence(b, sentence, child.line or line)
            elif isinstance(child, nodes.table):
                self._table(b, child)
            elif isinstance(child, nodes.system_message | nodes.comment | nodes.target):
                continue
            else:
                self._unrecognised(child)
        if b.policy is Policy.UNKNOWN:
            self.diag(Severity.WARNING, line, "no-policy", f"flow {heading!r} states no link policy")
        return b.build()

    def _flow_header(self, heading: str, systems: _Systems, line: int) -> _FlowBuilder:
        starts = [m.start() for m in re.finditer(r" to ", heading)]
        candidates = []
        for i in starts:
            left, right = heading[:i].strip(), heading[i + 4 :].strip()
            a = systems.strip(left, systems.source)
            b = systems.strip(right, systems.target)
            if a is not None and b is not None and a[1] and b[1]:
                candidates.append((a, b))
        if candidates:
            (a_sys, a_label), (b_sys, b_label) = candidates[0]
        else:
            if not starts:
                raise self.fail(line, f"flow title {heading!r} is not '<source entity> to <target entity>'")
            i = starts[0]
            a_sys, a_label, b_sys, b_label = "", heading[:i].strip(), "", heading[i + 4 :].strip()
            self.diag(
                Severity.WARNING,
                line,
                "system-name-mismatch",
                f"flow title {heading!r} does not start with the document's system names "
                f"({systems.source.name!r}, {systems.target.name!r})",
            )
        a_entity, a_quals = _split_qualifiers(a_label)
        b_entity, b_quals = _split_qualifiers(b_label)
        return _FlowBuilder(
            title=heading,
            line=line,
            source_entity=a_entity,
            target_entity=b_entity,
            source_qualifiers=a_quals,
            target_qualifiers=b_quals,
            source_system_name=a_sys,
            target_system_name=b_sys,
        )

    def _sentence(self, b: _FlowBuilder, sentence: str, line: int) -> None:
        if m := w.EVERY.match(sentence):
            b.policy = Policy.ALWAYS
        elif w.MERGED.match(sentence):
            b.merge = True
        elif w.NO_MATCH_CREATE.match(sentence):
            b.create_if_missing = True
        elif w.LINK_REQUIRED.match(sentence):
            b.policy = Policy.LINK_REQUIRED
        elif w.TWO_WAY.match(sentence):
            b.two_way = True
        elif w.ONE_WAY.match(sentence):
            b.two_way = False
        elif w.MATCH_INTRO.match(sentence):
            b.expect_table = "match"
        elif w.MAPPING_INTRO.match(sentence):
            b.expect_table = "mapping"
        elif m := w.CREATED_FROM.match(sentence):
            items = re.split(r",\s*(?:or\s+)?|\s+or\s+", m.group("list"))
            b.created_if_connected = tuple(i.strip() for i in items if i.strip())
        elif (m := w.WHEN.match(sentence)) or (m := w.FREE_CONDITION.match(sentence)):
            b.policy = Policy.CONDITIONAL
            b.condition = m.group("cond")
        else:
            self.diag(Severity.WARNING, line, "unrecognised-sentence", f"unrecognised sentence: {sentence!r}")

    # -- tables --------------------------------------------------------------------------------

    def _table(self, b: _FlowBuilder, table: nodes.table) -> None:
        table_line = _first_line(table) or b.line
        self._check_table_shape(table, table_line)
        tgroup = next(iter(table.findall(nodes.tgroup)))
        cols = int(tgroup["cols"])
        kind = b.expect_table
        expected = {"match": 2, "mapping": 3}
        if kind is None:
            kind = {2: "match", 3: "mapping"}.get(cols)
            if kind is None:
                raise self.fail(table_line, f"a table with {cols} columns; expected 2 (match) or 3 (mapping)")
            self.diag(
                Severity.WARNING,
                table_line,
                "table-without-intro",
                f"a {cols}-column table with no introducing sentence; read as a {kind} table",
            )
        if cols != expected[kind]:
            raise self.fail(
                table_line,
                f"the {kind} table has {cols} columns; expected {expected[kind]}",
            )
        b.expect_table = None
        for tbody in table.findall(nodes.tbody):
            for row in tbody.children:
                cells = [_cell_text(e) for e in row.children]
                row_line = _first_line(row) or table_line
                if kind == "match":
                    b.match.append(MatchRule(source=cells[0], target=cells[1], line=row_line))
                else:
                    b.mappings.append(self._mapping(cells, row_line))

    def _check_table_shape(self, table: nodes.table, table_line: int) -> None:
        """Refuse what the model cannot hold: a table inside a cell, a spanned cell, a ragged row."""
        for inner in table.findall(nodes.table, include_self=False):
            raise self.fail(_first_line(inner) or table_line, "a table inside a table cell")
        tgroups = [c for c in table.children if isinstance(c, nodes.tgroup)]
        if len(tgroups) != 1:
            raise self.fail(table_line, f"a table with {len(tgroups)} column groups; expected 1")
        cols = int(tgroups[0].get("cols", 0))
        for row in tgroups[0].findall(nodes.row):
            row_line = _first_line(row) or table_line
            entries = [e for e in row.children if isinstance(e, nodes.entry)]
            if any(e.get("morecols") or e.get("morerows") for e in entries):
                raise self.fail(row_line, "a table cell spans several columns or rows; each row needs its own cells")
            if len(entries) != cols:
                raise self.fail(row_line, f"a table row with {len(entries)} cells; the table has {cols} columns")

    def _mapping(self, cells: list[str], line: int) -> Mapping:
        source, target, raw_type = cells
        condition = None
        for side, cell in (("source", source), ("target", target)):
            cc = w.split_cell_condition(cell)
            if cc is None:
                continue
            clauses = tuple(ConditionClause(value=v, path=p) for v, p in cc.clauses)
            condition = Condition(text=cc.text, side=side, clauses=clauses)
            if side == "source":
                source = cc.path
            else:
                target = cc.path
        raw = raw_type.strip()
        return Mapping(
            source=source,
            target=target,
            type=normalise_type(raw),
            raw_type=raw,
            line=line,
            condition=condition,
        )
