// The counts a comparison needs, read from Prometheus: per interval since the deploy (a range
// query stepped at the check's step, so every evaluation cuts the same intervals and the
// sequential test walks one path), over the pre-deploy window (an instant query at the
// deploy time), and the versions a control served (how a control deployed meanwhile shows).
import type { CountCell } from '../../domain/activity-contract';
import { TemplateError, fmt } from './http';
import { freshnessQuery, promDuration, renderPromQL, windowSelectors } from '../../plan/promql';
import { instantQuery, rangeQuery, type RangeResult } from './prometheus-api';
import { singleFreshSample, clip } from './evidence';

export type ComparisonSource = {
  errors: string;
  requests: string;
  versionLabel: string;
};

/** How to reach Prometheus and what to ask of it for one check evaluation. */
export interface CountQuery {
  baseUrl: string;
  where: string;
  headers: Record<string, string>;
  tokenEnv?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  service: string;
  /** The deploy; intervals are [since + k·step, since + (k+1)·step]. */
  since: number;
  stepMs: number;
  /** Complete intervals so far. */
  intervals: number;
  beforeMs: number;
  staleAfterMs: number;
}

/** A problem with the counts: `error` when Prometheus failed, `inconclusive` when what it said is no evidence. */
export interface CountProblem {
  verdict: 'error' | 'inconclusive';
  detail: string;
  retryable?: boolean;
}

export type RegionCounts = { ok: true; perInterval: (CountCell | undefined)[]; before: CountCell } | ({ ok: false } & CountProblem);

function render(template: string, service: string, region: string, windowMs: number): string {
  // {{version}} is refused by the schema: a comparison counts by region.
  return renderPromQL(template, { service, region, version: '', window: promDuration(windowMs) });
}

/** A finite count ≥ 0 from one series, or why not. */
function count(value: number, what: string): number | string {
  if (Number.isNaN(value)) return `the ${what} query returned NaN`;
  if (!Number.isFinite(value) || value < 0) return `the ${what} query returned ${fmt(value)}, which is no count`;
  return value;
}

/** The per-interval values of a range result, indexed by interval; one series or none. */
function byInterval(r: Extract<RangeResult, { kind: 'ok' }>, q: CountQuery, what: string): (number | undefined)[] | string {
  if (r.series.length > 1) return `the ${what} query returned ${r.series.length} series; aggregate it to one, e.g. with sum()`;
  if (r.warnings.length > 0) return `Prometheus returned warnings for the ${what} query, so it may be partial: ${clip(r.warnings.join('; '))}`;
  const out: (number | undefined)[] = new Array<number | undefined>(q.intervals).fill(undefined);
  for (const p of r.series[0]?.points ?? []) {
    const k = Math.round((p.ts - q.since) / q.stepMs) - 1;
    if (k < 0 || k >= q.intervals) continue;
    const c = count(p.value, what);
    if (typeof c === 'string') return c;
    out[k] = c;
  }
  return out;
}

/** Errors and requests of `region` per interval since the deploy and over the window before it. */
export async function regionCounts(source: ComparisonSource, region: string, q: CountQuery): Promise<RegionCounts> {
  let queries: { errors: string; requests: string; errorsBefore: string; requestsBefore: string };
  try {
    queries = {
      errors: render(source.errors, q.service, region, q.stepMs),
      requests: render(source.requests, q.service, region, q.stepMs),
      errorsBefore: render(source.errors, q.service, region, q.beforeMs),
      requestsBefore: render(source.requests, q.service, region, q.beforeMs),
    };
  } catch (err) {
    if (err instanceof TemplateError) return { ok: false, verdict: 'error', detail: `bad query template: ${err.message}`, retryable: false };
    throw err;
  }
  const range = { startMs: q.since + q.stepMs, endMs: q.since + q.intervals * q.stepMs, stepMs: q.stepMs };
  const ask = (promql: string) => rangeQuery(q.baseUrl, promql, q.headers, q.tokenEnv, q.timeoutMs, q.signal, range);
  const askAt = (promql: string) => instantQuery(q.baseUrl, promql, q.headers, q.tokenEnv, q.timeoutMs, q.signal, q.since);
  const [errors, requests, errorsBefore, requestsBefore] = await Promise.all([
    ask(queries.errors),
    ask(queries.requests),
    askAt(queries.errorsBefore),
    askAt(queries.requestsBefore),
  ]);
  for (const [r, what] of [
    [errors, 'errors'],
    [requests, 'requests'],
    [errorsBefore, 'errors (before the deploy)'],
    [requestsBefore, 'requests (before the deploy)'],
  ] as const) {
    if (r.kind === 'error')
      return { ok: false, verdict: 'error', detail: `${region}: the ${what} query failed at ${q.where}: ${r.detail}`, retryable: r.retryable };
  }
  if (errors.kind !== 'ok' || requests.kind !== 'ok' || errorsBefore.kind !== 'ok' || requestsBefore.kind !== 'ok') throw new Error('unreachable');

  const before: number[] = [];
  for (const [r, what] of [
    [errorsBefore, 'errors'],
    [requestsBefore, 'requests'],
  ] as const) {
    const s = singleFreshSample(r.samples, q.since, q.staleAfterMs);
    if (!s.ok)
      return {
        ok: false,
        verdict: 'inconclusive',
        detail: `${region} before the deploy: ${s.why}. Query: ${what === 'errors' ? queries.errorsBefore : queries.requestsBefore}`,
      };
    const c = count(s.sample.value, `${what} (before the deploy)`);
    if (typeof c === 'string') return { ok: false, verdict: 'inconclusive', detail: `${region}: ${c}` };
    before.push(c);
  }
  const e = byInterval(errors, q, 'errors');
  const n = byInterval(requests, q, 'requests');
  if (typeof e === 'string') return { ok: false, verdict: 'inconclusive', detail: `${region}: ${e}. Query: ${queries.errors}` };
  if (typeof n === 'string') return { ok: false, verdict: 'inconclusive', detail: `${region}: ${n}. Query: ${queries.requests}` };
  // A healthy region may never have written an error series: no errors then means zero,
  // provided its requests were counted in that interval.
  const noErrorSeries = errors.series.length === 0;
  const perInterval = n.map((requestsK, k): CountCell | undefined => {
    if (requestsK === undefined) return undefined;
    const errorsK = e[k] ?? (noErrorSeries ? 0 : undefined);
    return errorsK === undefined ? undefined : { errors: Math.min(errorsK, requestsK), requests: requestsK };
  });
  return { ok: true, perInterval, before: { errors: Math.min(before[0]!, before[1]!), requests: before[1]! } };
}

/**
 * The versions `region` served requests with over the `windowMs` before `atMs`: a control
 * must have served exactly one, and not the new one. A missing label comes back as "".
 */
export async function versionsServed(
  source: ComparisonSource,
  region: string,
  q: CountQuery,
  windowMs: number,
  atMs: number,
): Promise<{ ok: true; versions: string[] } | ({ ok: false } & CountProblem)> {
  const selectors = windowSelectors(source.requests);
  if (selectors.length === 0) return { ok: false, verdict: 'error', detail: 'the requests query has no range selector over {{window}}', retryable: false };
  const window = promDuration(windowMs);
  let promql: string;
  try {
    const served = selectors.map((sel) => `increase(${sel}[${window}]) > 0`).join(' or ');
    promql = renderPromQL(`count by (${source.versionLabel}) (${served})`, { service: q.service, region, version: '', window });
  } catch (err) {
    if (err instanceof TemplateError) return { ok: false, verdict: 'error', detail: `bad query template: ${err.message}`, retryable: false };
    throw err;
  }
  const r = await instantQuery(q.baseUrl, promql, q.headers, q.tokenEnv, q.timeoutMs, q.signal, atMs);
  if (r.kind === 'error')
    return { ok: false, verdict: 'error', detail: `${region}: the version query failed at ${q.where}: ${r.detail}`, retryable: r.retryable };
  return { ok: true, versions: [...new Set(r.samples.map((s) => s.labels[source.versionLabel] ?? ''))].sort() };
}

/**
 * Whether `region`'s counted series are still scraped now. A dead target keeps its old
 * samples in a range selector, so the intervals before it died would go on answering; its
 * instant selectors return nothing once its series are stale (prometheus.ts, "Staleness").
 */
export async function stillScraped(
  source: ComparisonSource,
  region: string,
  q: CountQuery,
  now: number,
): Promise<{ ok: true; current: boolean } | ({ ok: false } & CountProblem)> {
  const fresh = freshnessQuery([source.errors, source.requests]);
  if (!fresh) return { ok: false, verdict: 'error', detail: 'the queries have no range selector over {{window}}', retryable: false };
  let promql: string;
  try {
    promql = renderPromQL(fresh, { service: q.service, region, version: '', window: promDuration(q.stepMs) });
  } catch (err) {
    if (err instanceof TemplateError) return { ok: false, verdict: 'error', detail: `bad query template: ${err.message}`, retryable: false };
    throw err;
  }
  const r = await instantQuery(q.baseUrl, promql, q.headers, q.tokenEnv, q.timeoutMs, q.signal, now);
  if (r.kind === 'error')
    return { ok: false, verdict: 'error', detail: `${region}: the current-series query failed at ${q.where}: ${r.detail}`, retryable: r.retryable };
  return { ok: true, current: r.samples.length > 0 };
}
