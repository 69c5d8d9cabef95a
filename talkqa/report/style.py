"""The report's stylesheet, inlined into the page (screen and print; no fonts or images to fetch)."""

CSS = """
:root {
  --ok: #1a7f37; --ok-bg: #e8f5ec; --bad: #c62828; --bad-bg: #fdecec;
  --wait: #9a6700; --wait-bg: #fff5d6; --skip: #57606a; --skip-bg: #f1f3f5;
  --none: #8c959f; --line: #d0d7de; --ink: #1f2328; --muted: #57606a;
}
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body {
  margin: 0 auto; padding: 1.5rem 2rem 3rem; max-width: 72rem; color: var(--ink); background: #fff;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", Arial, sans-serif;
}
code, pre, .talkqa-code, tt, .literal {
  font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 0.86em;
}
h1, h2, h3 { line-height: 1.2; }
a { color: #0a58ca; }

/* -- summary ------------------------------------------------------------------------------- */
.talkqa-summary { border-bottom: 2px solid var(--ink); margin-bottom: 2rem; padding-bottom: 1rem; }
.talkqa-summary h1 { font-size: 1.6rem; margin: 0 0 0.25rem; }
.talkqa-meta { color: var(--muted); margin: 0 0 1rem; font-size: 0.9rem; }
.talkqa-verdict {
  display: inline-block; font-weight: 700; padding: 0.3rem 0.8rem; border-radius: 4px; margin-right: 0.75rem;
}
.talkqa-totals { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin: 0.75rem 0 1.25rem; }
.talkqa-total { padding: 0.2rem 0.6rem; border-radius: 4px; border: 1px solid var(--line); font-size: 0.92rem; }
.talkqa-total b { font-size: 1.05rem; }
table.talkqa-flows { border-collapse: collapse; width: 100%; font-size: 0.92rem; margin: 0.5rem 0 1rem; }
table.talkqa-flows th, table.talkqa-flows td {
  border: 1px solid var(--line); padding: 0.35rem 0.55rem; text-align: left; vertical-align: top;
}
table.talkqa-flows thead th { background: #f6f8fa; font-weight: 600; white-space: nowrap; }
table.talkqa-flows td.talkqa-count { text-align: center; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.talkqa-flows .talkqa-extra { display: block; font-size: 0.8rem; }
.talkqa-doc-heading { font-size: 1.05rem; margin: 1rem 0 0.25rem; }
.talkqa-attention { margin: 0.5rem 0 0; padding-left: 1.2rem; }
.talkqa-attention li { margin: 0.2rem 0; }
.talkqa-legend { color: var(--muted); font-size: 0.85rem; margin: 0.5rem 0 0; }

/* -- states ---------------------------------------------------------------------------------- */
.talkqa-passed { color: var(--ok); }
.talkqa-failed { color: var(--bad); }
.talkqa-pending { color: var(--wait); }
.talkqa-skipped { color: var(--skip); }
.talkqa-not-run { color: var(--none); }
.talkqa-verdict.talkqa-passed, td.talkqa-passed { background: var(--ok-bg); }
.talkqa-verdict.talkqa-failed, td.talkqa-failed { background: var(--bad-bg); }
.talkqa-verdict.talkqa-pending, td.talkqa-pending { background: var(--wait-bg); }
.talkqa-verdict.talkqa-skipped, td.talkqa-skipped { background: var(--skip-bg); }

/* -- the document ------------------------------------------------------------------------------ */
.talkqa-document { margin-bottom: 3rem; }
.talkqa-document > .talkqa-source { color: var(--muted); font-size: 0.85rem; margin: 0; }
.talkqa-document h1.title { font-size: 1.5rem; margin: 0.25rem 0 1rem; }
.talkqa-document section { margin-top: 1.5rem; }
.talkqa-document h2 { font-size: 1.25rem; border-bottom: 1px solid var(--line); padding-bottom: 0.2rem; }
.talkqa-document table.docutils, .talkqa-document table {
  border-collapse: collapse; width: 100%; margin: 0.75rem 0 1rem; font-size: 0.92rem;
}
.talkqa-document table th, .talkqa-document table td {
  border: 1px solid var(--line); padding: 0.3rem 0.55rem; text-align: left; vertical-align: top;
}
.talkqa-document table thead th { background: #f6f8fa; }
.talkqa-document table td p, .talkqa-document table th p { margin: 0; }
tr.talkqa-row > td:first-child { border-left: 5px solid var(--none); }
tr.talkqa-row.talkqa-passed > td:first-child { border-left-color: var(--ok); }
tr.talkqa-row.talkqa-failed > td { background: var(--bad-bg); }
tr.talkqa-row.talkqa-failed > td:first-child { border-left-color: var(--bad); }
tr.talkqa-row.talkqa-pending > td { background: var(--wait-bg); }
tr.talkqa-row.talkqa-pending > td:first-child { border-left-color: var(--wait); }
tr.talkqa-row.talkqa-skipped > td { background: var(--skip-bg); }
tr.talkqa-row.talkqa-skipped > td:first-child { border-left-color: var(--skip); }
tr.talkqa-row { color: var(--ink); }
th.talkqa-head { white-space: nowrap; }
td.talkqa-status { width: 1%; white-space: nowrap; }
td.talkqa-status p { margin: 0; }
.talkqa-state-word { font-weight: 700; margin-right: 0.4rem; }
.talkqa-badge {
  display: inline-block; border: 1px solid currentColor; border-radius: 3px; padding: 0 0.3rem;
  margin: 0.1rem 0.15rem 0.1rem 0; font-size: 0.78rem; background: #fff; white-space: nowrap;
}
tr.talkqa-detail > td {
  background: #fff; border-left: 5px solid var(--bad); padding: 0.4rem 0.75rem 0.6rem; font-size: 0.88rem;
}
tr.talkqa-detail.talkqa-pending > td { border-left-color: var(--wait); }
tr.talkqa-detail.talkqa-skipped > td { border-left-color: var(--skip); }
.talkqa-finding { margin: 0.25rem 0 0.5rem; }
.talkqa-finding > p:first-child { margin: 0 0 0.25rem; }
.talkqa-finding dl.field-list, .talkqa-finding dl {
  display: grid; gap: 0.15rem 0.8rem; grid-template-columns: 10em minmax(0, 1fr); margin: 0.2rem 0 0.2rem 0.5rem;
}
.talkqa-finding dt { font-weight: 600; color: var(--muted); }
.talkqa-finding dd { margin: 0; }
.talkqa-finding dd p { margin: 0; }
.talkqa-finding dt .colon { display: none; }
.talkqa-finding pre, .talkqa-flow-checks pre {
  background: #f6f8fa; border: 1px solid var(--line); padding: 0.35rem 0.5rem; margin: 0.2rem 0;
  white-space: pre-wrap; word-break: break-word;
}
.talkqa-finding code, .talkqa-finding .literal { background: #f6f8fa; padding: 0 0.2rem; border-radius: 3px; }
dd.talkqa-expected .literal { background: var(--ok-bg); }
dd.talkqa-actual .literal { background: var(--bad-bg); }
.talkqa-finding .literal, .talkqa-finding span.pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.talkqa-reproduce .literal { user-select: all; }
.talkqa-flow-checks {
  border: 1px solid var(--line); border-left: 5px solid var(--none); border-radius: 3px;
  padding: 0.4rem 0.8rem; margin: 0.5rem 0 0.75rem; font-size: 0.9rem; background: #fafbfc;
}
.talkqa-flow-checks.talkqa-passed { border-left-color: var(--ok); }
.talkqa-flow-checks.talkqa-failed { border-left-color: var(--bad); }
.talkqa-flow-checks.talkqa-pending { border-left-color: var(--wait); }
.talkqa-flow-checks > p { margin: 0.1rem 0; }
.talkqa-flow-checks ul { margin: 0.2rem 0; padding-left: 1.1rem; }
.talkqa-unplaced { border-top: 1px dashed var(--line); margin-top: 1.5rem; }

@media print {
  body { max-width: none; padding: 0 3mm; font-size: 10pt; }
  @page { margin: 14mm 12mm; }
  a { color: inherit; text-decoration: none; }
  .talkqa-summary { break-after: page; }
  .talkqa-document h2 { break-after: avoid; }
  tr, .talkqa-finding, .talkqa-flow-checks { break-inside: avoid; }
  tr.talkqa-row:has(+ tr.talkqa-detail) { break-after: avoid; }
  thead { display: table-header-group; }
}
"""
