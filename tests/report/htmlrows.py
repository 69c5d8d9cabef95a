"""Reading a report back with ``html.parser``: rows, their states and their text."""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Row:
    attrs: dict[str, str]
    text: list[str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class ReportParser(HTMLParser):
    """Collects every ``<tr>`` (attributes and text) and every tag name and attribute seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[Row] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self._open: list[Row] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag == "tr":
            row = Row(a)
            self.rows.append(row)
            self._open.append(row)

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._open:
            self._open[-1].text.append(data)


def parse(page: str) -> ReportParser:
    p = ReportParser()
    p.feed(page)
    p.close()
    return p


def row_states(page: str) -> dict[int, str]:
    """data-line -> data-talkqa-state of every marked document row."""
    return {int(r.attrs["data-line"]): r.attrs["data-talkqa-state"]
            for r in parse(page).rows if "talkqa-row" in r.classes and "data-line" in r.attrs}


def detail_text(page: str, line: int) -> str:
    rows = [r for r in parse(page).rows if r.attrs.get("data-detail-for") == str(line)]
    return " ".join(" ".join("".join(r.text).split()) for r in rows)  # whitespace normalised
