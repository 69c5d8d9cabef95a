"""Small PowerOffice Go -> Exact documents in the vendor's format (parsed by the real parser)."""

from __future__ import annotations

from pathlib import Path

INTRO = """\
=================================
Powerofficego to Exact Dataflow
=================================

Generated: 2024-08-29 10:35:42

Introduction
------------

This technical document provides a detailed overview of the Sesam Talk data flow from Powerofficego to Exact.

"""

CONTACTPERSON_ROWS = [
    ("firstName", "FirstName"),
    ("lastName", "LastName"),
    ("city", "City"),
    ("emailAddress", "Email"),
]


def flow(
    source: str,
    target: str,
    rows: list[tuple[str, str]],
    *,
    two_way: bool = True,
    match: list[tuple[str, str]] | None = None,
) -> str:
    a, b = f"Powerofficego {source}", f"Exact {target}"
    title = f"{a} to {b}"
    out = [title, "-" * len(title)]
    if match:
        out += [
            f"Every {a} will be synchronized with a {b}. If a matching {b} already exists, the {a} will be "
            f"merged with the existing one. If no matching {b} is found, a new {b} will be created.",
            "",
            f"A {a} will merge with a {b} if one of the following property combinations match:",
            "",
            ".. list-table::",
            "   :header-rows: 1",
            "",
            f"   * - {a} Property",
            f"     - {b} Property",
        ]
        for s, t in match:
            out += [f"   * - {s}", f"     - {t}"]
    else:
        out.append(f"Every {a} will be synchronized with a {b}.")
    out.append("")
    if two_way:
        out += [
            f"Once a link between a {a} and a {b} is established, it will keep in sync between the two systems, "
            "regardless of where it is edited.",
            "",
        ]
    out += [
        f"The following properties are synchronized between a {a} and a {b}:",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
        f"   * - {a} Property",
        f"     - {b} Property",
        "     - Exact Data Type",
    ]
    for s, t in rows:
        out += [f"   * - {s}", f"     - {t}", '     - "string"']
    return "\n".join(out) + "\n\n"


def write(folder: Path, *flows: str, name: str = "powerofficego-exact.rst") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(INTRO + "".join(flows), encoding="utf-8")
    return path
