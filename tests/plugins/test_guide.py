"""docs/systems.md stays the reference: it lists what the code has, read from the code.

* every key of a profile (``talkqa.systems.generic.profile.Profile``) with its default, and every
  ``[conventions]`` key with its default;
* every member of the plugin interfaces (``SystemPlugin``, ``SimulatorHandle``, ``SystemSession``);
* the reasons a case is skipped: every message the generator (``generator/cases.py``) and the runtime
  (``Unsupported`` in ``talkqa/runtime/``) can give is in the guide's two tables, and every reason in
  the tables is one of them (``{...}`` stands for what a message fills in).
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from talkqa.sync.predicates import WORDINGS, Conventions
from talkqa.systems.base import SimulatorHandle, SystemPlugin, SystemSession
from talkqa.systems.generic.profile import DEFAULT, Profile

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "systems.md").read_text(encoding="utf-8")
#: Profile fields that are tables of the file, documented as tables, not as keys
TABLES = {"entity_paths": "[entities.", "required": "required", "field_names": "[fields]",
          "predicates": "[predicates.", "conventions": "[conventions]"}


def section(title: str) -> str:
    start = GUIDE.index(f"\n## {title}\n")
    end = GUIDE.find("\n## ", start + 1)
    return GUIDE[start:end if end > 0 else None]


def toml(value: object) -> str:
    if isinstance(value, tuple):
        return "[]" if not value else repr(list(value))
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Profile) if f.name != "file"])
def test_every_profile_key_is_documented_with_its_default(name: str) -> None:
    profiles = section("Profiles")
    if name in TABLES:
        assert TABLES[name] in profiles
        return
    row = re.search(rf"^\| `{name}` \| (.+?) \|", profiles, re.M)
    assert row, f"docs/systems.md, Profiles: no row for {name}"
    if name != "slug":
        assert row.group(1) == f"`{toml(getattr(DEFAULT, name))}`", (name, row.group(1))


def test_every_convention_is_documented_with_its_default() -> None:
    conditions = section("Conditions")
    for f in dataclasses.fields(Conventions):
        assert f"`{f.name}` (`{f.default}`)" in conditions, f.name
    assert conditions.count("\n| \"") == len(WORDINGS)  # one row per wording


@pytest.mark.parametrize("cls", [SystemPlugin, SimulatorHandle, SystemSession], ids=lambda c: c.__name__)
def test_every_member_of_the_plugin_interfaces_is_documented(cls: type) -> None:
    plugin_section = section("Adding a system as a plugin")
    members = [n for n, v in vars(cls).items() if not n.startswith("_") and (callable(v) or n in ("slug", "title"))]
    assert members
    for name in members:
        assert f"`{name}`" in plugin_section or f"`{name}(" in plugin_section, f"{cls.__name__}.{name}"


# -- the reasons a case is not checked ------------------------------------------------------------------


#: what a message fills in: ``{path!r}`` in the guide, or words (``{why}``: "has no field", "cannot write the field")
PLACEHOLDER = r"(?:\{[^`{}]+\}|[^`{}]+)"


def _pattern(node: ast.expr, constants: dict[str, ast.expr]) -> str | None:
    """A regex for the message ``node`` builds: text as it is, each ``{...}`` as any placeholder."""
    if isinstance(node, ast.Name) and node.id in constants:
        node = constants[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.escape(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(re.escape(p.value) if isinstance(p, ast.Constant) else PLACEHOLDER for p in node.values)
    return None


def _module(path: Path) -> tuple[ast.Module, dict[str, ast.expr]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = {t.id: n.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
                 if isinstance(t, ast.Name)}
    return tree, constants


def generation_reasons() -> list[str]:
    tree, constants = _module(ROOT / "generator" / "cases.py")
    found = [_pattern(constants["NOT_REVERSE_ROW"], constants)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "skip" for t in node.targets):
            found.append(_pattern(node.value, constants))
        if isinstance(node, ast.FunctionDef) and node.name in ("_row_skip", "_flow_skip"):
            found += [_pattern(r.value, constants) for r in ast.walk(node) if isinstance(r, ast.Return) and r.value]
    return sorted({p for p in found if p})


def runtime_reasons() -> list[str]:
    found: list[str | None] = []
    for path in sorted((ROOT / "talkqa" / "runtime").glob("*.py")):
        tree, constants = _module(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Unsupported" \
                    and node.args:
                found.append(_pattern(node.args[0], constants))
            if isinstance(node, ast.FunctionDef) and node.name == "incompatibility":  # raised as Unsupported(why)
                found += [_pattern(r.value, constants) for r in ast.walk(node)
                          if isinstance(r, ast.Return) and isinstance(r.value, ast.JoinedStr)]
    return sorted({p for p in found if p})


def documented(table: str) -> list[str]:
    """The reasons of one of the guide's tables (their first column)."""
    reasons = section("Rows that are not checked")
    start = reasons.index(table)
    block = reasons[start:reasons.find("\n\n", reasons.index("| --- |", start))]
    return [m.group(1) for m in re.finditer(r"^\| `(.+?)`(?:, `(.+?)`)? \|", block, re.M)] + [
        m.group(2) for m in re.finditer(r"^\| `(.+?)`, `(.+?)` \|", block, re.M)]


def test_the_code_gives_reasons_and_the_reader_finds_them() -> None:
    assert len(generation_reasons()) == 9
    assert len(runtime_reasons()) >= 20
    assert len(documented("Decided when the suite is generated")) == 9


@pytest.mark.parametrize(("table", "reasons"), [
    ("Decided when the suite is generated", generation_reasons()),
    ("Decided when the test runs", runtime_reasons()),
], ids=["generation", "run time"])
def test_every_reason_is_in_the_guide_and_nothing_else(table: str, reasons: list[str]) -> None:
    listed = documented(table)
    if table.startswith("Decided when the test runs"):  # the blank-condition reason is listed once, above
        listed += documented("Decided when the suite is generated")
    missing = [r for r in reasons if not any(re.fullmatch(r, text) for text in listed)]
    assert not missing, "not in docs/systems.md: " + "\n".join(missing)
    unknown = [text for text in documented(table) if not any(re.fullmatch(r, text) for r in reasons)]
    assert not unknown, "in docs/systems.md but given by no code: " + "\n".join(unknown)
