// History is a budget (51,200 events per execution): a rollout's history must not grow
// with soak length, check interval or region count. Event counts are deterministic on the
// time-skipping server (real durations, skipped), so they are asserted here; what they
// are today and how they compare with a naive design is in docs/benchmarks.md (M1).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { findTestServer } from '../../dev/temporal-binaries';
import { ensureSearchAttributes } from '../../worker/search-attributes';
import { planDoc, scriptedActivities, TEST_GATE } from '../support/rollout-harness';
import { workflowBundle } from '../support/temporal';

/** Events per region today are 32–37 (docs/benchmarks.md, M1); this bound catches growth, not noise. */
const MAX_EVENTS_PER_REGION = 45;
/** Runs differ by a few events per region (a check in flight at cancel, task batching). */
const NOISE_PER_REGION = 6;

let env: TestWorkflowEnvironment;
before(async () => {
  const server = findTestServer();
  if (!server) throw new Error('no temporal-test-server: run `npm install`');
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: server.path } } });
  await ensureSearchAttributes(env.connection, 'default');
});
after(async () => {
  await env?.teardown();
});

let seq = 0;
/** Watches scheduled, by region, in a history: each is one activity however many checks it runs. */
const watchesPerRun: Record<string, number> = {};
/** History events of a healthy rollout with real checks (one server-retried attempt per interval). */
async function events(regions: number, soak: string, checkInterval: string): Promise<number> {
  const taskQueue = `budget-${++seq}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities: scriptedActivities({}, []) });
  return worker.runUntil(async () => {
    const doc = planDoc({ defaults: { soak, checkInterval, gate: TEST_GATE } }, Array.from({ length: regions }, (_, i) => ({ name: `r${i + 1}`, size: i + 1 })));
    const h = await env.client.workflow.start('rolloutWorkflow', { taskQueue, workflowId: `budget-${seq}`, args: [{ plan: doc, startedBy: 'test' }] });
    const status = (await h.result()) as { state: string };
    assert.equal(status.state, 'succeeded');
    const history = (await h.fetchHistory()).events ?? [];
    watchesPerRun[`${regions}×${soak}×${checkInterval}`] = history.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'checkRegion').length;
    return history.length;
  });
}

test('history is flat in check interval and soak length, and per region does not grow with region count', { timeout: 360_000 }, async () => {
  const base = await events(3, '30m', '60s');
  const faster = await events(3, '30m', '15s');
  const longer = await events(3, '60m', '60s');
  const wider = await events(6, '30m', '60s');
  // 16 hours of rollout: the first region is watched for 12 h after promotion, past the old
  // six-hour renewal of promoted watches that made long rollouts grow.
  const hours = await events(4, '4h', '60s');
  const figures = `3×30m×60s ${base}, 3×30m×15s ${faster}, 3×60m×60s ${longer}, 6×30m×60s ${wider}, 4×4h×60s ${hours}`;
  // Four times the checks (90 more; a naive design adds ~11 events per check): only a few
  // events per region either way, from whether a check is in flight when its watch is
  // cancelled and how workflow tasks happen to batch.
  const noise = NOISE_PER_REGION * 3;
  assert.ok(Math.abs(faster - base) <= noise, figures);
  // Twice the soak: the same few (a naive design doubles).
  assert.ok(Math.abs(longer - base) <= noise, figures);
  assert.ok(Math.abs(hours / 4 - base / 3) <= NOISE_PER_REGION, `a 16-hour rollout must not need more history per region: ${figures}`);
  // Exact, with no noise: one soak watch per region and one watch per promoted region
  // before the last, never renewed within a rollout of these lengths.
  assert.deepEqual(watchesPerRun, { '3×30m×60s': 5, '3×30m×15s': 5, '3×60m×60s': 5, '6×30m×60s': 11, '4×4h×60s': 7 });
  assert.ok(wider / 6 <= base / 3 + NOISE_PER_REGION, `per region must not grow with regions: ${figures}`);
  assert.ok(base / 3 <= MAX_EVENTS_PER_REGION, figures);
});
