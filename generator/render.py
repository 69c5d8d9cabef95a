"""Render a document's model into a pytest module (Jinja2, StrictUndefined).

No spec text ever becomes code: the module name is derived and sanitised, and the model
and its cases are rendered as Python literals (``pprint.pformat`` of plain data, whose
``repr`` of strings escapes quotes, backslashes and newlines). The output is
deterministic: the same model gives the same bytes.
"""

from __future__ import annotations

import pprint
import re
from functools import cache
from pathlib import PurePath
from typing import Any

import jinja2

from generator.cases import all_cases
from generator.model import Document

#: Bumped when the rendered output changes shape, so `generate --check` knows old modules are stale.
GENERATOR_VERSION = "2"


def module_name(document_path: str) -> str:
    """``spec/powerofficego-exact.rst`` -> ``test_powerofficego_exact.py``."""
    stem = re.sub(r"[^0-9a-zA-Z]+", "_", PurePath(document_path).stem).strip("_").lower() or "document"
    return f"test_{stem}.py"


def _py(value: Any) -> str:
    return pprint.pformat(value, width=110, sort_dicts=False)


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
    env.filters["py"] = _py
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
            cases=cases,
        )
    )
