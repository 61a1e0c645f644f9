// How the review's numbers read in Markdown and HTML: one rounding rule for both.

/** A duration for people: "850ms", "12.4s", "7m 30s", "3h 05m", "2d 4h". */
export function humanDuration(ms: number | undefined): string {
  if (ms === undefined) return '–';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  if (m < 60) return `${m}m ${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A share as a whole percent ("33%"), or "–" when there is nothing to divide. */
export function percent(x: number | undefined): string {
  return x === undefined ? '–' : `${Math.round(x * 100)}%`;
}

export const isoMinute = (ms: number): string => new Date(ms).toISOString().replace(/:\d{2}\.\d{3}Z$/, 'Z');
