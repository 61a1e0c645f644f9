// Runs one migration step (expand/contract, apply/revert) as a child process, with the
// same exit-code contract as the command deployer: 0 done, 75 retry later, else failed.
import type { MigrationInput } from '../domain/activity-contract';
import { MIGRATION_FAILURE } from '../domain/failures';
import { baseEnv, runCommandActivity, substituteArgv, type LineLogger } from './command-activity';

/**
 * For inputs without a timeout: histories recorded before the plan had one. Long, because
 * a migration may be a backfill; the same as the plan's default.
 */
export const DEFAULT_MIGRATION_TIMEOUT_MS = 30 * 60_000;

export async function runMigration(
  input: MigrationInput,
  options: { logger?: LineLogger; killGraceMs?: number; heartbeatIntervalMs?: number } = {},
): Promise<void> {
  const env: Record<string, string> = {
    ...baseEnv(input.passEnv ?? []),
    SERVICE: input.service,
    VERSION: input.version,
    ROLLOUT_ID: input.rolloutId,
    MIGRATION: input.name,
    PHASE: input.phase,
    DIRECTION: input.direction,
    ...(input.idempotencyKey ? { IDEMPOTENCY_KEY: input.idempotencyKey } : {}),
  };
  await runCommandActivity({
    argv: substituteArgv(input.run, { service: input.service, version: input.version }),
    env,
    timeoutMs: input.timeoutMs ?? DEFAULT_MIGRATION_TIMEOUT_MS,
    failures: MIGRATION_FAILURE,
    what: `migration ${input.name} (${input.phase}, ${input.direction}) for ${input.service} ${input.version}`,
    logMeta: { service: input.service, migration: input.name, phase: input.phase, direction: input.direction },
    ...options,
  });
}
