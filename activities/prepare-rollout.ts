// A rollout's start in one step (a local activity): the plan validated and normalized, then
// the quarantine records of its version. Run inside the rollout's first workflow task, it
// lets that task schedule the first deploy (docs/architecture.md, "The start in one task").
import { ApplicationFailure } from '@temporalio/common';
import type { PrepareRolloutInput, PreparedRollout, RolloutActivities } from '../domain/activity-contract';
import { currentContext } from './activity-context';

type Parts = Pick<RolloutActivities, 'preparePlan' | 'checkQuarantine'>;

/**
 * The step made of the worker's own preparePlan and checkQuarantine, so a worker (or a test)
 * that replaces either gets it here too. An invalid plan fails it for good; a lookup that
 * fails is retried by the local activity's policy and, at its last attempt or when it cannot
 * succeed, reported as the answer: whether to fail closed or honour an override is the
 * workflow's decision, and it needs the plan for either.
 */
export function prepareRolloutWith(parts: Parts): RolloutActivities['prepareRollout'] {
  return async (input: PrepareRolloutInput): Promise<PreparedRollout> => {
    const plan = await parts.preparePlan(input.plan);
    try {
      return { plan, quarantine: { records: await parts.checkQuarantine({ service: plan.service, version: plan.version, runId: input.runId }) } };
    } catch (e) {
      const attempt = currentContext()?.info.attempt ?? input.lastAttempt;
      const final = attempt >= input.lastAttempt || (e instanceof ApplicationFailure && e.nonRetryable);
      if (!final) throw e;
      return { plan, quarantine: { error: e instanceof Error ? e.message : String(e) } };
    }
  };
}

/** The activities with prepareRollout made of their own preparePlan and checkQuarantine (after any of them was replaced). */
export function withPrepareRollout<A extends Parts>(acts: A): A & Pick<RolloutActivities, 'prepareRollout'> {
  return { ...acts, prepareRollout: prepareRolloutWith(acts) };
}
