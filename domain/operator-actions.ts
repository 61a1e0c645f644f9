// The operator actions, catalogued once: each action's name, its descriptions (the Web UI's
// and mrcd's), the region it acts on and whether it overrides a safety. The signal and update
// definitions, the payload rules, mrcd's commands, the live view's commands and the workflow's
// check of a named region are derived from here; what an action does in each rollout state
// is the decision table of state.ts.

/** The region an action acts on: the one in `status` now (a payload may name it, and must name that one). */
export interface ActionTarget {
  status: 'awaiting-approval' | 'soaking';
  /** The region in words, in a refusal: "the region waiting for approval is eu-west-1". */
  words: string;
}

export interface ActionSpec {
  /** What the Web UI ("Send a Signal") and `__temporal_workflow_metadata` show, payload included. */
  description: string;
  /** mrcd's one line for the command. */
  summary: string;
  target?: ActionTarget;
  /** Cuts a safety short (recorded in status.overrides); its reason is required like every action's. */
  override: boolean;
}

const WHO_WHY = '{"reason": "...", "by": "..."}';
const WHO_WHY_REGION = '{"reason": "...", "by": "...", "region": "..."} (region optional: the current one)';

/** Every operator action, in the order they are listed to people. */
export const OPERATOR_ACTION_CATALOGUE = {
  pause: {
    description: `Hold the next promotion; soaks and SLO watches go on. Payload ${WHO_WHY}`,
    summary: 'hold the next promotion (soaks and SLO watches go on)',
    override: false,
  },
  resume: {
    description: `Release a pause (or retry a halted rollout). Payload ${WHO_WHY}`,
    summary: 'release a pause, or retry a halted rollout',
    override: false,
  },
  abort: {
    description: `Roll back every deployed region, newest first, and end the rollout. Payload ${WHO_WHY}`,
    summary: 'roll back every deployed region in reverse order and end the rollout',
    override: false,
  },
  approve: {
    description: `Approve the promotion of the region waiting for approval. Payload ${WHO_WHY_REGION}`,
    summary: 'approve a region that waits for approval',
    target: { status: 'awaiting-approval', words: 'waiting for approval' },
    override: false,
  },
  retry: {
    description: `Run the halted step again (a failed region, rollback or migration). Payload ${WHO_WHY}`,
    summary: 'retry the failed region (or failed rollback) of a halted rollout',
    override: false,
  },
  'skip-soak': {
    description: `Override: cut the soaking region's soak short; its gate is still evaluated. Payload ${WHO_WHY_REGION}`,
    summary: 'override: end the current soak now (the gate is still evaluated); needs a reason',
    target: { status: 'soaking', words: 'soaking' },
    override: true,
  },
} as const satisfies Record<string, ActionSpec>;

export type OperatorActionName = keyof typeof OPERATOR_ACTION_CATALOGUE;

/** The catalogue entry of an action, typed as the general spec. */
export function actionSpec(action: OperatorActionName): ActionSpec {
  return OPERATOR_ACTION_CATALOGUE[action];
}
