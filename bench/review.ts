// M8: `mrcd review`. First without its I/O: aggregate and render 5,000 finished rollouts
// (the recorded real ones of test/fixtures/review, copied over 40 services, 8 owners and a
// quarter). Then with it, on a dev server: 10,000 finished executions whose review memo is
// the one those rollouts write (domain/review-memo.ts), read by one paged visibility query,
// and `mrcd review` over them as a user runs it. The close-event path of older rollouts
// costs one RPC per rollout, measured by test/integration/review.test.ts.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aggregate } from '../client/review/aggregate';
import { renderReview } from '../client/review';
import { collectRollouts } from '../client/review/collect';
import type { CollectedRollout } from '../client/review/types';
import { REVIEW_MEMO_KEY, reviewMemoOf } from '../domain/review-memo';
import { SA_OWNER, SA_SERVICE, SA_STATE, SA_VERSION } from '../domain/search-attributes';
import type { RolloutStatus } from '../domain/state';
import type { TestServer } from '../test/support/rollout-harness';
import { ms, next, pct, QUICK, results, table } from './support';

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

/**
 * Finished rollout executions with the memo and search attributes real rollouts write, closed
 * by Temporal (a one-second run timeout on a queue no worker polls): the read side of the
 * review at a scale no bench could run rollouts to completion for. Only rollouts without
 * overrides: one with overrides is read from its close event, whose cost is measured apart.
 */
async function seedFinished(server: TestServer, n: number): Promise<number> {
  const until = Date.now() + 60_000;
  const base = syntheticRollouts(n * 2, until).filter((c) => c.status && (c.status.overrides?.length ?? 0) === 0);
  const queue = next('m8-no-worker');
  const started = performance.now();
  let i = 0;
  const one = async () => {
    while (i < n) {
      const c = base[i % base.length]!;
      const k = i++;
      // The fixture holds full statuses as rollouts returned them (the narrow ReviewedStatus type is what the review reads).
      const status = c.status as unknown as RolloutStatus;
      await server.client.workflow.start('rolloutWorkflow', {
        taskQueue: queue,
        workflowId: `${queue}-${k}`,
        args: [{}],
        workflowRunTimeout: '1s',
        memo: { [REVIEW_MEMO_KEY]: reviewMemoOf(status) },
        typedSearchAttributes: [
          { key: SA_SERVICE, value: c.service },
          { key: SA_OWNER, value: c.owner },
          { key: SA_VERSION, value: c.version },
          { key: SA_STATE, value: status.state },
        ],
      });
    }
  };
  await Promise.all(Array.from({ length: 32 }, one));
  return performance.now() - started;
}

function mrcdReview(server: TestServer): Promise<{ ms: number; rollouts: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(__dirname, '../bin/mrcd.js'), '--address', server.address, 'review', '--since', '1h', '--format', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`mrcd review exited ${code}: ${err}`));
      resolve({ ms: performance.now() - t0, rollouts: (JSON.parse(out) as { total: { rollouts: number } }).total.rollouts });
    });
  });
}

/** M8 on a dev server: the review of 10,000 finished rollouts from visibility alone. */
async function m8FromVisibility(server: TestServer): Promise<void> {
  const n = QUICK ? 2000 : 10_000;
  const seedMs = await seedFinished(server, n);
  const m = { client: server.client, taskQueue: 'unused', close: async () => {} };
  const window = () => ({ since: Date.now() - 3_600_000, until: Date.now() + 120_000 });
  // Visibility lists an execution as closed shortly after its timeout.
  const deadline = Date.now() + 120_000;
  let listed: number;
  for (;;) {
    listed = (await collectRollouts(m, window())).filter((c) => c.workflowId.includes('m8-no-worker')).length;
    if (listed >= n) break;
    if (Date.now() > deadline) throw new Error(`M8: visibility lists ${listed} of ${n} closed executions after 2 min`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const runs = QUICK ? 2 : 5;
  const collect: number[] = [];
  const cli: number[] = [];
  let reviewed = 0;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    const got = await collectRollouts(m, window());
    collect.push(performance.now() - t);
    if (got.filter((c) => c.status).length < n) throw new Error(`M8: ${got.filter((c) => c.status).length} of ${n} read with their figures`);
    const run = await mrcdReview(server);
    cli.push(run.ms);
    reviewed = run.rollouts;
  }
  results.m8visibility = { rollouts: n, reviewed, seedMs, collectMs: collect, mrcdReviewMs: cli };
  const t = table(['', 'p50 ms', 'max ms']);
  t.push([`collect (one paged query, ${n} memos)`, ms(pct(collect, 50)), ms(Math.max(...collect))]);
  t.push([`mrcd review --format json (process start to exit, ${reviewed} rollouts)`, ms(pct(cli, 50)), ms(Math.max(...cli))]);
  console.log(
    `\nM8 mrcd review from visibility on the dev server: ${n} finished rollouts seeded with their review memos in ${(seedMs / 1000).toFixed(1)} s (${runs} runs; goal: < 2 s for 10,000)`,
  );
  console.log(t.toString());
}

export async function m8(server?: TestServer): Promise<void> {
  await m8WithoutIo();
  if (server) await m8FromVisibility(server);
}

async function m8WithoutIo(): Promise<void> {
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
