// The chaos run's figures as a table for people and as JSON for docs to quote.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ChaosFigures } from './engine';

const kv = (o: Record<string, number>) =>
  Object.entries(o)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

export function figuresTable(f: ChaosFigures): string {
  const rows: [string, string][] = [
    ['seed', `${f.seed} (replay: MRCD_CHAOS_SEED=${f.seed})`],
    [
      'rollouts',
      `${f.rollouts.total}: ${f.rollouts.good} good (${f.rollouts.abortedByOperator} aborted by the operator), ${f.rollouts.bad} bad; ${f.rollouts.withMigrations} with migrations, ${f.rollouts.withApproval} with an approval; ${f.rollouts.ended} ended`,
    ],
    ['final states', kv(f.verdicts.byFinalState)],
    ['verdicts', `${f.verdicts.correct} correct, ${f.verdicts.wrong} wrong`],
    ['operator actions', kv(f.operator)],
    ['halts from faults, retried', String(f.faultHaltsRetried)],
    [
      'worker kills (kill -9)',
      `${f.workerKills.total} (${f.config.workers} workers; ${f.workerKills.afterFailover ?? 0} of them a replacement on its first tasks after a failover), each replaced; replacement polling after ${f.workerKills.replacementStartMs.mean} ms mean, ${f.workerKills.replacementStartMs.max} ms max`,
    ],
    ['kills landed during', kv(f.workerKills.byPhase)],
    ['server restarts (kill -9)', `${f.serverRestarts.total}; down ${f.serverRestarts.downMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ') || '-'}`],
    [
      'fleet policy',
      f.policy
        ? `${f.policy.region} limited to ${f.policy.limit} and frozen ${(f.policy.freezeMs / 1000).toFixed(0)} s: ${f.policy.grants} slots granted, at most ${f.policy.maxHolders} held at once; ${f.policy.readAtEnd ? 'read at the end' : 'NOT readable at the end'}`
        : '-',
    ],
    ['faults injected', kv(f.faultsInjected)],
    [
      'workflow cancels',
      `${kv(f.edges.cancels)}; recorded ${f.edges.cancelAnswers.accepted} accepted, ${f.edges.cancelAnswers.noop} no-op, ${f.edges.cancelAnswers.refused} refused`,
    ],
    ['toggling-rollback regions', `${f.edges.undoRollbackRegions.length}: ${f.edges.undoRollbackRegions.join(', ') || '-'}`],
    [
      'drifts (changed by hand)',
      `${f.edges.drifts}; not-running-version halts ${f.edges.driftHalts}, answered retry ${f.edges.driftAnswers.retry}, abort ${f.edges.driftAnswers.abort}`,
    ],
    ['ledger', `${f.ledger.deploys} deploys, ${f.ledger.rollbacks} rollbacks, ${f.ledger.manual} by hand`],
    ['migration runs', `${kv(f.migrations.runsByStep)} (re-runs, at-least-once: ${f.migrations.reRuns})`],
    ['duplicate deploys', String(f.duplicateDeploys)],
    ['lost rollbacks', String(f.lostRollbacks)],
    [
      'workflow task failures',
      `${f.workflowTaskFailures} (besides: ${f.unhandledCommandRetries} completions refused as UnhandledCommand, a new event raced them, redone)`,
    ],
    ['workflow task timeouts (killed workers)', `${f.workflowTaskTimeouts}; highest attempt of a completed task ${f.maxWorkflowTaskAttempt}`],
    ['rollout duration', `${(f.rolloutMs.mean / 1000).toFixed(1)} s mean, ${(f.rolloutMs.max / 1000).toFixed(1)} s max (start to verdict)`],
    ['violations', kv(f.violations)],
    ['orphan processes', String(f.orphans)],
    ['wall time', `${(f.wallMs / 1000).toFixed(1)} s`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`);
  for (const v of f.violationList.slice(0, 50)) lines.push(`  VIOLATION ${v.rule} ${v.service ?? ''}: ${v.detail}`);
  return lines.join('\n');
}

export function writeFigures(path: string, f: ChaosFigures): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ ...f, at: new Date().toISOString() }, null, 2)}\n`);
}

/** Violations plus orphans: what makes a run fail. */
export function failures(f: ChaosFigures): number {
  return f.violationList.length + f.orphans + (f.rollouts.ended === f.rollouts.total ? 0 : 1);
}
