// The review as one self-contained HTML page: inline CSS, the charts as inline SVG, no
// scripts and no external URL, so it can be mailed, attached or archived as it is.
import type { Chart } from './charts';
import { FOOTNOTES, type FigureName } from './footnotes';
import { reviewTables, reviewTitle } from './tables';
import type { ReviewReport } from './types';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:13px}th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f5f5}table.totals tbody tr:first-child td{font-weight:600}td.none{color:#777;font-style:italic}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}.charts figure{margin:0}.charts svg{max-width:100%;height:auto}
dl dt{font-weight:600;margin-top:.5rem}dl dd{margin-left:1rem}sup a{text-decoration:none}h2 sup{font-size:.55em;font-weight:normal}
`;

/** The review as an HTML document with its charts (rendered by charts.ts) inlined. */
export function reviewHtml(r: ReviewReport, charts: Chart[]): string {
  const title = reviewTitle(r);
  const cited = new Set<string>(['window', 'rollouts']);
  const parts: string[] = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    // No script, no fetch, no frame: the page is data.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${esc(title)}</title><style>${CSS}</style></head><body>`,
    `<h1>${esc(title)}</h1>`,
    `<p>${r.total.rollouts} finished rollout(s)<sup><a href="#fn-rollouts">rollouts</a></sup>.</p>`,
  ];
  if (charts.length) {
    parts.push('<section class="charts">');
    for (const c of charts) parts.push(`<figure id="chart-${c.id}">${c.svg}</figure>`);
    parts.push('</section>');
  }
  for (const t of reviewTables(r)) {
    parts.push(`<h2>${esc(t.title)} ${t.notes.map((n) => `<sup><a href="#fn-${n}">${n}</a></sup>`).join(' ')}</h2>`);
    for (const n of t.notes) cited.add(n);
    if (!t.rows.length) {
      parts.push('<p class="none">(none)</p>');
      continue;
    }
    parts.push(`<table${t.totalFirst ? ' class="totals"' : ''}><thead><tr>`, ...t.head.map((h) => `<th>${esc(h)}</th>`), '</tr></thead><tbody>');
    for (const row of t.rows) parts.push(`<tr>${row.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`);
    parts.push('</tbody></table>');
  }
  parts.push('<h2>What the figures mean</h2><dl>');
  for (const n of cited) parts.push(`<dt id="fn-${n}">${n}</dt><dd>${esc(FOOTNOTES[n as FigureName])}</dd>`);
  parts.push('</dl></body></html>');
  return parts.join('\n') + '\n';
}
