// M2: pause acknowledged (the update returns) with many rollouts soaking, on the dev server.
import { Worker } from '@temporalio/worker';
import { actionUpdates } from '../domain/definitions';
import { planDoc, scriptedActivities, TEST_GATE, type TestServer } from '../test/support/rollout-harness';
import { workflowBundle } from '../test/support/temporal';
import { ms, next, pct, QUICK, results, sleep, table } from './support';
import { defaultWorkflowTaskSlots } from '../worker/slots';

export async function m2(server: TestServer): Promise<void> {
  const n = QUICK ? 30 : 100;
  const q = next('m2');
  const w = await Worker.create({
    // The worker process's default (worker/slots.ts): a train of rollouts must not starve the fleet policy.
    maxConcurrentWorkflowTaskExecutions: defaultWorkflowTaskSlots(),
    connection: server.nativeConnection,
    taskQueue: q,
    workflowBundle: await workflowBundle(),
    activities: scriptedActivities({}, []),
  });
  await w.runUntil(async () => {
    const handles = [];
    for (let i = 0; i < n; i++)
      handles.push(
        await server.client.workflow.start('rolloutWorkflow', {
          taskQueue: q,
          workflowId: `${q}-${i}`,
          args: [
            {
              plan: planDoc({ service: `${q}-${i}`, defaults: { soak: '30m', checkInterval: '15s', gate: TEST_GATE } }, [{ name: 'r1', size: 1 }]),
              startedBy: 'bench',
            },
          ],
        }),
      );
    // Let every rollout reach its soak.
    await sleep(5000);
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
    const t = table(['', 'p50 ms', 'p99 ms']);
    t.push(['one at a time', ms(pct(single, 50)), ms(pct(single, 99))], ['20 at once', ms(pct(burst, 50)), ms(pct(burst, 99))]);
    console.log(
      `\nM2 pause acknowledged (update returns) with ${n} rollouts soaking (dev server; goal: p99 < 250 ms; the naive baseline has no operator control)`,
    );
    console.log(t.toString());
  });
}
