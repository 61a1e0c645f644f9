// The benchmarks: `npm run bench` (full, minutes) and `npm run bench:quick` (CI, < 3 min).
// Every metric runs our rollout workflow and the naive baseline (bench/naive-workflow.ts)
// side by side on the same server in the same run where the baseline has the feature,
// and prints ours, the baseline and the ratio. Figures are printed, never judged: timing
// goals live in docs/benchmarks.md, not in assertions. `--only m1,m4` runs a subset.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer } from '../test/support/rollout-harness';
import { m1 } from './history';
import { m2 } from './pause';
import { m3 } from './breach';
import { m4 } from './overhead';
import { m5 } from './capacity';
import { m6 } from './recovery';
import { m7 } from './cli-startup';
import { m8 } from './review';
import { m9 } from './freeze';
import { m10 } from './comparison';
import { m11 } from './cloud-actions';
import { writePlots } from './plots';
import { QUICK, results } from './support';

const ALL = ['m1', 'm3', 'm2', 'm4', 'm7', 'm5', 'm6', 'm8', 'm9', 'm10', 'm11'] as const;

function selected(): Set<string> {
  const i = process.argv.indexOf('--only');
  if (i < 0) return new Set(ALL);
  const names = (process.argv[i + 1] ?? '').split(',').filter(Boolean);
  const unknown = names.filter((n) => !(ALL as readonly string[]).includes(n));
  if (unknown.length || names.length === 0) throw new Error(`--only: ${unknown.join(', ') || 'nothing given'}: choose from ${ALL.join(', ')}`);
  return new Set(names);
}

async function main(): Promise<void> {
  const only = selected();
  const started = Date.now();
  const timings: Record<string, number> = {};
  const timed = async (name: string, fn: () => Promise<void>) => {
    if (!only.has(name)) return;
    const t = Date.now();
    await fn();
    timings[name] = (Date.now() - t) / 1000;
  };
  await timed('m1', m1);
  if (['m2', 'm3', 'm4', 'm5', 'm7', 'm8', 'm9'].some((m) => only.has(m))) {
    const server = await startTestServer();
    try {
      await timed('m3', () => m3(server));
      await timed('m2', () => m2(server));
      await timed('m4', () => m4(server));
      await timed('m7', () => m7(server));
      await timed('m5', () => m5(server));
      await timed('m9', () => m9(server));
      await timed('m8', () => m8(server));
    } finally {
      await server.stop();
    }
  }
  await timed('m6', m6);
  await timed('m10', m10);
  await timed('m11', m11);
  results.seconds = timings;
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  // A subset never overwrites the record of a whole run: `--quick --only m10` writes latest-quick-m10.json.
  const name = only.size === ALL.length ? (QUICK ? 'latest-quick' : 'latest-full') : `latest-${QUICK ? 'quick-' : ''}${[...only].join('-')}`;
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  const plots = await writePlots(results, join(dir, name));
  console.log(
    `\nbench ${QUICK ? 'quick' : 'full'} done in ${((Date.now() - started) / 1000).toFixed(0)} s (${Object.entries(timings)
      .map(([k, v]) => `${k} ${v.toFixed(0)} s`)
      .join(', ')}); figures in ${file}${plots.length ? `, plots ${plots.join(', ')}` : ''}`,
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
