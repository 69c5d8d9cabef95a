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
