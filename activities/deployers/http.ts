// The HTTP deployer: asks a region's deploy API to start an operation, then polls it.
//
// Retried attempts must never start a second deploy. Two layers make sure of that: the
// idempotency key (same rollout + region + version + step → the server hands back the
// same operation), and the heartbeat, which records the operation id so the next attempt
// resumes polling instead of posting at all.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { DeployInput, DeployResult, RollbackInput } from '../../domain/activity-contract';
import { cancellationOf } from '../activity-context';
import { classifyHttpError, failureForStatus, type HttpFailureContext } from '../http-errors';
import { httpRequest, jsonOrText, TransportError } from '../http-transport';
import { formatDuration } from '../../domain/duration';
import { confirmDeployed, STATUS_TIMEOUT_MS, statusText } from './running-version';
import { authHeaders } from './auth';
import { readerOf, type Deployer, type DeployerConfig, type RegionRef } from './deployer';
import { idempotencyKey, stepText, type DeployStep } from './step';
import { ACTIVITY_FAILURE, DEPLOY_FAILURE } from '../../domain/failures';

/** What every poll heartbeats; a retried attempt reads it back from heartbeatDetails. */
export interface HttpDeployProgress {
  operationId: string;
  status: string;
  polls: number;
}

/**
 * Upper bound for one request. A hung server must not hold an attempt silently for the
 * whole deploy timeout: no heartbeat goes out while a request is in flight, so this stays
 * well below the deploy activity's 30 s heartbeatTimeout (workflows/rollout/activities.ts).
 * At 30 s the two fired together and a hung API surfaced as a heartbeat timeout instead of
 * DeployTimeout.
 */
export const REQUEST_TIMEOUT_MS = 20_000;

/**
 * The longest the deployer goes without a heartbeat while it waits between polls. A
 * pollInterval near or over the deploy activity's 30 s heartbeatTimeout slept in one piece
 * made every attempt die of the heartbeat timeout, the next one resume the same operation
 * and die the same way; the wait is slept in chunks with a heartbeat after each instead.
 */
export const HEARTBEAT_EVERY_MS = 10_000;

/** A chunk of the wait: at most HEARTBEAT_EVERY_MS, and a third of a shorter heartbeat timeout. */
export function heartbeatChunkMs(heartbeatTimeoutMs: number | undefined): number {
  return heartbeatTimeoutMs && heartbeatTimeoutMs > 0 ? Math.min(HEARTBEAT_EVERY_MS, Math.max(1, Math.floor(heartbeatTimeoutMs / 3))) : HEARTBEAT_EVERY_MS;
}

type HttpDeployer = DeployerConfig<'http'>;

interface OperationView {
  operationId: string;
  status: string;
  version?: string;
  previousVersion?: string;
  error?: string;
}

export const httpDeployer: Deployer<HttpDeployer> = {
  deploy: (input) => runOperation(input, 'deploy'),
  rollback: (input) => runOperation(input, 'rollback'),
  running: httpStatus,
  // A retried attempt polls the operation it heartbeated, or posts under the same key.
  resumesByKey: true,
};

export const { deploy: httpDeploy, rollback: httpRollback } = httpDeployer;

async function runOperation(input: DeployInput<HttpDeployer> | RollbackInput<HttpDeployer>, step: DeployStep): Promise<DeployResult> {
  const deployer = input.deployer;
  const ctx = Context.current();
  const key = idempotencyKey(input, step);
  const what = stepText(input, step);
  const fail: HttpFailureContext = { what, failures: DEPLOY_FAILURE };
  const headers = requestHeaders(deployer, key);
  const regionUrl = `${deployer.baseUrl}/regions/${encodeURIComponent(input.region)}`;
  // Per attempt: a retry after a timeout gets a fresh budget on the same operation,
  // instead of failing at once because the first attempt used the budget up.
  const deadline = Date.now() + deployer.timeoutMs;
  let progress: HttpDeployProgress | undefined = resumedProgress(ctx.info.heartbeatDetails);
  let resumed = progress !== undefined;

  const call = async (method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; headers: Record<string, string>; data: unknown }> => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw timeoutFailure(what, deployer, progress);
    try {
      const res = await httpRequest({
        method,
        url,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        timeoutMs: Math.min(remaining, REQUEST_TIMEOUT_MS),
        signal: ctx.cancellationSignal,
      });
      // Status codes are classified here, so 4xx bodies are kept.
      return { status: res.status, headers: res.headers, data: jsonOrText(res.body) };
    } catch (err) {
      const cancelled = cancellationOf(ctx.cancellationSignal, err);
      if (cancelled) throw cancelled;
      if (err instanceof TransportError && err.fault === 'timeout' && Date.now() >= deadline - 5) throw timeoutFailure(what, deployer, progress);
      throw classifyHttpError(err, fail, ctx.cancellationSignal);
    }
  };

  const start = async (): Promise<HttpDeployProgress> => {
    const body: Record<string, unknown> = { service: input.service, version: input.version, idempotencyKey: key };
    if (step === 'rollback' && 'previousVersion' in input && input.previousVersion) {
      body.previousVersion = input.previousVersion;
    }
    const res = await call('POST', `${regionUrl}/${step}`, body);
    if (res.status < 200 || res.status >= 300) throw failureForStatus(res.status, res.headers, res.data, fail);
    const op = parseOperation(res.data);
    if (!op) throw protocolFailure(what, 'start', res.data);
    const p = { operationId: op.operationId, status: op.status, polls: 0 };
    // Recorded before the first poll: if this attempt dies now, the next one resumes here.
    ctx.heartbeat(p);
    return p;
  };

  if (progress) {
    ctx.log.info('resuming deployer operation from heartbeat', { operationId: progress.operationId, step });
  } else {
    progress = await start();
  }

  for (;;) {
    const res = await call('GET', `${regionUrl}/operations/${encodeURIComponent(progress.operationId)}`);
    if (res.status === 404 && resumed) {
      // The deployer forgot the operation we heartbeated (restart, expiry). Posting again
      // is safe: the idempotency key lets the server decide whether it is a new operation.
      ctx.log.warn('heartbeated operation unknown to deployer; starting again', { operationId: progress.operationId });
      resumed = false;
      progress = await start();
      continue;
    }
    resumed = false;
    if (res.status < 200 || res.status >= 300) throw failureForStatus(res.status, res.headers, res.data, fail);
    const op = parseOperation(res.data);
    if (!op) throw protocolFailure(what, 'poll', res.data);
    progress = { operationId: op.operationId, status: op.status, polls: progress.polls + 1 };
    ctx.heartbeat(progress);

    if (op.status === 'succeeded') {
      // A success names an operation, not what the region runs: confirm the deploy landed.
      if (step === 'deploy') {
        const done = progress;
        // A heartbeat between the status tries keeps an attempt that confirms slowly alive, with the operation to resume.
        const sleep = (ms: number) => {
          ctx.heartbeat(done);
          return ctx.sleep(ms);
        };
        await confirmDeployed(readerOf(httpDeployer, deployer), input, { signal: ctx.cancellationSignal, sleep, operation: op.operationId });
      }
      // `version` is the version this step acted on (deployed, or rolled back), and
      // previousVersion the one before it, i.e. what a rollback returns the region to.
      const result: DeployResult = { region: input.region, version: input.version, idempotencyKey: key };
      const before = op.previousVersion ?? ('previousVersion' in input ? input.previousVersion : undefined);
      if (before) result.previousVersion = before;
      return result;
    }
    if (op.status === 'failed') {
      throw ApplicationFailure.nonRetryable(
        `${what} failed (operation ${op.operationId}): ${op.error ?? 'no error given by the deployer'}`,
        ACTIVITY_FAILURE.deployFailed,
      );
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw timeoutFailure(what, deployer, progress);
    const waitUntil = Date.now() + Math.min(deployer.pollIntervalMs, remaining);
    const chunk = heartbeatChunkMs(ctx.info.heartbeatTimeoutMs);
    // The poll after the wait heartbeats anyway: only a full chunk with more wait after it
    // needs one. (A timer can fire a millisecond before Date.now() reaches its end; the short
    // sleep that follows is not worth a heartbeat of its own.)
    for (;;) {
      const left = waitUntil - Date.now();
      if (left <= 0) break;
      const step = Math.min(chunk, left);
      await ctx.sleep(step);
      if (step === chunk && Date.now() < waitUntil) ctx.heartbeat(progress);
    }
  }
}

function requestHeaders(deployer: HttpDeployer, key: string): Record<string, string> {
  return { 'Content-Type': 'application/json', Accept: 'application/json', 'Idempotency-Key': key, ...authHeaders(deployer) };
}

function resumedProgress(details: unknown): HttpDeployProgress | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const d = details as Partial<HttpDeployProgress>;
  if (typeof d.operationId !== 'string' || d.operationId === '') return undefined;
  return {
    operationId: d.operationId,
    status: typeof d.status === 'string' ? d.status : 'unknown',
    polls: typeof d.polls === 'number' && Number.isFinite(d.polls) ? d.polls : 0,
  };
}

function parseOperation(data: unknown): OperationView | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const d = data as Record<string, unknown>;
  if (typeof d.operationId !== 'string' || typeof d.status !== 'string') return undefined;
  const op: OperationView = { operationId: d.operationId, status: d.status };
  if (typeof d.version === 'string') op.version = d.version;
  if (typeof d.previousVersion === 'string') op.previousVersion = d.previousVersion;
  if (typeof d.error === 'string') op.error = d.error;
  return op;
}

function timeoutFailure(what: string, deployer: HttpDeployer, progress: HttpDeployProgress | undefined): ApplicationFailure {
  const where = progress ? ` (operation ${progress.operationId}, last status ${progress.status})` : '';
  return ApplicationFailure.retryable(`${what}: no result within ${formatDuration(deployer.timeoutMs)}${where}`, DEPLOY_FAILURE.timeout);
}

function protocolFailure(what: string, phase: string, data: unknown): ApplicationFailure {
  const shown = typeof data === 'string' ? data : JSON.stringify(data);
  // A deployer that answers 2xx with the wrong shape will not fix itself on retry.
  return ApplicationFailure.nonRetryable(
    `${what}: unexpected ${phase} response from deployer: ${(shown ?? '').slice(0, 200)}`,
    ACTIVITY_FAILURE.deployRejected,
  );
}

/** What the region runs, by the deploy API's status endpoint. */
async function httpStatus(deployer: HttpDeployer, ref: RegionRef, signal?: AbortSignal): Promise<string | null> {
  const url = `${deployer.baseUrl}/regions/${encodeURIComponent(ref.region)}/status?service=${encodeURIComponent(ref.service)}`;
  const fail: HttpFailureContext = { what: statusText(ref), failures: DEPLOY_FAILURE };
  let answer;
  try {
    answer = await httpRequest({
      method: 'GET',
      url,
      headers: { Accept: 'application/json', ...authHeaders(deployer) },
      timeoutMs: STATUS_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    throw classifyHttpError(err, fail, signal);
  }
  const res = { status: answer.status, headers: answer.headers, data: jsonOrText(answer.body) };
  if (res.status === 404 || res.status === 405 || res.status === 501) {
    // Without a status endpoint no deploy can be confirmed: a configuration problem, not luck.
    throw ApplicationFailure.nonRetryable(
      `${fail.what}: the deployer has no status endpoint (GET ${url} answered ${res.status}); mrcd needs it to confirm what a region runs (docs/deployers.md)`,
      ACTIVITY_FAILURE.deployConfig,
    );
  }
  if (res.status < 200 || res.status >= 300) throw failureForStatus(res.status, res.headers, res.data, fail);
  const body = res.data as { version?: unknown } | null;
  const v = typeof body === 'object' && body !== null ? body.version : undefined;
  if (typeof v === 'string' && v !== '') return v;
  if (v === null || v === undefined || v === '') return null;
  throw ApplicationFailure.nonRetryable(`${fail.what}: unexpected status response (version ${JSON.stringify(v)})`, ACTIVITY_FAILURE.deployRejected);
}
