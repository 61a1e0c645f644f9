// History safety: when Temporal suggests continue-as-new (forced early here through the
// dev server's dynamic config), the rollout continues in a new run at a region boundary,
// carrying its whole state, and still deploys every region exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actionUpdates } from '../../domain/definitions';
import { planDoc, regionsOf, runRollout, useTestServer } from '../support/rollout-harness';
import { pollFor } from '../support/poll';

// Low enough that a run halts past it: a halted rollout makes no history of its own (its
// watches are server-retried), so only a run that reached the suggestion hands over.
const env = useTestServer({ dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 20 } });

/** Waits until the rollout's current run was started halted by continue-as-new (its input says so). */
async function untilContinuedHalted(workflowId: string): Promise<void> {
  const latest = env.client.workflow.getHandle(workflowId);
  const startedHalted = async () => {
    const payload = (await latest.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const input = payload?.data ? (JSON.parse(Buffer.from(payload.data).toString()) as { carried?: { halted?: boolean } }) : undefined;
    return input?.carried?.halted === true;
  };
  await pollFor('the halted rollout continued as new', startedHalted, (halted) => halted, { everyMs: 100 });
}

test('continue-as-new at a region boundary carries the state; every region deployed once', { timeout: 120_000 }, async () => {
  const regions = ['r1', 'r2', 'r3', 'r4'].map((name, i) => ({ name, size: i + 1, soak: '1s' }));
  const calls = await runRollout(env, planDoc({}, regions), {}, async (h) => {
    const first = (await h.handle.describe()).runId;
    await h.waitUntil((s) => s.regions[1]?.status === 'soaking');
    await h.handle.executeUpdate(actionUpdates.pause, { args: [{ reason: 'before the boundary', by: 'tester' }] });
    const held = await h.waitUntil((s) => s.regions[1]!.status === 'awaiting-resume');
    assert.equal(held.state, 'paused');
    await h.handle.executeUpdate(actionUpdates.resume, { args: [{ reason: 'go', by: 'tester' }] });
    const latest = env.client.workflow.getHandle(h.handle.workflowId);
    let s = await latest.query('status');
    const deadline = Date.now() + 60_000;
    while ((s as { state: string }).state !== 'succeeded' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      s = await latest.query('status').catch(() => s);
    }
    const d = await latest.describe();
    assert.notEqual(d.runId, first, 'the rollout continued as new at least once');
    const status = (await latest.result()) as { state: string; regions: { status: string }[]; actions: { action: string }[] };
    assert.equal(status.state, 'succeeded');
    assert.deepEqual(
      status.regions.map((r) => r.status),
      ['promoted', 'promoted', 'promoted', 'promoted'],
    );
    // Operator actions recorded before the boundary survive it.
    assert.deepEqual(
      status.actions.map((a) => a.action),
      ['pause', 'resume'],
    );
  });
  assert.deepEqual(regionsOf(calls, 'deploy'), ['r1', 'r2', 'r3', 'r4']);
  // One soak watch per region, and one more for r2 while the pause held it after its gate.
  assert.deepEqual(
    calls.filter((c) => c.kind === 'watch' && c.detail === 'soak').map((c) => c.region),
    ['r1', 'r2', 'r2', 'r3', 'r4'],
  );
  // Promoted regions are watched again by each new run, until the last region is promoted.
  const promoted = calls.filter((c) => c.kind === 'watch' && c.detail === 'promoted').map((c) => c.region!);
  assert.deepEqual([...new Set(promoted)].sort(), ['r1', 'r2', 'r3']);
  assert.ok(promoted.filter((r) => r === 'r1').length >= 2, `r1 watched by ${promoted.filter((r) => r === 'r1').length} run(s)`);
});

test('a rollout halted for long continues as new while halted, and a retry in the new run carries on', { timeout: 120_000 }, async () => {
  const regions = ['r1', 'r2', 'r3'].map((name, i) => ({ name, size: i + 1, soak: '1s' }));
  const calls = await runRollout(env, planDoc({}, regions), { gate: { r2: ['fail'] } }, async (h) => {
    const halted = await h.waitUntil((s) => s.state === 'halted');
    const latest = env.client.workflow.getHandle(h.handle.workflowId);
    // The forced suggestion (20 events) is long past: the halted run hands over to a new
    // one, which is started halted (its input says so).
    await untilContinuedHalted(h.handle.workflowId);
    const s = (await latest.query('status')) as { state: string; halt?: { region?: string; reason: string }; regions: { status: string }[] };
    assert.equal(s.state, 'halted');
    assert.equal(s.halt?.region, 'r2');
    assert.equal(s.halt?.reason, halted.halt?.reason);
    assert.deepEqual(
      s.regions.map((r) => r.status),
      ['promoted', 'rolled-back', 'pending'],
    );
    await latest.executeUpdate(actionUpdates.retry, { args: [{ reason: 'fixed', by: 'tester' }] });
    const end = (await latest.result()) as { state: string; regions: { status: string }[] };
    assert.equal(end.state, 'succeeded');
    assert.deepEqual(
      end.regions.map((r) => r.status),
      ['promoted', 'promoted', 'promoted'],
    );
  });
  assert.deepEqual(regionsOf(calls, 'deploy'), ['r1', 'r2', 'r2', 'r3']);
});

test(
  'a rollout halted past the point of no return continues as new without watching promoted regions again: nothing is rolled back after the contract',
  { timeout: 120_000 },
  async () => {
    const regions = ['r1', 'r2'].map((name, i) => ({ name, size: i + 1, soak: '1s' }));
    const migrations = [{ name: 'drop-old', phase: 'contract', apply: { run: ['m', 'drop'] }, irreversible: { reason: 'drops the old column for good' } }];
    // r1 would breach 8 s after its deploy: long after the contract step failed and the halted run handed over.
    const calls = await runRollout(
      env,
      planDoc({ migrations }, regions),
      { migrationFails: { 'drop-old:apply': 1 }, breachAfterMs: { r1: 8000 } },
      async (h) => {
        await h.waitUntil((s) => s.state === 'halted' && s.halt?.cause?.kind === 'migration-failed');
        const latest = env.client.workflow.getHandle(h.handle.workflowId);
        await untilContinuedHalted(h.handle.workflowId);
        await new Promise((r) => setTimeout(r, 9000));
        const s = (await latest.query('status')) as { state: string; regions: { status: string }[]; legalActions: string[] };
        assert.equal(s.state, 'halted');
        assert.deepEqual(
          s.regions.map((r) => r.status),
          ['promoted', 'promoted'],
        );
        assert.deepEqual(s.legalActions, ['resume', 'retry']);
        await latest.executeUpdate(actionUpdates.retry, { args: [{ reason: 'schema fixed', by: 'tester' }] });
        assert.equal(((await latest.result()) as { state: string }).state, 'succeeded');
      },
    );
    assert.deepEqual(regionsOf(calls, 'rollback'), [], 'no rollback after the contract started');
  },
);
