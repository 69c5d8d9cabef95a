"""What generated modules call at import: build each case from the document's rows, and turn the
cases into ``pytest.param`` with ids and marks.

A generated module carries the document once (``DOCUMENT``) and, per case, only the indexes of its
flow and row and what is the case's own (:func:`generator.render.case_rows`); :func:`cases` builds
the full case dicts the checks read. Collection is per case, so both stay cheap: no literal repeats
a row, and the marks a case shares with others (its kind, direction, flow) are made once, the
document's on the module.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

import pytest

from generator.cases import LINK_CHECKS

Case = dict[str, Any]


def document_name(document: dict[str, Any]) -> str:
    return PurePath(document["path"]).stem


def document(text: str) -> dict[str, Any]:
    """A module's ``DOCUMENT``: the model, from the JSON text it carries."""
    data: dict[str, Any] = json.loads(text)
    return data


def cases(document: dict[str, Any], rows: str | dict[str, list[Any]]) -> dict[str, list[Case]]:
    """The full cases of a module from its compact ``rows`` (JSON text, or the data; see
    :func:`generator.render.case_rows`): each with the document, its flow's title, line, policy and
    condition, its row's line, source, target and type, and, for a link check, what it states."""
    if isinstance(rows, str):
        rows = json.loads(rows)
    path = document["path"]
    flows = document["flows"]
    base = [
        {"document": path, "flow": index, "flow_title": flow["title"], "flow_line": flow["line"],
         "policy": flow["policy"], "condition": flow["condition"]}
        for index, flow in enumerate(flows)
    ]  # fmt: skip
    out: dict[str, list[Case]] = {}
    for kind in ("mapping", "fuzz"):
        group = out[kind] = []
        for flow, row, direction, case_id, skip, governs_reverse in rows.get(kind, ()):
            m = flows[flow]["mappings"][row]
            group.append({
                **base[flow], "kind": kind, "id": case_id, "direction": direction, "line": m["line"], "row": row,
                "source": m["source"], "target": m["target"], "type": m["type"],
                "governs_reverse": governs_reverse, "skip": skip,
            })  # fmt: skip
    out["link"] = []
    for flow, check, case_id, skip in rows.get("link", ()):
        statement = dict(LINK_CHECKS[flows[flow]["policy"]])[check]
        out["link"].append({
            **base[flow], "kind": "link", "id": case_id, "check": check, "statement": statement,
            "direction": "forward", "line": flows[flow]["line"], "skip": skip,
        })  # fmt: skip
    out["match"] = []
    for flow, row, check, case_id, skip in rows.get("match", ()):
        rule = flows[flow]["match"][row]
        out["match"].append({
            **base[flow], "kind": "match", "id": case_id, "check": check, "direction": "forward",
            "line": rule["line"], "row": row, "source": rule["source"], "target": rule["target"], "skip": skip,
        })  # fmt: skip
    return {kind: out[kind] for kind in ("mapping", "link", "match", "fuzz")}


def document_mark(document: dict[str, Any]) -> Any:
    """The module's mark ``document(name, path)``: on the module, so every test has it and pytest
    handles it once, not once per test."""
    return pytest.mark.document(name=document_name(document), path=document["path"])


def params(document: dict[str, Any], cases: list[Case]) -> list[Any]:
    """One ``pytest.param`` per case: readable id; marks for kind, direction and flow (the document's
    is the module's, :func:`document_mark`); a skip mark with the precise reason when the row cannot
    be checked automatically."""
    shared: dict[Any, Any] = {}

    def mark(key: Any, make: Any) -> Any:
        found = shared.get(key)
        if found is None:
            found = shared[key] = make()
        return found

    case_mark = pytest.mark.talkqa_case
    out = []
    for case in cases:
        kind, direction, flow = case["kind"], case["direction"], case["flow"]
        marks = [
            mark(kind, lambda kind=kind: getattr(pytest.mark, kind)),
            mark(direction, lambda direction=direction: getattr(pytest.mark, direction.replace("-", "_"))),
            mark(("flow", flow), lambda case=case: pytest.mark.flow(index=case["flow"], title=case["flow_title"])),
            case_mark(case),
        ]
        if case.get("skip"):
            reason = f"{case['document']}:{case['line']}: {case['skip']}"
            marks.append(mark(("skip", reason), lambda reason=reason: pytest.mark.skip(reason=reason)))
        out.append(pytest.param(case, id=case["id"], marks=marks))
    return out
