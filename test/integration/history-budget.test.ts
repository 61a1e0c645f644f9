// History is a budget (51,200 events per execution): a rollout's history must not grow
// with soak length, check interval or region count. Event counts are deterministic, so
// they are asserted exactly: on the dev server with short soaks, and at real lengths
// (durations skipped) on the time-skipping server. How they compare with a naive design is
// in docs/benchmarks.md (M1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { temporal } from '@temporalio/proto';
import { planDoc, runRollout, TEST_GATE, useTestServer, type RolloutServer } from '../support/rollout-harness';
import { commandlessWorkflowTasks, expectedEvents, scheduled } from '../support/history-shape';
import { onOwnTimeSkipping } from '../support/temporal';

const dev = useTestServer();

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
/** The history of a healthy rollout with real checks (one server-retried attempt per interval). */
async function history(on: RolloutServer, serverClock: boolean, regions: number, soak: string, checkInterval: string): Promise<HistoryEvent[]> {
  const doc = planDoc(
    { defaults: { soak, checkInterval, gate: TEST_GATE } },
    Array.from({ length: regions }, (_, i) => ({ name: `r${i + 1}`, size: i + 1 })),
  );
  let events: HistoryEvent[] = [];
  await runRollout(
    on,
    doc,
    {},
    async (h) => {
      const { status, failureType } = await h.finish(240_000);
      assert.equal(failureType, undefined, status?.summary);
      assert.equal(status.state, 'succeeded');
      events = (await h.handle.fetchHistory()).events ?? [];
    },
    { serverClock },
  );
  return events;
}

test('on a real server a healthy rollout makes exactly 16 events plus 17 per region, whatever its soak and check interval', { timeout: 120_000 }, async () => {
  const runs: [number, string, string][] = [
    [2, '2s', '1s'],
    [3, '2s', '1s'],
    [3, '4s', '1s'],
    [3, '4s', '2s'],
  ];
  const got: Record<string, number> = {};
  const want: Record<string, number> = {};
  for (const [n, soak, interval] of runs) {
    const key = `${n}×${soak}×${interval}`;
    got[key] = (await history(dev, false, n, soak, interval)).length;
    want[key] = expectedEvents(n);
  }
  assert.deepEqual(got, want);
});

test('real lengths (time-skipping server): the same history, flat in check interval, soak length and rollout length', { timeout: 240_000 }, async () => {
  const runs: [number, string, string][] = [
    [3, '30m', '60s'],
    [3, '30m', '15s'],
    [3, '60m', '60s'],
    [6, '30m', '60s'],
    // 16 hours of rollout: the first region is watched for 12 h after promotion, past the
    // old six-hour renewal of promoted watches that made long rollouts grow.
    [4, '4h', '60s'],
  ];
  const got: Record<string, { events: number; watches: number }> = {};
  const want: Record<string, { events: number; watches: number }> = {};
  const raw: string[] = [];
  for (const [n, soak, interval] of runs) {
    const key = `${n}×${soak}×${interval}`;
    const events = await onOwnTimeSkipping((env) => history(env, true, n, soak, interval));
    raw.push(`${key}: ${events.length}`);
    // The test server records each promoted watch's cancellation at the end (one more event
    // per promoted region) and adds command-less workflow tasks (see commandlessWorkflowTasks).
    got[key] = { events: events.length - 3 * commandlessWorkflowTasks(events) - (n - 1), watches: scheduled(events, 'checkRegion') };
    // One watch per soak and one per promoted region before the last, never renewed.
    want[key] = { events: expectedEvents(n), watches: 2 * n - 1 };
  }
  assert.deepEqual(got, want, `raw event counts: ${raw.join(', ')}`);
});
