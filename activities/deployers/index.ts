// One entry point per step for the workflow; the plan's deployer type picks the provider.
// A rollback is judged here, for every deployer, by what the region runs: before the call
// (a region already back is not rolled back again: an "undo" run twice would restore the
// bad version) and after it (the deployer's "succeeded" is not taken for it).
import { ApplicationFailure } from '@temporalio/common';
import type { DeployInput, DeployResult, RollbackInput } from '../../domain/activity-contract';
import { activitySignal, currentContext } from '../activity-context';
import { commandDeploy, commandRollback } from './command';
import { httpDeploy, httpRollback } from './http';
import { confirmRolledBack, readRunning, rollbackShortfall, type RegionRef } from './running-version';
import { idempotencyKey } from './step';
import { ACTIVITY_FAILURE } from '../../domain/failures';

export { idempotencyKey } from './step';
export { httpDeploy, httpRollback, commandDeploy, commandRollback };

/**
 * A deploy, with the time it ended by this worker's clock: the workflow records when the
 * region got the version from it, since the workflow task that reads the result may run on a
 * worker that took over with the time of the last task before the old worker died.
 */
export async function deployRegion(input: DeployInput): Promise<DeployResult> {
  const result = await providerDeploy(input);
  return { ...result, at: Date.now() };
}

function providerDeploy(input: DeployInput): Promise<DeployResult> {
  switch (input.deployer.type) {
    case 'http':
      return httpDeploy(input);
    case 'command':
      return commandDeploy(input);
    default:
      return Promise.reject(unknownDeployer(input.deployer));
  }
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
    const running = await readRunning(input.deployer, ref, { ...(signal ? { signal } : {}), sleep });
    if (running !== undefined && running !== input.version) {
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
  const result = await providerRollback(input);
  const running = await confirmRolledBack(input.deployer, ref, input.previousVersion, { ...(signal ? { signal } : {}), sleep });
  return running === undefined ? result : { ...result, running };
}

function providerRollback(input: RollbackInput): Promise<DeployResult> {
  switch (input.deployer.type) {
    case 'http':
      return httpRollback(input);
    case 'command':
      return commandRollback(input);
    default:
      return Promise.reject(unknownDeployer(input.deployer));
  }
}

function retriedUnderItsKey(input: RollbackInput): boolean {
  return input.deployer.type === 'http' && (currentContext()?.info.attempt ?? 1) > 1;
}

// Reachable only with a history recorded by a newer plan schema than this worker knows.
function unknownDeployer(deployer: never): ApplicationFailure {
  const type = (deployer as { type?: unknown }).type;
  return ApplicationFailure.nonRetryable(`unknown deployer type ${JSON.stringify(type)}`, ACTIVITY_FAILURE.deployConfig);
}
