// The HTTP JSON SLO provider, and what both providers share: options, URL display, status words.
//
// Providers never throw for a provider fault: a fault is an `error` verdict with a
// `retryable` flag, so the gate can aggregate it and the watch can count it. The one
// thing they do throw is the activity's cancellation, which must reach Temporal as such.
import type { Check } from '../../plan';
import type { CheckResult, SloContext } from '../../domain/activity-contract';
import { bearerHeader } from '../bearer-token';
import { isRetryableStatus } from '../http-errors';
import { httpRequest, TransportError, type HttpAnswer } from '../http-transport';
import { compare } from './verdict';
import { TemplateError } from '../../plan/promql';

export { TemplateError };

export type HttpJsonSource = Extract<Check['source'], { type: 'http' }>;
export type HttpJsonCheck = Check & { source: HttpJsonSource };

export interface ProviderOptions {
  /** The activity's cancellation signal; aborting it aborts the request. */
  signal?: AbortSignal;
  /** Deadline for the whole request, body included (axios' own timeout is per socket idle). */
  timeoutMs?: number;
  /** Clock, for the window and staleness; tests pin it. */
  now?: () => number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
/** SLO answers are a number or a small vector; anything bigger is a query that returns too much. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * GET `url` for a provider: the answer whatever its status (callers classify). Rejects with
 * a TransportError for no answer, or the cancellation when `signal` fired.
 */
export async function httpGet(url: string, headers: Record<string, string>, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<HttpAnswer> {
  try {
    return await httpRequest({
      method: 'GET',
      url,
      headers: { Accept: 'application/json', ...headers },
      timeoutMs: opts.timeoutMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
      maxBytes: MAX_BODY_BYTES,
    });
  } catch (err) {
    if (err instanceof TransportError && err.fault === 'too-large') throw new TransportError(`${err.message}: narrow the query`, err.fault, false);
    throw err;
  }
}

/** The URL as it may appear in a verdict: user:password@ would be a leaked secret. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    const text = u.toString();
    return u.pathname === '/' && !u.search ? text.replace(/\/$/, '') : text;
  } catch {
    return url;
  }
}

/** Words for a non-2xx status, so an operator knows where to look. */
export function statusWords(status: number, tokenEnv: string | undefined): string {
  if (status === 401 || status === 403) {
    return `HTTP ${status}: not authorized${tokenEnv ? `; check the token in $${tokenEnv}` : '; the endpoint may need a tokenEnv'}`;
  }
  if (status === 404) return 'HTTP 404: not found; check the URL';
  if (status === 429) return 'HTTP 429: rate limited';
  if (status >= 300 && status < 400) return `HTTP ${status}: redirected; put the final URL in the plan`;
  return `HTTP ${status}`;
}

/** Fills {{service}} {{region}} {{version}} with URL-encoded values; unknown names are an error. */
export function renderUrl(template: string, vars: { service: string; region: string; version: string }): string {
  return template.replace(/\{\{\s*([A-Za-z_]+)\s*\}\}/g, (_m, name: string) => {
    if (name === 'service' || name === 'region' || name === 'version') return encodeURIComponent(vars[name]);
    throw new TemplateError(`unknown template variable {{${name}}}: use {{service}}, {{region}} or {{version}}`);
  });
}

type PathStep = string | number;

/** Parses `a.b[0].c` (and `[2]`, `a[0][1]`); undefined for a path that cannot mean anything. */
export function parsePath(path: string): PathStep[] | undefined {
  const steps: PathStep[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|(\.)/g;
  let expectKey = true;
  let pos = 0;
  for (let m = re.exec(path); m; m = re.exec(path)) {
    if (m.index !== pos) return undefined;
    pos = re.lastIndex;
    if (m[1] !== undefined) {
      if (!expectKey) return undefined;
      steps.push(m[1]);
      expectKey = false;
    } else if (m[2] !== undefined) {
      steps.push(Number(m[2]));
      expectKey = false;
    } else {
      if (expectKey) return undefined;
      expectKey = true;
    }
  }
  if (pos !== path.length || expectKey || steps.length === 0) return undefined;
  return steps;
}

type Lookup = { found: true; value: unknown } | { found: false; at: string };

function lookup(doc: unknown, steps: PathStep[]): Lookup {
  let cur: unknown = doc;
  let walked = '';
  for (const step of steps) {
    walked += typeof step === 'number' ? `[${step}]` : walked ? `.${step}` : step;
    if (typeof step === 'number') {
      if (!Array.isArray(cur) || step >= cur.length) return { found: false, at: walked };
      cur = cur[step];
    } else {
      if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, step)) {
        return { found: false, at: walked };
      }
      cur = (cur as Record<string, unknown>)[step];
    }
  }
  return { found: true, value: cur };
}

/** Formats a measured number for a sentence: enough digits to compare, no float noise. */
export function fmt(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}

/** GETs a JSON document and judges the number at the check's path. */
export async function evaluateHttpCheck(check: HttpJsonCheck, ctx: SloContext, opts: ProviderOptions = {}): Promise<CheckResult> {
  const base = { name: check.name, comparator: check.comparator, threshold: check.threshold };
  const src = check.source;
  const error = (detail: string, retryable: boolean): CheckResult => ({ ...base, verdict: 'error', detail, retryable });
  const inconclusive = (detail: string): CheckResult => ({ ...base, verdict: 'inconclusive', detail });

  let url: string;
  try {
    url = renderUrl(src.url, ctx);
    new URL(url);
  } catch (err) {
    const why = err instanceof TemplateError ? err.message : `not a valid URL after filling in the template: ${src.url}`;
    return error(`bad check URL: ${why}`, false);
  }
  const steps = parsePath(src.path);
  if (!steps) return error(`bad path ${JSON.stringify(src.path)}: write it like data.items[0].value`, false);

  const auth = bearerHeader(src.tokenEnv);
  if ('missing' in auth) {
    return error(`environment variable ${auth.missing} is not set on the worker; it must hold the bearer token for ${displayUrl(url)}`, false);
  }
  const where = displayUrl(url);
  let res: HttpAnswer;
  try {
    res = await httpGet(url, auth.headers, { timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal: opts.signal });
  } catch (err) {
    if (err instanceof TransportError) return error(`${where}: ${err.message}`, err.retryable);
    throw err;
  }
  if (res.status < 200 || res.status >= 300) {
    return error(`${where}: ${statusWords(res.status, src.tokenEnv)}`, isRetryableStatus(res.status));
  }
  let doc: unknown;
  try {
    doc = JSON.parse(res.body);
  } catch {
    return error(`${where}: answered ${res.status} with a body that is not JSON`, true);
  }
  const hit = lookup(doc, steps);
  if (!hit.found) return inconclusive(`no value at ${src.path} in the answer of ${where} (nothing at ${hit.at})`);
  if (hit.value === null) return inconclusive(`${src.path} is null in the answer of ${where}: no measurement`);
  if (typeof hit.value !== 'number') {
    return inconclusive(`${src.path} in the answer of ${where} is a ${typeof hit.value} (${JSON.stringify(hit.value).slice(0, 60)}), not a number`);
  }
  const value = hit.value;
  if (compare(value, check.comparator, check.threshold)) {
    return { ...base, verdict: 'pass', value, detail: `${fmt(value)} ${check.comparator} ${fmt(check.threshold)} (${src.path} from ${where})` };
  }
  return {
    ...base,
    verdict: 'fail',
    value,
    detail: `breach: ${fmt(value)} is not ${check.comparator} ${fmt(check.threshold)} (${src.path} from ${where})`,
  };
}
