// The benchmarks: `npm run bench` (full, minutes) and `npm run bench:quick` (CI, < 3 min).
// Every metric runs our rollout workflow and the naive baseline (bench/naive-workflow.ts)
// side by side on the same server in the same run where the baseline has the feature,
// and prints ours, the baseline and the ratio. Figures are printed, never judged: timing
// goals live in docs/benchmarks.md, not in assertions.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import Table from 'cli-table3';
import { findTestServer } from '../dev/temporal-binaries';
import { ensureSearchAttributes } from '../worker/search-attributes';
import { actionUpdates } from '../workflows/definitions';
import { planDoc, runRollout, scriptedActivities, startTestServer, TEST_GATE, type Call } from '../test/support/rollout-harness';
import { workflowBundle } from '../test/support/temporal';

const QUICK = process.argv.includes('--quick');
const results: Record<string, unknown> = { quick: QUICK, at: new Date().toISOString(), machine: `${require('node:os').cpus().length} cores, node ${process.version}` };
const HISTORY_LIMIT = 51_200;

let naiveBundle: Promise<WorkflowBundle> | undefined;
const naiveCode = () => (naiveBundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('./naive-workflow'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } }));

function naiveActivities(breachAfterMs?: number, calls: Call[] = []) {
  return {
    async deployRegion(i: { region: string }) {
      calls.push({ kind: 'deploy', region: i.region, at: Date.now() });
      return {};
    },
    async rollbackRegion(i: { region: string }) {
      calls.push({ kind: 'rollback', region: i.region, at: Date.now() });
      return {};
    },
    async naiveCheck(i: { region: string; since: number }) {
      return breachAfterMs !== undefined && Date.now() >= i.since + breachAfterMs ? 'breach' : 'pass';
    },
    async evaluateGate() {
      return { verdict: 'pass', checks: [], at: Date.now() };
    },
  };
}

const regionsOf = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `r${i + 1}`, size: i + 1 }));
let seq = 0;

// ---- M1: history events per region (time-skipping server: real durations, skipped) ----
async function historyEvents(client: Client, connection: NativeConnection, regions: number, soak: string, interval: string): Promise<{ ours: number; naive: number | string }> {
  const q = `m1-${++seq}`;
  const ours = await Worker.create({ connection, taskQueue: q, workflowBundle: await workflowBundle(), activities: scriptedActivities({}, []) });
  const doc = planDoc({ service: `m1-${seq}`, defaults: { soak, checkInterval: interval, gate: TEST_GATE } }, regionsOf(regions));
  const oursEvents = await ours.runUntil(async () => {
    const h = await client.workflow.start('rolloutWorkflow', { taskQueue: q, workflowId: `m1-ours-${seq}`, args: [{ plan: doc, startedBy: 'bench' }] });
    await h.result();
    return (await h.fetchHistory()).events?.length ?? 0;
  });
  const nq = `m1-naive-${seq}`;
  const naive = await Worker.create({ connection, taskQueue: nq, workflowBundle: await naiveCode(), activities: naiveActivities() });
  const ms = (d: string) => require('../plan/duration').parseDuration(d) as number;
  const naiveEvents = await naive.runUntil(async () => {
    const h = await client.workflow.start('naiveRollout', { taskQueue: nq, workflowId: `m1-naive-${seq}`, args: [{ regions: regionsOf(regions).map((r) => r.name), soakMs: ms(soak), intervalMs: ms(interval) }] });
    try {
      await h.result();
    } catch {
      // Past the hard limit the server terminates the execution.
    }
    const n = (await h.fetchHistory()).events?.length ?? 0;
    return n >= HISTORY_LIMIT ? `${n} (terminated: over ${HISTORY_LIMIT})` : n;
  });
  return { ours: oursEvents / regions, naive: typeof naiveEvents === 'number' ? naiveEvents / regions : naiveEvents };
}

async function m1(): Promise<void> {
  const server = findTestServer();
  if (!server) throw new Error('no temporal-test-server: run npm install');
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: server.path } } });
  await ensureSearchAttributes(env.connection, 'default');
  const matrix: [number, string, string][] = QUICK
    ? [
        [5, '30m', '60s'],
        [5, '30m', '15s'],
        [5, '60m', '60s'],
        [2, '60m', '15s'],
      ]
    : [
        [5, '30m', '60s'],
        [5, '30m', '15s'],
        [5, '60m', '60s'],
        [5, '60m', '15s'],
        [20, '30m', '60s'],
        [20, '60m', '60s'],
        [20, '60m', '15s'],
      ];
  const t = new Table({ head: ['regions', 'soak', 'check', 'ours / region', 'naive / region', 'naive ÷ ours'], style: { head: [], border: [] } });
  const rows = [];
  for (const [n, soak, interval] of matrix) {
    const r = await historyEvents(env.client, env.nativeConnection, n, soak, interval);
    rows.push({ regions: n, soak, interval, ...r });
    t.push([n, soak, interval, r.ours.toFixed(1), typeof r.naive === 'number' ? r.naive.toFixed(1) : r.naive, typeof r.naive === 'number' ? (r.naive / r.ours).toFixed(1) : '—']);
  }
  await env.teardown();
  results.m1 = rows;
  console.log('\nM1 history events per region (time-skipping server; goal: ours ≤ 25, flat in soak, interval and regions)');
  console.log(t.toString());
}

// ---- dev server metrics ----
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function m3(server: Awaited<ReturnType<typeof startTestServer>>): Promise<void> {
  // A breach appears 1.5 s after the deploy; checks every second; soaks of 20 s.
  const breachAfter = 1500;
  const runs = QUICK ? 3 : 10;
  const ours: number[] = [];
  for (let i = 0; i < runs; i++) {
    const calls = await runRollout(server, planDoc({ service: `m3-${i}`, defaults: { soak: '20s', checkInterval: '1s', gate: TEST_GATE } }, [{ name: 'r1', size: 1 }]), { breachAfterMs: { r1: breachAfter } }, async (h) => {
      await h.waitUntil((s) => s.state === 'halted', 60_000);
    });
    const deploy = calls.find((c) => c.kind === 'deploy')!;
    const rollback = calls.find((c) => c.kind === 'rollback')!;
    ours.push(rollback.at - (deploy.at + breachAfter));
  }
  const naive: number[] = [];
  for (let i = 0; i < runs; i++) {
    const calls: Call[] = [];
    const q = `m3-naive-${++seq}`;
    const w = await Worker.create({ connection: server.nativeConnection, taskQueue: q, workflowBundle: await naiveCode(), activities: naiveActivities(breachAfter, calls) });
    await w.runUntil(() => server.client.workflow.execute('naiveRollout', { taskQueue: q, workflowId: q, args: [{ regions: ['r1'], soakMs: 20_000, intervalMs: 1000 }] }));
    naive.push(calls.find((c) => c.kind === 'rollback')!.at - (calls.find((c) => c.kind === 'deploy')!.at + breachAfter));
  }
  results.m3 = { oursMs: ours, naiveMs: naive, intervalMs: 1000 };
  const t = new Table({ head: ['', 'p50 ms', 'max ms'], style: { head: [], border: [] } });
  t.push(['ours', pct(ours, 50), Math.max(...ours)], ['naive', pct(naive, 50), Math.max(...naive)]);
  console.log(`\nM3 SLO breach → rollback started (dev server, 1 s checks, ${runs} runs each; goal: ≤ interval + 1 s = 2000 ms)`);
  console.log(t.toString());
}

async function m2(server: Awaited<ReturnType<typeof startTestServer>>): Promise<void> {
  const n = QUICK ? 30 : 100;
  const q = `m2-${++seq}`;
  const w = await Worker.create({ connection: server.nativeConnection, taskQueue: q, workflowBundle: await workflowBundle(), activities: scriptedActivities({}, []) });
  await w.runUntil(async () => {
    const handles = [];
    for (let i = 0; i < n; i++) handles.push(await server.client.workflow.start('rolloutWorkflow', { taskQueue: q, workflowId: `m2-${seq}-${i}`, args: [{ plan: planDoc({ service: `m2-${i}`, defaults: { soak: '30m', checkInterval: '15s', gate: TEST_GATE } }, [{ name: 'r1', size: 1 }]), startedBy: 'bench' }] }));
    // Let every rollout reach its soak.
    await new Promise((r) => setTimeout(r, 5000));
    const who = { reason: 'bench', by: 'bench' };
    const single: number[] = [];
    for (const h of handles.slice(0, Math.min(50, n))) {
      const t0 = performance.now();
      await h.executeUpdate(actionUpdates.pause, { args: [who] });
      single.push(performance.now() - t0);
    }
    const burst: number[] = [];
    await Promise.all(
      handles.slice(n - 20).map(async (h) => {
        const t0 = performance.now();
        await h.executeUpdate(actionUpdates.pause, { args: [who] });
        burst.push(performance.now() - t0);
      }),
    );
    for (const h of handles) await h.terminate('bench done');
    results.m2 = { rollouts: n, singleMs: single, burstMs: burst };
    const t = new Table({ head: ['', 'p50 ms', 'p99 ms'], style: { head: [], border: [] } });
    t.push(['one at a time', pct(single, 50).toFixed(1), pct(single, 99).toFixed(1)], ['20 at once', pct(burst, 50).toFixed(1), pct(burst, 99).toFixed(1)]);
    console.log(`\nM2 pause acknowledged (update returns) with ${n} rollouts soaking (dev server; goal: p99 < 250 ms; the naive baseline has no operator control)`);
    console.log(t.toString());
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  await m1();
  const server = await startTestServer();
  try {
    await m3(server);
    await m2(server);
  } finally {
    await server.stop();
  }
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, QUICK ? 'latest-quick.json' : 'latest-full.json');
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  console.log(`\nbench ${QUICK ? 'quick' : 'full'} done in ${((Date.now() - started) / 1000).toFixed(0)} s; figures in ${file}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
