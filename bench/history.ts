// M1: history events per region, ours beside the naive design, on the time-skipping server
// (real durations, skipped; every check of ours is a real server-retried attempt).
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { findTestServer } from '../dev/temporal-binaries';
import { parseDuration } from '../plan/duration';
import { ensureSearchAttributes } from '../worker/search-attributes';
import { planDoc, scriptedActivities, TEST_GATE } from '../test/support/rollout-harness';
import { workflowBundle } from '../test/support/temporal';
import { naiveActivities, naiveCode, next, QUICK, regionsOf, results, table } from './support';

const HISTORY_LIMIT = 51_200;

export interface HistoryRow {
  regions: number;
  soak: string;
  interval: string;
  ours: number;
  /** Per region, or a note when the server terminated the run at the history limit. */
  naive: number | string;
  naiveTotal: number;
  seconds: number;
}

async function historyEvents(client: Client, connection: NativeConnection, regions: number, soak: string, interval: string): Promise<HistoryRow> {
  const t0 = Date.now();
  const q = next('m1');
  const ours = await Worker.create({ connection, taskQueue: q, workflowBundle: await workflowBundle(), activities: scriptedActivities({}, []) });
  const doc = planDoc({ service: q, defaults: { soak, checkInterval: interval, gate: TEST_GATE } }, regionsOf(regions));
  const oursEvents = await ours.runUntil(async () => {
    const h = await client.workflow.start('rolloutWorkflow', { taskQueue: q, workflowId: q, args: [{ plan: doc, startedBy: 'bench' }] });
    await h.result();
    return (await h.fetchHistory()).events?.length ?? 0;
  });
  const nq = next('m1-naive');
  const naive = await Worker.create({ connection, taskQueue: nq, workflowBundle: await naiveCode(), activities: naiveActivities() });
  const naiveEvents = await naive.runUntil(async () => {
    const h = await client.workflow.start('naiveRollout', { taskQueue: nq, workflowId: nq, args: [{ regions: regionsOf(regions).map((r) => r.name), soakMs: parseDuration(soak)!, intervalMs: parseDuration(interval)! }] });
    try {
      await h.result();
    } catch {
      // Past the hard limit the server terminates the execution.
    }
    return (await h.fetchHistory()).events?.length ?? 0;
  });
  const over = naiveEvents >= HISTORY_LIMIT;
  return { regions, soak, interval, ours: oursEvents / regions, naive: over ? `terminated at ${naiveEvents} (limit ${HISTORY_LIMIT})` : naiveEvents / regions, naiveTotal: naiveEvents, seconds: (Date.now() - t0) / 1000 };
}

export async function m1(): Promise<void> {
  const server = findTestServer();
  if (!server) throw new Error('no temporal-test-server: run npm install');
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: server.path } } });
  await ensureSearchAttributes(env.connection, 'default');
  const matrix: [number, string, string][] = QUICK
    ? [
        [3, '30m', '60s'],
        [3, '30m', '15s'],
        [3, '60m', '60s'],
        [2, '60m', '15s'],
      ]
    : [
        [5, '30m', '60s'],
        [5, '30m', '15s'],
        [5, '60m', '60s'],
        [5, '60m', '15s'],
        [20, '30m', '60s'],
        [20, '60m', '60s'],
        [20, '30m', '15s'],
        [20, '60m', '15s'],
      ];
  const t = table(['regions', 'soak', 'check', 'ours / region', 'naive / region', 'naive ÷ ours', 'run s']);
  const rows: HistoryRow[] = [];
  try {
    for (const [n, soak, interval] of matrix) {
      const r = await historyEvents(env.client, env.nativeConnection, n, soak, interval);
      rows.push(r);
      t.push([n, soak, interval, r.ours.toFixed(1), typeof r.naive === 'number' ? r.naive.toFixed(1) : r.naive, typeof r.naive === 'number' ? (r.naive / r.ours).toFixed(1) : `> ${(HISTORY_LIMIT / n / r.ours).toFixed(0)}`, r.seconds.toFixed(0)]);
      console.log(`  M1 ${n} regions × ${soak} × ${interval}: ours ${r.ours.toFixed(1)}/region, naive ${typeof r.naive === 'number' ? r.naive.toFixed(1) : r.naive} (${r.seconds.toFixed(0)} s)`);
    }
  } finally {
    await env.teardown();
  }
  results.m1 = rows;
  console.log('\nM1 history events per region (time-skipping server; goal: ours ≤ 25, flat in soak, interval and regions)');
  console.log(t.toString());
}
