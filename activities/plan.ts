import { ApplicationFailure } from '@temporalio/common';
import { validatePlan, type NormalizedPlan } from '../plan';
import { ACTIVITY_FAILURE } from '../workflows/failures';
import { currentContext } from './activity-context';

/**
 * The workflow's first step: a plan started by any path (mrcd, the client library,
 * `temporal workflow start`) is validated by the same code before anything is touched.
 * Only errors refuse it; warnings (practices the plan departs from) go to the worker log,
 * and the result stays the NormalizedPlan recorded histories hold.
 */
export async function preparePlan(doc: unknown): Promise<NormalizedPlan> {
  const r = validatePlan(doc);
  if (r.ok) {
    // Info, not warn: a practice the plan departs from is no fault of the worker's.
    for (const w of r.warnings) currentContext()?.log.info(`plan warning ${w.path}: ${w.message}`, { lint: w.id, path: w.path });
    return r.plan;
  }
  const errors = r.problems.filter((p) => p.severity === 'error');
  const warnings = r.problems.filter((p) => p.severity === 'warning');
  const list = errors.map((p) => `${p.path}: ${p.message}`).join('; ');
  const also = warnings.length > 0 ? ` (and ${warnings.length} warning(s): ${warnings.map((p) => `${p.path}: ${p.message}`).join('; ')})` : '';
  throw ApplicationFailure.nonRetryable(`${errors.length} problem(s): ${list}${also}`, ACTIVITY_FAILURE.invalidPlan, r.problems);
}
