// `mrcd review`'s flags as a window of time and a format: refused with the flag's name
// (the CLI exits 2) rather than guessed at.
import { parseDuration } from '../../domain/duration';

export const REVIEW_FORMATS = ['md', 'html', 'json'] as const;
export type ReviewFormat = (typeof REVIEW_FORMATS)[number];

export interface ReviewFlags {
  since: string;
  until?: string;
  staleAfter?: string;
  format?: string;
}

export interface ParsedReviewFlags {
  since: number;
  until: number;
  staleAfterMs: number;
  format: ReviewFormat;
}

/** Thrown for a flag value that cannot be used; the message starts with the flag. */
export class ReviewFlagError extends Error {}

/** "90d" (that long before now) or an ISO 8601 time, as epoch ms. */
function pointInTime(flag: string, text: string, now: number): number {
  const ago = parseDuration(text);
  if (ago !== undefined) return now - ago;
  // Date.parse would take "2026" or "12/1"; only full ISO dates are meant.
  const at = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(at))
    throw new ReviewFlagError(`${flag}: ${JSON.stringify(text)} must be a duration ago such as "90d" or "12h", or an ISO 8601 time such as 2026-09-01T00:00Z`);
  return at;
}

/** Reads the flags of `mrcd review`; `now` is the end of the window when --until is not given. */
export function parseReviewFlags(f: ReviewFlags, now: number): ParsedReviewFlags {
  const since = pointInTime('--since', f.since, now);
  const until = f.until === undefined ? now : pointInTime('--until', f.until, now);
  if (until <= since)
    throw new ReviewFlagError(`--until: ${new Date(until).toISOString()} is not after --since ${new Date(since).toISOString()}: the window would be empty`);
  const staleAfterMs = f.staleAfter === undefined ? 3_600_000 : parseDuration(f.staleAfter);
  if (staleAfterMs === undefined) throw new ReviewFlagError(`--stale-after: ${JSON.stringify(f.staleAfter)} must be a duration such as "1h" or "30m"`);
  const format = f.format ?? 'md';
  if (!(REVIEW_FORMATS as readonly string[]).includes(format))
    throw new ReviewFlagError(`--format: ${JSON.stringify(format)} must be one of ${REVIEW_FORMATS.join(', ')}`);
  return { since, until, staleAfterMs, format: format as ReviewFormat };
}
