const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Reads a plan duration ("250ms", "90s", "30m", "1.5h", "2d") as milliseconds, zero and
 * absurdly large values included (the schema's bounds refuse those with their own words).
 * Returns undefined only for text that is not a duration.
 */
export function readDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

/**
 * Parses a plan duration ("250ms", "90s", "30m", "1.5h", "2d") into milliseconds.
 * Returns undefined for anything else, including zero and negative values: a soak of
 * nothing is never what an operator meant.
 */
export function parseDuration(text: string): number | undefined {
  const ms = readDuration(text);
  return ms !== undefined && ms > 0 && Number.isFinite(ms) ? ms : undefined;
}

/** Formats milliseconds the way plans write them, for messages and status. */
export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
