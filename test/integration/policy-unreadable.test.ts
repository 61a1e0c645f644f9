// A fleet policy that cannot be read is no permission (dev server, the rollout's own worker
// with its consult made to fail, as a policy whose workers are gone would): the deploy waits,
// blocked and saying why, nothing reaches the region, and the rollout goes on by itself once
// the policy answers again (it asks every 30 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { consultPolicy } from '../../activities/policy';
import { planDoc, regionsOf, runRollout, useTestServer } from '../support/rollout-harness';

const server = useTestServer();

test('a policy that cannot be read holds the deploy, says why, and lets it go once it answers', { timeout: 120_000 }, async () => {
  let failing = true;
  let asked = 0;
  const calls = await runRollout(
    server,
    planDoc({}, [{ name: 'small', size: 1 }]),
    {},
    async (h) => {
      const held = await h.waitUntil((s) => s.regions[0]?.status === 'blocked');
      assert.equal(held.regions[0]!.blockedBy?.[0]?.kind, 'unreadable');
      assert.match(held.regions[0]!.waitingFor ?? '', /its deploy: held by a readable fleet policy: .*policy workers unreachable/);
      assert.equal(held.hold?.kind, 'blocked');
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(h.calls.filter((c) => c.kind === 'deploy').length, 0, 'nothing deployed while the policy cannot be read');
      failing = false;
      const { status, failureType } = await h.finish(90_000);
      assert.equal(failureType, undefined, status?.summary);
      assert.equal(status.state, 'succeeded');
      assert.ok(asked >= 2, `asked again (${asked} times)`);
      assert.ok(
        status.holds?.some((x) => x.kind === 'blocked' && x.region === 'small'),
        'the hold is on the record',
      );
    },
    {
      activities: {
        consultPolicy: async (req) => {
          asked += 1;
          if (failing) throw ApplicationFailure.nonRetryable('policy workers unreachable (test)');
          return consultPolicy(req);
        },
      },
    },
  );
  assert.deepEqual(regionsOf(calls, 'deploy'), ['small']);
});
