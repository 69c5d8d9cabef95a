"""Systems stay in their plugins (docs/systems.md): the generator, the runtime and the reference sync
never name a shipped system, and connectors and simulators are independent of each other.

Read from the source with ``ast`` (comments are not in the tree; docstrings and other bare string
statements are documentation and are left out), never by importing the modules.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from talkqa.systems import registry

ROOT = Path(__file__).resolve().parents[2]
NEUTRAL = ("generator", "talkqa/runtime", "talkqa/sync")
#: the shipped plugins' slugs and names, lower case, without spaces
NAMES = frozenset({"exact", "powerofficego", "poweroffice", "exactonline"})


def _words(text: str) -> list[str]:
    """``EXACT_DATE`` -> exact, date; ``PowerOfficeConfig`` -> power, office, config; ``exactly`` -> exactly."""
    return [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+", text)]


def named_systems(text: str) -> set[str]:
    """The names of :data:`NAMES` that ``text`` spells as whole words (runs of words joined)."""
    words = _words(text)
    found = set()
    for i in range(len(words)):
        joined = ""
        for word in words[i:i + 3]:
            joined += word
            if joined in NAMES:
                found.add(joined)
    return found


def _documentation(tree: ast.AST) -> set[int]:
    """ids of the string constants that are documentation: every bare string statement."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }


def code_names(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of every identifier, imported module and string literal of ``source`` that is code."""
    tree = ast.parse(source)
    docs = _documentation(tree)
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            yield line, node.value
        elif isinstance(node, ast.Name):
            yield line, node.id
        elif isinstance(node, ast.Attribute):
            yield line, node.attr
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield line, node.name
        elif isinstance(node, ast.arg | ast.keyword) and node.arg:
            yield line, node.arg
        elif isinstance(node, ast.alias):
            yield line, node.name + " " + (node.asname or "")
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield line, node.module


def _neutral_files() -> list[Path]:
    files: list[Path] = []
    for folder in NEUTRAL:
        files += sorted((ROOT / folder).rglob("*.py")) + sorted((ROOT / folder).rglob("*.j2"))
    return files


def test_the_names_cover_every_shipped_plugin() -> None:
    shipped = {slug: p for slug, p in registry.plugins().items() if type(p).__module__.startswith("talkqa.systems.")}
    assert set(shipped) == {"exact", "powerofficego"}
    for slug, plugin in shipped.items():
        assert slug in NAMES
        assert named_systems(plugin.title), plugin.title


def test_the_word_finder() -> None:
    assert named_systems("EXACT_DATE") == {"exact"}
    assert named_systems("PowerOfficeConfig") == {"poweroffice"}
    assert named_systems("talkqa.connectors.poweroffice") == {"poweroffice"}
    assert named_systems("Exact Online") == {"exact", "exactonline"}
    assert named_systems("powerofficego-exact") == {"powerofficego", "exact"}
    assert named_systems("exactly one linked target") == set()
    assert named_systems("power_office_go") == {"poweroffice", "powerofficego"}
    assert named_systems("Power Office") == {"poweroffice"}


def test_the_name_reader_skips_comments_and_docstrings() -> None:
    source = (
        '"""Module doc: PowerOffice Go."""\n'
        "# Exact Online, in a comment\n"
        "def sync(flow):\n"
        '    """Function doc: exact."""\n'
        "    slug = flow.system  # exact\n"
        "    return slug == 'exact' or EXACT_DATE or check(system='poweroffice')\n"
    )
    hits = sorted({(line, text) for line, text in code_names(source) if named_systems(text)})
    assert hits == [(6, "EXACT_DATE"), (6, "exact"), (6, "poweroffice")]


@pytest.mark.parametrize("path", _neutral_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_neutral_module_names_a_system(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".j2":
        hits = [(n + 1, line) for n, line in enumerate(re.sub(r"\{#.*?#\}", "", text, flags=re.S).splitlines())
                if named_systems(line)]
    else:
        hits = [(line, name) for line, name in code_names(text) if named_systems(name)]
    assert not hits, "\n".join(f"{path.relative_to(ROOT)}:{line}: names a system: {name!r}" for line, name in hits)


def imports_of(source: str, package: str) -> list[tuple[int, str]]:
    """(line, module) of every import in ``source``, at any depth (function-level and TYPE_CHECKING too),
    relative imports resolved against ``package``; ``from a import b`` gives ``a.b``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def imports(path: Path) -> list[tuple[int, str]]:
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    return imports_of(path.read_text(encoding="utf-8"), package)


#: imports across the line today; each is xfailed (strict) until it is gone (none left: the field specs
#: moved to talkqa.fields and the systems' packages)
KNOWN: dict[str, str] = {}


def _boundary_cases() -> list[object]:
    cases: list[object] = []
    for mine, other in (("connectors", "simulators"), ("simulators", "connectors")):
        for path in sorted((ROOT / "talkqa" / mine).rglob("*.py")):
            rel = str(path.relative_to(ROOT))
            marks = [pytest.mark.xfail(reason=f"{rel} {KNOWN[rel]}", strict=True)] if rel in KNOWN else []
            cases.append(pytest.param(path, f"talkqa.{other}", id=rel, marks=marks))
    return cases


@pytest.mark.parametrize(("path", "forbidden"), _boundary_cases())
def test_connectors_and_simulators_do_not_import_each_other(path: Path, forbidden: str) -> None:
    crossing = [(line, module) for line, module in imports(path)
                if module == forbidden or module.startswith(forbidden + ".")]
    assert not crossing, "\n".join(f"{path.relative_to(ROOT)}:{line}: imports {module}" for line, module in crossing)


def test_the_import_reader_sees_relative_and_nested_imports() -> None:
    source = ("from ..simulators import fields\nfrom . import http\nimport httpx\n"
              "def f():\n    import talkqa.simulators.core\n")
    assert imports_of(source, "talkqa.connectors") == [
        (1, "talkqa.simulators.fields"), (2, "talkqa.connectors.http"), (3, "httpx"), (5, "talkqa.simulators.core"),
    ]
