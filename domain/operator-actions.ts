// The operator actions, catalogued once: each action's name, its descriptions (the Web UI's
// and mrcd's), the region it acts on and whether it overrides a safety. The signal and update
// definitions, the payload rules, mrcd's commands, the live view's commands and the workflow's
// check of a named region are derived from here, and so is what an action does in each
// rollout state (`rules`, applied by `decide` in state.ts).
import type { RolloutState } from './rollout-states';

/** The region an action acts on: the one in `status` now (a payload may name it, and must name that one). */
export interface ActionTarget {
  status: 'awaiting-approval' | 'soaking';
  /** The region in words, in a refusal: "the region waiting for approval is eu-west-1". */
  words: string;
}

/**
 * Where an action is accepted. Everywhere else it is refused with `refused`. A terminal
 * state refuses everything; an abort under way and the point of no return (contract
 * migrations running) refuse everything their own field does not allow.
 */
export interface ActionRules {
  /** Accepted in these states (with a `target`, only while that region exists). */
  acceptedIn: readonly RolloutState[];
  /** A harmless repeat in these states (a retried CLI call, a double click), with what it found. */
  noopIn?: Partial<Record<RolloutState, string>>;
  /** Why not, elsewhere; {state} is the rollout's state. */
  refused: string;
  /** While an abort is under way: accepted in these states, or a no-op with this note. */
  whileAborting?: { acceptedIn?: readonly RolloutState[]; noop?: string };
  /** Past the point of no return: accepted in these states. */
  pastPointOfNoReturn?: readonly RolloutState[];
}

export interface ActionSpec {
  /** What the Web UI ("Send a Signal") and `__temporal_workflow_metadata` show, payload included. */
  description: string;
  /** mrcd's one line for the command. */
  summary: string;
  target?: ActionTarget;
  /** Cuts a safety short (recorded in status.overrides); its reason is required like every action's. */
  override: boolean;
  rules: ActionRules;
}

const WHO_WHY = '{"reason": "...", "by": "..."}';
const WHO_WHY_REGION = '{"reason": "...", "by": "...", "region": "..."} (region optional: the current one)';

/** Every operator action, in the order they are listed to people. */
export const OPERATOR_ACTION_CATALOGUE = {
  pause: {
    description: `Hold the next promotion; soaks and SLO watches go on. Payload ${WHO_WHY}`,
    summary: 'hold the next promotion (soaks and SLO watches go on)',
    override: false,
    rules: { acceptedIn: ['running'], noopIn: { paused: 'already paused' }, refused: 'the rollout is {state}, not running' },
  },
  resume: {
    description: `Release a pause (or retry a halted rollout). Payload ${WHO_WHY}`,
    summary: 'release a pause, or retry a halted rollout',
    override: false,
    rules: {
      acceptedIn: ['paused', 'halted', 'rollback-failed'],
      noopIn: { running: 'not paused' },
      refused: 'the rollout is {state}',
      // Resume of a failed rollback retries it, an abort's too; a halted contract migration is retried.
      whileAborting: { acceptedIn: ['rollback-failed'] },
      pastPointOfNoReturn: ['halted'],
    },
  },
  abort: {
    description: `Roll back every deployed region, newest first, and end the rollout. Payload ${WHO_WHY}`,
    summary: 'roll back every deployed region in reverse order and end the rollout',
    override: false,
    rules: {
      acceptedIn: ['running', 'paused', 'halted', 'rolling-back', 'rollback-failed'],
      refused: 'the rollout is {state}',
      whileAborting: { noop: 'abort already requested' },
    },
  },
  approve: {
    description: `Approve the promotion of the region waiting for approval. Payload ${WHO_WHY_REGION}`,
    summary: 'approve a region that waits for approval',
    target: { status: 'awaiting-approval', words: 'waiting for approval' },
    override: false,
    rules: { acceptedIn: ['running', 'paused'], refused: 'no region is waiting for approval' },
  },
  retry: {
    description: `Run the halted step again (a failed region, rollback or migration). Payload ${WHO_WHY}`,
    summary: 'retry the failed region (or failed rollback) of a halted rollout',
    override: false,
    rules: {
      acceptedIn: ['halted', 'rollback-failed'],
      refused: 'only a halted rollout can retry; it is {state}',
      whileAborting: { acceptedIn: ['rollback-failed'] },
      pastPointOfNoReturn: ['halted'],
    },
  },
  'skip-soak': {
    description: `Override: cut the soaking region's soak short; its gate is still evaluated. Payload ${WHO_WHY_REGION}`,
    summary: 'override: end the current soak now (the gate is still evaluated); needs a reason',
    target: { status: 'soaking', words: 'soaking' },
    override: true,
    rules: { acceptedIn: ['running', 'paused'], refused: 'no region is soaking' },
  },
} as const satisfies Record<string, ActionSpec>;

export type OperatorActionName = keyof typeof OPERATOR_ACTION_CATALOGUE;

/** The catalogue entry of an action, typed as the general spec. */
export function actionSpec(action: OperatorActionName): ActionSpec {
  return OPERATOR_ACTION_CATALOGUE[action];
}
