// The command deployer: runs the plan's deploy/rollback argv on the worker. The command
// learns what to do from its environment (and {{placeholders}} in argv), and reports
// with its exit code: 0 done, 75 try again later, anything else a real failure.
import type { DeployInput, DeployResult, RollbackInput } from '../../domain/activity-contract';
import { baseEnv, runCommandActivity, substituteArgv, type LineLogger } from '../command-activity';
import { idempotencyKey, stepText, type DeployStep } from './step';
import { confirmDeployed, STATUS_TIMEOUT_MS, statusText } from './running-version';
import { DEPLOY_FAILURE } from '../../domain/failures';
import { readerOf, type Deployer, type DeployerConfig, type RegionRef } from './deployer';

type CommandDeployer = DeployerConfig<'command'>;

export interface CommandDeployOptions {
  /** Overrides the activity logger (tests, or running outside an activity). */
  logger?: LineLogger;
  killGraceMs?: number;
  heartbeatIntervalMs?: number;
}

export function commandDeploy(input: DeployInput<CommandDeployer>, options: CommandDeployOptions = {}): Promise<DeployResult> {
  return runStep(input, 'deploy', options);
}

export function commandRollback(input: RollbackInput<CommandDeployer>, options: CommandDeployOptions = {}): Promise<DeployResult> {
  return runStep(input, 'rollback', options);
}

export const commandDeployer: Deployer<CommandDeployer> = {
  deploy: (input) => commandDeploy(input),
  rollback: (input) => commandRollback(input),
  running: commandStatus,
  runningUnknown: 'the command deployer has no status command',
  // A command has no idempotency key to stop a second undo: every attempt reads first.
  resumesByKey: false,
};

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

async function runStep(
  input: DeployInput<CommandDeployer> | RollbackInput<CommandDeployer>,
  step: DeployStep,
  options: CommandDeployOptions,
): Promise<DeployResult> {
  const deployer = input.deployer;
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
  if (step === 'deploy') await confirmDeployed(readerOf(commandDeployer, deployer), input);
  const result: DeployResult = { region: input.region, version: input.version, idempotencyKey: idempotencyKey(input, step) };
  // Same meaning as the HTTP deployer: previousVersion is the version that preceded
  // `version`, i.e. what a rollback returns the region to. A command cannot tell us what
  // ran before a deploy, so only a rollback, told by the workflow, knows it.
  if (step === 'rollback' && 'previousVersion' in input && input.previousVersion) {
    result.previousVersion = input.previousVersion;
  }
  return result;
}

/** What the region runs, by the plan's status command (its last line); undefined without one. */
async function commandStatus(deployer: CommandDeployer, ref: RegionRef): Promise<string | null | undefined> {
  if (!deployer.status) return undefined;
  const values = { service: ref.service, region: ref.region, version: ref.version };
  const outcome = await runCommandActivity({
    argv: substituteArgv(deployer.status, values),
    env: { ...baseEnv(deployer.passEnv), SERVICE: ref.service, REGION: ref.region, VERSION: ref.version, STEP: 'status' },
    timeoutMs: Math.min(deployer.timeoutMs, STATUS_TIMEOUT_MS),
    failures: DEPLOY_FAILURE,
    what: statusText(ref),
  });
  // The contract: the command prints the running version as its last line (nothing: none).
  const last = [...outcome.tail].reverse().find((l) => l.trim() !== '');
  return last === undefined ? null : last.trim();
}
