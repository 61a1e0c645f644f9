// The patches of the rollout workflow and the generation a run belongs to. Every change to
// workflow logic that a running rollout would notice goes behind one patch; recorded
// histories of each generation (test/histories/) replay against today's code.
import { deprecatePatch, patched } from '@temporalio/workflow';

/**
 * Promoted regions watched, watches renewed, quarantine checked and recorded. Folded: no
 * release ever ran the code from before it, so its old branch is gone and the patch is
 * deprecated (the second of the three steps of the patching lifecycle; the third removes
 * the call once no history with its marker can still be running). docs/architecture.md,
 * "Patches and their lifecycle".
 */
export const PATCH_WATCH_PROMOTED_AND_QUARANTINE = 'watch-promoted-regions-and-quarantine';

/**
 * Idempotency keys per rollout run and attempt, deploys confirmed by the deployer's status,
 * unknown signals recorded, acknowledgements that show the state after the action, and
 * bounded operator payloads.
 */
export const PATCH_ATTEMPT_KEYS_AND_VERIFIED_DEPLOYS = 'attempt-keys-verified-deploys-bounded-actions';

/**
 * SLO watches as server-retried checks (activities/slo/watch.ts, checkRegion): a watch holds
 * a worker slot only while a check runs, so watches can never starve deploys, gates and
 * rollbacks however many regions soak or stay watched after promotion.
 */
export const PATCH_SERVER_RETRIED_CHECKS = 'watch-by-server-retried-checks';

/**
 * A promoted region's watch (server-retried checks, which hold nothing between checks)
 * lasts a week before it is renewed instead of six hours, so a long rollout's history no
 * longer grows with its length (M1 in docs/benchmarks.md: 20 regions × 60 min soaks).
 */
export const PATCH_WEEK_LONG_PROMOTED_WATCHES = 'week-long-promoted-watches';

/**
 * A soak ends in its own watch: the check at the soak's end is the final gate (one activity
 * for soak and gate instead of a watch, a timer and a gate activity), and the watch that
 * guards approval and pause holds starts only when a region is held. Rollouts started with
 * it record only this marker: it implies every earlier patch (M1 in docs/benchmarks.md).
 */
export const PATCH_SOAK_ENDS_IN_ITS_WATCH = 'soak-ends-in-its-watch';

/**
 * Stale-hold reminders: a rollout held for a person (paused, halted, rollback-failed,
 * awaiting approval) notifies its owner every `reminders.remindEvery` and escalates after
 * `reminders.escalateAfter`, on durable timers. Asked only when a hold starts, not at
 * workflow start, so a rollout that is never held records no marker and its history keeps
 * its size (test/integration/history-budget.test.ts).
 */
export const PATCH_HOLD_REMINDERS = 'hold-reminders';

/**
 * The truth at the edges (issue 20): a workflow cancel obeys the action table like abort
 * (refused past the point of no return, a no-op while an abort compensates) and never cuts
 * compensation short; a region held before promotion is read again when promoted, and
 * every region once more before the rollout may succeed; an abort stops expand migrations;
 * a deploy window is checked again at the moment of the deploy; and smaller edges (empty
 * region names refused, no re-armed watches past the point of no return, a rolled-back
 * region's watch stopped, a retried region keeps its baseline). Implies every earlier patch.
 */
export const PATCH_TRUTH_AT_THE_EDGES = 'truth-at-the-edges';

/**
 * A promoted region's breach that arrives in the same workflow task as the last check before
 * success is handled like any late regression, instead of the rollout succeeding with the
 * region marked failed right after. Asked only when that happens (workflows/rollout/index.ts),
 * so no other history records it.
 */
export const PATCH_LATE_BREACH_AT_THE_END = 'late-breach-at-the-end';

/**
 * The fleet policy (issue 23): a region's deploy and its promotion are asked of the policy
 * workflow first (a local activity), a held step waits as `blocked` until the policy says
 * otherwise, and the rollout gives its region slots back when it halts or ends. Asked at
 * the first step that consults, never at workflow start.
 */
export const PATCH_FLEET_POLICY = 'fleet-policy';

/**
 * Scale (issue 25): a rollout's start in one step, a local activity that validates the plan
 * and looks up quarantine inside the first workflow task, which then schedules the first
 * deploy (two workflow tasks and two activities fewer before the first soak); and its
 * review figures written to its memo when it ends, so `mrcd review` reads one paged
 * visibility query instead of a close event per rollout. Implies every earlier patch, the
 * ones asked later too (hold-reminders, late-breach-at-the-end, fleet-policy): a rollout
 * started with it records this one marker and no other.
 */
export const PATCH_ONE_STEP_START_AND_REVIEW_MEMO = 'one-step-start-and-review-memo';

/** Which behaviour a run has: each flag is one patch, true for every rollout started today. */
export interface Generation {
  /** PATCH_ATTEMPT_KEYS_AND_VERIFIED_DEPLOYS */
  attemptKeys: boolean;
  /** PATCH_SERVER_RETRIED_CHECKS */
  serverRetriedChecks: boolean;
  /** PATCH_WEEK_LONG_PROMOTED_WATCHES */
  weekLongPromotedWatches: boolean;
  /** PATCH_SOAK_ENDS_IN_ITS_WATCH */
  soakEndsInItsWatch: boolean;
  /** PATCH_TRUTH_AT_THE_EDGES */
  edges: boolean;
  /** PATCH_ONE_STEP_START_AND_REVIEW_MEMO */
  oneStepStartAndMemo: boolean;
}

/**
 * Asks the patches once, at workflow start, newest first: a rollout started on today's code
 * records one marker (each costs two events: the marker and the TemporalChangeVersion
 * upsert), since the newest patch implies every older one; a history recorded before it
 * finds its own markers as before.
 */
export function readGeneration(): Generation {
  const edgesOn = { attemptKeys: true, serverRetriedChecks: true, weekLongPromotedWatches: true, soakEndsInItsWatch: true, edges: true };
  if (patched(PATCH_ONE_STEP_START_AND_REVIEW_MEMO)) return { ...edgesOn, oneStepStartAndMemo: true };
  if (patched(PATCH_TRUTH_AT_THE_EDGES)) return { ...edgesOn, oneStepStartAndMemo: false };
  const soakEndsInItsWatch = patched(PATCH_SOAK_ENDS_IN_ITS_WATCH);
  if (soakEndsInItsWatch)
    return { attemptKeys: true, serverRetriedChecks: true, weekLongPromotedWatches: true, soakEndsInItsWatch, edges: false, oneStepStartAndMemo: false };
  deprecatePatch(PATCH_WATCH_PROMOTED_AND_QUARANTINE);
  const attemptKeys = patched(PATCH_ATTEMPT_KEYS_AND_VERIFIED_DEPLOYS);
  const serverRetriedChecks = attemptKeys && patched(PATCH_SERVER_RETRIED_CHECKS);
  const weekLongPromotedWatches = serverRetriedChecks && patched(PATCH_WEEK_LONG_PROMOTED_WATCHES);
  return { attemptKeys, serverRetriedChecks, weekLongPromotedWatches, soakEndsInItsWatch, edges: false, oneStepStartAndMemo: false };
}
