// The workflow's side of the edges (issue 20 items 7 and 8) with scripted activities on a
// real dev server: a deploy window asked again at the moment of the deploy, an empty region
// name refused, a rolled-back region's watch stopped, a drifted region found before success.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { actionSignals, actionUpdates } from '../../domain/definitions';
import { assertUpdateRejected, planDoc, regionsOf, runRollout, useTestServer } from '../support/rollout-harness';

const env = useTestServer();
const who = { reason: 'test', by: 'tester' };
const always = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59' };

describe('the workflow at the edges', { timeout: 300_000 }, () => {
  test('7. a deploy window is asked again after the wait: a window that moved meanwhile is waited for again', async () => {
    const doc = planDoc({}, [
      { name: 'small', size: 1, window: { timezone: 'UTC', allow: [always] } },
      { name: 'large', size: 2 },
    ]);
    const calls = await runRollout(env, doc, { windowWaitMs: { small: [1000, 1500] } }, async (h) => {
      assert.equal((await h.finish()).status.state, 'succeeded');
    });
    const asked = calls.filter((c) => c.kind === 'window' && c.region === 'small');
    assert.equal(asked.length, 3, 'asked before each wait and once more when it opened');
    const deploy = calls.find((c) => c.kind === 'deploy' && c.region === 'small')!;
    assert.ok(deploy.at - asked[1]!.at >= 1400, `deployed ${deploy.at - asked[1]!.at} ms after the window moved 1.5 s ahead`);
  });

  test('8. approve and skip-soak naming an empty region are refused, as update and as signal', async () => {
    const doc = planDoc({}, [
      { name: 'small', size: 1, approval: 'required' },
      { name: 'large', size: 2 },
    ]);
    await runRollout(env, doc, {}, async (h) => {
      await h.waitUntil((s) => s.regions[0]!.status === 'awaiting-approval');
      await assertUpdateRejected(h.handle.executeUpdate(actionUpdates.approve, { args: [{ ...who, region: '' }] }), /region: must name a region/);
      await h.handle.signal(actionSignals.approve, { ...who, region: '' });
      const s = await h.waitUntil((x) => x.actions.some((a) => a.action === 'approve'));
      const recorded = s.actions.find((a) => a.action === 'approve')!;
      assert.equal(recorded.accepted, false);
      assert.match(recorded.note ?? '', /region: must name a region/);
      assert.equal(s.regions[0]!.status, 'awaiting-approval');
      await h.handle.executeUpdate(actionUpdates.approve, { args: [who] });
      assert.equal((await h.finish()).status.state, 'succeeded');
    });
  });

  test('8. a region rolled back after a late regression elsewhere is no longer watched: it is never rolled back twice', async () => {
    // medium halts inconclusive (watched while held); small then regresses and both are
    // rolled back; medium's old watch would report a breach later.
    const script = { inconclusiveAfterMs: { medium: 1000 }, breachAfterMs: { small: 6000, medium: 7000 }, breachOnce: true };
    const calls = await runRollout(env, planDoc(), script, async (h) => {
      await h.waitUntil((s) => s.state === 'halted' && s.halt?.cause?.kind === 'late-regression', 30_000);
      await new Promise((r) => setTimeout(r, 6000));
      const s = await h.status();
      assert.equal(s.regions[1]!.regressedAt, undefined, 'medium was not failed again by a watch of a rollback already done');
      await h.handle.executeUpdate(actionUpdates.abort, { args: [who] });
      await h.finish();
    });
    assert.deepEqual(regionsOf(calls, 'rollback').filter((r) => r === 'medium').length, 1, JSON.stringify(regionsOf(calls, 'rollback')));
  });

  test('8. a region retried after an inconclusive halt keeps the baseline of its first deploy, not its own version', async () => {
    const doc = planDoc({}, [
      { name: 'small', size: 1, maxSoak: '4s' },
      { name: 'large', size: 2 },
    ]);
    await runRollout(
      env,
      doc,
      { gate: { small: ['inconclusive', 'inconclusive', 'inconclusive', 'inconclusive'] }, redeployReportsItself: true },
      async (h) => {
        const halted = await h.waitUntil((s) => s.state === 'halted', 30_000);
        assert.equal(halted.regions[0]!.status, 'inconclusive');
        assert.equal(halted.regions[0]!.baselineVersion, '1.0.0');
        await h.handle.executeUpdate(actionUpdates.retry, { args: [who] });
        const again = await h.waitUntil((s) => s.regions[0]!.attempts === 2 && s.regions[0]!.status === 'soaking');
        assert.equal(again.regions[0]!.baselineVersion, '1.0.0', 'judged against what ran before the rollout');
        await h.handle.executeUpdate(actionUpdates.abort, { args: [who] });
        await h.finish();
      },
    );
  });

  test('2. a promoted region that reads as not running the version at the end halts the rollout; retry deploys it again', async () => {
    const doc = planDoc({}, [
      { name: 'small', size: 1 },
      { name: 'large', size: 2 },
    ]);
    const calls = await runRollout(env, doc, { drifted: ['small'] }, async (h) => {
      const halted = await h.waitUntil((s) => s.state === 'halted', 30_000);
      assert.deepEqual({ kind: halted.halt?.cause?.kind, region: halted.halt?.region }, { kind: 'not-running-version', region: 'small' });
      assert.deepEqual(
        halted.regions.map((r) => r.status),
        ['failed', 'promoted'],
      );
      await h.handle.executeUpdate(actionUpdates.abort, { args: [who] });
      assert.equal((await h.finish()).status.state, 'aborted');
    });
    assert.deepEqual(regionsOf(calls, 'deploy'), ['small', 'large']);
  });
});
