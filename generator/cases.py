"""The checklist as test cases: which checks a document asks for, as plain data.

Every row of the document yields cases (forward; reverse for two-way flows; fuzz for
string rows); every flow yields link-policy cases; every match rule yields a matching
pair and a near-miss. A row that cannot be checked automatically still yields its cases,
with the precise reason they are skipped: no row of the document is ever absent.

The cases are data (dicts of str/int/bool/None/list) so that the generated module can
carry them as Python literals and parametrize a few test functions over them.
"""

from __future__ import annotations

import re
from typing import Any

from generator.model import Document, Flow, Mapping, Policy

Case = dict[str, Any]


def _short(entity: str) -> str:
    return re.sub(r"\s+", "_", entity.strip()) or "_"


def row_id(flow: Flow, source: str, target: str, direction: str) -> str:
    """``Contactperson.city->Contacts.City[forward]``: what a QA engineer reads in a test id."""
    arrow = "->" if direction != "reverse" else "<-"
    return f"{_short(flow.source_entity)}.{source}{arrow}{_short(flow.target_entity)}.{target}[{direction}]"


def _row_skip(flow: Flow, m: Mapping) -> str | None:
    if m.condition is not None:
        clauses = m.condition.clauses
        if len(clauses) != 1 or not clauses[0].path.strip() or not clauses[0].value.strip():
            return ("conditional row: the document leaves its value or path blank (or names several), so when "
                    "it applies is not stated")
    if m.type == "other":
        return f"data type {m.raw_type!r} is not a type talkqa knows"
    return None


def _flow_skip(flow: Flow) -> str | None:
    if flow.policy is Policy.UNKNOWN:
        return "the document states no link policy for this flow"
    return None


def _base(doc: Document, index: int, flow: Flow) -> Case:
    return {
        "document": doc.path,
        "flow": index,
        "flow_title": flow.title,
        "flow_line": flow.line,
        "policy": str(flow.policy),
        "condition": flow.condition,
    }


NOT_REVERSE_ROW = "not the row that carries edits back (fan-in/fan-out rule); its reverse test checks the reset"


def _row_cases(doc: Document, kind: str) -> list[Case]:
    """One case per row and direction (reverse for two-way flows); fuzz cases for string rows only."""
    out: list[Case] = []
    for index, flow in enumerate(doc.flows):
        reverse = {id(m) for m in flow.reverse_rows}
        for row, m in enumerate(flow.mappings):
            if kind == "fuzz" and m.type != "string":
                continue
            for direction in ["forward", "reverse"] if flow.two_way else ["forward"]:
                skip = _flow_skip(flow) or _row_skip(flow, m)
                if not skip and m.condition is not None and direction == "reverse":
                    skip = "conditional row: the document states when it applies for edits from the source only"
                if not skip and m.condition is not None and kind == "fuzz":
                    skip = "conditional row: its mapping test checks it with the condition held and not held"
                if kind == "fuzz" and direction == "reverse" and id(m) not in reverse and not skip:
                    skip = NOT_REVERSE_ROW
                out.append(
                    {
                        **_base(doc, index, flow),
                        "kind": kind,
                        "id": row_id(flow, m.source, m.target, direction),
                        "direction": direction,
                        "line": m.line,
                        "row": row,
                        "source": m.source,
                        "target": m.target,
                        "type": m.type,
                        "governs_reverse": id(m) in reverse,
                        "skip": skip,
                    }
                )
    return out


def mapping_cases(doc: Document) -> list[Case]:
    return _row_cases(doc, "mapping")


def fuzz_cases(doc: Document) -> list[Case]:
    return _row_cases(doc, "fuzz")


#: Checks of every flow that links records and keeps them in sync (``talkqa.runtime.teeth``).
TEETH: list[tuple[str, str]] = [
    ("clears-both-ways", "a value emptied on one side is emptied on the other, both directions"),
    ("no-collateral-damage", "an edit changes only its own property: other mapped properties and the fields "
     "no row maps keep their values on both records"),
    ("case-and-whitespace-edits", "an edit of only the case or only the whitespace of a value is an edit"),
    ("sparse-records", "a record without an optional nested object, edited through a row that reaches into it, "
     "is synchronized both directions"),
    ("conflicting-edits", "both sides edit the same property between two syncs: the records agree afterwards, "
     "holding the expected winner's edit"),
]

#: Checks of every flow that creates counterparts.
VOLUME: list[tuple[str, str]] = [
    ("every-record-once", "more records than two pages of each system are all synced, each once, none missed, "
     "both directions"),
]

#: The link checks each policy asks for, with what they state.
LINK_CHECKS: dict[str, list[tuple[str, str]]] = {
    "always": [
        ("creates-one-per-source", "every source record gets exactly one linked target"),
        ("second-sync-no-change", "a second sync with no edits writes nothing and creates nothing"),
        ("edit-keeps-link", "an edit keeps the existing link"),
        *TEETH,
        *VOLUME,
    ],
    "merge_or_create": [
        ("merges-existing", "a pre-existing counterpart found by the match rules is linked, not duplicated"),
        ("creates-when-no-match", "a record with no counterpart gets a new one"),
        ("second-sync-no-change", "a second sync with no edits writes nothing and creates nothing"),
        ("edit-keeps-link", "an edit keeps the existing link"),
        *TEETH,
        *VOLUME,
    ],
    "link_required": [
        ("no-create-without-match", "nothing is created for a record that matches nothing"),
        ("second-sync-no-change", "a second sync with no edits writes nothing and creates nothing"),
        ("edit-keeps-link", "an edit keeps the existing link"),
        *TEETH,
    ],
    "conditional": [
        ("creates-one-per-source", "every record meeting the condition gets exactly one linked target"),
        ("skips-when-condition-fails", "a record for which the condition does not hold gets no counterpart"),
        ("second-sync-no-change", "a second sync with no edits writes nothing and creates nothing"),
        *TEETH,
    ],
    "unknown": [("policy", "the flow's link policy")],
}


#: The link checks that edit a property (a flow with no property to edit cannot have them).
EDITS = {"edit-keeps-link", *(name for name, _ in TEETH + VOLUME)}


def link_cases(doc: Document) -> list[Case]:
    out: list[Case] = []
    for index, flow in enumerate(doc.flows):
        for check, statement in LINK_CHECKS[str(flow.policy)]:
            skip = _flow_skip(flow)
            if not skip and check in EDITS and not flow.syncable_rows:
                skip = "the flow synchronizes no property that could be edited"
            if not skip and check == "merges-existing" and not flow.match:
                skip = "the flow states no match rule that could find a counterpart"
            if (
                not skip
                and flow.policy is Policy.LINK_REQUIRED
                and not flow.match
                and check != "no-create-without-match"
            ):
                skip = "the flow requires a link but states no match rule that could establish one"
            out.append(
                {
                    **_base(doc, index, flow),
                    "kind": "link",
                    "id": f"{_short(flow.source_entity)}->{_short(flow.target_entity)}[{check}]",
                    "check": check,
                    "statement": statement,
                    "direction": "forward",
                    "line": flow.line,
                    "skip": skip,
                }
            )
    return out


def match_cases(doc: Document) -> list[Case]:
    out: list[Case] = []
    for index, flow in enumerate(doc.flows):
        for row, rule in enumerate(flow.match):
            for check in ("links", "near-miss"):
                out.append(
                    {
                        **_base(doc, index, flow),
                        "kind": "match",
                        "id": row_id(flow, rule.source, rule.target, check),
                        "check": check,
                        "direction": "forward",
                        "line": rule.line,
                        "row": row,
                        "source": rule.source,
                        "target": rule.target,
                        "skip": _flow_skip(flow),
                    }
                )
    return out


def all_cases(doc: Document) -> dict[str, list[Case]]:
    return {
        "mapping": mapping_cases(doc),
        "link": link_cases(doc),
        "match": match_cases(doc),
        "fuzz": fuzz_cases(doc),
    }
