// Names and shapes of everything an operator can send to a rollout. The client and the
// workflow both import these, so a renamed handler cannot silently drift apart.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ActionPayload, OperatorActionName, RolloutState, RolloutStatus } from './state';
import type { NormalizedPlan } from '../plan';

export const TASK_QUEUE_DEFAULT = 'mrcd-rollouts';
export const WORKFLOW_TYPE = 'rolloutWorkflow';

/** Workflow id of a service's rollout; one at a time per service is the pipeline lock. */
export function rolloutWorkflowId(service: string): string {
  return `rollout-${service}`;
}

export interface ActionResult {
  action: OperatorActionName;
  state: RolloutState;
  /** What happened: applied, or a no-op and why. */
  note: string;
}

export const statusQuery = defineQuery<RolloutStatus>('status');

// What each handler does, in one line: the workflow registers them with its handlers, so the
// Temporal Web UI ("Send a Signal") and `__temporal_workflow_metadata` offer every action by
// name with its payload. Descriptions live in the worker, not in history: changing one needs
// no patch.
const WHO_WHY = '{"reason": "...", "by": "..."}';
const WHO_WHY_REGION = '{"reason": "...", "by": "...", "region": "..."} (region optional: the current one)';
export const ACTION_DESCRIPTIONS: Readonly<Record<OperatorActionName, string>> = {
  pause: `Hold the next promotion; soaks and SLO watches go on. Payload ${WHO_WHY}`,
  resume: `Release a pause (or retry a halted rollout). Payload ${WHO_WHY}`,
  abort: `Roll back every deployed region, newest first, and end the rollout. Payload ${WHO_WHY}`,
  approve: `Approve the promotion of the region waiting for approval. Payload ${WHO_WHY_REGION}`,
  retry: `Run the halted step again (a failed region, rollback or migration). Payload ${WHO_WHY}`,
  'skip-soak': `Override: cut the soaking region's soak short; its gate is still evaluated. Payload ${WHO_WHY_REGION}`,
};
/** The update of the same name says more: it answers with the state after the action, or rejects it. */
export const actionUpdateDescription = (action: OperatorActionName): string =>
  `${ACTION_DESCRIPTIONS[action]}; answers with the state after it, or rejects an illegal action`;
export const STATUS_QUERY_DESCRIPTION = 'The rollout now: state, regions, halt and its cause, operator actions, and the actions legal now. No arguments';

// Each action is a signal (for the Temporal UI and `temporal workflow signal`, plain JSON)
// and an update of the same name (for the CLI, which gets accepted/rejected back).
export const actionSignals = {
  pause: defineSignal<[ActionPayload]>('pause'),
  resume: defineSignal<[ActionPayload]>('resume'),
  abort: defineSignal<[ActionPayload]>('abort'),
  approve: defineSignal<[ActionPayload]>('approve'),
  retry: defineSignal<[ActionPayload]>('retry'),
  'skip-soak': defineSignal<[ActionPayload]>('skip-soak'),
} as const;

export const actionUpdates = {
  pause: defineUpdate<ActionResult, [ActionPayload]>('pause'),
  resume: defineUpdate<ActionResult, [ActionPayload]>('resume'),
  abort: defineUpdate<ActionResult, [ActionPayload]>('abort'),
  approve: defineUpdate<ActionResult, [ActionPayload]>('approve'),
  retry: defineUpdate<ActionResult, [ActionPayload]>('retry'),
  'skip-soak': defineUpdate<ActionResult, [ActionPayload]>('skip-soak'),
} as const;

/** What a rollout workflow is started with. */
export interface RolloutInput {
  /** The plan document as written (validated again by the workflow's first activity). */
  plan: unknown;
  /** Who started it (CLI user, CI job), recorded in status. */
  startedBy?: string;
  /** Set by continue-as-new: the state to carry on from. */
  carried?: CarriedState;
  /** Governed overrides at start, each with who and why. */
  overrides?: StartOverrides;
}

export interface StartOverrides {
  /** Start a version an earlier rollout quarantined for failing its gate. */
  quarantine?: { reason: string; by: string };
}

export interface CarriedState {
  status: RolloutStatus;
  plan: NormalizedPlan;
  regionIndex: number;
  /** The run continued as new while halted: the next one waits for retry or abort first. */
  halted?: boolean;
  /** A retry accepted while the run was handing over. */
  retry?: boolean;
  /** Regions already approved. */
  approvals?: string[];
}
