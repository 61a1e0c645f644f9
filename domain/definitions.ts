// Names and shapes of everything an operator can send to a rollout. The client and the
// workflow both import these, so a renamed handler cannot silently drift apart.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { actionSpec } from './operator-actions';
import { OPERATOR_ACTIONS, type ActionPayload, type OperatorActionName, type RolloutState, type RolloutStatus } from './state';
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
export const ACTION_DESCRIPTIONS = byAction((a) => actionSpec(a).description);
/** The update of the same name says more: it answers with the state after the action, or rejects it. */
export const actionUpdateDescription = (action: OperatorActionName): string =>
  `${ACTION_DESCRIPTIONS[action]}; answers with the state after it, or rejects an illegal action`;
export const STATUS_QUERY_DESCRIPTION = 'The rollout now: state, regions, halt and its cause, operator actions, and the actions legal now. No arguments';

// Each action is a signal (for the Temporal UI and `temporal workflow signal`, plain JSON)
// and an update of the same name (for the CLI, which gets accepted/rejected back).
export const actionSignals = byAction((a) => defineSignal<[ActionPayload]>(a));
export const actionUpdates = byAction((a) => defineUpdate<ActionResult, [ActionPayload]>(a));

/** One value per operator action of the catalogue. */
function byAction<T>(of: (action: OperatorActionName) => T): Readonly<Record<OperatorActionName, T>> {
  return Object.fromEntries(OPERATOR_ACTIONS.map((a) => [a, of(a)])) as Record<OperatorActionName, T>;
}

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
