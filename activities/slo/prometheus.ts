// The Prometheus SLO provider: fail-closed, so only clear evidence passes (the gate's rules
// are in docs/rollout-states.md, "Gate verdicts"; the plan's side in docs/deployers.md).
//
// Verdict rules, in the order they are applied:
//   error         the provider could not answer: network, timeout, 5xx, timeout/unavailable/
//                 internal/canceled (retryable); bad_data, execution, 4xx (not retryable:
//                 the query or config is wrong); malformed JSON or envelope (retryable).
//   inconclusive  the measurement is unusable: no series, more than one series, a stale
//                 sample, NaN, or an infinity on the passing side.
//   fail          a finite value outside the threshold, or an infinity on the breaching side
//                 (+Inf error ratio with `<`). A breach fails even with warnings or too
//                 little traffic: errors were seen, and a broken version often gets little
//                 traffic; the evidence guards below exist to stop false passes.
//   inconclusive  warnings (the answer may be partial), or too little traffic.
//   baseline      only for checks with `baseline`: the same query at the deploy time (see
//                 below). Its error is `error`; no usable baseline value is `inconclusive`;
//                 a value worse than the baseline by more than the rule allows is `fail`.
//                 It comes after the evidence guards: a relative regression on too little
//                 traffic is noise, and a breach of the absolute threshold never waits for it.
//   pass          everything else: one fresh finite in-threshold series with enough traffic
//                 (and, with a baseline, no regression against it).
//
// Staleness: a sample is stale when its timestamp is more than `staleAfterMs` (60 s by
// default) behind the worker's clock. Prometheus stamps instant-vector results with the
// evaluation time, so against Prometheus itself this catches clock skew and caches or
// federation layers serving old answers. A dead target shows up differently: its series
// get staleness markers, so an instant selector returns no series (inconclusive "no data"),
// but a range selector over {{window}} still holds the samples from before it died: rate()
// and increase() over the soak go on answering with the healthy start of the soak, and a
// region whose target died (or whose new version crashed) would pass on that old evidence.
// So the range selectors of the check's queries are also asked for as instant selectors
// (one query, in parallel): when none of them has a current series, the answer is stale.
import type { Check } from '../../plan';
import type { CheckResult, SloContext } from '../../domain/activity-contract';
import { bearerHeader } from '../bearer-token';
import { baselineLimit, compare, lowerIsBetter, regressedFromBaseline } from './verdict';
import { DEFAULT_TIMEOUT_MS, TemplateError, displayUrl, fmt, type ProviderOptions } from './http';
import { freshnessQuery, promDuration, renderPromQL, templateUses, type PromQLVars } from '../../plan/promql';
import { instantQuery } from './prometheus-api';
import { cannotShowMet, clip, notANumber, partialAnswer, singleFreshSample, tooLittleTraffic } from './evidence';

export type PrometheusSource = Extract<Check['source'], { type: 'prometheus' }>;
export type PrometheusCheck = Check & { source: PrometheusSource };

export interface PrometheusOptions extends ProviderOptions {
  /** A sample this much older than the worker's clock is stale. Default 60 s. */
  staleAfterMs?: number;
  /** Shortest {{window}}. Default 1 s; rate() needs two samples, so a scrape interval or two is wiser. */
  minWindowMs?: number;
}

export const DEFAULT_STALE_AFTER_MS = 60_000;

function sameOrigin(a: string, b: string | undefined): boolean {
  if (!b) return false;
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

export type PrometheusAccess = { ok: true; baseUrl: string; where: string; headers: Record<string, string>; tokenEnv?: string } | { ok: false; detail: string };

/** Where a check's Prometheus is and how to authenticate to it, or why that is unknown (not retryable: the plan or the worker's environment is wrong). */
export function prometheusAccess(source: { url?: string; tokenEnv?: string }, ctx: SloContext): PrometheusAccess {
  // Normalization folds the plan's `prometheus` into each check; `ctx.prometheus` comes only
  // with plans recorded before it did.
  const rawUrl = source.url ?? ctx.prometheus?.url;
  if (!rawUrl) return { ok: false, detail: 'no Prometheus URL: set prometheus.url in the plan or source.url on the check' };
  const baseUrl = rawUrl.replace(/\/+$/, '');
  const where = displayUrl(baseUrl);
  // The plan's token belongs to the plan's Prometheus: a check pointing elsewhere does
  // not get it, or a typo in a URL would hand the token to another host.
  const tokenEnv = source.tokenEnv ?? (sameOrigin(baseUrl, ctx.prometheus?.url) ? ctx.prometheus?.tokenEnv : undefined);
  const auth = bearerHeader(tokenEnv);
  if ('missing' in auth) {
    return { ok: false, detail: `environment variable ${auth.missing} is not set on the worker; it must hold the bearer token for Prometheus at ${where}` };
  }
  return { ok: true, baseUrl, where, headers: auth.headers, ...(tokenEnv ? { tokenEnv } : {}) };
}

/** What the baseline query established, or why it could not. */
type BaselineOutcome = { ok: true; value: number } | { ok: false; verdict: 'error' | 'inconclusive'; detail: string; retryable?: boolean };

/** A change from the baseline in words: "+0.03, 4× the baseline". */
function changeWords(value: number, baseline: number): string {
  const delta = value - baseline;
  const diff = `${delta >= 0 ? '+' : '-'}${fmt(Math.abs(delta))}`;
  // A ratio to a zero or negative baseline says nothing an operator can use.
  return baseline > 0 && value >= 0 ? `${diff}, ${fmt(value / baseline)}× the baseline` : diff;
}

/**
 * Evaluates one Prometheus check for `ctx` over the window [ctx.since, now]. Never
 * throws for provider faults (they are `error` verdicts); rethrows the cancellation.
 *
 * With `check.baseline`, the same query also runs at the deploy time (Prometheus' `time`
 * parameter) with the same {{window}} length, so "before" and "after" average over equally
 * long windows: [since - w, since] against [since, now]. {{version}} is then the version
 * the region ran before (`ctx.baselineVersion`). Its sample's staleness is measured from
 * the deploy time, where Prometheus stamps it.
 */
export async function evaluatePrometheusCheck(check: PrometheusCheck, ctx: SloContext, opts: PrometheusOptions = {}): Promise<CheckResult> {
  const now = (opts.now ?? Date.now)();
  const staleAfterMs = opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const base = { name: check.name, comparator: check.comparator, threshold: check.threshold };
  const error = (detail: string, retryable: boolean): CheckResult => ({ ...base, verdict: 'error', detail, retryable });

  const access = prometheusAccess(check.source, ctx);
  if (!access.ok) return error(access.detail, false);
  const { baseUrl, where, headers, tokenEnv } = access;

  // The window starts at the deploy, or later for a promoted region's sliding look-back.
  const window = promDuration(Math.max(now - Math.max(ctx.since, ctx.windowStart ?? ctx.since), opts.minWindowMs ?? 1000));
  const vars: PromQLVars = { service: ctx.service, region: ctx.region, version: ctx.version, window };
  // Never in the future: a worker clock behind the workflow's would otherwise ask for a
  // "before" that is really "after".
  const baselineAt = Math.min(ctx.since, now);
  const baselineByVersion = templateUses(check.source.query, 'version');
  const noBaselineVersion = check.baseline !== undefined && baselineByVersion && !ctx.baselineVersion;
  let query: string;
  let trafficQuery: string | undefined;
  let baselineQuery: string | undefined;
  let freshQuery: string | undefined;
  try {
    query = renderPromQL(check.source.query, vars);
    trafficQuery = check.minTraffic ? renderPromQL(check.minTraffic.query, vars) : undefined;
    const fresh = freshnessQuery([check.source.query, ...(check.minTraffic ? [check.minTraffic.query] : [])]);
    freshQuery = fresh ? renderPromQL(fresh, vars) : undefined;
    if (check.baseline && !noBaselineVersion) {
      baselineQuery = renderPromQL(check.source.query, { ...vars, version: ctx.baselineVersion ?? ctx.version });
    }
  } catch (err) {
    if (err instanceof TemplateError) return error(`bad query template: ${err.message}`, false);
    throw err;
  }

  const [main, traffic, before, current] = await Promise.all([
    instantQuery(baseUrl, query, headers, tokenEnv, timeoutMs, opts.signal),
    trafficQuery ? instantQuery(baseUrl, trafficQuery, headers, tokenEnv, timeoutMs, opts.signal) : undefined,
    baselineQuery ? instantQuery(baseUrl, baselineQuery, headers, tokenEnv, timeoutMs, opts.signal, baselineAt) : undefined,
    freshQuery ? instantQuery(baseUrl, freshQuery, headers, tokenEnv, timeoutMs, opts.signal) : undefined,
  ]);
  const q = ` Query: ${query}`;
  const tq = trafficQuery ? ` Traffic query: ${trafficQuery}` : '';
  const deployTime = new Date(baselineAt).toISOString();
  const bq = baselineQuery ? ` Baseline query (at ${deployTime}): ${baselineQuery}` : '';
  const beforeWords = `in the ${window} before the deploy${baselineByVersion && ctx.baselineVersion ? ` (version ${ctx.baselineVersion})` : ''}`;

  const baseline = ((): BaselineOutcome | undefined => {
    if (!check.baseline) return undefined;
    const inconclusive = (why: string): BaselineOutcome => ({ ok: false, verdict: 'inconclusive', detail: `no baseline ${beforeWords}: ${why}` });
    if (noBaselineVersion) {
      return inconclusive('the query selects by {{version}} and the deployer did not report the previous version, so there is nothing to compare with');
    }
    if (!before) return inconclusive('the baseline query was not run'); // unreachable: baselineQuery is set
    if (before.kind === 'error') {
      return { ok: false, verdict: 'error', detail: `the baseline query failed at ${where}: ${before.detail}`, retryable: before.retryable };
    }
    const s = singleFreshSample(before.samples, baselineAt, staleAfterMs);
    if (!s.ok) return inconclusive(s.why);
    if (Number.isNaN(s.sample.value)) return inconclusive('the query returned NaN (no traffic before the deploy?)');
    // An infinite baseline would let anything pass (or nothing); it is no measurement.
    if (!Number.isFinite(s.sample.value)) return inconclusive(`the query returned ${fmt(s.sample.value)}`);
    if (before.warnings.length > 0) {
      return inconclusive(`Prometheus returned warnings, so the baseline may be partial: ${clip(before.warnings.join('; '))}`);
    }
    return { ok: true, value: s.sample.value };
  })();
  const withBaseline = baseline?.ok ? { baseline: baseline.value } : {};
  const beforeNote = baseline?.ok ? `; ${beforeWords} it was ${fmt(baseline.value)}` : '';

  if (main.kind === 'error') return error(`Prometheus at ${where}: ${main.detail}.${q}`, main.retryable);
  const usable = singleFreshSample(main.samples, now, staleAfterMs);
  if (!usable.ok) return { ...base, verdict: 'inconclusive', detail: `${usable.why}.${q}` };
  const v = usable.sample.value;
  const nan = notANumber(v, window);
  if (nan) return { ...base, verdict: 'inconclusive', detail: `${nan}.${q}` };
  const within = compare(v, check.comparator, check.threshold);

  // The traffic count, when measurable, goes into every verdict from here on.
  const count = traffic?.kind === 'ok' && traffic.samples.length === 1 && Number.isFinite(traffic.samples[0]!.value) ? traffic.samples[0]!.value : undefined;
  const withTraffic = count !== undefined ? { traffic: count } : {};

  if (!within) {
    const shown = Number.isFinite(v) ? fmt(v) : `${fmt(v)} (a ratio over zero requests?)`;
    return {
      ...base,
      ...(Number.isFinite(v) ? { value: v } : {}),
      ...withTraffic,
      ...withBaseline,
      verdict: 'fail',
      detail: `breach: ${shown} is not ${check.comparator} ${fmt(check.threshold)} over the last ${window}${beforeNote}.${q}`,
    };
  }
  const infinite = cannotShowMet(v);
  if (infinite) return { ...base, ...withTraffic, verdict: 'inconclusive', detail: `${infinite}.${q}` };
  const inconclusive = (detail: string): CheckResult => ({ ...base, value: v, ...withTraffic, ...withBaseline, verdict: 'inconclusive', detail });
  // After the breach check: errors seen before the target died are still errors.
  if (current?.kind === 'error') {
    return {
      ...base,
      value: v,
      ...withTraffic,
      verdict: 'error',
      detail: `the query for current series failed at ${where}: ${current.detail}. Current-series query: ${freshQuery}`,
      retryable: current.retryable,
    };
  }
  if (current?.kind === 'ok' && current.samples.length === 0) {
    return inconclusive(
      `stale data: none of the series behind the query has a current sample (its target is down or no longer scraped), so ${fmt(v)} only describes the time before that. Current-series query: ${freshQuery}.${q}`,
    );
  }
  const partial = partialAnswer(main, 'Prometheus');
  if (partial) return inconclusive(`${partial}.${q}`);

  if (check.minTraffic && traffic) {
    const min = check.minTraffic.min;
    if (traffic.kind === 'error') {
      return {
        ...base,
        value: v,
        ...withBaseline,
        verdict: 'error',
        detail: `traffic query failed at ${where}: ${traffic.detail}.${tq}`,
        retryable: traffic.retryable,
      };
    }
    const short = tooLittleTraffic(traffic, {
      min,
      now,
      staleAfterMs,
      window,
      source: 'Prometheus',
      wouldPass: `the value ${fmt(v)} would pass ${check.comparator} ${fmt(check.threshold)}`,
    });
    if (short) return inconclusive(`${short}.${q}${tq}`);
  }
  const trafficNote = count !== undefined && check.minTraffic ? ` with ${fmt(count)} requests (>= ${check.minTraffic.min})` : '';
  const absolute = `${fmt(v)} ${check.comparator} ${fmt(check.threshold)} over the last ${window}${trafficNote}`;

  if (check.baseline && baseline) {
    if (!baseline.ok) {
      return {
        ...base,
        value: v,
        ...withTraffic,
        verdict: baseline.verdict,
        detail: `${baseline.detail}. The value now meets the threshold (${absolute}), but the check also compares with the baseline and cannot pass without it.${q}${bq}`,
        ...(baseline.retryable !== undefined ? { retryable: baseline.retryable } : {}),
      };
    }
    const b = baseline.value;
    const limit = baselineLimit(b, check.comparator, check.baseline);
    const rule = `baseline.maxRatio ${fmt(check.baseline.maxRatio)}, baseline.minDelta ${fmt(check.baseline.minDelta)}`;
    if (regressedFromBaseline(v, b, check.comparator, check.baseline)) {
      return {
        ...base,
        value: v,
        ...withTraffic,
        ...withBaseline,
        verdict: 'fail',
        detail: `regression against the pre-deploy baseline: ${fmt(v)} now vs ${fmt(b)} ${beforeWords} (${changeWords(v, b)}); the ${
          lowerIsBetter(check.comparator) ? 'most' : 'least'
        } allowed is ${fmt(limit)} (${rule}). The absolute threshold alone would pass (${absolute}).${q}${bq}`,
      };
    }
    return {
      ...base,
      value: v,
      ...withTraffic,
      ...withBaseline,
      verdict: 'pass',
      detail: `${absolute}; ${beforeWords} it was ${fmt(b)} (${changeWords(v, b)}), within the allowed ${fmt(limit)} (${rule})`,
    };
  }
  return { ...base, value: v, ...withTraffic, verdict: 'pass', detail: absolute };
}
