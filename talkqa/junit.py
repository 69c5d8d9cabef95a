"""JUnit XML from a results JSON: what ``talkqa merge --junit`` writes for shards' joined results.

The same shape pytest's ``--junitxml`` (xunit1) gives a single run: one test case per check, its
``file`` and ``line`` at the document row (0-based, as pytest writes it), the row's properties, a
``failure`` with the failure record's message, a ``skipped`` with the reason.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from talkqa.files import atomic_write
from talkqa.runtime.failures import FINDING_KEY
from talkqa.verdicts import failure_of

PROPERTIES = ("document", "line", "flow", "kind", "direction", "case_id", "row", "check", "backend")


def junit_xml(run: Mapping[str, Any]) -> str:
    outcomes = list(run.get("outcomes", []))
    counts = Counter(e["outcome"] for e in outcomes)
    suite = ET.Element("testsuite", {
        "name": "talkqa", "tests": str(len(outcomes)), "failures": str(counts["failed"]), "errors": "0",
        "skipped": str(counts["skipped"] + counts["pending"]),
        "time": f"{sum(float(e.get('duration') or 0) for e in outcomes):.3f}",
    })
    findings: dict[tuple[str, int], list[Any]] = {}
    for f in run.get("findings", []):
        findings.setdefault((f["document"], int(f["line"])), []).append(f)
    for e in outcomes:
        module, _, name = str(e.get("nodeid", "")).partition("::")
        case = ET.SubElement(suite, "testcase", {
            "classname": module.removesuffix(".py").replace("/", "."), "name": name or e.get("case_id", ""),
            "file": e["document"], "line": str(max(int(e["line"]) - 1, 0)),
            "time": f"{float(e.get('duration') or 0):.3f}",
        })
        props = ET.SubElement(case, "properties")
        for key in PROPERTIES:
            if e.get(key) not in (None, ""):
                ET.SubElement(props, "property", {"name": key, "value": str(e[key])})
        for f in findings.get((e["document"], int(e["line"])), []) if e["kind"] == "fuzz" else []:
            # as the plugin records it under pytest's --junitxml: on the fuzz test that found it
            ET.SubElement(props, "property", {"name": FINDING_KEY, "value": json.dumps(f, ensure_ascii=False)})
        if e["outcome"] == "failed":
            failure = failure_of(e)
            node = ET.SubElement(case, "failure", {"message": failure.headline, "type": failure.kind})
            node.text = failure.render()
        elif e["outcome"] in ("skipped", "pending"):
            node = ET.SubElement(case, "skipped", {"message": e.get("reason") or e.get("message") or e["outcome"],
                                                   "type": "pytest.skip"})
    root = ET.Element("testsuites")
    root.append(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(run: Mapping[str, Any], path: str | Path) -> None:
    atomic_write(path, junit_xml(run), fsync=False)
