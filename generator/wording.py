"""The vendor's sentences, as regular expressions over one sentence of a paragraph.

docutils does the reStructuredText work; these patterns only read the wording
inside paragraphs. Whitespace is normalised (runs collapse to one space) before
matching, since the generator writes ``a  Contacts`` when a system name is blank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_A = r"(?:an?|the)"  # the generator writes "a" even before vowels; accept "an"/"the" too

EVERY = re.compile(rf"^Every (?P<a>.+?) will be synchronized with {_A} ?(?P<b>.*?)\.$")
MERGED = re.compile(
    rf"^If {_A} matching (?P<b>.*?) already exists, the (?P<a>.+?) will be merged with the existing one\.$"
)
NO_MATCH_CREATE = re.compile(rf"^If no matching (?P<b>.*?) is found, {_A} new (?P<b2>.*?) will be created\.$")
LINK_REQUIRED = re.compile(
    rf"^Before any synchronization can take place, a link between {_A} (?P<a>.+?) and {_A} ?(?P<b>.*?) "
    r"must be established\.$"
)
MATCH_INTRO = re.compile(
    rf"^{_A} (?P<a>.+?) will merge with {_A} ?(?P<b>.*?) if one of the following property combinations match:$",
    re.IGNORECASE,
)
CREATED_FROM = re.compile(
    rf"^{_A} new (?P<b>.*?) will be created from {_A} (?P<a>.+?) if it is connected to {_A} (?P<list>.+?) "
    r"that is synchronized into ?(?P<system>.*?)\.$",
    re.IGNORECASE,
)
TWO_WAY = re.compile(
    rf"^Once a link between {_A} (?P<a>.+?) and {_A} ?(?P<b>.*?) is established, it will keep in sync "
    r"between the two systems, regardless of where it is edited\.$"
)
ONE_WAY = re.compile(
    rf"^Once a link between {_A} (?P<a>.+?) and {_A} ?(?P<b>.*?) is established, it will keep in sync"
    r"(?! between the two systems, regardless).*\.$"
)
MAPPING_INTRO = re.compile(
    rf"^The following properties are synchronized between {_A} (?P<a>.+?) and {_A} ?(?P<b>.*?):$"
)
WHEN = re.compile(rf"^(?P<cond>When .+?),? it will be synchronized with {_A} ?(?P<b>.*?)\.$")
FREE_CONDITION = re.compile(rf"^(?P<cond>.+?),? it will be synchronized with {_A} ?(?P<b>.*?)\.$")

GENERATED = re.compile(r"^Generated:\s*(?P<stamp>.*?)\s*$")
INTRO_SENTENCES = (
    re.compile(r"^This technical document provides a detailed overview of the Sesam Talk data flow from .*\.$"),
    re.compile(r"^It serves as a QA checklist for testing purposes\b.*\.$"),
    re.compile(r"^The content contains confidential information\b.*\.$"),
    re.compile(r"^Introduction\.?$"),
)

DOC_TITLE = re.compile(r"^(?P<a>.*?) to ?(?P<b>.*?) ?Dataflow$")
CONDITION_CLAUSE = re.compile(
    r"Dependant on having (?P<value>\S*?)\s*(?<!\S)in\b\s*(?P<path>.*?)\s*(?=Dependant on having|$)"
)
CELL_CONDITION = re.compile(r"^(?P<path>.*?)\s*\((?P<text>Dependant on having .*)\)\s*$", re.DOTALL)
QUALIFIER = re.compile(r"\s*\((?P<q>[^()]*)\)\s*$")

# A sentence ends at ". " or ": " followed by a capital or by the end; names such as "Wix.com"
# have no space after their dot, and "100% probability" keeps its words.
_SENTENCE_END = re.compile(r"(?<=[.:])\s+(?=[A-Z(])")


def normalise_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def sentences(paragraph: str) -> list[str]:
    """Split a paragraph into sentences; whitespace normalised."""
    return [s for s in _SENTENCE_END.split(normalise_space(paragraph)) if s]


@dataclass(frozen=True)
class CellCondition:
    path: str
    text: str
    clauses: tuple[tuple[str, str], ...]


def split_cell_condition(cell: str) -> CellCondition | None:
    """``"x.y (Dependant on having NO in a.b)"`` -> path ``x.y`` with clause (``NO``, ``a.b``)."""
    m = CELL_CONDITION.match(cell)
    if not m:
        return None
    text = m.group("text")
    clauses = tuple((c.group("value"), c.group("path").strip()) for c in CONDITION_CLAUSE.finditer(text))
    return CellCondition(path=m.group("path").strip(), text=text, clauses=clauses)
