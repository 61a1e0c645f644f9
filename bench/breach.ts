// M3: SLO breach → rollback started, ours beside the naive design, on the dev server.
import { Worker } from '@temporalio/worker';
import { planDoc, runRollout, TEST_GATE, type Call, type TestServer } from '../test/support/rollout-harness';
import { naiveActivities, naiveCode, next, pct, QUICK, results, table } from './support';

export async function m3(server: TestServer): Promise<void> {
  // A breach appears 1.5 s after the deploy; checks every second; soaks of 20 s.
  const breachAfter = 1500;
  const runs = QUICK ? 2 : 10;
  const ours: number[] = [];
  for (let i = 0; i < runs; i++) {
    const calls = await runRollout(
      server,
      planDoc({ service: next('m3'), defaults: { soak: '20s', checkInterval: '1s', gate: TEST_GATE } }, [{ name: 'r1', size: 1 }]),
      { breachAfterMs: { r1: breachAfter } },
      async (h) => {
        await h.waitUntil((s) => s.state === 'halted', 60_000);
      },
    );
    const deploy = calls.find((c) => c.kind === 'deploy')!;
    const rollback = calls.find((c) => c.kind === 'rollback')!;
    ours.push(rollback.at - (deploy.at + breachAfter));
  }
  const naive: number[] = [];
  for (let i = 0; i < runs; i++) {
    const calls: Call[] = [];
    const q = next('m3-naive');
    const w = await Worker.create({
      connection: server.nativeConnection,
      taskQueue: q,
      workflowBundle: await naiveCode(),
      activities: naiveActivities(breachAfter, calls),
    });
    await w.runUntil(() =>
      server.client.workflow.execute('naiveRollout', { taskQueue: q, workflowId: q, args: [{ regions: ['r1'], soakMs: 20_000, intervalMs: 1000 }] }),
    );
    naive.push(calls.find((c) => c.kind === 'rollback')!.at - (calls.find((c) => c.kind === 'deploy')!.at + breachAfter));
  }
  results.m3 = { oursMs: ours, naiveMs: naive, intervalMs: 1000 };
  const t = table(['', 'p50 ms', 'max ms']);
  t.push(['ours', pct(ours, 50), Math.max(...ours)], ['naive', pct(naive, 50), Math.max(...naive)]);
  console.log(`\nM3 SLO breach → rollback started (dev server, 1 s checks, ${runs} runs each; goal: ≤ interval + 1 s = 2000 ms)`);
  console.log(t.toString());
}
