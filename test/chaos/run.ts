// `npm run chaos` (issue 13 item 1): the full chaos run, tens of minutes. Prints its seed
// first; MRCD_CHAOS_SEED=<n> replays the same schedule. --bounded runs the configuration
// npm run test:slow runs (test/slow/chaos.test.ts); --out <file> writes the figures as JSON
// (default for the full run: bench/results/chaos-latest.json); --keep keeps logs and the
// SQLite file. Exits 1 on any violated invariant or orphan process.
import { resolve } from 'node:path';
import { stopAll } from '../cluster/processes';
import { runChaos } from './engine';
import { failures, figuresTable, writeFigures } from './figures';
import { BOUNDED, chaosSeed, FULL, makeSchedule } from './schedule';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const bounded = args.includes('--bounded');
  const outIdx = args.indexOf('--out');
  const out = outIdx >= 0 ? args[outIdx + 1] : bounded ? undefined : resolve(__dirname, '../../bench/results/chaos-latest.json');
  if (outIdx >= 0 && !out) throw new Error('--out needs a file');
  const seed = chaosSeed();
  console.log(`[chaos] seed ${seed} (replay: MRCD_CHAOS_SEED=${seed} npm run chaos${bounded ? ' -- --bounded' : ''})`);
  const schedule = makeSchedule(seed, bounded ? BOUNDED : FULL);
  const c = schedule.config;
  console.log(
    `[chaos] ${c.rollouts} rollouts over ${c.windowMs / 1000} s, ${c.workers} workers, ${c.workerKills} kills scheduled, ${c.serverRestarts} server restarts, ${c.faults} faults`,
  );
  const figures = await runChaos(schedule, { tailMs: bounded ? 150_000 : 8 * 60_000, keepDir: args.includes('--keep') });
  console.log(`\n${figuresTable(figures)}`);
  if (out) {
    writeFigures(out, figures);
    console.log(`[chaos] figures written to ${out}`);
  }
  return failures(figures) ? 1 : 0;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void stopAll({ fast: true }).finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`[chaos] ${(e as Error).stack ?? String(e)}`);
    void stopAll({ fast: true }).finally(() => process.exit(2));
  },
);
