// The one HTTP transport of every activity that talks to a remote API: deployers, SLO
// providers and notifications. It answers with the status, headers and raw text whatever
// the status, and turns "no answer" into a TransportError phrased for an operator; what a
// status means is for the caller (http-errors.ts for deployers, each provider for verdicts).
//
// The same rules for all: no redirects (a redirect would replay a bearer token, or turn a
// signed POST into a GET), a deadline for the whole request with its body (axios' own
// timeout is per idle socket), a cap on the body, the activity's cancellation passed through
// as itself.
import axios from 'axios';
import { cancellationOf } from './activity-context';

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  /** Sent as exactly these bytes (a signed body must not be re-serialized). */
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Default 8 MiB; a bigger answer is a TransportError that is not retryable. */
  maxBytes?: number;
}

export interface HttpAnswer {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

/** What went wrong when there was no usable answer. */
export type TransportFault = 'timeout' | 'refused' | 'unreachable' | 'too-large';

/** A request that got no HTTP answer (or an unusable one), already phrased for an operator. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly fault: TransportFault,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

/** The error code of a Node error (ECONNREFUSED, ETIMEDOUT …), if it has one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** An error without an HTTP answer as `CODE: message`, or the message alone when it has no code. */
export function transportErrorText(err: unknown): string {
  const code = errorCode(err);
  const msg = err instanceof Error ? err.message : String(err);
  return `${code !== undefined ? `${code}: ` : ''}${msg}`;
}

/**
 * Sends the request and resolves with the answer whatever its status. Rejects with a
 * TransportError when there is none, or with the cancellation when `signal` fired.
 */
export async function httpRequest(req: HttpRequest): Promise<HttpAnswer> {
  const early = cancellationOf(req.signal);
  if (early) throw early;
  const maxBytes = req.maxBytes ?? DEFAULT_MAX_BYTES;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), req.timeoutMs);
  const onCancel = (): void => deadline.abort();
  req.signal?.addEventListener('abort', onCancel, { once: true });
  try {
    const res = await axios.request<string>({
      method: req.method,
      url: req.url,
      headers: req.headers,
      ...(req.body !== undefined ? { data: req.body } : {}),
      transformRequest: [(d: unknown) => d],
      responseType: 'text',
      // Keep the raw text: axios would silently hand back a string for bad JSON, and
      // "malformed answer" must be told apart from "answered".
      transformResponse: [(d: unknown) => d],
      validateStatus: () => true,
      maxRedirects: 0,
      timeout: req.timeoutMs,
      signal: deadline.signal,
      maxContentLength: maxBytes,
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers ?? {})) {
      if (v !== undefined && v !== null) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    return { status: res.status, headers, body: typeof res.data === 'string' ? res.data : String(res.data ?? '') };
  } catch (err) {
    const cancelled = cancellationOf(req.signal, err);
    if (cancelled) throw cancelled;
    const code = errorCode(err);
    if (deadline.signal.aborted || code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
      throw new TransportError(`no complete answer within ${req.timeoutMs} ms (timeout)`, 'timeout', true);
    }
    if (/maxContentLength/i.test(err instanceof Error ? err.message : '')) {
      throw new TransportError(`answer larger than ${maxBytes} bytes`, 'too-large', false);
    }
    if (code === 'ECONNREFUSED') throw new TransportError(`connection refused (${transportErrorText(err)})`, 'refused', true);
    throw new TransportError(`unreachable (${transportErrorText(err)})`, 'unreachable', true);
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onCancel);
  }
}

/** The body as JSON, or its raw text when it is not JSON (callers report the shape they got). */
export function jsonOrText(body: string): unknown {
  if (body === '') return '';
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}
