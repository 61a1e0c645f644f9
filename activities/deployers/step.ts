// What both deployers share about a step: its name, its idempotency key, and how it reads
// in failures and logs.
import type { DeployInput, RollbackInput } from '../../domain/activity-contract';

export type DeployStep = 'deploy' | 'rollback';

/**
 * The key of one intended deploy or rollback. The workflow builds it per rollout run and
 * per attempt of the step (see domain/idempotency.ts), so activity retries and worker
 * crashes reuse it while a new rollout or an operator's retry never does. Inputs recorded
 * before the workflow passed one fall back to the old rollout + region + version + step.
 */
export function idempotencyKey(input: DeployInput, step: DeployStep): string {
  return input.idempotencyKey ?? `${input.rolloutId}:${input.region}:${input.version}:${step}`;
}

/** The step in words: "deploy api 1.4.2 to eu-west-1", "rollback of api 1.4.2 in eu-west-1". */
export function stepText(input: DeployInput | RollbackInput, step: DeployStep): string {
  return step === 'deploy' ? `deploy ${input.service} ${input.version} to ${input.region}` : `rollback of ${input.service} ${input.version} in ${input.region}`;
}
