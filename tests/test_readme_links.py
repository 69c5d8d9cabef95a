"""Every relative link in README.md and docs/*.md reaches a file, and every #anchor a heading of it.

Links are read the way GitHub renders Markdown: ``[text](target)`` and ``[label]: target`` outside
fenced code blocks and inline code; an anchor is the GitHub slug of a heading (lower case,
punctuation other than ``-`` and ``_`` dropped, spaces to ``-``, ``-1``, ``-2``... for repeats) or an
explicit ``<a id="...">``. External links (``http:``, ``https:``, ``mailto:``) are not followed.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
INLINE_LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"<a\s+(?:[^>]*\s)?(?:id|name)=\"([^\"]+)\"", re.IGNORECASE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every line outside fenced code blocks, inline code removed."""
    out = []
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            out.append((number, INLINE_CODE.sub("", line)))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text."""
    parts = re.split(r"(`[^`]*`)", heading)  # code spans keep their text, <...> included
    text = "".join(
        part[1:-1] if part.startswith("`") else re.sub(r"<[^>]+>", "", re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", part))
        for part in parts
    )
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    text = page.read_text(encoding="utf-8")
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        found.update(HTML_ANCHOR.findall(line))
        match = HEADING.match(line)
        if match:
            base = slug(match.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
    return found


def links(page: Path) -> list[tuple[int, str]]:
    out = []
    for number, line in prose_lines(page.read_text(encoding="utf-8")):
        out += [(number, target) for target in INLINE_LINK.findall(line)]
        definition = REFERENCE_DEF.match(line)
        if definition:
            out.append((number, definition.group(1)))
    return out


def broken(page: Path, root: Path = ROOT) -> list[str]:
    problems = []
    for number, target in links(page):
        if not target or EXTERNAL.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        where = f"{page.relative_to(root)}:{number}: {target}"
        dest = (page.parent / unquote(path_part)).resolve() if path_part else page
        if not dest.exists():
            problems.append(f"{where}: no such file {dest}")
            continue
        if anchor:
            if dest.suffix != ".md" or not dest.is_file():
                problems.append(f"{where}: an anchor into something that is not a Markdown file")
            elif unquote(anchor) not in anchors(dest):
                problems.append(f"{where}: no heading with anchor #{anchor} in {dest.relative_to(root)}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    problems = broken(page)
    assert not problems, "\n".join(problems)


def test_readme_links_every_doc() -> None:
    """The README is the front door: it links every page under docs/."""
    targets = {(ROOT / t.partition("#")[0]).resolve() for _, t in links(ROOT / "README.md") if not EXTERNAL.match(t)}
    missing = [p.name for p in sorted((ROOT / "docs").glob("*.md")) if p.resolve() not in targets]
    assert not missing, f"README.md does not link: {missing}"


def test_the_checker_sees_what_github_sees(tmp_path: Path) -> None:
    """The slugs and the link reading themselves, on a page written here."""
    assert slug("7. Settings: `TALKQA_<SLUG>_*` and the target tenant") == (
        "7-settings-talkqa_slug_-and-the-target-tenant"
    )
    assert slug("Who serves a (system, entity)") == "who-serves-a-system-entity"
    assert slug("4. Exact's single-use refresh tokens") == "4-exacts-single-use-refresh-tokens"
    assert slug("Measured on the seed document (`spec/powerofficego-exact.rst`)") == (
        "measured-on-the-seed-document-specpowerofficego-exactrst"
    )
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "a.md"
    (tmp_path / "docs" / "b.md").write_text("# Title\n\n## Same\n\n## Same\n", encoding="utf-8")
    page.write_text(
        "# A\n\n[ok](b.md#same-1) [gone](c.md) [bad](b.md#nope) [self](#a) [web](https://x.invalid/y)\n"
        "`[in code](missing.md)`\n\n```\n[in a fence](missing.md)\n```\n[ref]: b.md#title\n",
        encoding="utf-8",
    )
    found = [t for _, t in links(page)]
    assert found == ["b.md#same-1", "c.md", "b.md#nope", "#a", "https://x.invalid/y", "b.md#title"]
    problems = broken(page, root=tmp_path)
    assert len(problems) == 2, problems
    assert "c.md" in problems[0] and "#nope" in problems[1]
