// What operators send, and what the rollout keeps of it, on a real dev server: unknown
// signal names, over-long payloads, a bounded action log, acknowledgements that tell the
// state after the action, and idempotency keys per rollout run and attempt.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { actionSignals, actionUpdates } from '../../domain/definitions';
import { MAX_RECORDED_ACTIONS } from '../../domain/action-log';
import type { DeployInput, MigrationInput } from '../../domain/activity-contract';
import { assertUpdateRejected, planDoc, runRollout, useTestServer, type Call } from '../support/rollout-harness';
import { ACTIVITY_FAILURE } from '../../domain/failures';

const env = useTestServer();

const who = { reason: 'test', by: 'tester' };
const keysOf = (calls: Call[], kind: 'deploy' | 'rollback', region: string) =>
  calls.filter((c) => c.kind === kind && c.region === region).map((c) => (c.input as DeployInput).idempotencyKey);

describe('operator messages', { timeout: 300_000 }, () => {
  test('an unknown signal name is recorded as rejected, naming the signals that exist', async () => {
    await runRollout(env, planDoc({ defaults: { ...(planDoc().defaults as object), soak: '20s' } }), {}, async (h) => {
      await h.waitUntil((s) => s.regions[0]!.status === 'soaking');
      await h.handle.signal('Pause', { reason: 'typo in the UI', by: 'alice' });
      await h.handle.signal('frobnicate', 'not even an object');
      const s = await h.waitUntil((x) => x.actions.length === 2);
      assert.deepEqual(
        s.actions.map((a) => [a.action, a.by, a.via, a.accepted]),
        [
          ['Pause', 'alice', 'signal', false],
          ['frobnicate', '(unknown)', 'signal', false],
        ],
      );
      assert.match(s.actions[0]!.note!, /unknown signal "Pause": the rollout takes pause, resume, abort, approve, retry, skip-soak/);
      assert.equal(s.state, 'running', 'an unknown signal changes nothing');
    });
  });

  test('the acknowledgement of abort and retry shows the state they put the rollout in', async () => {
    await runRollout(
      env,
      planDoc({ defaults: { ...(planDoc().defaults as object), soak: '20s' } }),
      { breachAfterMs: { small: 300 }, breachOnce: true, rollbackMs: 1500 },
      async (h) => {
        await h.waitUntil((s) => s.state === 'halted');
        const retry = await h.handle.executeUpdate(actionUpdates.retry, { args: [who] });
        assert.equal(retry.state, 'running', 'retry answers with the state it starts, not "halted"');
        await h.waitUntil((s) => s.regions[0]!.status === 'soaking');
        await h.handle.executeUpdate(actionUpdates.pause, { args: [who] });
        const abort = await h.handle.executeUpdate(actionUpdates.abort, { args: [who] });
        assert.equal(abort.state, 'rolling-back', 'abort answers with rolling-back, not "paused"');
        // While it aborts (each rollback takes 1.5 s here), a refusal says so instead of claiming
        // the rollout has ended.
        await assertUpdateRejected(
          h.handle.executeUpdate(actionUpdates.resume, { args: [who] }),
          /Legal now: nothing \(the rollout is being aborted; it ends once its regions are rolled back\)/,
        );
        const { status } = await h.finish();
        assert.equal(status.state, 'aborted');
      },
    );
  });

  test('payload texts are bounded: an over-long reason is refused, what is recorded is clipped, history stays small', async () => {
    const huge = 'x'.repeat(1_000_000);
    await runRollout(env, planDoc({ defaults: { ...(planDoc().defaults as object), soak: '2s' } }, [{ name: 'small', size: 1 }]), {}, async (h) => {
      await h.waitUntil((s) => s.regions[0]!.status === 'soaking');
      await assertUpdateRejected(
        h.handle.executeUpdate(actionUpdates.pause, { args: [{ reason: 'y'.repeat(1025), by: 'bob' }] }),
        /reason: at most 1024 characters \(got 1025\)/,
      );
      await h.handle.signal(actionSignals.pause, { reason: huge, by: 'bob' });
      const s = await h.waitUntil((x) => x.actions.length === 1);
      assert.equal(s.actions[0]!.accepted, false);
      assert.match(s.actions[0]!.note!, /reason: at most 1024 characters \(got 1000000\)/);
      assert.ok(s.actions[0]!.reason.length < 1100, `recorded reason is ${s.actions[0]!.reason.length} characters`);
      assert.equal(s.state, 'running', 'the over-long pause was not applied');
      const { status } = await h.finish();
      assert.equal(status.state, 'succeeded');
      // The signal itself is in history once (1 MB); the status that ends the rollout must not carry it again.
      const size = historyToJSON(await h.handle.fetchHistory()).length;
      assert.ok(size < 1_600_000, `history is ${size} bytes`);
    });
  });

  test('the action log keeps the newest actions and counts the older ones', async () => {
    await runRollout(env, planDoc({ defaults: { ...(planDoc().defaults as object), soak: '30s' } }), {}, async (h) => {
      await h.waitUntil((s) => s.regions[0]!.status === 'soaking');
      const n = MAX_RECORDED_ACTIONS + 30;
      // approve is refused (nothing waits for approval): each one is a rejected action.
      for (let i = 0; i < n; i++) await h.handle.signal(actionSignals.approve, { reason: `try ${i}`, by: 'carol' });
      const s = await h.waitUntil((x) => (x.earlierActions?.count ?? 0) + x.actions.length === n);
      assert.equal(s.actions.length, MAX_RECORDED_ACTIONS);
      assert.equal(s.actions[0]!.reason, 'try 30', 'the oldest kept is the 31st');
      assert.equal(s.actions.at(-1)!.reason, `try ${n - 1}`);
      assert.deepEqual(
        { count: s.earlierActions!.count, accepted: s.earlierActions!.accepted, rejected: s.earlierActions!.rejected, byAction: s.earlierActions!.byAction },
        { count: 30, accepted: 0, rejected: 30, byAction: { approve: 30 } },
      );
    });
  });
});

describe('idempotency keys', { timeout: 300_000 }, () => {
  test('a key names one rollout run and attempt: Temporal retries reuse it, an operator retry and a new rollout never do', async () => {
    const keys: string[][] = [];
    const seen: DeployInput[] = [];
    let failNext = false;
    const activities = {
      async deployRegion(input: DeployInput) {
        seen.push(input);
        if (input.region === 'medium' && failNext) {
          // The first attempt dies after the deployer saw it (a timeout): Temporal retries the activity.
          failNext = false;
          throw ApplicationFailure.retryable('deployer timed out', 'DeployTimeout');
        }
        // The retry fails for good, until the operator fixed the target (the halt below).
        if (input.region === 'medium' && keys.length === 0) throw ApplicationFailure.nonRetryable('deployer refused medium', ACTIVITY_FAILURE.deployFailed);
        return { region: input.region, version: input.version, previousVersion: '1.0.0', idempotencyKey: input.idempotencyKey ?? '' };
      },
    };
    for (let run = 0; run < 2; run++) {
      seen.length = 0;
      failNext = run === 0;
      await runRollout(
        env,
        planDoc({ defaults: { ...(planDoc().defaults as object), soak: '1s' } }),
        {},
        async (h) => {
          if (run === 0) {
            await h.waitUntil((s) => s.state === 'halted');
            keys.push(seen.map((d) => d.idempotencyKey!));
            await h.handle.executeUpdate(actionUpdates.retry, { args: [who] });
          }
          const { status } = await h.finish();
          assert.equal(status.state, 'succeeded', status.summary);
        },
        { activities },
      );
      keys.push(seen.map((d) => d.idempotencyKey!));
    }
    const [halted, firstRun, secondRun] = keys as [string[], string[], string[]];
    // small, medium (attempt 1, failed retryably), medium (Temporal's retry, failed for good)
    assert.equal(halted.length, 3);
    assert.equal(halted[1], halted[2], "Temporal's retry of an activity reuses its key");
    assert.match(halted[1]!, /^rollout-test-\d+-\d+:[0-9a-f-]{36}:medium:2\.0\.0:deploy:1$/);
    // After the operator's retry: medium's second attempt, then large.
    const retried = firstRun[3]!;
    assert.match(retried, /:medium:2\.0\.0:deploy:2$/);
    assert.notEqual(retried, halted[1], "an operator's retry is a new deploy with a new key");
    assert.equal(new Set([...firstRun, ...secondRun]).size, firstRun.length - 1 + secondRun.length, 'no key is shared between the two rollouts');
  });

  test('rollbacks and migration steps get a key per attempt too', async () => {
    const migrations = [{ name: 'add-col', phase: 'expand', apply: { run: ['true'] }, revert: { run: ['true'] } }];
    const calls = await runRollout(
      env,
      planDoc({ migrations }),
      { breachAfterMs: { small: 300 }, rollbackFails: { small: 1 }, migrationFails: { 'add-col:apply': 1 } },
      async (h) => {
        await h.waitUntil(
          (s) => s.state === 'halted' && s.halt?.cause?.kind === 'migration-failed' && s.halt.cause.migration === 'add-col' && s.halt.cause.phase === 'expand',
        );
        await h.handle.executeUpdate(actionUpdates.retry, { args: [who] });
        await h.waitUntil((s) => s.state === 'rollback-failed');
        await h.handle.executeUpdate(actionUpdates.retry, { args: [who] });
        await h.waitUntil((s) => s.state === 'halted' && s.regions[0]!.status === 'rolled-back');
        await h.handle.executeUpdate(actionUpdates.abort, { args: [who] });
        await h.finish();
      },
    );
    const rollbacks = keysOf(calls, 'rollback', 'small');
    assert.equal(rollbacks.length, 2);
    assert.match(rollbacks[0]!, /:small:2\.0\.0:rollback:1$/);
    assert.match(rollbacks[1]!, /:small:2\.0\.0:rollback:2$/);
    const applies = calls.filter((c) => c.kind === 'migration' && c.detail === 'add-col:apply').map((c) => (c.input as MigrationInput).idempotencyKey);
    assert.equal(applies.length, 2);
    assert.match(applies[0]!, /:add-col:expand:apply:2\.0\.0:migration:1$/);
    assert.match(applies[1]!, /:add-col:expand:apply:2\.0\.0:migration:2$/);
  });
});
