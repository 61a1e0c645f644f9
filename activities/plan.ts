import { ApplicationFailure } from '@temporalio/common';
import { validatePlan, type NormalizedPlan, type PlanProblem } from '../plan';
import { ACTIVITY_FAILURE } from '../domain/failures';
import { rolloutWorkflowId } from '../domain/definitions';
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
  throw invalidPlan(r.problems);
}

/**
 * preparePlan that also refuses a rollout started under a workflow id other than
 * rollout-<service> (the Web UI's random default, a typo in CI): the id is the per-service
 * lock, and every mrcd command and recipe finds the rollout by it, so such a rollout would
 * run beside another of the same service and nobody could steer it. Outside an activity
 * there is no workflow id to check.
 */
export async function preparePlanUnderItsId(doc: unknown): Promise<NormalizedPlan> {
  const workflowId = currentContext()?.info.workflowExecution?.workflowId;
  const service = typeof doc === 'object' && doc !== null ? (doc as { service?: unknown }).service : undefined;
  if (workflowId === undefined || typeof service !== 'string' || workflowId === rolloutWorkflowId(service)) return preparePlan(doc);
  const expected = rolloutWorkflowId(service);
  const wrongId: PlanProblem = {
    id: 'workflow-id',
    severity: 'error',
    path: '(workflow id)',
    message: `workflow id ${JSON.stringify(workflowId)} is not ${expected}: start rollouts with mrcd deploy or the client library (or temporal workflow start --workflow-id ${expected}), so the per-service lock and mrcd can find them`,
  };
  const r = validatePlan(doc);
  throw invalidPlan([wrongId, ...(r.ok ? r.warnings : r.problems)]);
}

function invalidPlan(problems: PlanProblem[]): ApplicationFailure {
  const errors = problems.filter((p) => p.severity === 'error');
  const warnings = problems.filter((p) => p.severity === 'warning');
  const list = errors.map((p) => `${p.path}: ${p.message}`).join('; ');
  const also = warnings.length > 0 ? ` (and ${warnings.length} warning(s): ${warnings.map((p) => `${p.path}: ${p.message}`).join('; ')})` : '';
  return ApplicationFailure.nonRetryable(`${errors.length} problem(s): ${list}${also}`, ACTIVITY_FAILURE.invalidPlan, problems);
}
