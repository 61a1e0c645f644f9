// PromQL for SLO checks: the {{service}}, {{region}}, {{version}} and {{window}} templates,
// the query builders docs/deployers.md shows, and the instant selectors behind a check's
// range selectors that the freshness query asks for (prometheus.ts, "Staleness").
/** A query template that cannot be filled in (an unknown {{name}}): the plan is wrong, not the source. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

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
