// How an HTTP outcome becomes a Temporal failure. Shared by every activity that talks to
// a remote API, so "what does a 429 mean" has exactly one answer in the codebase.
//
// Rules: 4xx is the caller's fault and retrying the same request cannot help, except
// 408 (the server gave up waiting) and 429 (come back later). 5xx, timeouts and
// connection errors are the server's or the network's fault: retryable. Retries are
// safe only because every mutating call we make carries an idempotency key.
import { ApplicationFailure } from '@temporalio/common';
import type { DependencyFailures } from '../domain/failures';
import { cancellationOf } from './activity-context';
import { TransportError, transportErrorText } from './http-transport';

/**
 * Failure types are the dependency's `rejected` (4xx, non-retryable), `unavailable` (5xx,
 * network, 408) and `throttled` (429), so a workflow can tell which dependency failed.
 */
export interface HttpFailureContext {
  /** What was being attempted, in words, e.g. "deploy api 1.4.2 to eu-west-1". */
  what: string;
  failures: DependencyFailures;
}

/** Error bodies can be whole HTML pages; a failure message must stay readable. */
const MAX_BODY_CHARS = 300;

/** Statuses that are 4xx but transient by definition. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * Retry-After as milliseconds from `now`: either delta-seconds or an HTTP date.
 * Undefined when absent or unparseable, so the caller falls back to its retry policy.
 */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
  const raw: unknown = Array.isArray(value) ? value[0] : value;
  if (typeof raw === 'number') return raw >= 0 ? raw * 1000 : undefined;
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  // A date in the past means "now"; zero would be read by some retry code as "no hint".
  return Math.max(1, at - now);
}

/** The most useful short text out of an error response body. */
export function bodyErrorText(body: unknown): string {
  if (body === undefined || body === null || body === '') return '';
  let text: string;
  if (typeof body === 'string') {
    text = body;
    try {
      const parsed: unknown = JSON.parse(body);
      const inner = errorField(parsed);
      if (inner !== undefined) text = inner;
    } catch {
      // not JSON: the raw text is the best we have
    }
  } else if (Buffer.isBuffer(body)) {
    return bodyErrorText(body.toString('utf8'));
  } else {
    text = errorField(body) ?? safeJson(body);
  }
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > MAX_BODY_CHARS ? `${text.slice(0, MAX_BODY_CHARS)}…` : text;
}

function errorField(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  for (const key of ['error', 'message', 'detail']) {
    const v = b[key];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'object' && v !== null) {
      const nested = errorField(v);
      if (nested !== undefined) return nested;
    }
  }
  return undefined;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The failure for a response that arrived with a non-2xx status. */
export function failureForStatus(status: number, headers: Record<string, unknown> | undefined, body: unknown, ctx: HttpFailureContext): ApplicationFailure {
  const detail = bodyErrorText(body);
  const message = `${ctx.what}: HTTP ${status}${detail ? ` ${detail}` : ''}`;
  if (status === 429) {
    const delay = parseRetryAfter(headerValue(headers, 'retry-after'));
    return ApplicationFailure.create({
      message,
      type: ctx.failures.throttled,
      nonRetryable: false,
      ...(delay !== undefined ? { nextRetryDelay: delay } : {}),
    });
  }
  if (isRetryableStatus(status)) return ApplicationFailure.retryable(message, ctx.failures.unavailable);
  return ApplicationFailure.nonRetryable(message, ctx.failures.rejected);
}

function headerValue(headers: Record<string, unknown> | undefined, name: string): unknown {
  if (!headers) return undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/**
 * Turns anything thrown by an HTTP call into the error the activity should throw:
 * the cancellation itself, or a classified ApplicationFailure. Messages carry the status,
 * the server's error text and the transport error code, never request headers.
 */
export function classifyHttpError(err: unknown, ctx: HttpFailureContext, signal?: AbortSignal): Error {
  const cancelled = cancellationOf(signal, err);
  if (cancelled) return cancelled;
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof TransportError) {
    if (!err.retryable) return ApplicationFailure.nonRetryable(`${ctx.what}: ${err.message}`, ctx.failures.rejected);
    return ApplicationFailure.retryable(`${ctx.what}: ${err.message}`, ctx.failures.unavailable);
  }
  return ApplicationFailure.retryable(`${ctx.what}: ${transportErrorText(err)}`, ctx.failures.unavailable);
}
