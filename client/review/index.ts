// `mrcd review`: collect (I/O), aggregate (pure), render. The CLI and library callers
// come in here.
export { aggregate, durationStat } from './aggregate';
export { collectRollouts, finalStatus, reviewQuery, type CollectOptions } from './collect';
export { chartSpecs, renderCharts, type Chart } from './charts';
export { parseReviewFlags, ReviewFlagError, REVIEW_FORMATS, type ReviewFormat } from './flags';
export { FOOTNOTES } from './footnotes';
export { reviewHtml } from './html';
export { reviewMarkdown } from './markdown';
export type * from './types';

import { renderCharts } from './charts';
import { reviewHtml } from './html';
import { reviewMarkdown } from './markdown';
import type { ReviewFormat } from './flags';
import type { ReviewReport } from './types';

/** The review in one of its formats: Markdown, self-contained HTML (charts inlined) or the report as JSON. */
export async function renderReview(r: ReviewReport, format: ReviewFormat): Promise<string> {
  if (format === 'json') return JSON.stringify(r, null, 2) + '\n';
  if (format === 'md') return reviewMarkdown(r);
  return reviewHtml(r, await renderCharts(r));
}
