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
import { isRetryableStatus } from '../http-errors';
import { baselineLimit, compare, lowerIsBetter, regressedFromBaseline } from './verdict';
import { DEFAULT_TIMEOUT_MS, TemplateError, TransportError, displayUrl, fmt, httpGet, statusWords, type ProviderOptions } from './http';

export type PrometheusSource = Extract<Check['source'], { type: 'prometheus' }>;
export type PrometheusCheck = Check & { source: PrometheusSource };

export interface PrometheusOptions extends ProviderOptions {
  /** A sample this much older than the worker's clock is stale. Default 60 s. */
  staleAfterMs?: number;
  /** Shortest {{window}}. Default 1 s; rate() needs two samples, so a scrape interval or two is wiser. */
  minWindowMs?: number;
}

export const DEFAULT_STALE_AFTER_MS = 60_000;

// ---------------------------------------------------------------------------------------
// Templates

export interface PromQLVars {
  service: string;
  region: string;
  version: string;
  /** A PromQL duration, e.g. "45s" (see promDuration). */
  window: string;
}

/**
 * Escapes a value for use inside a double-quoted PromQL string, e.g. a label matcher.
 * Templates must quote with "…": single quotes and backticks follow other rules.
 */
export function escapePromQLString(value: string): string {
  return value.replace(/[\\"\n\r\t]/g, (c) => {
    switch (c) {
      case '\\':
        return '\\\\';
      case '"':
        return '\\"';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      default:
        return '\\t';
    }
  });
}

/** Milliseconds as a PromQL duration in whole seconds, rounded up, at least "1s". */
export function promDuration(ms: number): string {
  const s = Number.isFinite(ms) ? Math.ceil(ms / 1000) : 1;
  return `${Math.max(1, s)}s`;
}

/** Whether a query template uses {{name}} (spaces inside the braces allowed, as in renderPromQL). */
export function templateUses(template: string, name: keyof PromQLVars): boolean {
  return new RegExp(`\\{\\{\\s*${name}\\s*\\}\\}`).test(template);
}

/**
 * Fills {{service}} {{region}} {{version}} (escaped for a double-quoted string) and
 * {{window}} in one pass, so a value that itself contains "{{…}}" is never expanded.
 * An unknown {{name}} throws TemplateError: Prometheus would only say "parse error".
 */
export function renderPromQL(template: string, vars: PromQLVars): string {
  return template.replace(/\{\{\s*([A-Za-z_]+)\s*\}\}/g, (_m, name: string) => {
    switch (name) {
      case 'service':
      case 'region':
      case 'version':
        return escapePromQLString(vars[name]);
      case 'window':
        return vars.window;
      default:
        throw new TemplateError(`unknown template variable {{${name}}}: use {{service}}, {{region}}, {{version}} or {{window}}`);
    }
  });
}

// ---------------------------------------------------------------------------------------
// Ready-made query templates. Each returns a template string for a check's `query`,
// selecting the deployed service, region and version by labels named `service`,
// `region` and `version` unless `labels` renames them.

export interface TemplateLabels {
  service?: string;
  region?: string;
  version?: string;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function selector(metric: string, labels: TemplateLabels | undefined, extra?: string): string {
  if (!METRIC_NAME.test(metric)) throw new TypeError(`not a Prometheus metric name: ${JSON.stringify(metric)}`);
  const l = { service: 'service', region: 'region', version: 'version', ...labels };
  for (const name of Object.values(l)) {
    if (!LABEL_NAME.test(name)) throw new TypeError(`not a Prometheus label name: ${JSON.stringify(name)}`);
  }
  const matchers = [`${l.service}="{{service}}"`, `${l.region}="{{region}}"`, `${l.version}="{{version}}"`];
  if (extra) matchers.push(extra);
  return `${metric}{${matchers.join(',')}}`;
}

export interface ErrorRatioOptions {
  /** Matcher that picks the failed requests. Default `code=~"5.."`. */
  errorMatcher?: string;
  labels?: TemplateLabels;
}

/**
 * Share of failed requests since the deploy, from one request counter, e.g.
 * `errorRatioQuery('http_requests_total')` with comparator `<` and threshold 0.01.
 * A healthy service may never have created a 5xx series, and a missing numerator would
 * make the whole ratio "no data"; `or vector(0)` turns that into 0. No requests at all
 * still gives no series or NaN, which is inconclusive, as it should be.
 */
export function errorRatioQuery(requestsMetric: string, opts: ErrorRatioOptions = {}): string {
  const errors = selector(requestsMetric, opts.labels, opts.errorMatcher ?? 'code=~"5.."');
  const all = selector(requestsMetric, opts.labels);
  return `(sum(rate(${errors}[{{window}}])) or vector(0)) / sum(rate(${all}[{{window}}]))`;
}

/**
 * A latency quantile in the histogram's unit (usually seconds) since the deploy, e.g.
 * `latencyQuantileQuery('http_request_duration_seconds', 0.99)` with `<` 0.3.
 * Takes the histogram's base name (a trailing `_bucket` is accepted too).
 */
export function latencyQuantileQuery(histogram: string, quantile = 0.99, opts: { labels?: TemplateLabels } = {}): string {
  if (!(quantile > 0 && quantile < 1)) throw new RangeError(`quantile must be between 0 and 1, got ${quantile}`);
  const bucket = histogram.endsWith('_bucket') ? histogram : `${histogram}_bucket`;
  return `histogram_quantile(${quantile}, sum by (le) (rate(${selector(bucket, opts.labels)}[{{window}}])))`;
}

/**
 * How fast the error budget burns: error ratio / (1 - SLO target). 1 spends the budget
 * exactly over the SLO period; the SRE workbook pages at 14.4 (1 h) and 6 (6 h).
 * E.g. `burnRateQuery('http_requests_total', 0.999)` with `<` 14.4.
 */
export function burnRateQuery(requestsMetric: string, sloTarget: number, opts: ErrorRatioOptions = {}): string {
  if (!(sloTarget > 0 && sloTarget < 1)) throw new RangeError(`SLO target must be between 0 and 1, got ${sloTarget}`);
  return `(${errorRatioQuery(requestsMetric, opts)}) / (1 - ${sloTarget})`;
}

/** Requests since the deploy, for a check's `minTraffic.query`. */
export function requestCountQuery(requestsMetric: string, opts: { labels?: TemplateLabels } = {}): string {
  return `sum(increase(${selector(requestsMetric, opts.labels)}[{{window}}]))`;
}

export const promqlTemplates = {
  errorRatio: errorRatioQuery,
  latencyQuantile: latencyQuantileQuery,
  burnRate: burnRateQuery,
  requestCount: requestCountQuery,
} as const;

/**
 * The range selectors over {{window}} in a template, as instant selectors, e.g.
 * `sum(rate(m{a="{{service}}"}[{{window}}]))` gives `m{a="{{service}}"}`. Quoted label
 * values may hold braces and brackets; subqueries and fixed ranges are left out.
 */
export function windowSelectors(template: string): string[] {
  const found = new Set<string>();
  const re = /([a-zA-Z_:][a-zA-Z0-9_:]*)?(\{(?:[^{}"]|"(?:[^"\\]|\\.)*")*\})?\[\{\{\s*window\s*\}\}\]/g;
  for (const m of template.matchAll(re)) {
    const sel = `${m[1] ?? ''}${m[2] ?? ''}`;
    if (sel) found.add(sel);
  }
  return [...found];
}

/**
 * The query that says whether the series behind a check are still current: Prometheus
 * returns an instant selector only while its newest sample is no staleness marker and is
 * within the lookback delta (5 minutes by default). Undefined without range selectors.
 */
export function freshnessQuery(templates: string[]): string | undefined {
  const sels = [...new Set(templates.flatMap(windowSelectors))];
  return sels.length ? `group(${sels.join(' or ')})` : undefined;
}

// ---------------------------------------------------------------------------------------
// The API

interface Sample {
  labels: Record<string, string>;
  /** Epoch ms. */
  ts: number;
  value: number;
}

type QueryResult = { kind: 'ok'; samples: Sample[]; warnings: string[] } | { kind: 'error'; detail: string; retryable: boolean };

const MAX_MESSAGE_CHARS = 300;

function clip(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > MAX_MESSAGE_CHARS ? `${t.slice(0, MAX_MESSAGE_CHARS)}…` : t;
}

/** Prometheus' float text: "NaN", "+Inf", "-Inf" or a Go float. undefined for anything else. */
export function parsePromValue(raw: unknown): number | undefined {
  if (typeof raw !== 'string') return undefined;
  if (raw === 'NaN') return NaN;
  if (raw === '+Inf' || raw === 'Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(raw)) return undefined;
  return Number(raw);
}

function parsePoint(point: unknown, labels: Record<string, string>): Sample | undefined {
  if (!Array.isArray(point) || point.length !== 2 || typeof point[0] !== 'number') return undefined;
  const value = parsePromValue(point[1]);
  if (value === undefined) return undefined;
  return { labels, ts: point[0] * 1000, value };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readEnvelope(status: number, body: string, tokenEnv: string | undefined): QueryResult {
  const ok2xx = status >= 200 && status < 300;
  const notEnvelope = (what: string): QueryResult =>
    ok2xx
      ? { kind: 'error', detail: `unexpected answer: ${what}`, retryable: true }
      : { kind: 'error', detail: statusWords(status, tokenEnv), retryable: isRetryableStatus(status) };

  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return notEnvelope(`HTTP ${status} with malformed JSON (${clip(body.slice(0, 80)) || 'empty body'})`);
  }
  if (!isObject(doc) || (doc.status !== 'success' && doc.status !== 'error')) {
    return notEnvelope(`HTTP ${status} JSON that is not a Prometheus API envelope`);
  }
  if (doc.status === 'error') {
    const type = typeof doc.errorType === 'string' ? doc.errorType : undefined;
    const msg = clip(typeof doc.error === 'string' ? doc.error : '(no message)');
    switch (type) {
      case 'bad_data':
        return { kind: 'error', detail: `Prometheus rejected the query (bad_data, HTTP ${status}): ${msg}; fix the check's query`, retryable: false };
      case 'execution':
        return { kind: 'error', detail: `the query cannot be executed (execution, HTTP ${status}): ${msg}; fix the check's query`, retryable: false };
      case 'timeout':
      case 'canceled':
      case 'unavailable':
      case 'internal':
        return { kind: 'error', detail: `Prometheus ${type} error (HTTP ${status}): ${msg}`, retryable: true };
      default:
        return {
          kind: 'error',
          detail: `Prometheus error ${type ?? 'without a type'} (HTTP ${status}): ${msg}`,
          retryable: ok2xx || isRetryableStatus(status),
        };
    }
  }
  const data = doc.data;
  if (!isObject(data) || typeof data.resultType !== 'string') return notEnvelope('a success without data.resultType');
  const warnings = Array.isArray(doc.warnings) ? doc.warnings.filter((w): w is string => typeof w === 'string') : [];
  switch (data.resultType) {
    case 'vector': {
      if (!Array.isArray(data.result)) return notEnvelope('a vector without a result array');
      const samples: Sample[] = [];
      for (const item of data.result) {
        const labels = isObject(item) && isObject(item.metric) ? (item.metric as Record<string, string>) : undefined;
        const sample = labels && isObject(item) ? parsePoint(item.value, labels) : undefined;
        if (!sample) return notEnvelope('a vector element without a [timestamp, "value"] pair');
        samples.push(sample);
      }
      return { kind: 'ok', samples, warnings };
    }
    case 'scalar': {
      const sample = parsePoint(data.result, {});
      if (!sample) return notEnvelope('a scalar that is not a [timestamp, "value"] pair');
      return { kind: 'ok', samples: [sample], warnings };
    }
    case 'matrix':
      return {
        kind: 'error',
        detail: 'the query returns a range vector (e.g. metric[5m]); wrap it in a function such as rate() or sum_over_time()',
        retryable: false,
      };
    case 'string':
      return { kind: 'error', detail: 'the query returns a string, not a number', retryable: false };
    default:
      return notEnvelope(`unknown resultType ${JSON.stringify(data.resultType)}`);
  }
}

async function instantQuery(
  baseUrl: string,
  promql: string,
  headers: Record<string, string>,
  tokenEnv: string | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  /** Evaluation time, epoch ms; Prometheus' "now" when absent. */
  atMs?: number,
): Promise<QueryResult> {
  // Prometheus' own timeout, so it stops working on a query we will have given up on.
  const params = new URLSearchParams({ query: promql, timeout: `${Math.max(1, Math.ceil(timeoutMs / 1000))}s` });
  if (atMs !== undefined) params.set('time', (atMs / 1000).toFixed(3));
  try {
    const res = await httpGet(`${baseUrl}/api/v1/query?${params.toString()}`, headers, { timeoutMs, signal });
    return readEnvelope(res.status, res.body, tokenEnv);
  } catch (err) {
    if (err instanceof TransportError) return { kind: 'error', detail: err.message, retryable: err.retryable };
    throw err;
  }
}

function sameOrigin(a: string, b: string | undefined): boolean {
  if (!b) return false;
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

function labelText(labels: Record<string, string>): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;
}

type Usable = { ok: true; sample: Sample } | { ok: false; why: string };

/** The single fresh sample of a result, or why there is none. */
function singleFreshSample(samples: Sample[], now: number, staleAfterMs: number): Usable {
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

  const rawUrl = check.source.url ?? ctx.prometheus?.url;
  if (!rawUrl) return error('no Prometheus URL: set prometheus.url in the plan or source.url on the check', false);
  const baseUrl = rawUrl.replace(/\/+$/, '');
  const where = displayUrl(baseUrl);

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

  // The plan's token belongs to the plan's Prometheus: a check pointing elsewhere does
  // not get it, or a typo in a URL would hand the token to another host.
  const tokenEnv = sameOrigin(baseUrl, ctx.prometheus?.url) ? ctx.prometheus?.tokenEnv : undefined;
  const auth = bearerHeader(tokenEnv);
  if ('missing' in auth) {
    return error(`environment variable ${auth.missing} is not set on the worker; it must hold the bearer token for Prometheus at ${where}`, false);
  }

  const [main, traffic, before, current] = await Promise.all([
    instantQuery(baseUrl, query, auth.headers, tokenEnv, timeoutMs, opts.signal),
    trafficQuery ? instantQuery(baseUrl, trafficQuery, auth.headers, tokenEnv, timeoutMs, opts.signal) : undefined,
    baselineQuery ? instantQuery(baseUrl, baselineQuery, auth.headers, tokenEnv, timeoutMs, opts.signal, baselineAt) : undefined,
    freshQuery ? instantQuery(baseUrl, freshQuery, auth.headers, tokenEnv, timeoutMs, opts.signal) : undefined,
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
  if (Number.isNaN(v)) {
    return { ...base, verdict: 'inconclusive', detail: `no usable value: the query returned NaN, usually zero traffic (0/0) in the last ${window}.${q}` };
  }
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
  if (!Number.isFinite(v)) {
    return {
      ...base,
      ...withTraffic,
      verdict: 'inconclusive',
      detail: `no usable value: the query returned ${fmt(v)}, which cannot show the SLO is met.${q}`,
    };
  }
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
  if (main.warnings.length > 0) {
    return inconclusive(`Prometheus returned warnings, so the answer may be partial: ${clip(main.warnings.join('; '))}.${q}`);
  }

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
    if (traffic.samples.length === 0) {
      return inconclusive(`too little traffic: the traffic query returned no series (0 < ${min}).${q}${tq}`);
    }
    const t = singleFreshSample(traffic.samples, now, staleAfterMs);
    if (!t.ok) return inconclusive(`too little traffic evidence: ${t.why}.${q}${tq}`);
    if (!Number.isFinite(t.sample.value)) {
      return inconclusive(`too little traffic: the traffic query returned ${fmt(t.sample.value)}.${q}${tq}`);
    }
    if (traffic.warnings.length > 0) {
      return inconclusive(`Prometheus returned warnings for the traffic query: ${clip(traffic.warnings.join('; '))}.${q}${tq}`);
    }
    if (t.sample.value < min) {
      return inconclusive(
        `too little traffic: ${fmt(t.sample.value)} < ${min} requests in the last ${window} (the value ${fmt(v)} would pass ${check.comparator} ${fmt(check.threshold)}).${q}${tq}`,
      );
    }
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
