"""The checklist report: one self-contained HTML file from a run's results JSON.

``write_report(results_path, html_path)`` renders every document named in the results (or the
``documents`` given) with docutils, marks each table row passed / failed / skipped / pending /
not run with its reasons, and puts a summary per flow at the top. No scripts, no external
stylesheets, fonts or images: the file reads the same offline and printed.
"""
from __future__ import annotations

import datetime as dt
import html
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from generator.errors import SpecError
from generator.parser import decode
from generator.rst import NestingTooDeep
from talkqa.files import atomic_write
from talkqa.report.inputs import load_findings, load_results, read_source
from talkqa.report.model import (
    COLUMNS,
    NOT_RUN,
    SYMBOL,
    WORD,
    Entry,
    check_label,
    flow_summaries,
    totals,
    worst,
)
from talkqa.report.render import Rendered, anchor, render_document
from talkqa.report.style import CSS
from talkqa.verdicts import failure_of

__all__ = ["build_report", "write_report"]


def write_report(
    results_path: str | Path,
    html_path: str | Path,
    documents: Sequence[str | Path] | None = None,
    root: str | Path | None = None,
    refused: list[SpecError] | None = None,
) -> Path:
    """Write the report of ``results_path`` to ``html_path``; return the path written.

    ``documents``: the documents to show (default: every document the results name). With a
    ``root``, documents are read only from under it (relative names are relative to it; see
    :func:`talkqa.report.inputs.read_source`); without one (``talkqa check``, whose results name
    the documents it was given) they are read where they are named. Each document that is not
    read is noted in the report and, when ``refused`` is given, appended to it; so is a results
    file with entries that are not checklist results. The page is written to a temporary file and
    renamed, so an earlier report at ``html_path`` is replaced whole or not at all. Raises
    SpecError when the results cannot be read, OSError when the page cannot be written.
    """
    entries, problem = load_results(results_path)
    if problem is not None and refused is not None:
        refused.append(problem)
    page = build_report(entries, documents=documents, root=root, source=str(results_path), refused=refused,
                        findings=load_findings(results_path))
    out = Path(html_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, page)  # normal permissions (0644 under umask 022), replaced whole or not at all
    return out


def _resolve(name: str, root: Path) -> Path:
    p = Path(name)
    return p if p.is_absolute() else root / p


def _same(a: str, b: str, root: Path) -> bool:
    if a == b:
        return True
    try:
        return _resolve(a, root).resolve() == _resolve(b, root).resolve()
    except (OSError, RuntimeError, ValueError):
        return False


def _render(doc: str, root: str | Path | None, entries: list[Entry], index: int) -> Rendered:
    """One document rendered; SpecError saying why not (refused, unreadable, not renderable)."""
    text = decode(read_source(doc, root), doc)
    try:
        return render_document(text, doc, entries, index)
    except NestingTooDeep as exc:
        raise SpecError(doc, exc.line, f"not rendered: {exc}") from None
    except RecursionError:
        raise SpecError(doc, None, "not rendered: nested too deeply") from None
    except Exception as exc:  # one document's problem: the others are still shown
        raise SpecError(doc, None, f"not rendered: {type(exc).__name__}: {exc}") from None


def build_report(
    entries: Sequence[Entry],
    documents: Sequence[str | Path] | None = None,
    root: str | Path | None = None,
    source: str = "",
    refused: list[SpecError] | None = None,
    findings: Sequence[dict] = (),
) -> str:
    """The report page (a complete HTML document) for ``entries`` (and the run's ``findings``).

    Documents are read as :func:`write_report` says; each one not read is noted on the page and
    appended to ``refused`` (when given).
    """
    base = Path(root) if root is not None else Path.cwd()
    named = list(dict.fromkeys(e["document"] for e in entries))
    shown = [str(d) for d in documents] if documents is not None else named
    by_doc: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        for d in shown:
            if _same(e["document"], d, base):
                by_doc[d].append(e)
                break
    rendered: list[tuple[str, Rendered | None, str]] = []
    for i, doc in enumerate(shown):
        try:
            rendered.append((doc, _render(doc, root, by_doc[doc], i), ""))
        except SpecError as exc:
            rendered.append((doc, None, exc.message))
            if refused is not None:
                refused.append(exc)
    kept = [e for d in shown for e in by_doc[d]]
    stylesheet = next((r.stylesheet for _, r, _ in rendered if r is not None), "")
    title = rendered[0][1].title if len(rendered) == 1 and rendered[0][1] is not None else "dataflow documents"

    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="talkqa report">',
        f"<title>talkqa checklist — {html.escape(title)}</title>",
        stylesheet,
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        _summary(kept, by_doc, shown, rendered, source),
        _findings(findings),
        "<main>",
    ]
    for i, (doc, r, error) in enumerate(rendered):
        out.append(f'<article class="talkqa-document" data-document="{html.escape(doc)}" id="talkqa-d{i}">')
        out.append(f'<p class="talkqa-source">{html.escape(doc)}</p>')
        if r is None:
            out.append(f'<p class="talkqa-failed">could not read the document: {html.escape(error)}</p>')
            out.append(_entry_table(by_doc[doc], "Results of this document"))
        else:
            out.append(r.body)
            if r.unplaced:
                out.append(_entry_table(r.unplaced, "Results not placed on a row or flow of the document"))
        out.append("</article>")
    out += ["</main>", "</body>", "</html>", ""]
    return "\n".join(out)


def _summary(
    entries: Sequence[Entry],
    by_doc: dict[str, list[Entry]],
    shown: Sequence[str],
    rendered: Sequence[tuple[str, Rendered | None, str]],
    source: str,
) -> str:
    counts = totals(entries)
    verdict = worst(e["outcome"] for e in entries)
    verdict_text = {
        "passed": "Every checked row conforms",
        "failed": f"{counts['failed']} check(s) do not conform",
        "pending": f"{counts['pending']} check(s) pending",
        "skipped": "Nothing could be checked automatically",
        NOT_RUN: "No results",
    }[verdict]
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    rows_total = sum(len(r.rows) for _, r, _ in rendered if r is not None)
    rows_by_state: dict[str, int] = defaultdict(int)
    for _, r, _ in rendered:
        if r is not None:
            for state in r.rows.values():
                rows_by_state[state] += 1
    out = ['<header class="talkqa-summary">', "<h1>talkqa conformance checklist</h1>"]
    meta = f"{len(shown)} document(s) · {len(entries)} checks · report written {now}"
    if source:
        meta += f" · results {source}"
    out.append(f'<p class="talkqa-meta">{html.escape(meta)}</p>')
    out.append('<div class="talkqa-totals">')
    out.append(
        f'<span class="talkqa-verdict talkqa-{verdict}" data-talkqa-verdict="{verdict}">'
        f"{SYMBOL[verdict]} {html.escape(verdict_text)}</span>"
    )
    for state in ("passed", "failed", "pending", "skipped"):
        out.append(
            f'<span class="talkqa-total talkqa-{state}" data-talkqa-total="{state}"><b>{counts[state]}</b> '
            f"{html.escape(WORD[state])}</span>"
        )
    out.append("</div>")
    if rows_total:
        parts = ", ".join(f"{rows_by_state[s]} {WORD[s]}" for s in ("passed", "failed", "pending", "skipped", NOT_RUN)
                          if rows_by_state[s])
        out.append(f'<p class="talkqa-meta">Table rows: {rows_total} — {html.escape(parts)}</p>')

    for i, doc in enumerate(shown):
        flows = flow_summaries(by_doc[doc])
        if not flows:
            continue
        out.append(f'<h2 class="talkqa-doc-heading">{html.escape(doc)}</h2>')
        out.append('<table class="talkqa-flows"><thead><tr><th>Flow</th><th>State</th>')
        out += [f"<th>{html.escape(label)}</th>" for label, _, _ in COLUMNS]
        out.append("</tr></thead><tbody>")
        for s in flows:
            out.append(f'<tr class="talkqa-flow talkqa-{s.state}" data-flow="{html.escape(s.flow)}" '
                       f'data-talkqa-state="{s.state}">')
            out.append(f'<td><a href="#{anchor(i, s.line)}">{html.escape(s.flow)}</a></td>')
            out.append(f'<td class="talkqa-{s.state}">{SYMBOL[s.state]} {html.escape(WORD[s.state])}</td>')
            for label, _, _ in COLUMNS:
                cell = s.cells[label]
                if not cell.total:
                    out.append('<td class="talkqa-count talkqa-not-run">—</td>')
                    continue
                extra = [f"{n} {state}" for state in ("failed", "pending", "skipped") if (n := cell.counts.get(state))]
                text = f"{SYMBOL[cell.state]} {cell.conforming}/{cell.checked}"
                out.append(
                    f'<td class="talkqa-count talkqa-{cell.state}" data-column="{html.escape(label)}">{text}'
                    + (f'<span class="talkqa-extra">{html.escape(", ".join(extra))}</span>' if extra else "")
                    + "</td>"
                )
            out.append("</tr>")
        out.append("</tbody></table>")
    out.append(
        '<p class="talkqa-legend">Counts are <i>conforming / checked</i> (pending and skipped checks are not '
        "counted as checked). Forward: source → target; reverse: an edit in the target flows back; fuzz: "
        "Hypothesis-generated values survive the sync; link policy: records are created and kept linked as the "
        "flow's policy says.</p>"
    )
    attention = [e for e in entries if e["outcome"] in ("failed", "pending")]
    if attention:
        out.append(f'<h2 class="talkqa-doc-heading">Needs attention ({len(attention)})</h2>')
        out.append('<ul class="talkqa-attention">')
        for e in sorted(attention, key=lambda e: (e["document"], e["line"], e["case_id"])):
            f = failure_of(e)
            i = next(i for i, d in enumerate(shown) if any(x is e for x in by_doc[d]))
            where = f"{e['document']}:{e['line']}"
            what = f"{e['flow']} · {e['case_id']} ({e['kind']})"
            short = ""
            if f.expected is not None or f.actual is not None:
                short = f" — expected {f.expected or '?'}, actual {f.actual or '?'}"
            out.append(
                f'<li class="talkqa-{e["outcome"]}"><a href="#{anchor(i, e["line"])}">{html.escape(where)}</a> '
                f"{SYMBOL[e['outcome']]} {html.escape(what)}<span>{html.escape(short)}</span></li>"
            )
        out.append("</ul>")
    out.append("</header>")
    return "\n".join(out)


def _findings(findings: Sequence[dict]) -> str:
    """What a QA engineer should know about rows that conform, against their document lines."""
    if not findings:
        return ""
    out = [f'<section class="talkqa-findings"><h2>Findings ({len(findings)})</h2><ul>']
    for f in sorted(findings, key=lambda f: (f["document"], f["line"], f["message"])):
        where = f"{f['document']}:{f['line']}"
        out.append(f'<li data-talkqa-finding="{html.escape(where)}"><code>{html.escape(where)}</code> '
                   f"{html.escape(f['message'])}</li>")
    out.append("</ul></section>")
    return "\n".join(out)


def _entry_table(entries: Sequence[Entry], caption: str) -> str:
    out = [f'<section class="talkqa-unplaced"><h2>{html.escape(caption)}</h2>',
           "<table><thead><tr><th>Line</th><th>Flow</th><th>Check</th><th>State</th><th>Message</th></tr></thead><tbody>"]
    for e in entries:
        out.append(
            f'<tr class="talkqa-row talkqa-{e["outcome"]}" data-talkqa-state="{e["outcome"]}" data-line="{e["line"]}">'
            f"<td>{e['line']}</td><td>{html.escape(e['flow'])}</td>"
            f"<td>{html.escape(e['case_id'])} ({html.escape(check_label(e))})</td>"
            f"<td>{SYMBOL[e['outcome']]} {html.escape(WORD[e['outcome']])}</td>"
            f"<td><pre>{html.escape(e.get('message') or '')}</pre></td></tr>"
        )
    out.append("</tbody></table></section>")
    return "\n".join(out)
