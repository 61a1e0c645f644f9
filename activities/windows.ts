// Deploy windows: when may a region start, judged by the region's own wall clock. The rules
// and the computation are in plan/windows.ts (pure, shared with `mrcd plan`); here they
// become the activity, with a window that never opens as a non-retryable failure.
import { ApplicationFailure } from '@temporalio/common';
import { computeDeployWindow as computeWindow, NoDeployWindowError } from '../plan/windows';
import type { WindowDecision, WindowInput } from '../domain/activity-contract';
import { ACTIVITY_FAILURE } from '../domain/failures';

export { describeWindow, WINDOW_HORIZON_DAYS } from '../plan/windows';

/**
 * The earliest instant >= now at which a region may start under its deploy window (see
 * plan/windows.ts). Throws a non-retryable `NoDeployWindow` failure when no start exists
 * within WINDOW_HORIZON_DAYS local days, since waiting and retrying cannot change that.
 */
export function computeDeployWindow(input: WindowInput): WindowDecision {
  try {
    return computeWindow(input);
  } catch (e) {
    if (e instanceof NoDeployWindowError) throw ApplicationFailure.nonRetryable(e.message, ACTIVITY_FAILURE.noDeployWindow);
    throw e;
  }
}

/**
 * Activity: when the region may start. Pure computation, safe to retry. "Now" is the later
 * of the workflow's time and this worker's clock: the first workflow task on a worker that
 * took over a rollout can run with the time of the last task before the old worker died.
 */
export async function nextDeployWindow(input: WindowInput): Promise<WindowDecision> {
  return computeDeployWindow({ ...input, now: Math.max(input.now, Date.now()) });
}
