import { ApplicationFailure } from '@temporalio/common';
import { validatePlan, type NormalizedPlan } from '../plan';
import { ACTIVITY_FAILURE } from '../workflows/failures';

/**
 * The workflow's first step: a plan started by any path (mrcd, the client library,
 * `temporal workflow start`) is validated by the same code before anything is touched.
 */
export async function preparePlan(doc: unknown): Promise<NormalizedPlan> {
  const r = validatePlan(doc);
  if (r.ok) return r.plan;
  const list = r.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  throw ApplicationFailure.nonRetryable(`${r.problems.length} problem(s): ${list}`, ACTIVITY_FAILURE.invalidPlan, r.problems);
}
