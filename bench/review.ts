// M8: `mrcd review` without its I/O: aggregate and render 5,000 finished rollouts (the
// recorded real ones of test/fixtures/review, copied over 40 services, 8 owners and a
// quarter). Collecting is one visibility query plus one close event per rollout; its cost
// per rollout is measured against a dev server by test/integration/review.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aggregate } from '../client/review/aggregate';
import { renderReview } from '../client/review';
import type { CollectedRollout } from '../client/review/types';
import { ms, QUICK, results, table } from './support';

const DAY = 86_400_000;

/** `n` rollouts made from the recorded ones, spread over 40 services, 8 owners and 90 days. */
export function syntheticRollouts(n: number, until: number): CollectedRollout[] {
  const recorded = (JSON.parse(readFileSync(join(__dirname, '../test/fixtures/review/rollouts.json'), 'utf8')) as { rollouts: CollectedRollout[] }).rollouts;
  return Array.from({ length: n }, (_, i) => {
    const base = recorded[i % recorded.length]!;
    const closedAt = until - Math.floor(((i * 7919) % n) * ((90 * DAY) / n)) - 1;
    const shift = closedAt - base.closedAt;
    const service = `svc-${i % 40}`;
    const owner = `team-${i % 8}`;
    // Every time in the status moves with the close time (a deep copy each).
    const status =
      base.status &&
      (JSON.parse(JSON.stringify(base.status), (k, v: unknown) =>
        typeof v === 'number' && /At$|^at$|^from$|^until$/.test(k) ? v + shift : v,
      ) as CollectedRollout['status']);
    if (status) {
      status.service = service;
      status.owner = { ...status.owner, team: owner };
    }
    return {
      ...base,
      workflowId: `rollout-${service}`,
      runId: `run-${i}`,
      service,
      owner,
      closedAt,
      runStartedAt: base.runStartedAt + shift,
      ...(status ? { status } : {}),
    };
  });
}

export async function m8(): Promise<void> {
  const n = 5000;
  const until = Date.now();
  const rollouts = syntheticRollouts(n, until);
  const runs = QUICK ? 2 : 5;
  const figures: Record<string, number[]> = { aggregate: [], md: [], json: [], html: [] };
  for (let i = 0; i < runs; i++) {
    let at = performance.now();
    const report = aggregate(rollouts, { since: until - 90 * DAY, until: until + 1, staleAfterMs: 3_600_000 });
    figures.aggregate!.push(performance.now() - at);
    if (report.total.rollouts !== n) throw new Error(`M8: ${report.total.rollouts} of ${n} rollouts in the window`);
    for (const format of ['md', 'json', 'html'] as const) {
      at = performance.now();
      await renderReview(report, format);
      figures[format]!.push(performance.now() - at);
    }
  }
  results.m8 = { rollouts: n, ...Object.fromEntries(Object.entries(figures).map(([k, v]) => [`${k}Ms`, v])) };
  const t = table(['', 'first ms', 'best ms']);
  for (const [k, v] of Object.entries(figures)) t.push([k, ms(v[0]!), ms(Math.min(...v))]);
  console.log(`\nM8 mrcd review of ${n} finished rollouts without I/O (${runs} runs; html includes vega's three charts, the first run loads vega)`);
  console.log(t.toString());
}

if (require.main === module) void m8();
