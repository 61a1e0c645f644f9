// M9: from `mrcd freeze create` to every rollout in its scope reporting it, with many
// rollouts in flight, on the dev server. Each rollout soaks its first region, so the freeze
// holds its next promotion: the rollout's status says so (`status.policy`) from the moment
// the policy's signal reached it, which the rollout records (`receivedAt`, workflow time).
// Then the lift: how long until each has forgotten it. The naive baseline has no policy.
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { MrcdClient } from '../client/rollouts';
import { createFreeze, liftFreeze, showPolicy } from '../client/policy';
import { statusQuery } from '../domain/definitions';
import type { RolloutStatus } from '../domain/state';
import { planDoc, scriptedActivities, TEST_GATE, type TestServer } from '../test/support/rollout-harness';
import { workflowBundle } from '../test/support/temporal';
import { ms, next, pct, QUICK, results, sleep, table } from './support';
import { defaultWorkflowTaskSlots } from '../worker/slots';

export async function m9(server: TestServer): Promise<void> {
  // MRCD_M9_ROLLOUTS: how many (the goal is 200; see docs/benchmarks.md, M9, for where that stands).
  const n = Number(process.env.MRCD_M9_ROLLOUTS ?? (QUICK ? 40 : 200));
  const q = next('m9');
  const w = await Worker.create({
    // The worker process's default (worker/slots.ts): a train of rollouts must not starve the fleet policy.
    maxConcurrentWorkflowTaskExecutions: defaultWorkflowTaskSlots(),
    connection: server.nativeConnection,
    taskQueue: q,
    workflowBundle: await workflowBundle(),
    activities: scriptedActivities({}, []),
  });
  const m: MrcdClient = { client: server.client, taskQueue: q, close: async () => {} };
  await w.runUntil(async () => {
    const handles: WorkflowHandle[] = [];
    for (let i = 0; i < n; i++)
      handles.push(
        await server.client.workflow.start('rolloutWorkflow', {
          taskQueue: q,
          workflowId: `rollout-${q}-${i}`,
          args: [
            {
              plan: planDoc({ service: `${q}-${i}`, defaults: { soak: '30m', checkInterval: '15s', gate: TEST_GATE } }, [
                { name: 'r1', size: 1 },
                { name: 'r2', size: 2 },
              ]),
              startedBy: 'bench',
            },
          ],
        }),
      );
    const statuses = () => Promise.all(handles.map((h) => h.query(statusQuery)));
    // Every rollout soaking its first region, and so known to the policy (it holds a slot there).
    for (let t = Date.now(); ; await sleep(500)) {
      const s = await statuses();
      const policy = await showPolicy(m);
      if (s.every((x) => x.regions[0]?.status === 'soaking') && policy.leases.length === n) break;
      if (Date.now() - t > 120_000) throw new Error(`M9: only ${s.filter((x) => x.regions[0]?.status === 'soaking').length} of ${n} soaking after 2 min`);
    }
    const t0 = Date.now();
    const freeze = await createFreeze(m, { scope: { regions: ['r1'] }, reason: 'M9 bench', by: 'bench' });
    const acked = Date.now() - t0;
    const told = await until(statuses, (s) => s.policy?.blockers.some((b) => b.id === freeze.id) === true);
    const reported = told.map((s) => s.policy!.receivedAt! - t0);
    const t1 = Date.now();
    await liftFreeze(m, { id: freeze.id, reason: 'M9 bench done', by: 'bench' });
    const cleared = await until(statuses, (s) => s.policy === undefined);
    const forgot = Date.now() - t1;
    void cleared;
    for (const h of handles) await h.terminate('bench done');
    results.m9 = { rollouts: n, createAckMs: acked, reportedMs: reported, liftAllClearedMs: forgot };
    const t = table(['', 'p50 ms', 'p99 ms', 'max ms']);
    t.push([`freeze → each of ${n} rollouts reports it`, ms(pct(reported, 50)), ms(pct(reported, 99)), ms(Math.max(...reported))]);
    console.log(
      `\nM9 freeze created → every rollout in its scope reporting it, ${n} rollouts soaking (dev server; goal: p99 < 2 s; the naive baseline has no policy). ` +
        `The create itself answered in ${acked} ms; after the lift, every status was clear within ${forgot} ms (polled).`,
    );
    console.log(t.toString());
  });
}

/** Polls every status until each satisfies `ok`; returns them. */
async function until(read: () => Promise<RolloutStatus[]>, ok: (s: RolloutStatus) => boolean): Promise<RolloutStatus[]> {
  for (let t = Date.now(); ; await sleep(100)) {
    const s = await read();
    if (s.every(ok)) return s;
    if (Date.now() - t > 120_000) throw new Error(`M9: ${s.filter((x) => !ok(x)).length} rollouts never got there`);
  }
}
