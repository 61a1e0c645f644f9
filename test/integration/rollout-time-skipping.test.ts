// Real-length rollouts (30-minute soaks, hour-long waits) on the time-skipping test
// server. A running activity stops its clock, so the scripted check here answers at once
// (`instantWatch`) and asks the server for its next attempt at the first check time that
// will see something new (the script's breach, or the watch's horizon) instead of every
// interval: the server skips to it. Breach timing within one check interval is tested on
// the dev server (rollout-workflow.test.ts); here the durations are the real ones.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nextDeployWindow } from '../../activities/windows';
import { actionSignals, actionUpdates } from '../../domain/definitions';
import { planDoc, regionsOf, runRollout, TEST_GATE, type Harness, type RunOptions, type Script } from '../support/rollout-harness';
import { useTimeSkipping } from '../support/temporal';
import { ROLLOUT_FAILURE } from '../../domain/failures';

const MIN = 60_000;
const HOUR = 60 * MIN;
const who = { reason: 'test', by: 'tester' };

const env = useTimeSkipping();

/** Real-length defaults: 30-minute soaks, a check a minute, maxSoak 1 h. */
const realLength = (overrides: Record<string, unknown> = {}, regions?: Record<string, unknown>[]) =>
  planDoc({ defaults: { soak: '30m', checkInterval: '1m', gate: TEST_GATE }, ...overrides }, regions);

/** A rollout on the time-skipping server: checks answer at once and ask for the next one that sees something new. */
const run = (doc: unknown, script: Script, body: (r: Harness) => Promise<void>, opts: RunOptions = {}) =>
  runRollout(env, doc, script, body, { instantWatch: true, ...opts });

describe('rollout workflow, real-length durations (time-skipping server)', { timeout: 300_000 }, () => {
  test('30-minute soaks: each region is gated only after its full soak, then the next one starts', async () => {
    const started = Date.now();
    const calls = await run(realLength(), {}, async (r) => {
      const { status, failureType } = await r.finish();
      assert.equal(failureType, undefined, status?.summary);
      assert.equal(status.state, 'succeeded');
    });
    const deploys = calls.filter((c) => c.kind === 'deploy');
    const gates = calls.filter((c) => c.kind === 'gate');
    assert.deepEqual(regionsOf(calls, 'deploy'), ['small', 'medium', 'large']);
    for (let i = 0; i < 3; i++) {
      const soaked = gates[i]!.at - deploys[i]!.at;
      assert.ok(soaked >= 30 * MIN && soaked < 31 * MIN, `${deploys[i]!.region} gated after ${soaked / MIN} min`);
    }
    // 1.5 hours of rollout took seconds of test time.
    assert.ok(Date.now() - started < 60_000);
  });

  test('too little evidence extends a 30-minute soak up to its 1-hour maxSoak, then halts', async () => {
    const inconclusive = Array.from({ length: 200 }, () => 'inconclusive' as const);
    const doc = realLength({}, [
      { name: 'small', size: 1 },
      { name: 'large', size: 2 },
    ]);
    await run(doc, { gate: { small: inconclusive } }, async (r) => {
      // Not finish(): with nothing but an operator to wait for, the test server would skip
      // straight to the workflow's timeout. Time moves exactly as far as the test says.
      await env.sleep('65m');
      const s = await r.waitUntil((x) => x.state === 'halted' || x.state === 'failed');
      assert.equal(s.state, 'halted');
      assert.equal(s.regions[0]!.status, 'inconclusive');
      assert.deepEqual(s.halt?.cause, {
        kind: 'inconclusive',
        region: 'small',
        check: 'error-ratio',
        verdict: 'inconclusive',
        comparator: '<',
        threshold: 0.01,
        detail: 'inconclusive in small',
      });
      const gates = r.calls.filter((c) => c.kind === 'gate');
      const deploy = r.calls.find((c) => c.kind === 'deploy')!;
      assert.ok(gates[0]!.at - deploy.at >= 30 * MIN);
      assert.ok(gates.at(-1)!.at - deploy.at <= HOUR, `last gate ${(gates.at(-1)!.at - deploy.at) / MIN} min after deploy`);
      // One evaluation at 30 min, then one a minute until the hour: about 30.
      assert.ok(gates.length >= 29 && gates.length <= 31, `gate evaluations: ${gates.length}`);
      assert.deepEqual(regionsOf(r.calls, 'deploy'), ['small']);
      await r.handle.signal(actionSignals.abort, who);
      assert.equal((await r.finish()).failureType, ROLLOUT_FAILURE.aborted);
    });
  });

  test('a region outside its deploy window waits durably until the window, with the look-ahead for its soak', async () => {
    // Both regions may only run 09:00-17:00 UTC on weekdays; the soak must end inside.
    const window = { timezone: 'UTC', allow: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }] };
    const doc = realLength({}, [
      { name: 'small', size: 1, window },
      { name: 'large', size: 2, window, soak: '2h' },
    ]);
    const calls = await run(
      doc,
      {},
      async (r) => {
        const { status, failureType } = await r.finish();
        assert.equal(failureType, undefined, status?.summary);
        assert.equal(status.state, 'succeeded');
      },
      { activities: { nextDeployWindow } },
    );
    for (const d of calls.filter((c) => c.kind === 'deploy')) {
      const at = new Date(d.at);
      const minutes = at.getUTCHours() * 60 + at.getUTCMinutes();
      const soak = d.region === 'large' ? 120 : 30;
      assert.ok(at.getUTCDay() >= 1 && at.getUTCDay() <= 5, `${d.region} deployed on day ${at.getUTCDay()}`);
      assert.ok(minutes >= 9 * 60 && minutes + soak <= 17 * 60, `${d.region} deployed at ${at.toISOString()}, soak ${soak} min`);
    }
  });

  test('an operator can abort a rollout waiting for its deploy window; nothing was deployed', async () => {
    // A window that is never open now: a blackout today and a window on another day.
    const today = new Date();
    const day = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][(today.getUTCDay() + 3) % 7];
    const window = { timezone: 'UTC', allow: [{ days: [day], start: '10:00', end: '12:00' }], blackout: [today.toISOString().slice(0, 10)] };
    const calls = await run(
      realLength({}, [{ name: 'small', size: 1, window }]),
      {},
      async (r) => {
        const s = await r.waitUntil((x) => x.regions[0]!.status === 'waiting-window');
        assert.ok(s.regions[0]!.waitingUntil! > Date.now() + HOUR, 'waits until a later day');
        assert.match(s.regions[0]!.waitingFor!, /window|outside|blackout/i);
        assert.match(s.summary, new RegExp(`waiting for .* until ${new Date(s.regions[0]!.waitingUntil!).toISOString().slice(0, 16)}`));
        assert.ok(s.legalActions.includes('abort'));
        await r.handle.executeUpdate(actionUpdates.abort, { args: [{ reason: 'release cancelled', by: 'lead' }] });
        const { status, failureType } = await r.finish();
        assert.equal(failureType, ROLLOUT_FAILURE.aborted);
        assert.equal(status.regions[0]!.status, 'pending');
      },
      { activities: { nextDeployWindow } },
    );
    assert.deepEqual(regionsOf(calls, 'deploy'), []);
    assert.deepEqual(regionsOf(calls, 'rollback'), []);
  });

  test('approval holds a passed region for a day; the promoted region stays watched by one watch, not renewed', async () => {
    const doc = realLength({}, [
      { name: 'small', size: 1 },
      { name: 'large', size: 2, approval: 'required' },
    ]);
    await run(doc, {}, async (r) => {
      // No pending result() here: promoted watches retry checks for ever, so time moves
      // only as far as the test says.
      await env.sleep('70m');
      await r.waitUntil((x) => x.regions[1]!.status === 'awaiting-approval');
      await env.sleep('24h');
      const s = await r.status();
      assert.equal(s.regions[1]!.status, 'awaiting-approval');
      // small's watch is one activity whose checks the server retries; it lasts a week, so it
      // was neither renewed (every 6 hours before the week-long-promoted-watches patch) nor
      // scheduled per check (1,440 checks a day).
      const promotedWatches = r.calls.filter((c) => c.kind === 'watch' && c.region === 'small' && c.detail === 'promoted');
      assert.equal(promotedWatches.length, 1, `promoted watches of small: ${promotedWatches.length}`);
      await r.handle.executeUpdate(actionUpdates.approve, { args: [{ reason: 'capacity ok', by: 'lead' }] });
      const { status } = await r.finish();
      assert.equal(status.state, 'succeeded');
    });
  });

  test('a promoted region that regresses later halts the rollout and rolls back it and the region in flight', async () => {
    const doc = realLength({}, [
      { name: 'small', size: 1 },
      { name: 'large', size: 2, soak: '8h', maxSoak: '10h' },
    ]);
    // small passes its 30-minute gate and regresses 45 minutes after its deploy.
    const calls = await run(doc, { breachAfterMs: { small: 45 * MIN } }, async (r) => {
      await env.sleep('7h');
      const s = await r.waitUntil((x) => x.state === 'halted');
      assert.deepEqual(s.halt?.cause, {
        kind: 'late-regression',
        region: 'small',
        check: 'error-ratio',
        verdict: 'fail',
        value: 0.2,
        comparator: '<',
        threshold: 0.01,
        detail: 'fail in small',
      });
      assert.equal(s.currentRegion, 'small');
      assert.deepEqual(
        s.regions.map((x) => x.status),
        ['rolled-back', 'rolled-back'],
      );
      assert.ok(s.regions[0]!.regressedAt);
      assert.equal(s.quarantine?.region, 'small');
      await r.handle.signal(actionSignals.abort, who);
      assert.equal((await r.finish()).failureType, ROLLOUT_FAILURE.aborted);
    });
    assert.deepEqual(regionsOf(calls, 'rollback'), ['large', 'small']);
    const smallDeploy = calls.find((c) => c.kind === 'deploy' && c.region === 'small')!;
    const largeRollback = calls.find((c) => c.kind === 'rollback' && c.region === 'large')!;
    // The first check (one a minute) after the regression at 45 min sees it; large's 8-hour
    // soak is cut short.
    assert.ok(
      largeRollback.at - smallDeploy.at >= 45 * MIN && largeRollback.at - smallDeploy.at < 47 * MIN,
      `${(largeRollback.at - smallDeploy.at) / MIN} min`,
    );
  });
  test('pause holds the promotion for 2 hours while the 30-minute soak runs on; resume continues', async () => {
    await run(realLength(), {}, async (r) => {
      await env.sleep('10m');
      await r.handle.executeUpdate(actionUpdates.pause, { args: [{ reason: 'incident elsewhere', by: 'ic' }] });
      await env.sleep('2h');
      const s = await r.status();
      assert.equal(s.state, 'paused', JSON.stringify({ halt: s.halt, calls: r.calls.map((c) => [c.kind, c.region, c.detail, c.at]) }));
      // The soak ended and the gate passed at 30 min; only the promotion waits.
      assert.equal(s.regions[0]!.status, 'awaiting-resume');
      assert.equal(s.regions[0]!.lastGate?.verdict, 'pass');
      assert.deepEqual(regionsOf(r.calls, 'deploy'), ['small']);
      await r.handle.signal(actionSignals.resume, { reason: 'incident over', by: 'ic' });
      const { status } = await r.finish();
      assert.equal(status.state, 'succeeded');
      const deploys = r.calls.filter((c) => c.kind === 'deploy');
      // The clock ran from the start, a moment before small's deploy: 2 h 10 min less a little.
      assert.ok(deploys[1]!.at - deploys[0]!.at >= 2 * HOUR + 9 * MIN, `medium deployed ${(deploys[1]!.at - deploys[0]!.at) / MIN} min after small`);
    });
  });

  test('skip-soak ends a 30-minute soak after 5 minutes, still gates, and is listed as an override', async () => {
    await run(
      realLength({}, [
        { name: 'small', size: 1 },
        { name: 'large', size: 2 },
      ]),
      {},
      async (r) => {
        await env.sleep('5m');
        await r.handle.executeUpdate(actionUpdates['skip-soak'], { args: [{ reason: 'fix for the outage', by: 'ic' }] });
        const { status } = await r.finish();
        assert.equal(status.state, 'succeeded');
        const deploy = r.calls.find((c) => c.kind === 'deploy')!;
        const gate = r.calls.find((c) => c.kind === 'gate')!;
        // The test's 5 minutes started a moment before the deploy.
        assert.ok(gate.at - deploy.at >= 4.5 * MIN && gate.at - deploy.at < 6 * MIN, `gated after ${(gate.at - deploy.at) / MIN} min`);
        assert.deepEqual(
          status.overrides?.map((o) => [o.kind, o.by, o.region]),
          [['skip-soak', 'ic', 'small']],
        );
      },
    );
  });

  test('a gate failing after a 30-minute soak under rollback-all rolls back every region in reverse and reverts expand', async () => {
    const migrations = [{ name: 'add-col', phase: 'expand', apply: { run: ['m', 'up'] }, revert: { run: ['m', 'down'] } }];
    const calls = await run(realLength({ failurePolicy: 'rollback-all', migrations }), { gate: { large: ['fail'] } }, async (r) => {
      const { status, failureType } = await r.finish();
      assert.equal(failureType, ROLLOUT_FAILURE.rolledBack);
      assert.deepEqual(
        status.regions.map((x) => x.status),
        ['rolled-back', 'rolled-back', 'rolled-back'],
      );
      assert.equal(status.quarantine?.region, 'large');
    });
    assert.deepEqual(regionsOf(calls, 'rollback'), ['large', 'medium', 'small']);
    assert.deepEqual(
      calls.filter((c) => c.kind === 'migration').map((c) => c.detail),
      ['add-col:apply', 'add-col:revert'],
    );
    const largeDeploy = calls.find((c) => c.kind === 'deploy' && c.region === 'large')!;
    const firstRollback = calls.find((c) => c.kind === 'rollback')!;
    assert.ok(firstRollback.at - largeDeploy.at >= 30 * MIN);
  });
});
