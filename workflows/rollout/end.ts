// How a rollout ends: watches stopped, notifications and handlers drained, and a verdict
// the workflow's own result carries (a rollout that did not succeed fails the workflow).
import { allHandlersFinished, ApplicationFailure, condition } from '@temporalio/workflow';
import { ROLLOUT_FAILURE } from '../../domain/failures';
import type { RolloutStatus } from '../../domain/state';
import { releasePolicySlots } from './policy';
import type { RolloutRun } from './run';
import { stopPromotedWatches } from './watches';

export async function finish(run: RolloutRun): Promise<RolloutStatus> {
  const { status } = run;
  stopPromotedWatches(run);
  status.endedAt = Date.now();
  delete status.currentRegion;
  run.publish();
  releasePolicySlots(run, `ended ${status.state}`);
  await Promise.all(run.pendingNotifications);
  await condition(allHandlersFinished);
  // After the handlers: an action accepted while they drained is in the figures.
  run.writeReviewMemo();
  if (status.state === 'succeeded') return status;
  const type =
    { 'rolled-back': ROLLOUT_FAILURE.rolledBack, aborted: ROLLOUT_FAILURE.aborted, failed: ROLLOUT_FAILURE.failed }[
      status.state as 'rolled-back' | 'aborted' | 'failed'
    ] ?? ROLLOUT_FAILURE.failed;
  // A rollout that did not succeed fails the workflow, so `temporal workflow execute`,
  // the UI and CI all see the verdict without reading the result.
  throw ApplicationFailure.nonRetryable(status.summary, type, status);
}
