"""Small dataflow documents in the vendor's format, for sync scenarios (parsed by the real parser)."""

from __future__ import annotations

from generator.model import Document
from generator.parser import parse_text

INTRO = """\
===========================
Alpha to Beta Dataflow
===========================

Generated: 2024-01-01 00:00:00

Introduction
------------

This technical document provides a detailed overview of the Sesam Talk data flow from Alpha to Beta.

"""

POLICY_SENTENCES = {
    "always": "Every Alpha {a} will be synchronized with a Beta {b}.",
    "merge_or_create": (
        "Every Alpha {a} will be synchronized with a Beta {b}. If a matching Beta {b} already exists, the "
        "Alpha {a} will be merged with the existing one. If no matching Beta {b} is found, a new Beta {b} "
        "will be created."
    ),
    "link_required": "Before any synchronization can take place, a link between a Alpha {a} and a Beta {b} "
    "must be established.",
    "conditional": "When a Alpha {a} is active, it will be synchronized with a Beta {b}.",
}


def flow_text(
    a: str,
    b: str,
    rows: list[tuple[str, str]],
    *,
    policy: str = "always",
    two_way: bool = True,
    match: list[tuple[str, str]] | None = None,
) -> str:
    title = f"Alpha {a} to Beta {b}"
    out = [title, "-" * len(title), POLICY_SENTENCES[policy].format(a=a, b=b), ""]
    if match:
        out += [
            f"A Alpha {a} will merge with a Beta {b} if one of the following property combinations match:",
            "",
            ".. list-table::",
            "   :header-rows: 1",
            "",
            f"   * - Alpha {a} Property",
            f"     - Beta {b} Property",
        ]
        for s, t in match:
            out += [f"   * - {s}", f"     - {t}"]
        out.append("")
    if two_way:
        out += [
            f"Once a link between a Alpha {a} and a Beta {b} is established, it will keep in sync between the "
            "two systems, regardless of where it is edited.",
            "",
        ]
    out += [
        f"The following properties are synchronized between a Alpha {a} and a Beta {b}:",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
        f"   * - Alpha {a} Property",
        f"     - Beta {b} Property",
        "     - Beta Data Type",
    ]
    for s, t in rows:
        out += [f"   * - {s}", f"     - {t}", '     - "string"']
    return "\n".join(out) + "\n\n"


def document(*flows: str) -> Document:
    return parse_text(INTRO + "".join(flows), "alpha-beta.rst")
