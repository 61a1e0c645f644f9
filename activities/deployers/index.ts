// One entry point per step for the workflow; the plan's deployer type picks the provider
// from the registry, and nothing here names one.
// A rollback is judged here, for every deployer, by what the region runs: before the call
// (a region already back is not rolled back again: an "undo" run twice would restore the
// bad version) and after it (the deployer's "succeeded" is not taken for it).
import { ApplicationFailure } from '@temporalio/common';
import type { DeployInput, DeployResult, RollbackInput } from '../../domain/activity-contract';
import { activitySignal, currentContext } from '../activity-context';
import { confirmRolledBack, readRunning, rollbackShortfall, rollingOutTo } from './running-version';
import { idempotencyKey } from './step';
import { ACTIVITY_FAILURE } from '../../domain/failures';
import type { RegionRef } from './deployer';
import { deployerFor, readerFor } from './registry';

export { idempotencyKey } from './step';

/**
 * A deploy, with the time it ended by this worker's clock: the workflow records when the
 * region got the version from it, since the workflow task that reads the result may run on a
 * worker that took over with the time of the last task before the old worker died.
 */
export async function deployRegion(input: DeployInput): Promise<DeployResult> {
  const result = await deployerFor(input.deployer).deploy(input);
  return { ...result, at: Date.now() };
}

export async function rollbackRegion(input: RollbackInput): Promise<DeployResult> {
  const ref: RegionRef = { service: input.service, region: input.region, version: input.version };
  const signal = activitySignal();
  const sleep = (ms: number) => currentContext()?.sleep(ms) ?? new Promise<void>((r) => setTimeout(r, ms));
  // The first attempt of a rollback (an operator's retry is a new one) looks first, and so
  // does every attempt of a command, which has no idempotency key to stop a second undo.
  // A retried http attempt polls the operation it heartbeated, or posts under the same
  // key, which the deploy API must answer with the same operation.
  // A region whose deploy may still be under way is not read first: a deploy landing after
  // the read would be rolled back by nobody (found by the chaos run, seed 20261207).
  if (!input.afterInterruptedDeploy && !retriedUnderItsKey(input)) {
    const running = await readRunning(readerFor(input.deployer), ref, { ...(signal ? { signal } : {}), sleep });
    // A region in motion (a rollout stuck or under way, to this version or back) is not
    // back: the rollback is sent, and confirmed once it has settled.
    if (running !== undefined && running !== input.version && rollingOutTo(running) === undefined) {
      const short = rollbackShortfall(ref, input.previousVersion, running);
      if (short !== undefined) {
        throw ApplicationFailure.nonRetryable(
          `rollback of ${input.service} ${input.version} in ${input.region}: ${short}, changed outside this rollout; no rollback was sent (set the region to ${input.previousVersion} by hand, then retry)`,
          ACTIVITY_FAILURE.rollbackNotLanded,
        );
      }
      const result: DeployResult = {
        region: input.region,
        version: input.version,
        idempotencyKey: idempotencyKey(input, 'rollback'),
        running,
        alreadyBack: true,
      };
      if (input.previousVersion) result.previousVersion = input.previousVersion;
      return result;
    }
  }
  const result = await deployerFor(input.deployer).rollback(input);
  const running = await confirmRolledBack(readerFor(input.deployer), ref, input.previousVersion, { ...(signal ? { signal } : {}), sleep });
  return running === undefined ? result : { ...result, running };
}

function retriedUnderItsKey(input: RollbackInput): boolean {
  return deployerFor(input.deployer).resumesByKey && (currentContext()?.info.attempt ?? 1) > 1;
}
