// M4: orchestration overhead per region beyond the configured soak, ours beside the naive
// design, on the dev server with instant activities (so what remains is the orchestrator's).
import { Worker } from '@temporalio/worker';
import { planDoc, scriptedActivities, TEST_GATE, type TestServer } from '../test/support/rollout-harness';
import { workflowBundle } from '../test/support/temporal';
import { ms, naiveActivities, naiveCode, next, pct, QUICK, regionsOf, results, table } from './support';

const REGIONS = QUICK ? 2 : 3;
const SOAK_MS = 5000;

export async function m4(server: TestServer): Promise<void> {
  const runs = QUICK ? 1 : 5;
  const ours: number[] = [];
  const naive: number[] = [];
  const q = next('m4');
  const w = await Worker.create({
    connection: server.nativeConnection,
    taskQueue: q,
    workflowBundle: await workflowBundle(),
    activities: scriptedActivities({}, []),
  });
  await w.runUntil(async () => {
    for (let i = 0; i < runs; i++) {
      const doc = planDoc({ service: next('m4'), defaults: { soak: `${SOAK_MS / 1000}s`, checkInterval: '1s', gate: TEST_GATE } }, regionsOf(REGIONS));
      const t0 = performance.now();
      const status = (await server.client.workflow.execute('rolloutWorkflow', {
        taskQueue: q,
        workflowId: next('m4-ours'),
        args: [{ plan: doc, startedBy: 'bench' }],
      })) as { state: string };
      if (status.state !== 'succeeded') throw new Error(`M4 rollout ended ${status.state}`);
      ours.push((performance.now() - t0 - REGIONS * SOAK_MS) / REGIONS);
    }
  });
  const nq = next('m4-naive');
  const nw = await Worker.create({ connection: server.nativeConnection, taskQueue: nq, workflowBundle: await naiveCode(), activities: naiveActivities() });
  await nw.runUntil(async () => {
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await server.client.workflow.execute('naiveRollout', {
        taskQueue: nq,
        workflowId: next('m4-naive'),
        args: [{ regions: regionsOf(REGIONS).map((r) => r.name), soakMs: SOAK_MS, intervalMs: 1000 }],
      });
      naive.push((performance.now() - t0 - REGIONS * SOAK_MS) / REGIONS);
    }
  });
  results.m4 = { regions: REGIONS, soakMs: SOAK_MS, oursMs: ours, naiveMs: naive };
  const t = table(['', 'p50 ms / region', 'max ms / region']);
  t.push(['ours', ms(pct(ours, 50)), ms(Math.max(...ours))], ['naive', ms(pct(naive, 50)), ms(Math.max(...naive))]);
  console.log(
    `\nM4 orchestration overhead per region beyond the soak (dev server, ${REGIONS} regions × ${SOAK_MS / 1000} s soaks, instant activities, ${runs} runs each; goal: < 1000 ms)`,
  );
  console.log(t.toString());
}
