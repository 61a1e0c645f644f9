// Runs one migration step (expand/contract, apply/revert) as a child process, with the
// same exit-code contract as the command deployer: 0 done, 75 retry later, else failed.
import type { MigrationInput } from './types';
import { baseEnv, runCommandActivity, substituteArgv, type LineLogger } from './run-command';

/** A migration may run long (backfills); the plan has no per-migration timeout yet. */
export const DEFAULT_MIGRATION_TIMEOUT_MS = 30 * 60_000;

/**
 * MigrationInput plus what the plan does not carry yet. A migration almost always needs
 * database credentials, which must come by name from the worker's environment.
 */
export type RunMigrationInput = MigrationInput & { passEnv?: string[]; timeoutMs?: number };

export async function runMigration(
  input: RunMigrationInput,
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
  };
  await runCommandActivity({
    argv: substituteArgv(input.run, { service: input.service, version: input.version }),
    env,
    timeoutMs: input.timeoutMs ?? DEFAULT_MIGRATION_TIMEOUT_MS,
    prefix: 'Migration',
    what: `migration ${input.name} (${input.phase}, ${input.direction}) for ${input.service} ${input.version}`,
    logMeta: { service: input.service, migration: input.name, phase: input.phase, direction: input.direction },
    ...options,
  });
}
