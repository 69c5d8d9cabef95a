"""``talkqa diff OLD NEW``: what changed in the checklist between two versions of documents."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from generator import wording as w
from generator.diff import (
    Change,
    ChangeKind,
    DocumentDiff,
    FlowDiff,
    diff_documents,
    document_added,
    document_removed,
    summary,
    to_json,
)
from generator.errors import SpecError
from generator.model import Document
from generator.parser import parse_file, read_document
from talkqa.commands.documents import collect, report_bad_input


class _Failed(Exception):
    """A document could not be read (already reported on stderr)."""


def _read(path: Path) -> Document:
    try:
        return parse_file(path)
    except SpecError as exc:
        report_bad_input(exc)
        raise _Failed(str(path)) from None


def _title_line(doc: Document) -> int | None:
    """The line of the document title (the model keeps none): the first line that reads as it."""
    try:
        lines = read_document(doc.path).decode("utf-8", errors="replace").splitlines()
    except SpecError:
        return None
    return next((n for n, ln in enumerate(lines, 1) if w.normalise_space(ln) == doc.title), None)


def _folder(folder: Path) -> dict[str, Path] | None:
    """The documents of ``folder`` by file name (None when it has none: reported)."""
    inputs = collect([str(folder)])
    for error in inputs.errors:
        report_bad_input(error)
    return None if inputs.errors else {p.name: p for p in inputs.files}


def _pairs(old: Path, new: Path) -> list[tuple[str, Path | None, Path | None]]:
    """(name, old file, new file): one pair for two files, pairs by file name for two folders."""
    for p in (old, new):
        if not os.path.lexists(p):
            raise SpecError(str(p), 1, "cannot read: no such file or folder")
    if old.is_dir() != new.is_dir():
        folder, other = (old, new) if old.is_dir() else (new, old)
        raise SpecError(str(other), 1, f"cannot compare a file with a folder ({folder}); give two files or two folders")
    if not old.is_dir():
        return [(new.name, old, new)]
    olds, news = _folder(old), _folder(new)
    if olds is None or news is None:
        raise SystemExit(2)
    return [(name, olds.get(name), news.get(name)) for name in sorted(olds.keys() | news.keys())]


def compare(old: Path, new: Path) -> tuple[list[DocumentDiff], bool]:
    """The diffs of every pair, and whether some document could not be read (reported on stderr)."""
    diffs: list[DocumentDiff] = []
    failed = False
    for name, a, b in _pairs(old, new):
        try:
            da = _read(a) if a else None
            db = _read(b) if b else None
        except _Failed:
            failed = True
            continue
        try:
            if da and db:
                diffs.append(diff_documents(da, db, name, _title_line(da), _title_line(db)))
            elif db:
                diffs.append(document_added(db, name, _title_line(db)))
            elif da:
                diffs.append(document_removed(da, name, _title_line(da)))
        except Exception as exc:  # a bug, but one pair's: the others are still compared
            report_bad_input(SpecError(str(b or a), 1, f"internal error comparing the documents "
                                                       f"({type(exc).__name__}: {exc}); please report it"))
            failed = True
    return diffs, failed


# -- the report for people -----------------------------------------------------------------------


def _lines(c: Change) -> str:
    parts = [f"old:{c.old_line}" if c.old_line else "", f"new:{c.new_line}" if c.new_line else ""]
    return " ".join(p for p in parts if p)


def _v(value: str | None) -> str:
    return "(none)" if value is None else repr(value)


def describe(c: Change) -> str:
    """One change in words, without its lines."""
    row = f"{c.source} -> {c.target}"
    text = {
        ChangeKind.DOCUMENT_ADDED: f"document added: {c.new!r}",
        ChangeKind.DOCUMENT_REMOVED: f"document removed: {c.old!r}",
        ChangeKind.TITLE_CHANGED: f"title changed: {c.old!r} -> {c.new!r}",
        ChangeKind.FLOW_ADDED: f"flow added: {c.new}",
        ChangeKind.FLOW_REMOVED: f"flow removed: {c.old}",
        ChangeKind.FLOW_RENAMED: f"flow renamed: {c.old} => {c.new}",
        ChangeKind.POLICY_CHANGED: f"policy changed: {c.old} -> {c.new}",
        ChangeKind.TWO_WAY_CHANGED: f"direction changed: {c.old} -> {c.new}",
        ChangeKind.FLOW_CONDITION_CHANGED: f"flow condition changed: {_v(c.old)} -> {_v(c.new)}",
        ChangeKind.CREATED_FROM_CHANGED: f"created-from list changed: {_v(c.old)} -> {_v(c.new)}",
        ChangeKind.MATCH_RULE_REMOVED: f"match rule removed: {c.source} == {c.target}",
        ChangeKind.MATCH_RULE_ADDED: f"match rule added: {c.source} == {c.target}",
        ChangeKind.ROW_REMOVED: f"row removed: {row} ({c.old})",
        ChangeKind.ROW_ADDED: f"row added: {row} ({c.new})",
        ChangeKind.TARGET_CHANGED: f"target changed: {c.source} -> {c.old} => {c.new}",
        ChangeKind.TYPE_CHANGED: f"type changed: {row}: {c.old} -> {c.new}",
        ChangeKind.ROW_CONDITION_CHANGED: f"row condition changed: {row}: {_v(c.old)} -> {_v(c.new)}",
        ChangeKind.ROWS_REORDERED: f"rows reordered (first moved: {row})",
    }[c.kind]
    return text


def _counts(ref_rows: int, ref_match: int) -> str:
    rows = f"{ref_rows} row" + ("" if ref_rows == 1 else "s")
    return rows + (f", {ref_match} match rule" + ("" if ref_match == 1 else "s") if ref_match else "")


def _flow_lines(f: FlowDiff) -> list[str]:
    if f.old is None or f.new is None:  # added or removed: one line
        ref = f.new or f.old
        assert ref is not None
        (c,) = f.changes
        return [f"  {describe(c)} [{_counts(ref.rows, ref.match_rules)}]  ({_lines(c)})"]
    out = [f"  flow {f.old.label}  (old:{f.old.line} new:{f.new.line})"]
    out += [f"    {describe(c)}  ({_lines(c)})" for c in f.changes]
    return out


def render_text(diffs: list[DocumentDiff]) -> str:
    out: list[str] = []
    for d in diffs:
        if not d.changed:
            continue
        out.append(f"{d.name}: {d.status} ({len(d.all_changes)} changes)")
        out += [f"  old: {d.old_path}", f"  new: {d.new_path}"] if d.old_path and d.new_path else []
        out += [f"  {describe(c)}" + (f"  ({_lines(c)})" if _lines(c) else "") for c in d.changes]
        for f in d.flows:
            out += _flow_lines(f)
        out.append("")
    s = summary(diffs)
    if s["changes"]:
        kinds = ", ".join(f"{k}={n}" for k, n in s["by_kind"].items())
        out.append(f"{s['changes']} changes in {s['changed_documents']} of {s['documents']} documents ({kinds})")
    else:
        out.append(f"no checklist changes ({s['documents']} documents compared)")
    return "\n".join(out)


@click.command("diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON (schema in docs/diff.md).")
def diff(old: Path, new: Path, as_json: bool) -> None:
    """Compare the checklist of two versions of a document, or two folders (paired by file name).

    The Generated: line, line numbers and the order of flows are ignored.
    Exit status: 0 unchanged, 1 changed, 2 a document cannot be read.
    """
    try:
        diffs, failed = compare(old, new)
    except SpecError as exc:
        report_bad_input(exc)
        raise SystemExit(2) from None
    if as_json:
        click.echo(json.dumps(to_json(diffs, str(old), str(new)), indent=2, ensure_ascii=False))
    else:
        click.echo(render_text(diffs))
    if failed:
        raise SystemExit(2)
    if any(d.changed for d in diffs):
        raise SystemExit(1)
