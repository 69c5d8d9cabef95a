"""Render a document's model into a pytest module (Jinja2, StrictUndefined).

No spec text ever becomes code: the module name is derived and sanitised, and the model and
its cases are rendered as JSON text inside Python string literals (``json.dumps``, then ``repr``
of each line, which escapes quotes, backslashes, line breaks and control characters), read back
by :mod:`talkqa.runtime.suite` at import. Each fact is carried once: the model holds the rows, and
a case names its flow and row by index (:func:`case_rows`). JSON in a string is what makes
collection cheap: pytest parses, rewrites and compiles every test module on each run (no bytecode
cache under ``PYTHONDONTWRITEBYTECODE``), and a string is one node however large the document.
The output is deterministic: the same model gives the same bytes.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import PurePath
from typing import Any

import jinja2

from generator.cases import all_cases
from generator.model import Document

#: Bumped when the rendered output changes shape, so `generate --check` knows old modules are stale.
GENERATOR_VERSION = "3"


def module_name(document_path: str) -> str:
    """``spec/powerofficego-exact.rst`` -> ``test_powerofficego_exact.py``."""
    stem = re.sub(r"[^0-9a-zA-Z]+", "_", PurePath(document_path).stem).strip("_").lower() or "document"
    return f"test_{stem}.py"


#: Width under which a JSON value of the model stays on one line.
WIDTH = 100


def _json(value: Any) -> str:
    """``value`` as JSON text in a Python string literal, one JSON line per source line (adjacent
    literals join; the parser sees one constant however large the document: collection stays cheap)."""
    return _lines(_json_lines(value, "", ""))


def _nested(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return any(isinstance(item, dict | list) and item for item in items)


def _json_lines(value: Any, indent: str, end: str) -> list[str]:
    """JSON text of ``value`` as lines: a value that fits in :data:`WIDTH`, or holds no container
    (a row of the model), on one line; else one line per key or item."""
    flat = json.dumps(value, ensure_ascii=False)
    if len(indent) + len(flat) + len(end) <= WIDTH or not _nested(value):
        return [indent + flat + end]
    inner = indent + " "
    if isinstance(value, dict):
        lines = [indent + "{"]
        for i, (key, item) in enumerate(value.items()):
            comma = "," if i < len(value) - 1 else ""
            head = f"{inner}{json.dumps(key, ensure_ascii=False)}: "
            body = _json_lines(item, inner, comma)
            lines += [head + body[0][len(inner):], *body[1:]]
        return [*lines, indent + "}" + end]
    lines = [indent + "["]
    for i, item in enumerate(value):
        lines += _json_lines(item, inner, "," if i < len(value) - 1 else "")
    return [*lines, indent + "]" + end]


def _rows(rows: dict[str, list[tuple[Any, ...]]]) -> str:
    """``{kind: [case, ...]}`` as JSON text in a Python string literal, one case per line."""
    pieces = ["{"]
    kinds = list(rows.items())
    for k, (kind, group) in enumerate(kinds):
        pieces.append(f"{json.dumps(kind)}: [")
        pieces += [json.dumps(list(row), ensure_ascii=False) + ("," if i < len(group) - 1 else "")
                   for i, row in enumerate(group)]
        pieces.append("]" + ("," if k < len(kinds) - 1 else ""))
    pieces.append("}")
    return _lines(pieces)


def _lines(pieces: list[str]) -> str:
    """Adjacent string literals (``repr``: quotes, backslashes, line breaks and control characters
    escaped), one per line, in parentheses."""
    return "(\n" + "\n".join(f"    {piece!r}" for piece in pieces) + "\n)"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("generator", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json"] = _json
    env.filters["rows"] = _rows
    return env


def _unique_ids(cases: list[dict[str, Any]]) -> None:
    seen: dict[str, int] = {}
    for case in cases:
        seen[case["id"]] = seen.get(case["id"], 0) + 1
    for case in cases:
        if seen[case["id"]] > 1:
            case["id"] = f"{case['id']}@{case['line']}"


def document_data(doc: Document) -> dict[str, Any]:
    """The model as the module carries it: without the ``Generated:`` stamp (not a change)."""
    data = doc.to_json()
    data["generated"] = None
    return data


def case_rows(cases: dict[str, list[dict[str, Any]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The cases as the module carries them: each names its flow and row by index into ``DOCUMENT``
    and adds only what is its own (direction or check, id, skip reason, whether its row governs the
    reverse direction); :func:`talkqa.runtime.suite.cases` builds the full case back at import."""

    def row(c: dict[str, Any]) -> tuple[Any, ...]:
        return (c["flow"], c["row"], c["direction"], c["id"], c["skip"], c["governs_reverse"])

    return {
        "mapping": [row(c) for c in cases["mapping"]],
        "link": [(c["flow"], c["check"], c["id"], c["skip"]) for c in cases["link"]],
        "match": [(c["flow"], c["row"], c["check"], c["id"], c["skip"]) for c in cases["match"]],
        "fuzz": [row(c) for c in cases["fuzz"]],
    }


def render(doc: Document) -> str:
    cases = all_cases(doc)
    for group in cases.values():
        _unique_ids(group)
    safe_name = re.sub(r"[^0-9A-Za-z._/-]", "_", PurePath(doc.path).as_posix())
    return (
        _environment()
        .get_template("suite.py.j2")
        .render(
            source_name=safe_name,
            content_hash=doc.content_hash,
            generator_version=GENERATOR_VERSION,
            document=document_data(doc),
            cases=case_rows(cases),
        )
    )
