// The command deployer: runs the plan's deploy/rollback argv on the worker. The command
// learns what to do from its environment (and {{placeholders}} in argv), and reports
// with its exit code: 0 done, 75 try again later, anything else a real failure.
import type { DeployInput, DeployResult, RollbackInput } from '../../domain/activity-contract';
import { ApplicationFailure } from '@temporalio/common';
import { baseEnv, runCommandActivity, substituteArgv, type LineLogger } from '../run-command';
import { idempotencyKey, stepText, type DeployStep } from './step';
import { confirmDeployed } from './running-version';
import { ACTIVITY_FAILURE, DEPLOY_FAILURE } from '../../domain/failures';

export interface CommandDeployOptions {
  /** Overrides the activity logger (tests, or running outside an activity). */
  logger?: LineLogger;
  killGraceMs?: number;
  heartbeatIntervalMs?: number;
}

export function commandDeploy(input: DeployInput, options: CommandDeployOptions = {}): Promise<DeployResult> {
  return runStep(input, 'deploy', options);
}

export function commandRollback(input: RollbackInput, options: CommandDeployOptions = {}): Promise<DeployResult> {
  return runStep(input, 'rollback', options);
}

/** The child's whole environment: PATH, HOME, the plan's passEnv names, and the step's facts. */
export function commandEnv(input: DeployInput | RollbackInput, step: DeployStep, passEnv: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {
    ...baseEnv(passEnv),
    SERVICE: input.service,
    REGION: input.region,
    VERSION: input.version,
    ROLLOUT_ID: input.rolloutId,
    STEP: step,
    IDEMPOTENCY_KEY: idempotencyKey(input, step),
  };
  if (step === 'rollback' && 'previousVersion' in input && input.previousVersion) {
    env.PREVIOUS_VERSION = input.previousVersion;
  }
  return env;
}

async function runStep(input: DeployInput | RollbackInput, step: DeployStep, options: CommandDeployOptions): Promise<DeployResult> {
  const deployer = input.deployer;
  if (deployer.type !== 'command') {
    throw ApplicationFailure.nonRetryable(`command deployer called for a ${deployer.type} deployer`, ACTIVITY_FAILURE.deployConfig);
  }
  const argv = substituteArgv(step === 'deploy' ? deployer.deploy : deployer.rollback, {
    service: input.service,
    region: input.region,
    version: input.version,
  });
  await runCommandActivity({
    argv,
    env: commandEnv(input, step, deployer.passEnv),
    timeoutMs: deployer.timeoutMs,
    failures: DEPLOY_FAILURE,
    what: stepText(input, step),
    logMeta: { service: input.service, region: input.region, version: input.version, step },
    ...options,
  });
  // Exit 0 says the command ended well; a status command, where the plan has one, says
  // what the region runs.
  if (step === 'deploy') await confirmDeployed(deployer, input);
  const result: DeployResult = { region: input.region, version: input.version, idempotencyKey: idempotencyKey(input, step) };
  // Same meaning as the HTTP deployer: previousVersion is the version that preceded
  // `version`, i.e. what a rollback returns the region to. A command cannot tell us what
  // ran before a deploy, so only a rollback, told by the workflow, knows it.
  if (step === 'rollback' && 'previousVersion' in input && input.previousVersion) {
    result.previousVersion = input.previousVersion;
  }
  return result;
}
