// The rollout workflow on a real Temporal dev server, with scripted activities and soaks
// of seconds (3 s soak, 500 ms checks): every behaviour of docs/rollout-states.md.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { actionSignals, actionUpdates } from '../../domain/definitions';
import { SA_QUARANTINE } from '../../domain/search-attributes';
import { assertUpdateRejected, causeOf, planDoc, regionsOf, runRollout, useTestServer, type Harness } from '../support/rollout-harness';
import { ACTIVITY_FAILURE, ROLLOUT_FAILURE } from '../../domain/failures';
import type { HaltCause, HaltKind } from '../../domain/halt-cause';

const SOAK = 3000;
const env = useTestServer();

const who = { reason: 'test', by: 'tester' };
/** The cause of a halt the harness's scripted breach decides (a failing error-ratio check, value 0.2). */
const scriptedBreach = (kind: HaltKind, region: string): HaltCause => ({
  kind,
  region,
  check: 'error-ratio',
  verdict: 'fail',
  value: 0.2,
  comparator: '<',
  threshold: 0.01,
  detail: `fail in ${region}`,
});

describe('rollout workflow', { timeout: 600_000 }, () => {
  test('happy path: every region deployed once, in order, each after a full soak', async () => {
    const calls = await runRollout(env, planDoc(), {}, async (h) => {
      const { status, failureType } = await h.finish();
      assert.equal(failureType, undefined);
      assert.equal(status.state, 'succeeded');
      assert.deepEqual(
        status.regions.map((r) => r.status),
        ['promoted', 'promoted', 'promoted'],
      );
    });
    assert.deepEqual(regionsOf(calls, 'deploy'), ['small', 'medium', 'large']);
    assert.deepEqual(regionsOf(calls, 'rollback'), []);
    const deploys = calls.filter((c) => c.kind === 'deploy');
    // Each next region starts only after the previous region's 30-minute soak.
    for (let i = 1; i < deploys.length; i++)
      assert.ok(deploys[i]!.at - deploys[i - 1]!.at >= SOAK, `region ${i} started ${deploys[i]!.at - deploys[i - 1]!.at} ms after the previous one`);
  });

  test('a soak ends in its watch; with a worker from before that patch the watch ends without a gate and the gate activity decides', async () => {
    const regions = [
      { name: 'small', size: 1 },
      { name: 'large', size: 2 },
    ];
    const activityTypes = async (h: Harness) =>
      ((await h.handle.fetchHistory()).events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter((n): n is string => !!n);
    for (const ignoreFinalGate of [false, true]) {
      const calls = await runRollout(env, planDoc({}, regions), { ignoreFinalGate }, async (h) => {
        const { status } = await h.finish();
        assert.equal(status.state, 'succeeded');
        assert.equal(
          status.regions.every((r) => r.lastGate?.verdict === 'pass'),
          true,
        );
        const gates = (await activityTypes(h)).filter((n) => n === 'evaluateGate').length;
        assert.equal(gates, ignoreFinalGate ? 2 : 0, ignoreFinalGate ? 'the gate activity evaluates each region' : 'each soak watch evaluates its gate itself');
      });
      assert.deepEqual(regionsOf(calls, 'gate'), ['small', 'large']);
      const deploys = calls.filter((c) => c.kind === 'deploy');
      const gates = calls.filter((c) => c.kind === 'gate');
      for (let i = 0; i < 2; i++)
        assert.ok(gates[i]!.at - deploys[i]!.at >= SOAK, `gate of ${deploys[i]!.region} ${gates[i]!.at - deploys[i]!.at} ms after its deploy`);
    }
  });

  test('history does not grow with soak length', async () => {
    const lengths: number[] = [];
    for (const soak of ['2s', '8s']) {
      await runRollout(env, planDoc({ defaults: { ...(planDoc().defaults as object), soak } }), {}, async (h) => {
        const { status } = await h.finish();
        assert.equal(status.state, 'succeeded');
        const history = await h.handle.fetchHistory();
        lengths.push(history.events?.length ?? 0);
      });
    }
    assert.ok(lengths[0]! > 0);
    // 8 s soaks run 12 more checks per region than 2 s soaks (36 in all). One activity per
    // check would add at least 3 events each (>= 108); the watch adds none, so only a
    // handful of events (heartbeat-free timer and update noise) may differ.
    assert.ok(Math.abs(lengths[1]! - lengths[0]!) < 12, `events: 2s soak ${lengths[0]}, 8s soak ${lengths[1]}`);
  });

  test('breach rolls back the failing region, holds later ones, and abort rolls back the rest in reverse', async () => {
    const notifications = [{ type: 'webhook', url: 'http://127.0.0.1:9/hook', secretEnv: 'HOOK_SECRET' }];
    const calls = await runRollout(env, planDoc({ notifications }), { breachAfterMs: { medium: 1000 } }, async (h) => {
      const halted = await h.waitUntil((s) => s.state === 'halted');
      assert.equal(halted.halt?.region, 'medium');
      assert.deepEqual(causeOf(halted), { kind: 'slo-breach', region: 'medium' });
      assert.deepEqual(
        halted.regions.map((r) => r.status),
        ['promoted', 'rolled-back', 'pending'],
      );
      assert.deepEqual(halted.legalActions.sort(), ['abort', 'resume', 'retry']);
      // Halted means halted: nothing else is deployed.
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(regionsOf(h.calls, 'deploy'), ['small', 'medium']);
      await h.handle.executeUpdate(actionUpdates.abort, { args: [{ reason: 'bad build', by: 'oncall' }] });
      const { status, failureType } = await h.finish();
      assert.equal(failureType, ROLLOUT_FAILURE.aborted);
      assert.equal(status.state, 'aborted');
      assert.deepEqual(
        status.regions.map((r) => r.status),
        ['rolled-back', 'rolled-back', 'pending'],
      );
    });
    const medium = calls.find((c) => c.kind === 'deploy' && c.region === 'medium')!;
    const rollback = calls.find((c) => c.kind === 'rollback' && c.region === 'medium')!;
    // The breach came 1 s into the soak and the rollback started well before the soak would have ended.
    assert.ok(rollback.at - medium.at >= 1000 && rollback.at - medium.at < SOAK, `rollback ${rollback.at - medium.at} ms after deploy`);
    assert.deepEqual(regionsOf(calls, 'rollback'), ['medium', 'small']);
    assert.deepEqual(regionsOf(calls, 'deploy'), ['small', 'medium']);
    // The owner hears of every turn: start, the rollback, the halt, the abort.
    assert.deepEqual(
      calls.filter((c) => c.kind === 'notify').map((c) => c.detail),
      ['started', 'rollback', 'halted', 'aborted'],
    );
  });

  test('pause holds the next promotion, not the soak; resume continues', async () => {
    await runRollout(env, planDoc(), {}, async (h) => {
      await h.waitUntil((s) => s.regions[0]!.status === 'soaking');
      const res = await h.handle.executeUpdate(actionUpdates.pause, { args: [{ reason: 'look at graphs', by: 'alice' }] });
      assert.equal(res.state, 'paused');
      // The soak ends and the gate runs while paused; the promotion waits, however long.
      await h.waitUntil((x) => x.regions[0]!.status === 'awaiting-resume');
      await new Promise((r) => setTimeout(r, 2 * SOAK));
      let s = await h.status();
      assert.equal(s.state, 'paused');
      assert.equal(s.pausedBy, 'alice');
      assert.equal(s.regions[0]!.status, 'awaiting-resume');
      assert.equal(s.regions[0]!.lastGate?.verdict, 'pass');
      assert.equal(s.regions[1]!.status, 'pending');
      assert.deepEqual(regionsOf(h.calls, 'deploy'), ['small']);
      // A duplicate pause is harmless and says so.
      const again = await h.handle.executeUpdate(actionUpdates.pause, { args: [{ reason: 'double click', by: 'bob' }] });
      assert.match(again.note, /already paused/);
      await h.handle.signal(actionSignals.resume, { reason: 'graphs fine', by: 'alice' });
      s = await h.waitUntil((x) => x.regions[1]!.status === 'soaking');
      assert.equal(s.state, 'running');
      const { status } = await h.finish();
      assert.equal(status.state, 'succeeded');
      assert.deepEqual(
        status.actions.map((a) => [a.action, a.by, a.via, a.accepted]),
        [
          ['pause', 'alice', 'update', true],
          ['pause', 'bob', 'update', true],
          ['resume', 'alice', 'signal', true],
        ],
      );
    });
  });

  test('a breach while paused still rolls back', async () => {
    const calls = await runRollout(env, planDoc(), { breachAfterMs: { small: 2 * SOAK } }, async (h) => {
      await h.waitUntil((s) => s.regions[0]!.status === 'soaking');
      await h.handle.signal(actionSignals.pause, who);
      const s = await h.waitUntil((x) => x.regions[0]!.status === 'rolled-back' && x.state === 'halted');
      assert.equal(s.state, 'halted');
      assert.equal(s.regions[0]!.status, 'rolled-back');
    });
    assert.deepEqual(regionsOf(calls, 'rollback'), ['small']);
  });

  test('abort of a paused rollout rolls back and ends', async () => {
    await runRollout(env, planDoc(), {}, async (h) => {
      await h.waitUntil((s) => s.regions[1]!.status === 'soaking');
      await h.handle.signal(actionSignals.pause, who);
      await h.waitUntil((s) => s.state === 'paused');
      await h.handle.signal(actionSignals.abort, { reason: 'customer reports', by: 'oncall' });
      const { status, failureType } = await h.finish();
      assert.equal(failureType, ROLLOUT_FAILURE.aborted);
      assert.deepEqual(
        status.regions.map((r) => r.status),
        ['rolled-back', 'rolled-back', 'pending'],
      );
      assert.deepEqual(causeOf(status), { kind: 'aborted' });
      assert.deepEqual(regionsOf(h.calls, 'rollback'), ['medium', 'small']);
    });
  });

  test('retry after a halt re-runs the failed region and can succeed', async () => {
    await runRollout(env, planDoc(), { gate: { small: ['fail'] } }, async (h) => {
      const halted = await h.waitUntil((s) => s.state === 'halted');
      assert.equal(halted.regions[0]!.status, 'rolled-back');
      assert.deepEqual(causeOf(halted), { kind: 'gate-failed', region: 'small' });
      await h.handle.executeUpdate(actionUpdates.retry, { args: [{ reason: 'flaky dependency fixed', by: 'alice' }] });
      const { status } = await h.finish();
      assert.equal(status.state, 'succeeded');
      assert.equal(status.regions[0]!.attempts, 2);
      assert.deepEqual(regionsOf(h.calls, 'deploy'), ['small', 'small', 'medium', 'large']);
    });
  });

  test('illegal actions are rejected with what is legal now; bad signal payloads are recorded, not dropped', async () => {
    await runRollout(env, planDoc(), {}, async (h) => {
      await h.waitUntil((s) => s.regions[0]!.status === 'soaking');
      await assertUpdateRejected(
        h.handle.executeUpdate(actionUpdates.retry, { args: [who] }),
        /retry is not possible: only a halted rollout can retry; it is running\. Legal now: pause, abort, skip-soak/,
      );
      await assertUpdateRejected(h.handle.executeUpdate(actionUpdates.approve, { args: [who] }), /no region is waiting for approval/);
      await assertUpdateRejected(
        h.handle.executeUpdate(actionUpdates.pause, { args: [{ reason: '', by: 'x' } as never] }),
        /reason: must be a non-empty string/,
      );
      await h.handle.signal(actionSignals.pause, { why: 'no reason field' } as never);
      const s = await h.waitUntil((x) => x.actions.length === 1);
      assert.equal(s.state, 'running');
      const last = s.actions.at(-1)!;
      assert.equal(last.accepted, false);
      assert.match(last.note!, /invalid payload: reason: must be a non-empty string; by: must be a non-empty string.*unknown field why/);
      await h.handle.signal(actionSignals.abort, who);
      await h.finish();
    });
  });

  test('inconclusive evidence extends the soak up to maxSoak, then halts without promoting', async () => {
    const doc = planDoc({}, [
      { name: 'small', size: 1, soak: '3s', maxSoak: '5500ms' },
      { name: 'large', size: 2 },
    ]);
    await runRollout(
      env,
      doc,
      {
        gate: { small: Array.from({ length: 17 }, () => 'inconclusive' as const) },
      },
      async (h) => {
        const s = await h.waitUntil((x) => x.state === 'halted');
        assert.equal(s.regions[0]!.status, 'inconclusive');
        assert.deepEqual(causeOf(s), { kind: 'inconclusive', region: 'small' });
        const gates = h.calls.filter((c) => c.kind === 'gate');
        const deploy = h.calls.find((c) => c.kind === 'deploy')!;
        // One evaluation at the soak's end (3 s, or up to a second later: the dev server's retry
        // timers are that coarse), then one per check interval (500 ms) while under maxSoak (5.5 s).
        assert.ok(gates.length >= 2 && gates.length <= 6, `gate evaluations: ${gates.length}`);
        assert.ok(gates[0]!.at - deploy.at >= SOAK);
        assert.ok(gates[1]!.at - gates[0]!.at >= 500);
        assert.deepEqual(regionsOf(h.calls, 'deploy'), ['small']);
        await h.handle.signal(actionSignals.abort, who);
        const { failureType } = await h.finish();
        assert.equal(failureType, ROLLOUT_FAILURE.aborted);
      },
    );
  });

  test('a watch that runs out of evidence halts the rollout', async () => {
    await runRollout(env, planDoc(), { inconclusiveAfterMs: { small: 1000 } }, async (h) => {
      const s = await h.waitUntil((x) => x.state === 'halted');
      assert.equal(s.regions[0]!.status, 'inconclusive');
      assert.deepEqual(causeOf(s), { kind: 'inconclusive', region: 'small' });
      await h.handle.signal(actionSignals.abort, who);
      await h.finish();
    });
  });

  test('approval: required holds a passed region until approved', async () => {
    const doc = planDoc({}, [
      { name: 'small', size: 1 },
      { name: 'large', size: 2, approval: 'required' },
    ]);
    await runRollout(env, doc, {}, async (h) => {
      const s = await h.waitUntil((x) => x.regions[1]!.status === 'awaiting-approval');
      assert.ok(s.legalActions.includes('approve'));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await h.status()).regions[1]!.status, 'awaiting-approval');
      const res = await h.handle.executeUpdate(actionUpdates.approve, { args: [{ reason: 'capacity checked', by: 'lead' }] });
      assert.match(res.note, /approved large/);
      const { status } = await h.finish();
      assert.equal(status.state, 'succeeded');
      assert.equal(status.regions[1]!.approvedBy, 'lead');
    });
  });

  test('policy rollback-all rolls back every deployed region in reverse order', async () => {
    const calls = await runRollout(env, planDoc({ failurePolicy: 'rollback-all' }), { breachAfterMs: { large: 1000 } }, async (h) => {
      const { status, failureType } = await h.finish();
      assert.equal(failureType, ROLLOUT_FAILURE.rolledBack);
      assert.equal(status.state, 'rolled-back');
      assert.deepEqual(
        status.regions.map((r) => r.status),
        ['rolled-back', 'rolled-back', 'rolled-back'],
      );
    });
    assert.deepEqual(regionsOf(calls, 'rollback'), ['large', 'medium', 'small']);
  });

  test('a rollback that keeps failing halts as rollback-failed until an operator retries', async () => {
    await runRollout(env, planDoc(), { deployFails: ['small'], rollbackFails: { small: 2 } }, async (h) => {
      const s = await h.waitUntil((x) => x.state === 'rollback-failed');
      assert.equal(s.regions[0]!.status, 'rollback-failed');
      assert.deepEqual(s.legalActions.sort(), ['abort', 'resume', 'retry']);
      await h.handle.executeUpdate(actionUpdates.retry, { args: [who] });
      const s2 = await h.waitUntil((x) => x.state === 'rollback-failed' && x.actions.length === 1 && regionsOf(h.calls, 'rollback').length === 2);
      assert.equal(s2.regions[0]!.status, 'rollback-failed');
      await h.handle.executeUpdate(actionUpdates.retry, { args: [who] });
      const s3 = await h.waitUntil((x) => x.state === 'halted');
      assert.equal(s3.regions[0]!.status, 'rolled-back');
      assert.deepEqual(causeOf(s3), { kind: 'deploy-failed', region: 'small' });
      await h.handle.signal(actionSignals.abort, who);
      await h.finish();
    });
  });

  test('an invalid plan fails the workflow before anything is deployed, naming every problem', async () => {
    const calls = await runRollout(env, planDoc({ owner: { team: '' }, regions: [{ name: 'Bad Name', size: -1 }] }), {}, async (h) => {
      const { failureType, status } = await h.finish();
      assert.equal(failureType, ACTIVITY_FAILURE.invalidPlan);
      assert.equal(status.state, 'failed');
      const c = status.halt!.cause!;
      assert.equal(c.kind, 'invalid-plan');
      assert.equal(c.region, undefined);
      // The cause has no field for the problem paths: only the validator's words (detail) name them.
      for (const path of ['owner.team', 'owner.contact', 'regions[0].name', 'regions[0].size'])
        assert.ok(c.detail?.includes(path), `${path} not in: ${c.detail}`);
    });
    assert.deepEqual(regionsOf(calls, 'deploy'), []);
  });

  test('skip-soak override cuts the soak short, still gates, and is recorded', async () => {
    await runRollout(
      env,
      planDoc({}, [
        { name: 'small', size: 1 },
        { name: 'large', size: 2 },
      ]),
      {},
      async (h) => {
        await h.waitUntil((s) => s.regions[0]!.status === 'soaking');
        await h.handle.executeUpdate(actionUpdates['skip-soak'], { args: [{ reason: 'hotfix for outage', by: 'ic' }] });
        const s = await h.waitUntil((x) => x.regions[1]!.status === 'soaking');
        assert.equal(s.regions[0]!.status, 'promoted');
        const gates = h.calls.filter((c) => c.kind === 'gate' && c.region === 'small');
        assert.equal(gates.length, 1);
        assert.ok(gates[0]!.at - h.calls.find((c) => c.kind === 'deploy')!.at < SOAK);
        assert.ok(s.actions.some((a) => a.action === 'skip-soak' && a.by === 'ic' && a.reason === 'hotfix for outage'));
        await h.handle.signal(actionSignals.abort, who);
        await h.finish();
      },
    );
  });

  test('migrations: expand before the first region, contract after the last; abort reverts expand', async () => {
    const migrations = [
      { name: 'add-col', phase: 'expand', apply: { run: ['m', 'up'] }, revert: { run: ['m', 'down'] }, passEnv: ['DATABASE_URL'], timeout: '2h' },
      { name: 'drop-old', phase: 'contract', apply: { run: ['m', 'drop'] }, irreversible: { reason: 'drops data kept in archive' } },
    ];
    const ok = await runRollout(env, planDoc({ migrations }), {}, async (h) => {
      assert.equal((await h.finish()).status.state, 'succeeded');
    });
    const order = ok.filter((c) => c.kind === 'migration' || c.kind === 'deploy').map((c) => c.detail ?? c.region);
    assert.deepEqual(order, ['add-col:apply', 'small', 'medium', 'large', 'drop-old:apply']);
    // Credentials by name and the plan's timeout reach the activity.
    const expand = ok.find((c) => c.kind === 'migration' && c.detail === 'add-col:apply')!.input as { passEnv?: string[]; timeoutMs?: number };
    assert.deepEqual(expand.passEnv, ['DATABASE_URL']);
    assert.equal(expand.timeoutMs, 2 * 3_600_000);

    const aborted = await runRollout(env, planDoc({ migrations }), { breachAfterMs: { small: 1000 } }, async (h) => {
      await h.waitUntil((s) => s.state === 'halted');
      await h.handle.signal(actionSignals.abort, who);
      await h.finish();
    });
    assert.deepEqual(
      aborted.filter((c) => c.kind === 'migration').map((c) => c.detail),
      ['add-col:apply', 'add-col:revert'],
    );
  });
  test('promoted regions are watched while later regions roll out; every watch stops when the rollout ends', async () => {
    await runRollout(env, planDoc(), {}, async (h) => {
      assert.equal((await h.finish()).status.state, 'succeeded');
      const promoted = h.calls.filter((c) => c.kind === 'watch' && c.detail === 'promoted').map((c) => c.region);
      assert.deepEqual(promoted, ['small', 'medium']);
      // Every watch ended in the history: a soak's watch completed with its gate, and the
      // workflow itself asked every promoted watch to stop (a worker shutdown after the test
      // would stop leftovers too, so the history is the evidence, not the activities).
      const events = (await h.handle.fetchHistory()).events ?? [];
      const watches = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'checkRegion').map((e) => Number(e.eventId));
      const cancelled = new Set(
        events.filter((e) => e.activityTaskCancelRequestedEventAttributes).map((e) => Number(e.activityTaskCancelRequestedEventAttributes!.scheduledEventId)),
      );
      const completed = new Set(
        events.filter((e) => e.activityTaskCompletedEventAttributes).map((e) => Number(e.activityTaskCompletedEventAttributes!.scheduledEventId)),
      );
      assert.equal(watches.length, 5);
      assert.deepEqual(
        watches.filter((id) => !cancelled.has(id) && !completed.has(id)),
        [],
        'watches left running',
      );
      assert.equal(watches.filter((id) => cancelled.has(id)).length, 2, 'the promoted watches of small and medium were asked to stop');
    });
  });

  test('a late regression in a promoted region rolls back per policy (rollback-all) before the region in flight can pass', async () => {
    // small passes its 3 s gate, then breaks 4.5 s after its deploy, while medium soaks.
    const calls = await runRollout(env, planDoc({ failurePolicy: 'rollback-all' }), { breachAfterMs: { small: 4500 } }, async (h) => {
      const { status, failureType } = await h.finish();
      assert.equal(failureType, ROLLOUT_FAILURE.rolledBack);
      assert.deepEqual(causeOf(status), { kind: 'late-regression', region: 'small' });
      assert.deepEqual(
        status.regions.map((r) => r.status),
        ['rolled-back', 'rolled-back', 'pending'],
      );
      assert.ok(status.regions[0]!.regressedAt);
      assert.equal(status.quarantine?.region, 'small');
    });
    assert.deepEqual(regionsOf(calls, 'rollback'), ['medium', 'small']);
    assert.deepEqual(regionsOf(calls, 'deploy'), ['small', 'medium']);
    // medium was interrupted mid-soak: it never reached its gate.
    assert.deepEqual(
      calls.filter((c) => c.kind === 'gate').map((c) => c.region),
      ['small'],
    );
    const small = calls.find((c) => c.kind === 'deploy' && c.region === 'small')!;
    const first = calls.find((c) => c.kind === 'rollback')!;
    assert.ok(first.at - small.at >= 4500 && first.at - small.at < 4500 + 2500, `rollback ${first.at - small.at} ms after small's deploy`);
  });

  test('a late regression under policy halt rolls back the regressed and the in-flight region; retry resumes from the regressed one', async () => {
    await runRollout(env, planDoc(), { breachAfterMs: { small: 4500 } }, async (h) => {
      const s = await h.waitUntil((x) => x.state === 'halted');
      assert.equal(s.halt?.region, 'small');
      assert.deepEqual(s.halt?.cause, scriptedBreach('late-regression', 'small'));
      assert.equal(s.currentRegion, 'small', 'retry resumes at small');
      assert.deepEqual(
        s.regions.map((r) => r.status),
        ['rolled-back', 'rolled-back', 'pending'],
      );
      assert.deepEqual(regionsOf(h.calls, 'rollback'), ['medium', 'small']);
      await h.handle.executeUpdate(actionUpdates.retry, { args: [{ reason: 'dependency fixed', by: 'alice' }] });
      // The retried small is deployed again first (and, scripted to regress again, halts again).
      await h.waitUntil((x) => x.regions[0]!.attempts === 2);
      assert.equal(regionsOf(h.calls, 'deploy')[2], 'small');
      await h.handle.signal(actionSignals.abort, who);
      assert.equal((await h.finish()).failureType, ROLLOUT_FAILURE.aborted);
    });
  });

  test('a gate failure quarantines the version: status and the MrcdQuarantine search attribute say where', async () => {
    await runRollout(env, planDoc(), { gate: { medium: ['fail'] } }, async (h) => {
      const s = await h.waitUntil((x) => x.state === 'halted');
      assert.equal(s.quarantine?.region, 'medium');
      assert.deepEqual(s.halt?.cause, scriptedBreach('gate-failed', 'medium'));
      const d = await h.handle.describe();
      assert.equal(d.typedSearchAttributes.get(SA_QUARANTINE), 'medium');
      await h.handle.signal(actionSignals.abort, who);
      await h.finish();
    });
    // A deploy error is not evidence against the version: no quarantine.
    await runRollout(env, planDoc(), { deployFails: ['small'] }, async (h) => {
      const s = await h.waitUntil((x) => x.state === 'halted');
      assert.equal(s.quarantine, undefined);
      assert.equal((await h.handle.describe()).typedSearchAttributes.get(SA_QUARANTINE), undefined);
      await h.handle.signal(actionSignals.abort, who);
      await h.finish();
    });
  });

  test('a quarantined version is refused before anything deploys, unless overridden with a reason', async () => {
    const quarantined = [{ workflowId: 'rollout-checkout', runId: 'run-1', region: 'medium', closedAt: Date.UTC(2026, 10, 1), state: 'aborted' }];
    const refused = await runRollout(env, planDoc(), { quarantined }, async (h) => {
      const { status, failureType } = await h.finish();
      assert.equal(failureType, ROLLOUT_FAILURE.versionQuarantined);
      assert.equal(status.state, 'failed');
      assert.deepEqual(status.halt?.cause, { kind: 'quarantine-refused', region: 'medium', detail: 'no override given' });
      // Which rollout quarantined the version, and how to override, are in the sentence only (no cause field).
      assert.ok(status.halt!.reason.includes('rollout rollout-checkout run run-1'), status.halt!.reason);
      assert.ok(status.halt!.reason.includes('mrcd deploy --override-quarantine'), status.halt!.reason);
    });
    assert.deepEqual(regionsOf(refused, 'deploy'), []);

    const badOverride = await runRollout(
      env,
      planDoc(),
      { quarantined },
      async (h) => {
        const { status, failureType } = await h.finish();
        assert.equal(failureType, ROLLOUT_FAILURE.versionQuarantined);
        assert.deepEqual(status.halt?.cause, { kind: 'quarantine-refused', region: 'medium', detail: 'override invalid: reason: must be a non-empty string' });
      },
      { input: { overrides: { quarantine: { reason: ' ', by: 'alice' } } } },
    );
    assert.deepEqual(regionsOf(badOverride, 'deploy'), []);

    // Fail closed: when the check itself fails, nothing ships.
    const unchecked = await runRollout(env, planDoc(), { quarantineCheckFails: true }, async (h) => {
      const { status, failureType } = await h.finish();
      assert.equal(failureType, ROLLOUT_FAILURE.quarantineCheckFailed);
      assert.deepEqual(status.halt?.cause, { kind: 'quarantine-check-failed', detail: 'visibility unavailable' });
    });
    assert.deepEqual(regionsOf(unchecked, 'deploy'), []);

    const notifications = [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }];
    await runRollout(
      env,
      planDoc({ notifications }),
      { quarantined },
      async (h) => {
        const { status } = await h.finish();
        assert.equal(status.state, 'succeeded');
        const o = status.overrides?.find((x) => x.kind === 'quarantine');
        assert.equal(o?.by, 'alice');
        assert.equal(o?.reason, 'root cause was the config, fixed');
        assert.match(o!.detail!, /rollout-checkout/);
        assert.ok(h.calls.some((c) => c.kind === 'notify' && c.detail === 'override'));
      },
      { input: { overrides: { quarantine: { reason: 'root cause was the config, fixed', by: 'alice' } } } },
    );
  });
  test('a second regression while halted: retry starts from the earliest region that lost the version, and nothing succeeds half-deployed', async () => {
    const regions = ['r1', 'r2', 'r3', 'r4'].map((name, i) => ({ name, size: i + 1 }));
    // r1 regresses while r3 soaks; r2 regresses once r3 is rolled back, while halted.
    await runRollout(
      env,
      planDoc({}, regions),
      { breachWhen: { r1: { after: 'deploy', of: 'r3' }, r2: { after: 'rollback', of: 'r3' } }, breachOnce: true },
      async (h) => {
        const s = await h.waitUntil((x) => x.state === 'halted' && x.regions[1]!.status === 'rolled-back');
        assert.deepEqual(
          s.regions.map((r) => r.status),
          ['rolled-back', 'rolled-back', 'rolled-back', 'pending'],
        );
        assert.equal(s.halt?.region, 'r1');
        assert.deepEqual(causeOf(s), { kind: 'late-regression', region: 'r2' });
        assert.deepEqual(s.halt?.cause, scriptedBreach('late-regression', 'r2'));
        // Halted before by r1's regression: r1 regressed first, and retry resumes at r1.
        assert.ok(s.regions[0]!.regressedAt! < s.regions[1]!.regressedAt!, 'r1 regressed before r2');
        assert.equal(s.currentRegion, 'r1');
        assert.deepEqual(regionsOf(h.calls, 'rollback'), ['r3', 'r1', 'r2']);
        await h.handle.executeUpdate(actionUpdates.retry, { args: [{ reason: 'fixed', by: 'alice' }] });
        const { status } = await h.finish();
        assert.equal(status.state, 'succeeded');
        assert.deepEqual(
          status.regions.map((r) => r.status),
          ['promoted', 'promoted', 'promoted', 'promoted'],
        );
        assert.deepEqual(regionsOf(h.calls, 'deploy'), ['r1', 'r2', 'r3', 'r1', 'r2', 'r3', 'r4']);
        assert.ok(status.regions[0]!.regressedAt && status.regions[1]!.regressedAt, 'the regressions stay on record');
      },
    );
  });

  test('after a retry the rollout is running again: a region that needs approval can be approved', async () => {
    const doc = planDoc({}, [
      { name: 'small', size: 1 },
      { name: 'large', size: 2, approval: 'required' },
    ]);
    await runRollout(env, doc, { gate: { small: ['fail'] } }, async (h) => {
      await h.waitUntil((x) => x.state === 'halted');
      await h.handle.executeUpdate(actionUpdates.retry, { args: [who] });
      const s = await h.waitUntil((x) => x.regions[1]!.status === 'awaiting-approval');
      assert.equal(s.state, 'running');
      assert.ok(s.legalActions.includes('approve') && s.legalActions.includes('pause'));
      await h.handle.executeUpdate(actionUpdates.approve, { args: [{ reason: 'ok', by: 'lead' }] });
      assert.equal((await h.finish()).status.state, 'succeeded');
    });
  });

  test('a pause before a halt does not hold the retried region for ever', async () => {
    await runRollout(env, planDoc(), { breachAfterMs: { small: 2 * SOAK }, breachOnce: true }, async (h) => {
      await h.waitUntil((s) => s.regions[0]!.status === 'soaking');
      await h.handle.executeUpdate(actionUpdates.pause, { args: [who] });
      await h.waitUntil((s) => s.state === 'halted');
      await h.handle.executeUpdate(actionUpdates.resume, { args: [{ reason: 'retry it', by: 'oncall' }] });
      const { status } = await h.finish();
      assert.equal(status.state, 'succeeded');
      assert.equal(status.pausedBy, undefined);
    });
  });

  test('a region left running an inconclusive version and retried is rolled back when aborted before its redeploy', async () => {
    const always = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59' };
    const doc = planDoc({}, [
      { name: 'small', size: 1, soak: '1s', maxSoak: '1s', window: { timezone: 'UTC', allow: [always] } },
      { name: 'large', size: 2 },
    ]);
    const calls = await runRollout(env, doc, { gate: { small: ['inconclusive'] }, windowWaitMs: { small: [0, 3_600_000] } }, async (h) => {
      const halted = await h.waitUntil((s) => s.state === 'halted');
      assert.equal(halted.regions[0]!.status, 'inconclusive');
      await h.handle.executeUpdate(actionUpdates.retry, { args: [who] });
      const waiting = await h.waitUntil((s) => s.regions[0]!.status === 'waiting-window');
      assert.match(waiting.summary, /waiting for scripted window of small until/);
      await h.handle.executeUpdate(actionUpdates.abort, { args: [who] });
      const { status } = await h.finish();
      // small still ran 2.0.0 from its first attempt: the abort rolls it back.
      assert.equal(status.regions[0]!.status, 'rolled-back');
    });
    assert.deepEqual(regionsOf(calls, 'deploy'), ['small']);
    assert.deepEqual(regionsOf(calls, 'rollback'), ['small']);
  });

  test("after promotion only a breach is a regression: an evidence gap (from an older worker's watch) is shown, not rolled back", async () => {
    await runRollout(
      env,
      planDoc({}, [
        { name: 'small', size: 1 },
        { name: 'large', size: 2 },
      ]),
      { inconclusiveAfterMs: { small: SOAK + 2000 }, ignorePhase: true },
      async (h) => {
        const s = await h.waitUntil((x) => x.regions[0]!.watchProblem !== undefined);
        assert.equal(s.regions[0]!.status, 'promoted');
        assert.match(s.regions[0]!.watchProblem!, /no conclusive evidence after promotion/);
        const { status } = await h.finish();
        assert.equal(status.state, 'succeeded');
        assert.deepEqual(regionsOf(h.calls, 'rollback'), []);
        assert.equal(status.quarantine, undefined);
      },
    );
  });
  test('past the point of no return (contract migrations running) abort and pause are refused, and say why', async () => {
    const migrations = [{ name: 'drop-old', phase: 'contract', apply: { run: ['m', 'drop'] }, irreversible: { reason: 'drops the old column for good' } }];
    await runRollout(env, planDoc({ migrations }, [{ name: 'small', size: 1 }]), { migrationMs: 2000 }, async (h) => {
      const s = await h.waitUntil((x) => x.summary === 'running contract migrations');
      assert.deepEqual(s.legalActions, []);
      await assertUpdateRejected(h.handle.executeUpdate(actionUpdates.abort, { args: [who] }), /past the point of no return/);
      await h.handle.signal(actionSignals.pause, who);
      const { status } = await h.finish();
      assert.equal(status.state, 'succeeded');
      assert.deepEqual(
        status.actions.map((a) => [a.action, a.accepted]),
        [['pause', false]],
      );
      assert.deepEqual(regionsOf(h.calls, 'rollback'), []);
    });
  });

  test('a pause while a region waits for its window holds its deploy when the window opens', async () => {
    const always = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59' };
    const doc = planDoc({}, [
      { name: 'small', size: 1 },
      { name: 'large', size: 2, window: { timezone: 'UTC', allow: [always] } },
    ]);
    await runRollout(env, doc, { windowWaitMs: { large: [1500] } }, async (h) => {
      await h.waitUntil((s) => s.regions[1]!.status === 'waiting-window');
      await h.handle.executeUpdate(actionUpdates.pause, { args: [who] });
      await new Promise((r) => setTimeout(r, 2500));
      const s = await h.status();
      assert.equal(s.regions[1]!.status, 'awaiting-resume');
      assert.deepEqual(regionsOf(h.calls, 'deploy'), ['small']);
      await h.handle.signal(actionSignals.resume, who);
      assert.equal((await h.finish()).status.state, 'succeeded');
    });
  });

  test('a region re-run after a regression needs approval again', async () => {
    const doc = planDoc({}, [
      { name: 'small', size: 1, approval: 'required' },
      { name: 'large', size: 2 },
    ]);
    await runRollout(env, doc, { breachAfterMs: { small: 4500 }, breachOnce: true }, async (h) => {
      await h.waitUntil((s) => s.regions[0]!.status === 'awaiting-approval');
      await h.handle.executeUpdate(actionUpdates.approve, { args: [{ reason: 'first look fine', by: 'lead' }] });
      await h.waitUntil((s) => s.state === 'halted');
      await h.handle.executeUpdate(actionUpdates.retry, { args: [who] });
      const s = await h.waitUntil((x) => x.regions[0]!.attempts === 2 && x.regions[0]!.status === 'awaiting-approval', 15_000);
      assert.equal(s.regions[0]!.approvedBy, undefined);
      await h.handle.executeUpdate(actionUpdates.approve, { args: [{ reason: 'fixed, looked again', by: 'lead' }] });
      assert.equal((await h.finish()).status.state, 'succeeded');
    });
  });

  test('an approve signal naming another region than the one waiting is recorded as rejected', async () => {
    const doc = planDoc({}, [
      { name: 'small', size: 1, approval: 'required' },
      { name: 'large', size: 2, approval: 'required' },
    ]);
    await runRollout(env, doc, {}, async (h) => {
      await h.waitUntil((s) => s.regions[0]!.status === 'awaiting-approval');
      await h.handle.signal(actionSignals.approve, { reason: 'pre-approve', by: 'eager', region: 'large' });
      const s = await h.waitUntil((x) => x.actions.length === 1);
      assert.equal(s.actions[0]!.accepted, false);
      assert.match(s.actions[0]!.note!, /approve names region large, but the region waiting for approval is small/);
      assert.equal(s.regions[0]!.status, 'awaiting-approval');
      await h.handle.signal(actionSignals.abort, who);
      await h.finish();
    });
  });

  test('cancelling the workflow (Temporal UI, temporal workflow cancel) is an abort: rolled back, verdict RolloutAborted', async () => {
    const running = await runRollout(env, planDoc(), {}, async (h) => {
      await h.waitUntil((s) => s.regions[1]!.status === 'soaking');
      await h.handle.cancel();
      const { status, failureType } = await h.finish();
      assert.equal(failureType, ROLLOUT_FAILURE.aborted);
      assert.deepEqual(
        status.regions.map((r) => r.status),
        ['rolled-back', 'rolled-back', 'pending'],
      );
      assert.deepEqual(causeOf(status), { kind: 'aborted' });
    });
    assert.deepEqual(regionsOf(running, 'rollback'), ['medium', 'small']);

    // Halted with a region still running the version (inconclusive): it is rolled back too.
    const halted = await runRollout(
      env,
      planDoc({}, [
        { name: 'small', size: 1, soak: '1s', maxSoak: '1s' },
        { name: 'large', size: 2 },
      ]),
      { gate: { small: ['inconclusive'] } },
      async (h) => {
        await h.waitUntil((s) => s.state === 'halted');
        await h.handle.cancel();
        const { status, failureType } = await h.finish();
        assert.equal(failureType, ROLLOUT_FAILURE.aborted);
        assert.equal(status.regions[0]!.status, 'rolled-back');
      },
    );
    assert.deepEqual(regionsOf(halted, 'rollback'), ['small']);
  });
  test('a failing contract migration halts (nothing to roll back past that point); retry runs it again and the rollout succeeds', async () => {
    const migrations = [{ name: 'drop-old', phase: 'contract', apply: { run: ['m', 'drop'] }, irreversible: { reason: 'drops the old column for good' } }];
    await runRollout(env, planDoc({ migrations }, [{ name: 'small', size: 1 }]), { migrationFails: { 'drop-old:apply': 1 } }, async (h) => {
      const s = await h.waitUntil((x) => x.state === 'halted');
      assert.deepEqual(s.halt?.cause, {
        kind: 'migration-failed',
        region: 'small',
        migration: 'drop-old',
        phase: 'contract',
        detail: 'contract migration drop-old (apply) failed: drop-old:apply failed (1)',
      });
      assert.deepEqual(s.legalActions.sort(), ['resume', 'retry']);
      await assertUpdateRejected(h.handle.executeUpdate(actionUpdates.abort, { args: [who] }), /past the point of no return/);
      await h.handle.executeUpdate(actionUpdates.retry, { args: [{ reason: 'lock released', by: 'dba' }] });
      const { status } = await h.finish();
      assert.equal(status.state, 'succeeded');
      assert.deepEqual(
        status.migrations?.map((m) => `${m.name}:${m.phase}`),
        ['drop-old:contract'],
      );
    });
  });

  test('a failing expand migration halts before any region; abort reverts only what was applied, and a failing revert is reported', async () => {
    const migrations = [
      { name: 'add-col', phase: 'expand', apply: { run: ['m', 'up'] }, revert: { run: ['m', 'down'] } },
      { name: 'add-index', phase: 'expand', apply: { run: ['m', 'idx'] }, revert: { run: ['m', 'unidx'] } },
    ];
    const calls = await runRollout(env, planDoc({ migrations }), { migrationFails: { 'add-index:apply': 1, 'add-col:revert': 5 } }, async (h) => {
      const s = await h.waitUntil((x) => x.state === 'halted');
      const c = s.halt!.cause;
      assert.deepEqual({ kind: c?.kind, migration: c?.migration, phase: c?.phase }, { kind: 'migration-failed', migration: 'add-index', phase: 'expand' });
      assert.deepEqual(regionsOf(h.calls, 'deploy'), []);
      await h.handle.executeUpdate(actionUpdates.abort, { args: [{ reason: 'schema team says no', by: 'dba' }] });
      const { status, failureType } = await h.finish();
      assert.equal(failureType, ROLLOUT_FAILURE.aborted);
      assert.deepEqual(status.halt?.cause, { kind: 'aborted' });
      // add-col's revert failed: it stays applied.
      assert.deepEqual(
        status.migrations?.map((m) => `${m.name}:${m.phase}:${m.direction}`),
        ['add-col:expand:apply'],
      );
      // The failed revert is reported in the sentence only (the cause of an abort has no field for it).
      assert.ok(status.halt!.reason.includes('; expand migration add-col (revert) failed: '), status.halt!.reason);
      assert.ok(status.halt!.reason.endsWith(': fix the schema by hand'), status.halt!.reason);
    });
    assert.deepEqual(
      calls.filter((c) => c.kind === 'migration').map((c) => c.detail),
      ['add-col:apply', 'add-index:apply', 'add-col:revert'],
    );
  });
  test('a region held as inconclusive stays watched: a breach there rolls it back and quarantines the version', async () => {
    const doc = planDoc({}, [
      { name: 'small', size: 1, soak: '1s', maxSoak: '1s' },
      { name: 'large', size: 2 },
    ]);
    await runRollout(env, doc, { gate: { small: ['inconclusive'] }, breachAfterMs: { small: 3000 } }, async (h) => {
      const held = await h.waitUntil((s) => s.state === 'halted' && s.regions[0]!.status === 'inconclusive');
      assert.deepEqual(regionsOf(h.calls, 'rollback'), []);
      assert.ok(held.regions[0]!.deployedAt);
      const s = await h.waitUntil((x) => x.regions[0]!.status === 'rolled-back');
      assert.equal(s.state, 'halted');
      assert.deepEqual(causeOf(s), { kind: 'late-regression', region: 'small' });
      assert.equal(s.quarantine?.region, 'small');
      assert.deepEqual(regionsOf(h.calls, 'rollback'), ['small']);
      await h.handle.signal(actionSignals.abort, who);
      assert.equal((await h.finish()).failureType, ROLLOUT_FAILURE.aborted);
    });
  });
});
