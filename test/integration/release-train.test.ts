// A release train: many rollouts started at once on one worker, as the worker process has
// it (worker/slots.ts). Each asks the fleet policy (a workflow on the same worker) before its
// first deploy, holding its workflow task while it asks; with the SDK's 40 workflow-task
// slots the policy's own tasks waited behind them and rollouts were held as "policy
// unreadable" on their way to the soak. How fast is bench M5's (docs/benchmarks.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getStatus } from '../../client/rollouts';
import { planDoc, TEST_GATE, useTestServer, withScriptedWorker } from '../support/rollout-harness';
import { pollFor } from '../support/poll';

const server = useTestServer();
const TRAIN = 100;

test(`${TRAIN} rollouts started at once all reach their soak, none held by a policy that could not answer`, { timeout: 240_000 }, async () => {
  await withScriptedWorker(server, {}, async (m) => {
    const services = Array.from({ length: TRAIN }, (_, i) => `train-${process.pid}-${i}`);
    await Promise.all(
      services.map((service) =>
        m.client.workflow.start('rolloutWorkflow', {
          taskQueue: m.taskQueue,
          workflowId: `rollout-${service}`,
          args: [
            {
              plan: planDoc({ service, defaults: { soak: '30m', checkInterval: '5s', gate: TEST_GATE } }, [
                { name: 'r1', size: 1 },
                { name: 'r2', size: 2 },
              ]),
              startedBy: 'test',
            },
          ],
        }),
      ),
    );
    const soaking = new Set<string>();
    const heldUnreadable = new Set<string>();
    await pollFor(
      `all ${TRAIN} rollouts soaking`,
      async () => {
        await Promise.all(
          services
            .filter((s) => !soaking.has(s))
            .map(async (service) => {
              const r = (await getStatus(m, service).catch(() => undefined))?.regions[0];
              if (r?.blockedBy?.some((b) => b.kind === 'unreadable')) heldUnreadable.add(service);
              if (r?.status === 'soaking') soaking.add(service);
            }),
        );
        return soaking.size;
      },
      (n) => n === TRAIN,
      { timeoutMs: 180_000, everyMs: 250 },
    );
    assert.deepEqual([...heldUnreadable], [], 'rollouts held because the policy did not answer in time');
    await Promise.all(services.map((s) => m.client.workflow.getHandle(`rollout-${s}`).terminate('test done')));
  });
});
