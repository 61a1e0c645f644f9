// The Alertmanager receiver (`mrcd alert-receiver`): Alertmanager's webhook (version 4) on
// POST /alertmanager, each alert with mrcd labels sent to the fleet policy as an `alert`
// update, so a firing alert blocks deploys and promotions over its scope and its resolution
// ends the blocker after a cool-down. Alertmanager retries a notification that got a 5xx,
// so the answer is 200 only once the policy took every alert; that makes the policy, not
// this process, the only state. docs/alert-blockers.md says it for operators.
import { createHash, timingSafeEqual } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError, readRequestBody } from '../common/request-body';
import type { AlertRequest, FreezeScope } from '../domain/policy';
import { InvalidPolicyRequestError, PolicyRefusedError } from './errors';
import { sendAlert } from './policy';
import type { MrcdClient } from './rollout-handle';

export interface AlertReceiverOptions {
  /** Default 127.0.0.1: whoever reaches the receiver can stop every deploy in its scope. */
  host?: string;
  /** 0 (the default) picks a free one. */
  port?: number;
  /** How long after an alert resolves its blocker still holds. Default 5 minutes. */
  cooldownMs?: number;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** How long one notification may take to reach the policy before the answer is 503. Default 8 s. */
  timeoutMs?: number;
  /** One line per alert taken or refused (the command prints them). */
  log?: (line: string) => void;
}

export interface AlertReceiver {
  /** The webhook URL to give Alertmanager (`webhook_configs[].url`). */
  url: string;
  /**
   * Stops listening and cancels what is in flight; resolves once that has settled (calls to a
   * Temporal that does not answer: when the SDK's retries end, ~20 s), so closing the
   * connection next leaves nothing behind.
   */
  close(): Promise<void>;
}

/** What the receiver answers a notification with. */
export interface AlertReceiverSummary {
  /** Alerts with mrcd labels, sent to the policy. */
  sent: number;
  /** Alerts without mrcd labels: not the policy's business. */
  ignored: number;
  /** The blockers the alerts raised or ended, by fingerprint. */
  blockers: { fingerprint: string; status: 'firing' | 'resolved'; freeze: string | null }[];
  /** Alerts the policy refused as malformed (a 422: retrying cannot fix them). */
  refused?: { fingerprint: string; problem: string }[];
}

export const ALERT_RECEIVER_PATH = '/alertmanager';
export const DEFAULT_ALERT_COOLDOWN_MS = 5 * 60_000;
const DEFAULT_TIMEOUT_MS = 8_000;
const SEND_CONCURRENCY = 8;
const MAX_BODY_BYTES = 1024 * 1024;
// The policy's own limits (domain/policy.ts): longer text is cut here rather than refused there.
const MAX_REASON = 1024;
const MAX_BY = 200;

const SCOPE_LABELS = { mrcd_region: 'regions', mrcd_service: 'services', mrcd_team: 'teams' } as const;

interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  fingerprint: string;
  endsAt?: string;
}

interface Webhook {
  receiver?: string;
  alerts: WebhookAlert[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringMap = (v: unknown): v is Record<string, string> => isObject(v) && Object.values(v).every((x) => typeof x === 'string');

/** The notification, or an HttpError 400 naming the first thing that is not Alertmanager's webhook JSON. */
function parseWebhook(text: string): Webhook {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `body: not JSON (${(e as Error).message})`);
  }
  if (!isObject(body)) throw new HttpError(400, "body: must be Alertmanager's webhook JSON, an object with alerts");
  if (body.version !== undefined && body.version !== '4')
    throw new HttpError(400, `version: ${JSON.stringify(body.version)} is not Alertmanager's webhook version "4"`);
  if (!Array.isArray(body.alerts)) throw new HttpError(400, 'alerts: must be a list');
  const alerts = body.alerts.map((a: unknown, i): WebhookAlert => {
    const at = `alerts[${i}]`;
    if (!isObject(a)) throw new HttpError(400, `${at}: must be an object`);
    if (a.status !== 'firing' && a.status !== 'resolved') throw new HttpError(400, `${at}.status: must be firing or resolved`);
    if (!isStringMap(a.labels)) throw new HttpError(400, `${at}.labels: must be an object of strings`);
    if (a.annotations !== undefined && !isStringMap(a.annotations)) throw new HttpError(400, `${at}.annotations: must be an object of strings`);
    if (typeof a.fingerprint !== 'string' || a.fingerprint === '') throw new HttpError(400, `${at}.fingerprint: must be a non-empty string`);
    return {
      status: a.status,
      labels: a.labels,
      annotations: a.annotations ?? {},
      fingerprint: a.fingerprint,
      ...(typeof a.endsAt === 'string' ? { endsAt: a.endsAt } : {}),
    };
  });
  return { ...(typeof body.receiver === 'string' && body.receiver ? { receiver: body.receiver } : {}), alerts };
}

/** The scope an alert's mrcd labels name ("eu-west-1" or "eu-west-1, us-east-1"); undefined without any. */
function scopeOf(labels: Record<string, string>): FreezeScope | undefined {
  const scope: FreezeScope = {};
  for (const [label, key] of Object.entries(SCOPE_LABELS)) {
    const names = [
      ...new Set(
        (labels[label] ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    ];
    if (names.length) scope[key] = names;
  }
  return Object.keys(scope).length ? scope : undefined;
}

const cut = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/**
 * A firing alert whose endsAt has passed is resolved by Alertmanager's own rule; one arriving
 * late (a retried notification) must not raise a blocker nothing would end.
 */
function statusOf(a: WebhookAlert, now: number): 'firing' | 'resolved' {
  if (a.status === 'resolved') return 'resolved';
  const ends = a.endsAt ? Date.parse(a.endsAt) : NaN;
  return Number.isFinite(ends) && new Date(ends).getUTCFullYear() > 1 && ends <= now ? 'resolved' : 'firing';
}

function requestOf(a: WebhookAlert, scope: FreezeScope, by: string, cooldownMs: number, now: number): AlertRequest {
  const what = a.labels.alertname || 'alert';
  const why = a.annotations.summary || a.annotations.description;
  return { fingerprint: a.fingerprint, status: statusOf(a, now), scope, reason: cut(why ? `${what}: ${why}` : what, MAX_REASON), by, cooldownMs };
}

/** Compares digests, so neither the token's content nor its length shows in the timing. */
function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return m !== null && timingSafeEqual(digest(m[1]!.trim()), digest(token));
}

/** Starts the receiver; resolves once it listens. */
export async function startAlertReceiver(m: MrcdClient, opts: AlertReceiverOptions = {}): Promise<AlertReceiver> {
  const cooldownMs = opts.cooldownMs ?? DEFAULT_ALERT_COOLDOWN_MS;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const log = opts.log ?? (() => {});
  // Each notification's calls, and when they have settled (close waits for that).
  const inFlight = new Map<AbortController, Promise<void>>();

  const deliver = async (hook: Webhook): Promise<{ status: number; summary: AlertReceiverSummary }> => {
    const by = cut(hook.receiver ? `alertmanager (${hook.receiver})` : 'alertmanager', MAX_BY);
    const now = Date.now();
    const summary: AlertReceiverSummary = { sent: 0, ignored: 0, blockers: [] };
    const requests: AlertRequest[] = [];
    for (const a of hook.alerts) {
      const scope = scopeOf(a.labels);
      if (scope) requests.push(requestOf(a, scope, by, cooldownMs, now));
      else summary.ignored++;
    }
    // The deadline cancels the calls (an update waits for a worker for as long as there is
    // none) and answers in any case: the SDK's retries of an unreachable server cannot be
    // cancelled, and Alertmanager waits for an answer no longer than its group_interval, 10 s
    // at the least.
    const abort = new AbortController();
    // The SDK adds a listener to it for each call and removes none; it lives for one notification.
    setMaxListeners(0, abort.signal);
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        abort.abort();
        reject(new Error(`no answer from the fleet policy within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    // A few at a time: an incident can put hundreds of alerts in one notification, and the
    // whole of it must land within the deadline, or every retry starts over.
    const queue = [...requests];
    let failure: Error | undefined;
    const sendSome = async () => {
      for (let req = queue.shift(); req !== undefined && !abort.signal.aborted; req = queue.shift()) {
        try {
          const freeze = await sendAlert(m, req);
          summary.sent++;
          summary.blockers.push({ fingerprint: req.fingerprint, status: req.status, freeze: freeze?.id ?? null });
          log(`${req.status} ${req.reason} (${req.fingerprint}): ${freeze ? `blocker ${freeze.id}` : 'no blocker'}`);
        } catch (e) {
          if (!(e instanceof InvalidPolicyRequestError || e instanceof PolicyRefusedError)) {
            // The first failure is the one to report; the calls of the others are cancelled.
            failure ??= e as Error;
            abort.abort();
            return;
          }
          const problem = e instanceof InvalidPolicyRequestError ? e.problems.join('; ') : e.message;
          (summary.refused ??= []).push({ fingerprint: req.fingerprint, problem });
          log(`refused ${req.reason} (${req.fingerprint}): ${problem}`);
        }
      }
    };
    const sending = m.client.withAbortSignal(abort.signal, async () => {
      await Promise.all(Array.from({ length: Math.min(SEND_CONCURRENCY, queue.length) }, sendSome));
      if (failure !== undefined) throw failure;
    });
    const settled = sending.then(
      () => {},
      () => {},
    );
    inFlight.set(abort, settled);
    void settled.then(() => inFlight.delete(abort));
    try {
      await Promise.race([sending, deadline]);
    } catch (e) {
      // The SDK's "Workflow Update failed" says nothing; its cause says UNAVAILABLE and why.
      const cause = (e as Error & { cause?: Error }).cause?.message;
      const why = timedOut ? `no answer from the fleet policy within ${timeoutMs} ms` : `${(e as Error).message}${cause ? ` (${cause})` : ''}`.split('\n')[0]!;
      abort.abort();
      log(`policy unreachable, Alertmanager will retry: ${why}`);
      throw new HttpError(503, `the fleet policy did not take the alerts (Alertmanager retries): ${why}`);
    } finally {
      clearTimeout(timer);
    }
    return { status: summary.refused ? 422 : 200, summary };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://receiver').pathname;
    if (path !== ALERT_RECEIVER_PATH) throw new HttpError(404, `${path}: not found; Alertmanager posts to ${ALERT_RECEIVER_PATH}`);
    if (req.method !== 'POST') throw new HttpError(405, `${req.method} ${path}: use POST`);
    if (opts.token !== undefined && !tokenMatches(req.headers.authorization, opts.token)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new HttpError(401, 'unauthorized: expected Authorization: Bearer <token> (http_config.authorization in the webhook config)');
    }
    const { status, summary } = await deliver(parseWebhook(await readRequestBody(req, MAX_BODY_BYTES)));
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(summary));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: (e as Error).message }));
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}${ALERT_RECEIVER_PATH}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const a of inFlight.keys()) a.abort();
      // Calls still retrying must not outlive the receiver: the caller closes the connection next.
      await Promise.all([closed, ...inFlight.values()]);
    },
  };
}
