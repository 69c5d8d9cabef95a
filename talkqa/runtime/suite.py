"""What generated modules call at import: turn case data into ``pytest.param`` with ids and marks."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

import pytest


def document_name(document: dict[str, Any]) -> str:
    return PurePath(document["path"]).stem


def params(document: dict[str, Any], cases: list[dict[str, Any]]) -> list[Any]:
    """One ``pytest.param`` per case: readable id; marks for kind, direction, document and flow;
    a skip mark with the precise reason when the row cannot be checked automatically."""
    name = document_name(document)
    out = []
    for case in cases:
        marks = [
            getattr(pytest.mark, case["kind"]),
            getattr(pytest.mark, case["direction"].replace("-", "_")),
            pytest.mark.document(name=name, path=document["path"]),
            pytest.mark.flow(index=case["flow"], title=case["flow_title"]),
            pytest.mark.talkqa_case(case),
        ]
        if case.get("skip"):
            marks.append(pytest.mark.skip(reason=f"{case['document']}:{case['line']}: {case['skip']}"))
        out.append(pytest.param(case, id=case["id"], marks=marks))
    return out
