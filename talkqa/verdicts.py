"""The one summariser: the verdict of every row, flow and run, from a run's results.

The terminal checklist (pytest plugin and ``talkqa check``), the exit code, the GitHub
annotations and the HTML report all read a run through :func:`summarise`. Its input is the
results JSON (:mod:`talkqa.runtime.results`): one entry per check, the documents' rows, the
findings and the settings of the run.

A row's state is the worst state of its checks: does not conform > pending > conforms >
not checkable; a row with no check at all is *not run*. A row, flow or run none of whose checks
was checked never shows the mark of one that conforms.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from talkqa.runtime.failures import Failure, Finding

Entry = dict[str, Any]

#: Worst first.
NOT_RUN = "not-run"
STATES = ("failed", "pending", NOT_RUN, "passed", "skipped")
SYMBOL = {"passed": "✓", "failed": "✗", "pending": "?", "skipped": "–", NOT_RUN: "·"}
WORD = {
    "passed": "conform",
    "failed": "do not conform",
    "pending": "pending",
    "skipped": "not checkable",
    NOT_RUN: "not run",
}
#: Checks of a document row (a property row or a match rule); the others (link) check the flow.
ROW_KINDS = ("mapping", "fuzz", "match")
#: How a backend is named in the checklist.
HOW = {"cassettes": "replayed from its cassettes", "simulators": "live on the simulators",
       "sandbox": "live on the configured systems"}
#: A check skipped because its system's API budget was spent (talkqa.runtime.budget): never green.
BUDGET_PREFIX = "not run: API budget of "
#: Failing rows shown with their details before the rest are only counted.
MAX_SHOWN = 40


def worst(states: Iterable[str]) -> str:
    present = set(states)
    return next((s for s in STATES if s in present), NOT_RUN)


def state_of(entry: Entry) -> str:
    """A check's state: its outcome, except that a check skipped because the API budget was spent was not
    run (never counted as not checkable, let alone as conforming)."""
    if entry["outcome"] == "skipped" and reason_of(entry).startswith(BUDGET_PREFIX):
        return NOT_RUN
    return str(entry["outcome"])


@dataclass
class RowVerdict:
    document: str
    flow: str
    line: int
    label: str
    checks: list[Entry] = field(default_factory=list)

    @property
    def state(self) -> str:
        return worst(state_of(e) for e in self.checks)


@dataclass
class FlowVerdict:
    document: str
    flow: str
    line: int
    rows: list[RowVerdict] = field(default_factory=list)
    checks: list[Entry] = field(default_factory=list)  # the flow's link-policy checks

    @property
    def state(self) -> str:
        return worst([r.state for r in self.rows if r.checks] + [state_of(e) for e in self.checks])

    def entries(self) -> list[Entry]:
        return [e for r in self.rows for e in r.checks] + self.checks


@dataclass
class Reason:
    state: str  # skipped | pending | not-run
    text: str
    count: int
    first: str  # document:line of the first check it applies to


@dataclass
class Summary:
    flows: list[FlowVerdict]
    findings: list[Finding]
    settings: dict[str, Any]

    # -- counts ---------------------------------------------------------------------------------
    def rows(self) -> list[RowVerdict]:
        return [r for f in self.flows for r in f.rows]

    def row_counts(self) -> Counter[str]:
        return Counter(r.state for r in self.rows())

    def check_counts(self) -> Counter[str]:
        return Counter(state_of(e) for f in self.flows for e in f.entries())

    def checked_rows(self) -> int:
        counts = self.row_counts()
        return counts["passed"] + counts["failed"]

    def checked_percent(self) -> float:
        total = len(self.rows())
        return 100.0 * self.checked_rows() / total if total else 0.0

    def anything_checked(self) -> bool:
        counts = self.check_counts()
        return bool(counts["passed"] or counts["failed"])

    def failures(self) -> list[Failure]:
        out = []
        for f in self.flows:
            for e in f.entries():
                if e["outcome"] == "failed":
                    out.append(failure_of(e))
        return out

    def reasons(self) -> list[Reason]:
        """Skip and pending reasons, grouped, most frequent first."""
        groups: dict[tuple[str, str], list[Entry]] = defaultdict(list)
        for f in self.flows:
            for e in f.entries():
                if state_of(e) in ("skipped", "pending", NOT_RUN):
                    groups[(state_of(e), reason_of(e))].append(e)
        out = [Reason(state, text, len(es), f"{es[0]['document']}:{es[0]['line']}")
               for (state, text), es in groups.items()]
        out.sort(key=lambda r: (r.state != "pending", -r.count, r.text))
        return out

    # -- the verdict ----------------------------------------------------------------------------
    def exit_code(self, *, strict: bool = False, min_checked: float | None = None) -> tuple[int, str]:
        """0 conforming, 1 a row does not conform (or pending with strict, or too little checked),
        5 nothing checked at all; with the sentence that says why."""
        counts = self.check_counts()
        if counts["failed"]:
            return 1, f"{counts['failed']} check(s) do not conform"
        if counts[NOT_RUN]:
            return 1, f"{counts[NOT_RUN]} check(s) not run: the API budget was spent (a partial run is not a pass)"
        if strict and counts["pending"]:
            return 1, f"{counts['pending']} check(s) pending and --strict"
        if not self.anything_checked():
            return 5, "nothing was checked (every check was skipped or pending): not a pass"
        if min_checked is not None and self.checked_percent() + 1e-9 < min_checked:
            total = len(self.rows())
            return 1, (f"only {self.checked_rows()} of {total} rows ({self.checked_percent():.1f}%) were checked, "
                       f"fewer than --min-checked {min_checked:g}%")
        return 0, "every checked row conforms"

    # -- output ---------------------------------------------------------------------------------
    def lines(self, *, details: bool = True) -> list[str]:
        """The checklist for a terminal: one line per flow, the rows that do not conform, grouped
        reasons, findings, totals. With ``details``, each failure's full record."""
        out: list[str] = []
        document = None
        shown = 0
        backends: dict[str, set[str]] = defaultdict(set)  # per document, where its checks ran
        for f in self.flows:
            backends[f.document] |= {e.get("backend") or "" for e in f.entries()} - {""}
        for f in self.flows:
            if f.document != document:
                document = f.document
                how = "; ".join(HOW.get(b, b) for b in sorted(backends[document])) or "not run"
                out.append(f"{document}  ({how})")
            out.append(f"  {SYMBOL[f.state]} {f.flow} (line {f.line}): {flow_counts(f)}")
            for r in f.rows:
                if r.state != "failed":
                    continue
                failing = [e for e in r.checks if e["outcome"] == "failed"]
                labels = ", ".join(check_label(e) for e in failing)
                out.append(f"      ✗ {r.document}:{r.line} {r.label} [{labels}]")
                shown += 1
                if details and shown <= MAX_SHOWN:
                    for e in failing:
                        out += ["          " + ln for ln in failure_of(e).render().splitlines()]
            for e in f.checks:
                if e["outcome"] == "failed":
                    out.append(f"      ✗ {e['document']}:{e['line']} {check_label(e)}")
                    shown += 1
                    if details and shown <= MAX_SHOWN:
                        out += ["          " + ln for ln in failure_of(e).render().splitlines()]
        if details and shown > MAX_SHOWN:
            out.append(f"  ({shown - MAX_SHOWN} more failures shown in one line each: the results JSON and the "
                       "HTML report have them all)")
        reasons = self.reasons()
        for state, title in (("pending", "pending"), (NOT_RUN, "not run"), ("skipped", "not checkable")):
            group = [r for r in reasons if r.state == state]
            if group:
                out.append(f"{title} ({sum(r.count for r in group)} checks, {len(group)} reason(s)):")
                for r in group[:12]:
                    out.append(f"  {r.count:>5}× (e.g. {r.first}) {r.text}")
                if len(group) > 12:
                    out.append(f"  {'':>5}  and {len(group) - 12} more reason(s) in the results JSON")
        if self.findings:
            out.append(f"findings ({len(self.findings)}):")
            out += [f"  {finding}" for finding in self.findings]
        out.append(self.totals_line())
        return out

    def totals_line(self) -> str:
        rows = self.row_counts()
        checks = self.check_counts()
        total = len(self.rows())
        row_part = ", ".join(f"{rows[s]} {WORD[s]}" for s in ("passed", "failed", "skipped", "pending", NOT_RUN)
                             if rows[s] or s in ("passed", "failed"))
        check_part = ", ".join(f"{checks[s]} {WORD[s]}" for s in ("passed", "failed", "skipped", "pending", NOT_RUN)
                               if checks[s] or s in ("passed", "failed"))
        return (f"rows: {self.checked_rows()} of {total} checked ({row_part}); "
                f"checks: {check_part}")

    def annotations(self) -> list[str]:
        """GitHub Actions workflow commands: an error per check that does not conform, a warning per
        finding, on the document row."""
        out = []
        for failure in self.failures():
            title = f"{failure.flow}: {failure.row} [{failure.direction}]"
            body = failure.render()
            where = f"file={_prop(failure.document)},line={failure.line},title={_prop(title)}"
            out.append(f"::error {where}::{_data(body)}")
        for finding in self.findings:
            out.append(f"::warning file={_prop(finding.document)},line={finding.line}::{_data(finding.message)}")
        return out


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def flow_counts(f: FlowVerdict) -> str:
    """``7 of 7 rows conform · forward 7/7, reverse 7/7, fuzz 14/14, links 3/3`` (conforming/checked)."""
    rows = Counter(r.state for r in f.rows)
    parts = []
    if f.rows:
        head = f"{rows['passed']} of {len(f.rows)} rows conform"
        extra = [f"{rows[s]} {WORD[s]}" for s in ("failed", "pending", "skipped", NOT_RUN) if rows[s]]
        parts.append(head + (f", {', '.join(extra)}" if extra else ""))
    else:
        parts.append("no property rows")
    cells = []
    entries = f.entries()
    for label, kinds, direction in (("forward", ("mapping",), "forward"), ("reverse", ("mapping",), "reverse"),
                                    ("fuzz", ("fuzz",), None), ("match", ("match",), None),
                                    ("links", ("link",), None)):
        group = [e for e in entries if e["kind"] in kinds and (direction is None or e["direction"] == direction)]
        if group:
            ok = sum(e["outcome"] == "passed" for e in group)
            checked = sum(e["outcome"] in ("passed", "failed") for e in group)
            cells.append(f"{label} {ok}/{checked}")
    return parts[0] + (" · " + ", ".join(cells) if cells else "")


def check_label(entry: Entry) -> str:
    """A short name for one check within its row or flow: ``forward``, ``fuzz →``, ``edit-keeps-link`` ..."""
    kind, direction = entry.get("kind", ""), entry.get("direction", "")
    if kind == "fuzz":
        return f"fuzz {({'forward': '→', 'reverse': '←'}).get(direction, direction)}"
    if kind in ("link", "match"):
        return entry.get("check") or entry.get("case_id", kind)
    return direction or kind


def reason_of(entry: Entry) -> str:
    return (entry.get("reason") or entry.get("message") or "(no reason given)").strip().splitlines()[0]


def failure_of(entry: Entry) -> Failure:
    data = entry.get("failure")
    if isinstance(data, Mapping):
        return Failure.from_json(dict(data))
    # a failure the plugin could not record as data (a crash outside the check): its text as is
    return Failure(kind="error", document=entry["document"], line=entry["line"], flow=entry.get("flow", ""),
                   row=entry.get("case_id", ""), direction=entry.get("direction", ""),
                   message=entry.get("message") or "(no message)")


def summarise(entries: Sequence[Entry], documents: Sequence[Mapping[str, Any]] = (),
              findings: Sequence[Mapping[str, Any]] = (), settings: Mapping[str, Any] | None = None) -> Summary:
    """The verdicts of a run. ``documents`` (the results' ``documents``) lists every row, so rows no
    check reached count as not run; without it, rows are known from the checks only."""
    flows: dict[tuple[str, str], FlowVerdict] = {}
    rows: dict[tuple[str, str, int], RowVerdict] = {}
    placed: set[tuple[str, str]] = set()  # flows whose heading line the documents give
    for doc in documents:
        for flow in doc.get("flows", []):
            fv = flows.setdefault((doc["path"], flow["title"]),
                                  FlowVerdict(doc["path"], flow["title"], int(flow.get("line", 0))))
            placed.add((doc["path"], flow["title"]))
            for row in flow.get("rows", []):
                key = (doc["path"], flow["title"], int(row["line"]))
                if key not in rows:
                    rows[key] = RowVerdict(doc["path"], flow["title"], int(row["line"]), row.get("label", ""))
                    fv.rows.append(rows[key])
    for e in entries:
        fv = flows.get((e["document"], e["flow"]))
        if fv is None:
            fv = flows[(e["document"], e["flow"])] = FlowVerdict(e["document"], e["flow"], e["line"])
        if e["kind"] in ROW_KINDS:
            key = (e["document"], e["flow"], e["line"])
            if key not in rows:
                label = e.get("row") or e.get("case_id", "").split("[", 1)[0].replace("<-", "->")
                rows[key] = RowVerdict(e["document"], e["flow"], e["line"], label)
                fv.rows.append(rows[key])
            rows[key].checks.append(e)
        else:
            fv.checks.append(e)
    for key, fv in flows.items():
        if key not in placed:
            lines = [e["line"] for e in fv.checks] or [r.line for r in fv.rows]
            fv.line = min(lines, default=fv.line)
        fv.rows.sort(key=lambda r: r.line)
        fv.checks.sort(key=lambda e: (e["line"], e.get("case_id", "")))
        for r in fv.rows:
            r.checks.sort(key=check_order)
    seen: set[Finding] = set()
    found: list[Finding] = []
    for item in findings:
        finding = Finding(str(item["document"]), int(item["line"]), str(item["message"]))
        if finding not in seen:
            seen.add(finding)
            found.append(finding)
    found.sort(key=lambda x: (x.document, x.line, x.message))
    ordered = sorted(flows.values(), key=lambda f: (f.document, f.line, f.flow))
    return Summary(ordered, found, dict(settings or {}))


def check_order(entry: Entry) -> tuple[int, str]:
    order = {("mapping", "forward"): 0, ("mapping", "reverse"): 1, ("fuzz", "forward"): 2, ("fuzz", "reverse"): 3}
    return order.get((entry.get("kind", ""), entry.get("direction", "")), 9), entry.get("case_id", "")


def summarise_run(run: Mapping[str, Any]) -> Summary:
    """:func:`summarise` over a loaded results JSON (:func:`talkqa.runtime.results.load_run`)."""
    return summarise(run.get("outcomes", []), run.get("documents", []), run.get("findings", []),
                     run.get("settings", {}))
