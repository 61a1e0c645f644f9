// The one-step start (activities/prepare-rollout.ts): an invalid plan fails for good; a
// quarantine lookup that fails is retried by the local activity's policy until its last
// attempt, which answers with the failure so the workflow decides (fail closed or override).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { preparePlan } from '../../activities/plan';
import { prepareRolloutWith } from '../../activities/prepare-rollout';
import type { PreparedRollout } from '../../domain/activity-contract';
import { planDoc } from '../support/rollout-harness';

const records = [{ workflowId: 'rollout-checkout', runId: 'r-1', region: 'small' }];
const input = (plan: unknown = planDoc()) => ({ plan, runId: 'run-now', lastAttempt: 5 });
const failing = (e: Error) => prepareRolloutWith({ preparePlan, checkQuarantine: () => Promise.reject(e) });

test('the plan normalized and the records of its version, asked without counting this run', async () => {
  let asked: unknown;
  const step = prepareRolloutWith({
    preparePlan,
    checkQuarantine: async (q) => {
      asked = q;
      return records;
    },
  });
  const out: PreparedRollout = await new MockActivityEnvironment({ attempt: 1 }).run(step, input());
  assert.equal(out.plan.service, 'checkout');
  assert.ok(out.plan.regions.length > 0);
  assert.deepEqual(out.quarantine, { records });
  assert.deepEqual(asked, { service: 'checkout', version: out.plan.version, runId: 'run-now' });
});

test('an invalid plan fails for good, before any lookup', async () => {
  let looked = false;
  const step = prepareRolloutWith({
    preparePlan,
    checkQuarantine: async () => {
      looked = true;
      return [];
    },
  });
  await assert.rejects(
    new MockActivityEnvironment({ attempt: 1 }).run(step, input({ service: 'checkout' })),
    (e: unknown) => e instanceof ApplicationFailure && e.nonRetryable && /problem\(s\)/.test(e.message),
  );
  assert.equal(looked, false);
});

test('a lookup that fails is retried until the last attempt, which answers with why', async () => {
  const e = new Error('visibility unavailable');
  for (const attempt of [1, 2, 4])
    await assert.rejects(new MockActivityEnvironment({ attempt }).run(failing(e), input()), /visibility unavailable/, `attempt ${attempt}`);
  const last: PreparedRollout = await new MockActivityEnvironment({ attempt: 5 }).run(failing(e), input());
  assert.equal(last.plan.service, 'checkout', 'the plan comes back with it: an override needs it');
  assert.deepEqual(last.quarantine, { error: 'visibility unavailable' });
});

test('a lookup that cannot succeed answers at once', async () => {
  const out: PreparedRollout = await new MockActivityEnvironment({ attempt: 1 }).run(failing(ApplicationFailure.nonRetryable('no such namespace')), input());
  assert.deepEqual(out.quarantine, { error: 'no such namespace' });
});
