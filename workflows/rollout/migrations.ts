// Two-phase schema migrations: expand before the first region, contract after the last.
// Steps run to completion even during an abort; status records what was applied, so a
// retried or continued run only does what is left and an abort reverts only what ran.
import { CancellationScope } from '@temporalio/workflow';
import type { NormalizedPlan } from '../../plan';
import { causeWithDetail } from '../../domain/halt-cause';
import { migrationActivities } from './activities';
import { waitHalted } from './halts';
import { Aborted, causeMessage, MigrationFailed } from './outcomes';
import type { RolloutRun } from './run';

type Phase = 'expand' | 'contract';
type Direction = 'apply' | 'revert';

async function runMigrations(run: RolloutRun, phase: Phase, direction: Direction): Promise<void> {
  const list = run.plan.migrations.filter((m) => m.phase === phase);
  const applied = (name: string) => run.status.migrations?.some((x) => x.name === name && x.phase === phase && x.direction === 'apply') ?? false;
  for (const m of direction === 'apply' ? list : [...list].reverse()) {
    const step = direction === 'apply' ? m.apply : m.revert;
    if (!step) continue; // irreversible: reported in the abort summary, never silently skipped
    // A retried phase skips the steps already done; a revert undoes only what was applied.
    if (applied(m.name) === (direction === 'apply')) continue;
    // An abort stops what is left of expand (a step in flight runs to its end): only the
    // steps already applied are reverted, and no irreversible one runs after it.
    if (run.gen.edges && direction === 'apply' && run.intents.abortRequested) throw new Aborted();
    await runMigrationStep(run, m, phase, direction, step.run);
  }
}

async function runMigrationStep(
  run: RolloutRun,
  m: NormalizedPlan['migrations'][number],
  phase: Phase,
  direction: Direction,
  command: string[],
): Promise<void> {
  const { status, plan } = run;
  const step = `${m.name}:${phase}:${direction}`;
  if (run.gen.attemptKeys) {
    status.migrationAttempts ??= {};
    status.migrationAttempts[step] = (status.migrationAttempts[step] ?? 0) + 1;
  }
  try {
    await CancellationScope.nonCancellable(() =>
      migrationActivities(m.timeoutMs).runMigration({
        rolloutId: status.rolloutId,
        service: plan.service,
        version: plan.version,
        name: m.name,
        phase,
        direction,
        run: command,
        ...(m.passEnv ? { passEnv: m.passEnv } : {}),
        ...(m.timeoutMs ? { timeoutMs: m.timeoutMs } : {}),
        ...run.keyOf('migration', step, status.migrationAttempts?.[step] ?? 0),
      }),
    );
  } catch (e) {
    throw new MigrationFailed(`${phase} migration ${m.name} (${direction}) failed: ${causeMessage(e)}`, m.name, phase);
  }
  status.migrations ??= [];
  if (direction === 'apply') status.migrations.push({ name: m.name, phase, direction, at: Date.now() });
  else status.migrations = status.migrations.filter((x) => !(x.name === m.name && x.phase === phase));
}

/** Applies a phase; a failing step halts the rollout until retry (or abort, before contract). */
export async function applyMigrations(run: RolloutRun, phase: Phase, haltRegion: string, index: number): Promise<void> {
  for (;;) {
    try {
      run.status.summary = `running ${phase} migrations`;
      await runMigrations(run, phase, 'apply');
      return;
    } catch (e) {
      if (!(e instanceof MigrationFailed)) throw e;
      const then = phase === 'contract' ? ' (every region runs the version; abort is no longer possible)' : ', abort reverts the expand migrations';
      run.status.halt = {
        region: haltRegion,
        reason: `${e.message}; retry runs it again${then}`,
        at: Date.now(),
        cause: causeWithDetail({ kind: 'migration-failed', region: haltRegion, migration: e.migration, phase: e.phase }, e.message),
      };
      await waitHalted(run, haltRegion, index);
    }
  }
}

/** Reverts expand migrations for an abort or rollback-all; a failing revert is reported, never hidden. */
export async function revertExpand(run: RolloutRun): Promise<void> {
  try {
    await runMigrations(run, 'expand', 'revert');
  } catch (e) {
    if (!(e instanceof MigrationFailed)) throw e;
    run.status.halt!.reason += `; ${e.message}: fix the schema by hand`;
  }
}
