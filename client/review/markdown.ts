// The review as Markdown: the tables of tables.ts, each figure's definition as a footnote.
import { FOOTNOTES, type FigureName } from './footnotes';
import { reviewTables, reviewTitle } from './tables';
import type { ReviewReport } from './types';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** The review as a Markdown document. */
export function reviewMarkdown(r: ReviewReport): string {
  const lines = [`# ${reviewTitle(r)}`, '', `${r.total.rollouts} finished rollout(s).`];
  const cited = new Set<string>(['window', 'rollouts']);
  for (const t of reviewTables(r)) {
    lines.push('', `## ${t.title}`, '');
    if (!t.rows.length) {
      lines.push('(none)');
    } else {
      lines.push(`| ${t.head.map(cell).join(' | ')} |`, `|${t.head.map(() => ' --- ').join('|')}|`);
      for (const row of t.rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
    }
    for (const n of t.notes) cited.add(n);
  }
  lines.push('', '## What the figures mean', '');
  for (const n of cited) lines.push(`- **${n}**: ${FOOTNOTES[n as FigureName]}`);
  return lines.join('\n') + '\n';
}
