// Prometheus' HTTP API: one instant query, and its envelope read into samples or a
// classified error (retryable or not), never an exception but for cancellation.
import { isRetryableStatus } from '../http-errors';
import { TransportError } from '../http-transport';
import { httpGet, statusWords } from './http';
import { clip, type Sample } from './evidence';

export type QueryResult = { kind: 'ok'; samples: Sample[]; warnings: string[] } | { kind: 'error'; detail: string; retryable: boolean };

/** One series of a range query: its points in time order. */
export interface Series {
  labels: Record<string, string>;
  points: { ts: number; value: number }[];
}
export type RangeResult = { kind: 'ok'; series: Series[]; warnings: string[] } | { kind: 'error'; detail: string; retryable: boolean };

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

function readEnvelope(status: number, body: string, tokenEnv: string | undefined): QueryResult | RangeResult {
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
    case 'matrix': {
      // The answer of a range query; an instant query answering with one is refused by its caller.
      if (!Array.isArray(data.result)) return notEnvelope('a matrix without a result array');
      const series: Series[] = [];
      for (const item of data.result) {
        const labels = isObject(item) && isObject(item.metric) ? (item.metric as Record<string, string>) : undefined;
        const values = isObject(item) && Array.isArray(item.values) ? item.values : undefined;
        if (!labels || !values) return notEnvelope('a matrix element without metric and values');
        const points: Series['points'] = [];
        for (const v of values) {
          const p = parsePoint(v, labels);
          if (!p) return notEnvelope('a matrix value that is not a [timestamp, "value"] pair');
          points.push({ ts: p.ts, value: p.value });
        }
        series.push({ labels, points });
      }
      return { kind: 'ok', series, warnings };
    }
    case 'string':
      return { kind: 'error', detail: 'the query returns a string, not a number', retryable: false };
    default:
      return notEnvelope(`unknown resultType ${JSON.stringify(data.resultType)}`);
  }
}

export async function instantQuery(
  baseUrl: string,
  promql: string,
  headers: Record<string, string>,
  tokenEnv: string | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  /** Evaluation time, epoch ms; Prometheus' "now" when absent. */
  atMs?: number,
): Promise<QueryResult> {
  const params = queryParams(promql, timeoutMs);
  if (atMs !== undefined) params.set('time', (atMs / 1000).toFixed(3));
  const answer = await ask(`${baseUrl}/api/v1/query?${params.toString()}`, headers, tokenEnv, timeoutMs, signal);
  if (answer.kind === 'ok' && 'series' in answer) {
    return {
      kind: 'error',
      detail: 'the query returns a range vector (e.g. metric[5m]); wrap it in a function such as rate() or sum_over_time()',
      retryable: false,
    };
  }
  return answer;
}

/** The query and Prometheus' own timeout, so it stops working on a query we will have given up on. */
function queryParams(promql: string, timeoutMs: number): URLSearchParams {
  return new URLSearchParams({ query: promql, timeout: `${Math.max(1, Math.ceil(timeoutMs / 1000))}s` });
}

async function ask(
  url: string,
  headers: Record<string, string>,
  tokenEnv: string | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<QueryResult | RangeResult> {
  try {
    const res = await httpGet(url, headers, { timeoutMs, signal });
    return readEnvelope(res.status, res.body, tokenEnv);
  } catch (err) {
    if (err instanceof TransportError) return { kind: 'error', detail: err.message, retryable: err.retryable };
    throw err;
  }
}

/** A range query: the value at start, start + step, … up to end (epoch ms). */
export async function rangeQuery(
  baseUrl: string,
  promql: string,
  headers: Record<string, string>,
  tokenEnv: string | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  range: { startMs: number; endMs: number; stepMs: number },
): Promise<RangeResult> {
  const params = queryParams(promql, timeoutMs);
  params.set('start', (range.startMs / 1000).toFixed(3));
  params.set('end', (range.endMs / 1000).toFixed(3));
  params.set('step', `${range.stepMs / 1000}s`);
  const answer = await ask(`${baseUrl}/api/v1/query_range?${params.toString()}`, headers, tokenEnv, timeoutMs, signal);
  if (answer.kind === 'ok' && !('series' in answer)) return { kind: 'error', detail: 'a range query answered with an instant vector', retryable: true };
  return answer;
}
