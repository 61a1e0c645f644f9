// One entry point per step for the workflow; the plan's deployer type picks the provider.
// A rollback is judged here, for every deployer, by what the region runs: before the call
// (a region already back is not rolled back again: an "undo" run twice would restore the
// bad version) and after it (the deployer's "succeeded" is not taken for it).
import { ApplicationFailure } from '@temporalio/common';
import type { DeployInput, DeployResult, RollbackInput } from '../types';
import { activitySignal, currentContext } from '../activity-context';
import { commandDeploy, commandRollback } from './command';
import { httpDeploy, httpRollback } from './http';
import { confirmRolledBack, rollbackShortfall, runningVersion, type RegionRef } from './running-version';
import { idempotencyKey } from './step';
import { ACTIVITY_FAILURE } from '../../workflows/failures';

export { idempotencyKey } from './step';
export { httpDeploy, httpRollback, commandDeploy, commandRollback };

export function deployRegion(input: DeployInput): Promise<DeployResult> {
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
  // An attempt that resumes an operation it heartbeated polls that operation; every other
  // attempt (the first, a retry after a lost worker, an operator's retry) looks first.
  if (!resumesOperation()) {
    const running = await runningVersion(input.deployer, ref, signal);
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
  const running = await confirmRolledBack(input.deployer, ref, input.previousVersion, {
    ...(signal ? { signal } : {}),
    sleep: (ms) => currentContext()?.sleep(ms) ?? new Promise((r) => setTimeout(r, ms)),
  });
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

/** The http deployer heartbeats the operation it started; a retried attempt with one resumes it. */
function resumesOperation(): boolean {
  const d = currentContext()?.info.heartbeatDetails as { operationId?: unknown } | undefined;
  return typeof d === 'object' && d !== null && typeof d.operationId === 'string' && d.operationId !== '';
}

// Reachable only with a history recorded by a newer plan schema than this worker knows.
function unknownDeployer(deployer: never): ApplicationFailure {
  const type = (deployer as { type?: unknown }).type;
  return ApplicationFailure.nonRetryable(`unknown deployer type ${JSON.stringify(type)}`, ACTIVITY_FAILURE.deployConfig);
}
