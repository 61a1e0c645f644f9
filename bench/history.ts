// M1: history events per region, ours beside the naive design, on the time-skipping server
// (real durations, skipped; every check of ours is a real server-retried attempt).
import { Worker } from '@temporalio/worker';
import { parseDuration } from '../domain/duration';
import { planDoc, scriptedActivities, TEST_GATE } from '../test/support/rollout-harness';
import { commandlessWorkflowTasks } from '../test/support/history-shape';
import { onOwnTimeSkipping, workflowBundle } from '../test/support/temporal';
import { naiveActivities, naiveCode, next, QUICK, regionsOf, results, table } from './support';

const HISTORY_LIMIT = 51_200;

export interface HistoryRow {
  regions: number;
  soak: string;
  interval: string;
  /** Per region, as a real server records it. */
  ours: number;
  /** Per region, as the time-skipping server recorded it (with its extra workflow tasks). */
  oursRaw: number;
  /** Per region, or a note when the server terminated the run at the history limit. */
  naive: number | string;
  naiveTotal: number;
  seconds: number;
}

async function historyEvents(regions: number, soak: string, interval: string): Promise<HistoryRow> {
  const t0 = Date.now();
  // Each design on a time-skipping server of its own: the figures must not depend on what ran before.
  const oursEvents = await onOwnTimeSkipping(async (env) => {
    const q = next('m1');
    const ours = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: q,
      workflowBundle: await workflowBundle(),
      activities: scriptedActivities({}, [], { serverClock: true }),
    });
    const doc = planDoc({ service: q, defaults: { soak, checkInterval: interval, gate: TEST_GATE } }, regionsOf(regions));
    return ours.runUntil(async () => {
      const h = await env.client.workflow.start('rolloutWorkflow', { taskQueue: q, workflowId: q, args: [{ plan: doc, startedBy: 'bench' }] });
      await h.result();
      const events = (await h.fetchHistory()).events ?? [];
      // What a real server records: the test server's command-less workflow tasks and its
      // records of the promoted watches' cancellation at the end are left out
      // (test/support/history-shape.ts).
      return { raw: events.length, real: events.length - 3 * commandlessWorkflowTasks(events) - (regions - 1) };
    });
  });
  const naiveEvents = await onOwnTimeSkipping(async (env) => {
    const nq = next('m1-naive');
    const naive = await Worker.create({ connection: env.nativeConnection, taskQueue: nq, workflowBundle: await naiveCode(), activities: naiveActivities() });
    return naive.runUntil(async () => {
      const h = await env.client.workflow.start('naiveRollout', {
        taskQueue: nq,
        workflowId: nq,
        args: [{ regions: regionsOf(regions).map((r) => r.name), soakMs: parseDuration(soak)!, intervalMs: parseDuration(interval)! }],
      });
      try {
        await h.result();
      } catch {
        // Past the hard limit the server terminates the execution.
      }
      return (await h.fetchHistory()).events?.length ?? 0;
    });
  });
  const over = naiveEvents >= HISTORY_LIMIT;
  return {
    regions,
    soak,
    interval,
    ours: oursEvents.real / regions,
    oursRaw: oursEvents.raw / regions,
    naive: over ? `terminated at ${naiveEvents} (limit ${HISTORY_LIMIT})` : naiveEvents / regions,
    naiveTotal: naiveEvents,
    seconds: (Date.now() - t0) / 1000,
  };
}

export async function m1(): Promise<void> {
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
  const t = table(['regions', 'soak', 'check', 'ours / region', 'ours, test server', 'naive / region', 'naive ÷ ours', 'run s']);
  const rows: HistoryRow[] = [];
  for (const [n, soak, interval] of matrix) {
    const r = await historyEvents(n, soak, interval);
    rows.push(r);
    t.push([
      n,
      soak,
      interval,
      r.ours.toFixed(1),
      r.oursRaw.toFixed(1),
      typeof r.naive === 'number' ? r.naive.toFixed(1) : r.naive,
      typeof r.naive === 'number' ? (r.naive / r.ours).toFixed(1) : `> ${(HISTORY_LIMIT / n / r.ours).toFixed(0)}`,
      r.seconds.toFixed(0),
    ]);
    console.log(
      `  M1 ${n} regions × ${soak} × ${interval}: ours ${r.ours.toFixed(1)}/region (${r.oursRaw.toFixed(1)} as the test server recorded it), naive ${typeof r.naive === 'number' ? r.naive.toFixed(1) : r.naive} (${r.seconds.toFixed(0)} s)`,
    );
  }
  results.m1 = rows;
  console.log('\nM1 history events per region (time-skipping server; goal: ours ≤ 25, flat in soak, interval and regions)');
  console.log(t.toString());
}
