// One entry point per step for the workflow; the plan's deployer type picks the provider.
import { ApplicationFailure } from '@temporalio/common';
import type { DeployInput, DeployResult, RollbackInput } from '../types';
import { commandDeploy, commandRollback } from './command';
import { httpDeploy, httpRollback } from './http';
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

export function rollbackRegion(input: RollbackInput): Promise<DeployResult> {
  switch (input.deployer.type) {
    case 'http':
      return httpRollback(input);
    case 'command':
      return commandRollback(input);
    default:
      return Promise.reject(unknownDeployer(input.deployer));
  }
}

// Reachable only with a history recorded by a newer plan schema than this worker knows.
function unknownDeployer(deployer: never): ApplicationFailure {
  const type = (deployer as { type?: unknown }).type;
  return ApplicationFailure.nonRetryable(`unknown deployer type ${JSON.stringify(type)}`, ACTIVITY_FAILURE.deployConfig);
}
