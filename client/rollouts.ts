// The client library: start rollouts, read their state, act on them. The CLI is a thin
// shell over these functions; services and CI jobs call them directly.
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { PlanError, validatePlan } from '../plan';
import type { ConnectionConfig } from './config';
import { actionUpdates, rolloutWorkflowId, statusQuery, WORKFLOW_TYPE, type ActionResult, type RolloutInput } from '../workflows/definitions';
import { TERMINAL_STATES, type ActionPayload, type OperatorActionName, type RolloutStatus } from '../workflows/state';
import { SA_OWNER, SA_SERVICE, SA_STATE, SA_VERSION } from '../workflows/search-attributes';
import type { QuarantineRecord } from '../activities/types';
import { describeQuarantine, findQuarantine } from './quarantine';

export type { RolloutStatus, ActionPayload, OperatorActionName, ActionResult, QuarantineRecord };
export { findQuarantine } from './quarantine';

/** An earlier rollout rolled this version back for failing a gate; starting it needs an override. */
export class VersionQuarantinedError extends Error {
  constructor(
    readonly service: string,
    readonly version: string,
    readonly records: QuarantineRecord[],
  ) {
    super(`${describeQuarantine(service, version, records)}. Ship a fixed version, or start this one anyway with a reason: mrcd deploy <plan> --override-quarantine "..."`);
    this.name = 'VersionQuarantinedError';
  }
}

/** A rollout of this service is already running: the pipeline lock refused a second one. */
export class RolloutAlreadyRunningError extends Error {
  constructor(
    readonly service: string,
    readonly workflowId: string,
    readonly running?: RolloutStatus,
  ) {
    super(
      `a rollout of ${service} is already running (workflow ${workflowId}${running ? `, version ${running.version}, ${running.state}` : ''}); ` +
        `wait for it, or abort it: mrcd abort ${service} --reason "..."`,
    );
    this.name = 'RolloutAlreadyRunningError';
  }
}

/** No rollout of this service exists (never started, or history expired). */
export class RolloutNotFoundError extends Error {
  constructor(readonly service: string) {
    super(`no rollout of ${service} found (workflow ${rolloutWorkflowId(service)})`);
    this.name = 'RolloutNotFoundError';
  }
}

/** An operator action the rollout refused, with the reason it gave (what is legal now). */
export class ActionRejectedError extends Error {
  constructor(
    readonly action: OperatorActionName,
    readonly service: string,
    reason: string,
  ) {
    super(`${action} of ${service} rejected: ${reason}`);
    this.name = 'ActionRejectedError';
  }
}

export interface MrcdClient {
  client: Client;
  taskQueue: string;
  close(): Promise<void>;
}

/** Connects to Temporal with the given settings (see client/config.ts for the env form). */
export async function connectClient(c: ConnectionConfig): Promise<MrcdClient> {
  const connection = await Connection.connect({
    address: c.address,
    ...(c.tls ? { tls: c.tls } : {}),
    ...(c.apiKey ? { apiKey: c.apiKey } : {}),
    connectTimeout: 5000,
  });
  const client = new Client({ connection, namespace: c.namespace });
  return { client, taskQueue: c.taskQueue, close: () => connection.close() };
}

export interface StartOptions {
  /** Who starts it; recorded in status and notifications. */
  startedBy?: string;
  taskQueue?: string;
  /** Start a quarantined version anyway; the reason is recorded in status and the review. */
  overrideQuarantine?: { reason: string; by?: string };
}

/**
 * Validates the plan document and starts its rollout. Throws PlanError (every problem
 * named) before anything starts, VersionQuarantinedError when an earlier rollout failed
 * this version's gate (unless overridden with a reason), and RolloutAlreadyRunningError
 * when the service has a rollout in flight.
 */
export async function startRollout(m: MrcdClient, planDoc: unknown, opts: StartOptions = {}): Promise<WorkflowHandle> {
  const v = validatePlan(planDoc);
  if (!v.ok) throw new PlanError(v.problems);
  const plan = v.plan;
  const workflowId = rolloutWorkflowId(plan.service);
  const override = opts.overrideQuarantine;
  if (override && !override.reason.trim()) throw new Error('the quarantine override needs a reason');
  // The workflow checks too (for starts from the UI or `temporal`); asking here first
  // refuses before a workflow exists, with the same words.
  const quarantined = await findQuarantine(m.client, { service: plan.service, version: plan.version });
  if (quarantined.length > 0 && !override) throw new VersionQuarantinedError(plan.service, plan.version, quarantined);
  const input: RolloutInput = {
    plan: planDoc,
    ...(opts.startedBy ? { startedBy: opts.startedBy } : {}),
    ...(override ? { overrides: { quarantine: { reason: override.reason, by: override.by ?? opts.startedBy ?? 'unknown' } } } : {}),
  };
  try {
    return await m.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: opts.taskQueue ?? m.taskQueue,
      workflowId,
      args: [input],
      // One rollout per service at a time: a second start fails instead of joining or replacing it.
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: [
        { key: SA_SERVICE, value: plan.service },
        { key: SA_VERSION, value: plan.version },
        { key: SA_OWNER, value: plan.owner.team },
        { key: SA_STATE, value: 'running' },
      ],
      staticSummary: `${plan.service} ${plan.version} → ${plan.regions.map((r) => r.name).join(' → ')}`,
      staticDetails: `Owner: ${plan.owner.team} (${plan.owner.contact})${plan.owner.runbook ? `\nRunbook: ${plan.owner.runbook}` : ''}\nStarted by: ${opts.startedBy ?? 'unknown'}`,
    });
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) {
      const running = await getStatus(m, plan.service).catch(() => undefined);
      throw new RolloutAlreadyRunningError(plan.service, workflowId, running);
    }
    throw e;
  }
}

export function rolloutHandle(m: MrcdClient, service: string): WorkflowHandle {
  return m.client.workflow.getHandle(rolloutWorkflowId(service));
}

/** The whole state of a service's latest rollout, running or ended. */
export async function getStatus(m: MrcdClient, service: string): Promise<RolloutStatus> {
  const handle = rolloutHandle(m, service);
  let desc;
  try {
    desc = await handle.describe();
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) throw new RolloutNotFoundError(service);
    throw e;
  }
  if (desc.status.name === 'RUNNING') return handle.query(statusQuery);
  // An ended rollout carries its final status in its result or its failure's details,
  // so reading it needs no worker.
  try {
    return (await handle.result()) as RolloutStatus;
  } catch (e) {
    const fromFailure = statusFromFailure(e);
    if (fromFailure) return fromFailure;
    throw e;
  }
}

/** Extracts the final RolloutStatus a failed rollout attaches to its failure. */
export function statusFromFailure(e: unknown): RolloutStatus | undefined {
  const cause = e instanceof WorkflowFailedError ? e.cause : e;
  if (cause instanceof ApplicationFailure && Array.isArray(cause.details) && cause.details[0] && typeof cause.details[0] === 'object') {
    const d = cause.details[0] as Partial<RolloutStatus>;
    if (typeof d.state === 'string' && Array.isArray(d.regions)) return d as RolloutStatus;
  }
  return undefined;
}

/**
 * Sends an operator action as an update: the rollout validates it and answers. Throws
 * ActionRejectedError with the rollout's reason (which says what is legal now).
 */
export async function act(m: MrcdClient, service: string, action: OperatorActionName, payload: ActionPayload): Promise<ActionResult> {
  const handle = rolloutHandle(m, service);
  try {
    return await handle.executeUpdate(actionUpdates[action], { args: [payload] });
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) throw new ActionRejectedError(action, service, e.cause?.message ?? e.message);
    if (e instanceof WorkflowNotFoundError) throw new RolloutNotFoundError(service);
    // An update to a closed workflow comes back as a gRPC NOT_FOUND / FAILED_PRECONDITION.
    const msg = (e as Error).message ?? '';
    if (/workflow execution already completed|not found/i.test(msg)) {
      const s = await getStatus(m, service).catch(() => undefined);
      if (s && TERMINAL_STATES.has(s.state)) throw new ActionRejectedError(action, service, `the rollout has ended (${s.state})`);
      if (!s) throw new RolloutNotFoundError(service);
    }
    throw e;
  }
}

export interface Verdict {
  succeeded: boolean;
  status: RolloutStatus;
}

/** Waits for the rollout to end and returns its final status; never throws for a failed rollout. */
export async function waitForVerdict(handle: WorkflowHandle): Promise<Verdict> {
  try {
    const status = (await handle.result()) as RolloutStatus;
    return { succeeded: status.state === 'succeeded', status };
  } catch (e) {
    const status = statusFromFailure(e);
    if (status) return { succeeded: false, status };
    throw e;
  }
}

/**
 * Polls status and calls onChange whenever something an operator would care about
 * changed, until the rollout ends. Returns the verdict.
 */
export async function followRollout(m: MrcdClient, service: string, onChange: (s: RolloutStatus, prev?: RolloutStatus) => void, intervalMs = 1000): Promise<Verdict> {
  let prev: RolloutStatus | undefined;
  let prevKey = '';
  const handle = rolloutHandle(m, service);
  const verdict = waitForVerdict(handle);
  let done = false;
  void verdict.finally(() => (done = true));
  while (!done) {
    const s = await getStatus(m, service).catch(() => undefined);
    if (s) {
      const key = JSON.stringify([s.state, s.currentRegion, s.regions.map((r) => [r.status, r.waitingFor]), s.actions.length]);
      if (key !== prevKey) {
        onChange(s, prev);
        prev = s;
        prevKey = key;
      }
    }
    await Promise.race([verdict.catch(() => undefined), new Promise((r) => setTimeout(r, intervalMs))]);
  }
  const v = await verdict;
  if (JSON.stringify(v.status) !== JSON.stringify(prev)) onChange(v.status, prev);
  return v;
}
