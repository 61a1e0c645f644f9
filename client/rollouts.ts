// The client library: start rollouts, read their state, act on them. The CLI is a thin
// shell over these functions; services and CI jobs call them directly.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type WorkflowHandle,
} from '@temporalio/client';
import { actionUpdates, rolloutWorkflowId, WORKFLOW_TYPE, type ActionResult, type RolloutInput } from '../domain/definitions';
import { TERMINAL_STATES, type ActionPayload, type OperatorActionName, type RolloutStatus } from '../domain/state';
import { SA_OWNER, SA_SERVICE, SA_STATE, SA_VERSION } from '../domain/search-attributes';
import type { QuarantineRecord } from '../domain/activity-contract';
import { findQuarantine } from '../common/quarantine-lookup';
import { quarantineDecision } from '../domain/quarantine';
import {
  ActionRejectedError,
  finishingText,
  InvalidActionError,
  RolloutAlreadyRunningError,
  RolloutEndedError,
  RolloutFinishingError,
  RolloutNotFoundError,
  VersionQuarantinedError,
} from './errors';

export type { RolloutStatus, ActionPayload, OperatorActionName, ActionResult, QuarantineRecord };
// The library's errors live in errors.ts, reading a rollout in rollout-handle.ts, following
// it in follow.ts; callers import them all from here.
export * from './errors';
import { getStatus, rolloutHandle, type MrcdClient } from './rollout-handle';
export { findQuarantine } from '../common/quarantine-lookup';
export { ACTIVITY_FAILURE, ROLLOUT_FAILURE, type RolloutFailureType } from '../domain/failures';

export interface StartOptions {
  /** Who starts it; recorded in status and notifications. */
  startedBy?: string;
  taskQueue?: string;
  /** Start a quarantined version anyway; the reason is recorded in status and the review. */
  overrideQuarantine?: { reason: string; by?: string };
  /**
   * How long to wait for the previous rollout to close when it has its verdict and only
   * sends its last notifications (CI deploys back to back); default FINISHING_WAIT_MS.
   */
  finishingWaitMs?: number;
  /** Told once when the start waits for the previous rollout to close. */
  onWaiting?: (message: string) => void;
}

/**
 * The default bound of that wait: enough for last notifications that answer. A channel that
 * hangs is retried for minutes (workflows/rollout/activities.ts); the start says so instead of
 * holding the pipeline that long.
 */
export const FINISHING_WAIT_MS = 30_000;

/**
 * Validates the plan document and starts its rollout. Throws PlanError (every problem
 * named) before anything starts, VersionQuarantinedError when an earlier rollout failed
 * this version's gate (unless overridden with a reason), and RolloutAlreadyRunningError
 * when the service has a rollout in flight. A previous rollout that has its verdict and only
 * sends its last notifications is waited for (up to finishingWaitMs), since CI deploys
 * back to back; past that, RolloutFinishingError says so.
 */
export async function startRollout(m: MrcdClient, planDoc: unknown, opts: StartOptions = {}): Promise<WorkflowHandle> {
  // Imported here so that clients which only read or steer rollouts never load the plan schema.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  const { PlanError, validatePlan } = require('../plan') as typeof import('../plan');
  const v = validatePlan(planDoc);
  if (!v.ok) throw new PlanError(v.problems);
  const plan = v.plan;
  const workflowId = rolloutWorkflowId(plan.service);
  const override = opts.overrideQuarantine;
  if (override && !override.reason.trim()) throw new Error('the quarantine override needs a reason');
  // The workflow checks too (for starts from the UI or `temporal`); asking here first
  // refuses before a workflow exists, with the same words.
  const overrideAsSent = override ? { reason: override.reason, by: override.by ?? opts.startedBy ?? 'unknown' } : undefined;
  const quarantined = await findQuarantine(m.client, { service: plan.service, version: plan.version });
  if (quarantineDecision(plan.service, plan.version, quarantined, overrideAsSent).kind === 'refused')
    throw new VersionQuarantinedError(plan.service, plan.version, quarantined);
  const input: RolloutInput = {
    plan: planDoc,
    ...(opts.startedBy ? { startedBy: opts.startedBy } : {}),
    ...(overrideAsSent ? { overrides: { quarantine: overrideAsSent } } : {}),
  };
  const start = () =>
    m.client.workflow.start(WORKFLOW_TYPE, {
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
  const began = Date.now();
  const deadline = began + (opts.finishingWaitMs ?? FINISHING_WAIT_MS);
  let told = false;
  for (;;) {
    try {
      return await start();
    } catch (e) {
      if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
      const running = await getStatus(m, plan.service).catch(() => undefined);
      if (!running || !TERMINAL_STATES.has(running.state)) throw new RolloutAlreadyRunningError(plan.service, workflowId, running);
      if (!told) opts.onWaiting?.(`${finishingText(plan.service, running.state)}; waiting for it to close`);
      told = true;
      // Checked first too: a lock that reads closed yet refuses again must not loop forever.
      if (Date.now() >= deadline || !(await closedBy(rolloutHandle(m, plan.service), deadline)))
        throw new RolloutFinishingError(plan.service, workflowId, running, Date.now() - began);
    }
  }
}

/** Whether the workflow closed by the deadline (polled: a closed rollout is gone from the lock). */
async function closedBy(handle: WorkflowHandle, deadline: number): Promise<boolean> {
  for (;;) {
    const d = await handle.describe().catch(() => undefined);
    if (d && d.status.name !== 'RUNNING') return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, Math.min(250, Math.max(1, deadline - Date.now()))));
  }
}

/**
 * Sends an operator action as an update: the rollout validates it and answers. Throws
 * ActionRejectedError with the rollout's reason (which says what is legal now).
 */
export async function act(m: MrcdClient, service: string, action: OperatorActionName, payload: ActionPayload): Promise<ActionResult> {
  // Rollouts from before the workflow refused it took an empty region as "the current one".
  if (typeof payload.region === 'string' && payload.region.trim() === '')
    throw new InvalidActionError(action, service, 'region: must name a region (leave it out for the current one)');
  const handle = rolloutHandle(m, service);
  try {
    return await handle.executeUpdate(actionUpdates[action], { args: [payload] });
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) throw new ActionRejectedError(action, service, e.cause?.message ?? e.message);
    // The SDK reports an update to a closed workflow as WorkflowNotFoundError ("workflow
    // execution already completed"), and some servers as a plain NOT_FOUND: tell an ended
    // rollout from one that never existed by asking for it.
    if (e instanceof WorkflowNotFoundError || /already completed|not found/i.test((e as Error).message ?? '')) {
      const verdict = await endedVerdict(m, service);
      if (verdict) throw new RolloutEndedError(action, service, verdict);
      throw new RolloutNotFoundError(service);
    }
    throw e;
  }
}

/** How the service's latest rollout ended (its state, or Temporal's status if it has none), or undefined if none exists. */
async function endedVerdict(m: MrcdClient, service: string): Promise<string | undefined> {
  let desc;
  try {
    desc = await rolloutHandle(m, service).describe();
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return undefined;
    throw e;
  }
  if (desc.status.name === 'RUNNING') return undefined;
  const s = await getStatus(m, service).catch(() => undefined);
  // Terminated, timed out or cancelled by Temporal itself: no final status was written.
  return s && TERMINAL_STATES.has(s.state) ? s.state : desc.status.name.toLowerCase().replace(/_/g, '-');
}

export * from './rollout-handle';
export * from './follow';
export * from './region-workers';
