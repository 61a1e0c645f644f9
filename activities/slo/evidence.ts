// The evidence rules every SLO provider applies before a value may pass: one series, fresh,
// a number (no NaN, and no infinity on the passing side), no warnings (the answer may be
// partial), enough traffic. Pure: a provider measures, these say whether the measurement
// can be trusted, and why not in words an operator can act on.
import { fmt } from './http';

/** Provider messages (an error page, a list of warnings) bounded for status and notifications. */
const MAX_MESSAGE_CHARS = 300;

export function clip(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > MAX_MESSAGE_CHARS ? `${t.slice(0, MAX_MESSAGE_CHARS)}…` : t;
}

/** One series' value as a provider measured it. */
export interface Sample {
  labels: Record<string, string>;
  /** Epoch ms. */
  ts: number;
  value: number;
}

function labelText(labels: Record<string, string>): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;
}

export type Usable = { ok: true; sample: Sample } | { ok: false; why: string };

/** The single fresh sample of a result, or why there is none. */
export function singleFreshSample(samples: Sample[], now: number, staleAfterMs: number): Usable {
  if (samples.length === 0) {
    return {
      ok: false,
      why: 'no data: the query returned no series (nothing scraped yet for this version, its scrape target is down, or a label does not match)',
    };
  }
  if (samples.length > 1) {
    const shown = samples
      .slice(0, 3)
      .map((s) => labelText(s.labels))
      .join(', ');
    return {
      ok: false,
      why: `ambiguous: the query returned ${samples.length} series (${shown}${samples.length > 3 ? ', …' : ''}); aggregate it to one, e.g. with sum()`,
    };
  }
  const sample = samples[0]!;
  const age = now - sample.ts;
  if (age > staleAfterMs) {
    return { ok: false, why: `stale data: the sample is ${Math.round(age / 1000)}s old (limit ${Math.round(staleAfterMs / 1000)}s)` };
  }
  return { ok: true, sample };
}

/** What a provider answered: its series and any warnings that it may be partial. */
export interface Measurement {
  samples: Sample[];
  warnings: string[];
}

/** NaN is no measurement: usually zero traffic (0/0) over the window. */
export function notANumber(value: number, window: string): string | undefined {
  return Number.isNaN(value) ? `no usable value: the query returned NaN, usually zero traffic (0/0) in the last ${window}` : undefined;
}

/** An infinity that did not breach (e.g. -Inf with `<`) cannot show the SLO is met. */
export function cannotShowMet(value: number): string | undefined {
  return Number.isFinite(value) ? undefined : `no usable value: the query returned ${fmt(value)}, which cannot show the SLO is met`;
}

/** Warnings mean the answer may be partial (a remote store or a shard did not answer). */
export function partialAnswer(m: Measurement, source: string): string | undefined {
  return m.warnings.length > 0 ? `${source} returned warnings, so the answer may be partial: ${clip(m.warnings.join('; '))}` : undefined;
}

export interface TrafficRule {
  /** The fewest requests over the window that make a value evidence. */
  min: number;
  now: number;
  staleAfterMs: number;
  window: string;
  source: string;
  /** What the value would pass, in words, said beside the shortfall: "the value 0.01 would pass < 0.05". */
  wouldPass: string;
}

/**
 * Why the traffic behind a passing value is too little to trust it, or undefined when it is
 * enough: no series, an unusable sample, not a finite number, warnings, or fewer than `min`.
 */
export function tooLittleTraffic(traffic: Measurement, rule: TrafficRule): string | undefined {
  if (traffic.samples.length === 0) return `too little traffic: the traffic query returned no series (0 < ${rule.min})`;
  const t = singleFreshSample(traffic.samples, rule.now, rule.staleAfterMs);
  if (!t.ok) return `too little traffic evidence: ${t.why}`;
  if (!Number.isFinite(t.sample.value)) return `too little traffic: the traffic query returned ${fmt(t.sample.value)}`;
  if (traffic.warnings.length > 0) return `${rule.source} returned warnings for the traffic query: ${clip(traffic.warnings.join('; '))}`;
  if (t.sample.value < rule.min) {
    return `too little traffic: ${fmt(t.sample.value)} < ${rule.min} requests in the last ${rule.window} (${rule.wouldPass})`;
  }
  return undefined;
}
