// Tells people what a rollout did. Best effort by design: a rollout's outcome must never
// depend on Slack being up, so delivery problems become per-target results, not failures.
//
// Webhook receivers authenticate us with X-MRCD-Signature: "sha256=" + hex HMAC-SHA256 of
// the exact request body bytes, keyed with the plan's secretEnv value. X-MRCD-Timestamp
// (unix seconds) is the send time; the body's `at` is when the event happened.
import { createHmac } from 'node:crypto';
import { currentContext } from './activity-context';
import type { Notification } from '../plan';
import type { NotifyInput, NotifyResult } from '../domain/activity-contract';
import { cancellationOf } from './activity-context';
import { bodyErrorText, isRetryableStatus } from './http-errors';
import { httpRequest, transportErrorText } from './http-transport';

export const NOTIFY_MAX_ATTEMPTS = 3;
export const NOTIFY_REQUEST_TIMEOUT_MS = 5_000;
/** Doubles per attempt: 250 ms, 500 ms. Short, because the whole activity waits on it. */
export const NOTIFY_BACKOFF_MS = 250;

export interface NotifyOptions {
  /** Base delay between attempts; tests shorten it. */
  backoffMs?: number;
  maxAttempts?: number;
}

/** One line a human reads in a channel. */
export function slackText(input: NotifyInput): string {
  const e = input.event;
  const where = e.region ? ` in ${e.region}` : '';
  const owner = `owner ${input.owner.team} (${input.owner.contact})`;
  const runbook = input.owner.runbook ? `, runbook ${input.owner.runbook}` : '';
  const next = e.runbook ? `; what to do: ${e.runbook}` : '';
  return `[mrcd] ${e.service} ${e.version}${where}: ${e.kind} (${e.message}) rollout ${e.rolloutId}; ${owner}${runbook}${next}`;
}

/** The webhook body: the event plus its owner, the same JSON the signature covers. */
export function webhookBody(input: NotifyInput): string {
  return JSON.stringify({ ...input.event, owner: input.owner });
}

export function signBody(rawBody: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

/** Never throws for a delivery problem; returns one result per notification, in plan order. */
export async function notify(input: NotifyInput, options: NotifyOptions = {}): Promise<NotifyResult[]> {
  return Promise.all(input.notifications.map((n) => deliver(n, input, options)));
}

interface Prepared {
  target: string;
  url: string;
  body: string;
  headers: Record<string, string>;
  /** Values that must never appear in a result (webhook URLs with tokens, HMAC keys). */
  secrets: string[];
}

function prepare(n: Notification, input: NotifyInput): Prepared | NotifyResult {
  if (n.type === 'slack') {
    // The Slack webhook URL is itself the credential, so the target names the variable.
    const target = `slack:${n.urlEnv}`;
    const url = process.env[n.urlEnv];
    if (!url) return { target, ok: false, error: `environment variable ${n.urlEnv} is not set on the worker` };
    return {
      target,
      url,
      body: JSON.stringify({ text: slackText(input) }),
      headers: { 'Content-Type': 'application/json' },
      secrets: [url, ...urlSecretParts(url)],
    };
  }
  const target = `webhook:${n.url}`;
  const body = webhookBody(input);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'X-MRCD-Timestamp': String(Math.floor(Date.now() / 1000)),
  };
  const secrets: string[] = [];
  if (n.secretEnv) {
    const secret = process.env[n.secretEnv];
    // The plan asked for signed delivery; sending unsigned would teach receivers to accept it.
    if (!secret) return { target, ok: false, error: `environment variable ${n.secretEnv} is not set on the worker` };
    headers['X-MRCD-Signature'] = signBody(body, secret);
    secrets.push(secret);
  }
  return { target, url: n.url, body, headers, secrets };
}

async function deliver(n: Notification, input: NotifyInput, options: NotifyOptions): Promise<NotifyResult> {
  const prepared = prepare(n, input);
  if ('ok' in prepared) return prepared;
  const { target, url, body, headers, secrets } = prepared;
  const ctx = currentContext();
  const signal = ctx?.cancellationSignal;
  const maxAttempts = Math.max(1, options.maxAttempts ?? NOTIFY_MAX_ATTEMPTS);
  const backoff = options.backoffMs ?? NOTIFY_BACKOFF_MS;
  let last: NotifyResult = { target, ok: false, error: 'not attempted' };

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    let retry = true;
    try {
      // The body is signed as a string: sent as exactly these bytes, never redirected.
      const res = await httpRequest({ method: 'POST', url, headers, body, timeoutMs: NOTIFY_REQUEST_TIMEOUT_MS, ...(signal ? { signal } : {}) });
      if (res.status >= 200 && res.status < 300) return { target, ok: true, status: res.status };
      const detail = bodyErrorText(res.body);
      last = { target, ok: false, status: res.status, error: redact(`HTTP ${res.status}${detail ? ` ${detail}` : ''}`, secrets) };
      retry = isRetryableStatus(res.status);
    } catch (err) {
      // Cancellation is the workflow's decision, not a delivery problem: let it through.
      const cancelled = cancellationOf(signal, err);
      if (cancelled) throw cancelled;
      last = { target, ok: false, error: redact(transportErrorText(err), secrets) };
    }
    if (!retry || attempt === maxAttempts) break;
    const delay = backoff * 2 ** (attempt - 1);
    if (ctx) await ctx.sleep(delay);
    else await new Promise((r) => setTimeout(r, delay));
  }
  ctx?.log.warn('notification not delivered', { target, error: last.error, status: last.status });
  return last;
}

/** The credential in a Slack webhook URL is its path; a receiver may echo just that. */
function urlSecretParts(url: string): string[] {
  try {
    const u = new URL(url);
    const rest = `${u.pathname}${u.search}`;
    return rest.length > 1 ? [rest] : [];
  } catch {
    return [];
  }
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('[redacted]');
  return out;
}
