"""Helpers for the generation tests: small documents, running ``talkqa generate``, snapshots of a folder.

Nothing here calls the generator to compute an expected value: documents are laid out by hand,
content hashes are computed with hashlib over the text, and case counts come from the model's rows.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from talkqa.cli import main

REPO = Path(__file__).resolve().parents[2]
TALKQA = Path(sys.executable).parent / "talkqa"  # the console script of the running venv


def document(
    source: str = "Alpha",
    target: str = "Beta",
    rows: tuple[tuple[str, str, str], ...] = (("firstName", "FirstName", '"string"'),),
    *,
    generated: str = "2024-01-01 00:00:00",
    two_way: bool = True,
    match: tuple[tuple[str, str], ...] = (),
) -> str:
    """One "Contacts to Persons" flow in the vendor's layout."""
    title = f"{source} to {target} Dataflow"
    heading = f"{source} Contacts to {target} Persons"
    text = (
        f"{'=' * len(title)}\n{title}\n{'=' * len(title)}\n\nGenerated: {generated}\n\n"
        "Introduction\n------------\n\n"
        f"This technical document provides a detailed overview of the Sesam Talk data flow from {source} to {target}.\n"
        "\n"
        f"{heading}\n{'-' * len(heading)}\n"
        f"Every {source} Contacts will be synchronized with a {target} Persons.\n\n"
    )
    if match:
        text += (
            f"A {source} Contacts will merge with a {target} Persons if one of the following property "
            "combinations match:\n\n.. list-table::\n   :header-rows: 1\n\n"
            f"   * - {source} Contacts Property\n     - {target} Persons Property\n"
        )
        for s, t in match:
            text += f"   * - {s}\n     - {t}\n"
        text += "\n"
    if two_way:
        text += (
            f"Once a link between a {source} Contacts and a {target} Persons is established, it will keep in sync "
            "between the two systems, regardless of where it is edited.\n\n"
        )
    text += (
        f"The following properties are synchronized between a {source} Contacts and a {target} Persons:\n\n"
        ".. list-table::\n   :header-rows: 1\n\n"
        f"   * - {source} Contacts Property\n     - {target} Persons Property\n     - {target} Data Type\n"
    )
    for s, t, ty in rows:
        text += f"   * - {s}\n     - {t}\n     - {ty}\n"
    return text


def text_hash(text: str) -> str:
    """The documented content hash, computed here: sha256 of the text without its ``Generated:`` line."""
    kept = [ln for ln in text.replace("\r\n", "\n").split("\n") if not re.match(r"^\s*Generated:", ln)]
    return hashlib.sha256("\n".join(kept).encode("utf-8")).hexdigest()


def run_generate(*args: str) -> Result:
    result = CliRunner().invoke(main, ["generate", *args])
    assert "Traceback" not in result.output, result.output
    return result


def run_generate_process(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
    """``talkqa generate`` in a fresh interpreter (its own hash seed, its own imports)."""
    return subprocess.run(
        [str(TALKQA), "generate", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd or REPO,
        timeout=600,
    )


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` (hidden ones too): bytes and modification time in ns."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) for p in files}


def module_namespace(text: str, name: str = "generated") -> dict[str, Any]:
    """Run a generated module's text (it imports pytest and talkqa.runtime.suite only)."""
    namespace: dict[str, Any] = {"__name__": name}
    exec(compile(text, f"<{name}>", "exec"), namespace)
    return namespace


#: The link checks the README promises per policy (how many; the ids are the generator's business).
#: Every policy but unknown adds clearing, collateral damage, case and whitespace, sparse records, conflicting
#: edits; always and merge_or_create also every-record-once (docs/generated-suite.md, checks beyond one value).
LINK_CHECKS_PER_POLICY = {"always": 3 + 6, "merge_or_create": 4 + 6, "link_required": 3 + 5, "conditional": 3 + 5,
                          "unknown": 1}


def assert_every_row_has_cases(document: dict[str, Any], cases: dict[str, list[dict[str, Any]]]) -> None:
    """No row of ``document`` (the model as plain data) is absent from ``cases``; nothing is invented.

    Mapping rows: forward, plus reverse when the flow is two-way. String rows: the same for fuzz.
    Match rules: a linking pair and a near-miss. Every flow: its policy's link checks. A case that
    cannot run says why: conditional rows, unknown and malformed types, flows with no policy.
    """
    from collections import Counter

    where = document["path"]
    expected: dict[str, Counter[tuple[Any, ...]]] = {k: Counter() for k in ("mapping", "fuzz", "match", "link")}
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    for index, flow in enumerate(document["flows"]):
        directions = ("forward", "reverse") if flow["two_way"] else ("forward",)
        for m in flow["mappings"]:
            rows[(index, m["line"])] = m
            for d in directions:
                expected["mapping"][(index, m["line"], d, m["source"], m["target"])] += 1
                if m["type"] == "string":
                    expected["fuzz"][(index, m["line"], d, m["source"], m["target"])] += 1
        for rule in flow["match"]:
            for check in ("links", "near-miss"):
                expected["match"][(index, rule["line"], check, rule["source"], rule["target"])] += 1
        expected["link"][(index, flow["line"])] += LINK_CHECKS_PER_POLICY[flow["policy"]]
    got = {
        "mapping": Counter((c["flow"], c["line"], c["direction"], c["source"], c["target"]) for c in cases["mapping"]),
        "fuzz": Counter((c["flow"], c["line"], c["direction"], c["source"], c["target"]) for c in cases["fuzz"]),
        "match": Counter((c["flow"], c["line"], c["check"], c["source"], c["target"]) for c in cases["match"]),
        "link": Counter((c["flow"], c["line"]) for c in cases["link"]),
    }
    for kind in expected:
        missing, extra = expected[kind] - got[kind], got[kind] - expected[kind]
        assert not missing and not extra, f"{where}: {kind} cases: missing {dict(missing)}, unexpected {dict(extra)}"
    for kind, group in cases.items():
        for c in group:
            flow = document["flows"][c["flow"]]
            assert c["document"] == where and c["flow_title"] == flow["title"], c["id"]
            if flow["policy"] == "unknown":
                assert c["skip"] and "no link policy" in c["skip"], f"{where}:{c['line']}: {c['id']}: {c['skip']!r}"
                continue
            if kind not in ("mapping", "fuzz"):
                continue
            row = rows[(c["flow"], c["line"])]
            if row["type"] == "other":
                assert c["skip"] and repr(row["raw_type"]) in c["skip"], f"{where}:{c['line']}: {c['skip']!r}"
            elif row["condition"] is not None:
                clauses = row["condition"]["clauses"]
                blank = len(clauses) != 1 or not clauses[0]["path"].strip() or not clauses[0]["value"].strip()
                if blank or c["direction"] == "reverse" or kind == "fuzz":
                    assert c["skip"] and c["skip"].startswith("conditional row"), f"{where}:{c['line']}: {c['skip']!r}"
                else:
                    assert c["skip"] is None, f"{where}:{c['line']}: a checkable conditional row is skipped"
            elif kind == "mapping":  # N/A and list rows too: checked in the kinds the fields have
                assert c["skip"] is None, f"{where}:{c['line']}: a checkable row is skipped: {c['skip']!r}"
