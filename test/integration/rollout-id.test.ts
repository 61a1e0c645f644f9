// A rollout started under a workflow id other than rollout-<service> (the Web UI's random
// default, a typo in CI) would bypass the per-service lock and every mrcd command. The
// worker's real activities refuse it in the workflow's first step, as an invalid plan.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createActivities } from '../../activities';
import { ACTIVITY_FAILURE } from '../../domain/failures';
import { statusQuery } from '../../domain/definitions';
import type { RolloutStatus } from '../../domain/state';
import { planDoc, TEST_GATE, useTestServer, verdictOf } from '../support/rollout-harness';

const server = useTestServer();
const QUEUE = `rollout-id-${process.pid}`;

/** Nothing answers at the plan's deployer: a rollout let through fails at its first deploy, much later. */
const plan = (service: string) => planDoc({ service, defaults: { soak: '1s', checkInterval: '500ms', gate: TEST_GATE } }, [{ name: 'small', size: 1 }]);

describe('the workflow id of a rollout', { timeout: 120_000 }, () => {
  test('a rollout started with the Temporal client under a random id ends failed as an invalid plan, naming the id it needs', async () => {
    const m = await server.serve(QUEUE, createActivities());
    const id = randomUUID();
    const handle = await m.client.workflow.start('rolloutWorkflow', {
      taskQueue: QUEUE,
      workflowId: id,
      args: [{ plan: plan('checkout'), startedBy: 'web-ui' }],
    });
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([verdictOf(handle.result()), new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 20_000)))]);
    clearTimeout(timer);
    if (!outcome) {
      const s = (await handle.query(statusQuery).catch(() => undefined)) as RolloutStatus | undefined;
      await handle.terminate('test ended');
      assert.fail(`the rollout under ${id} was not refused; it is ${s?.state}: ${s?.summary}`);
    }
    assert.equal(outcome.failureType, ACTIVITY_FAILURE.invalidPlan);
    assert.equal(outcome.status.state, 'failed');
    assert.match(
      outcome.status.summary,
      new RegExp(
        `workflow id "${id}" is not rollout-checkout: start rollouts with mrcd deploy or the client library \\(or temporal workflow start --workflow-id rollout-checkout\\), so the per-service lock and mrcd can find them`,
      ),
    );
  });

  test('under rollout-<service> the same activities let it through to its regions', async () => {
    const m = await server.serve(`${QUEUE}-ok`, createActivities());
    const handle = await m.client.workflow.start('rolloutWorkflow', {
      taskQueue: `${QUEUE}-ok`,
      workflowId: 'rollout-id-ok',
      args: [{ plan: plan('id-ok'), startedBy: 'ci' }],
    });
    try {
      const deadline = Date.now() + 20_000;
      let s: RolloutStatus | undefined;
      while (!(s && s.regions.length > 0) && Date.now() < deadline) {
        s = await handle.query(statusQuery).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(s && s.regions.length > 0, `the plan was never prepared: ${s?.summary}`);
      assert.notEqual(s.state, 'failed', s.summary);
    } finally {
      await handle.terminate('test ended');
    }
  });
});
