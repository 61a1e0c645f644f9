// The rollout states, on their own so the action catalogue and the state machine can both
// name them (docs/rollout-states.md).
export const ROLLOUT_STATES = ['running', 'paused', 'halted', 'rolling-back', 'rollback-failed', 'succeeded', 'rolled-back', 'aborted', 'failed'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<RolloutState> = new Set(['succeeded', 'rolled-back', 'aborted', 'failed']);
