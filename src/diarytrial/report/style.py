"""The report's stylesheet: screen and print (A4, page numbers, page breaks), inlined in the page.

Figures and tables are numbered by CSS counters, so the captions carry no numbers of their own.
"""

from __future__ import annotations

CSS = """
@page {
  size: A4; margin: 16mm 14mm 18mm 14mm;
  @bottom-right { content: counter(page) " / " counter(pages); font: 8pt sans-serif;
    color: #5f5f5f; }
}
:root { --ink: #222; --muted: #5f5f5f; --rule: #bdbdbd; --accent: #0072B2; --low: #D55E00;
  --low-text: #A84A00; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body {
  margin: 0 auto; padding: 24px 28px 40px; max-width: 210mm; color: var(--ink);
  font: 10.5pt/1.5 Charter, "Bitstream Charter", "Sitka Text", Cambria, Georgia,
    "Liberation Serif", "Nimbus Roman", serif;
  counter-reset: figure table;
}
h1, h2, h3, caption, figcaption, table, nav, footer, .meta {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "Liberation Sans", sans-serif;
}
h1 { font-size: 19pt; line-height: 1.25; margin: 0 0 4px; }
h2 { font-size: 13.5pt; margin: 26px 0 8px; padding-bottom: 3px;
  border-bottom: 1.5px solid var(--ink); break-after: avoid; page-break-after: avoid; }
h3 { font-size: 11.5pt; margin: 18px 0 6px; break-after: avoid; page-break-after: avoid; }
p { margin: 0 0 8px; }
code { font: 9pt/1.4 "DejaVu Sans Mono", Menlo, Consolas, monospace; background: #f3f3f3;
  padding: 0 3px; border-radius: 2px; overflow-wrap: anywhere; }
ul.items { margin: 0 0 8px; padding-left: 20px; }
.meta { color: var(--muted); font-size: 9.5pt; margin: 0 0 12px; }
.summary { border-left: 3px solid var(--accent); background: #f2f7fb; padding: 8px 12px;
  margin: 12px 0 8px; }
.modified { border-left: 3px solid var(--low); background: #fdf1ea; padding: 8px 12px;
  margin: 12px 0 8px; }
nav { font-size: 9pt; color: var(--muted); margin: 8px 0 0; }
nav ol { margin: 0; padding: 0; list-style: none; display: flex; flex-wrap: wrap; gap: 2px 14px; }
nav a { color: var(--accent); text-decoration: none; }
figure { margin: 12px 0 16px; break-inside: avoid; page-break-inside: avoid; }
figure svg { display: block; width: 100%; height: auto; max-width: 100%; }
figcaption { font-size: 9pt; color: var(--muted); margin-top: 4px; }
figcaption::before { counter-increment: figure; content: "Figure " counter(figure) ". ";
  font-weight: bold; color: var(--ink); }
figure.small-multiples { break-inside: auto; page-break-inside: auto; }
.panels { display: grid; grid-template-columns: repeat(3, 1fr); gap: 4px 10px; margin-top: 6px; }
.panels svg { break-inside: avoid; page-break-inside: avoid; }
table { border-collapse: collapse; width: 100%; margin: 10px 0 16px; font-size: 8.8pt;
  line-height: 1.35; break-inside: avoid; page-break-inside: avoid; }
table.dense { font-size: 8pt; width: auto; min-width: 60%; break-inside: auto;
  page-break-inside: auto; }
table.dense tr { break-inside: avoid; page-break-inside: avoid; }
caption { caption-side: top; text-align: left; font-size: 9.5pt; font-weight: 600;
  padding-bottom: 4px; }
caption::before { counter-increment: table; content: "Table " counter(table) ". ";
  font-weight: bold; }
thead th { border-top: 1.5px solid var(--ink); border-bottom: 1px solid var(--ink);
  vertical-align: bottom; font-weight: 600; }
thead th[colspan] { text-align: center; border-bottom: 1px solid var(--rule); }
thead tr + tr th { border-top: 0; }
th, td { padding: 3px 6px; text-align: left; vertical-align: top; }
tbody th { font-weight: normal; min-width: 8.5em; }
tbody tr:last-child th, tbody tr:last-child td { border-bottom: 1.5px solid var(--ink); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
thead .num { text-align: right; }
tfoot td { font-size: 8pt; color: var(--muted); padding-top: 4px; border: 0; }
td.num { white-space: nowrap; }
td.low { color: var(--low-text); font-weight: 600; }
th .sub, td .sub { font-weight: normal; color: var(--muted); font-size: 8pt; }
table.outcome tbody th { width: 36%; }
section.patient { break-before: page; page-break-before: always; }
footer { margin-top: 32px; padding-top: 8px; border-top: 1px solid var(--rule); font-size: 8.5pt;
  color: var(--muted); break-inside: avoid; page-break-inside: avoid; }
footer dl { display: grid; grid-template-columns: max-content 1fr; gap: 1px 12px; margin: 0 0 6px; }
footer dt { font-weight: 600; color: var(--ink); }
footer dd { margin: 0; font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace;
  overflow-wrap: anywhere; }
@media print {
  body { padding: 0; max-width: none; font-size: 10pt; }
  nav { display: none; }
  /* The grid of small multiples is taller than what is left of most pages. */
  #daily { break-before: page; page-break-before: always; }
  a { color: inherit; text-decoration: none; }
}
""".strip()
