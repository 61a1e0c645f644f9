// Upgrading the workers while rollouts are in flight (docs/operations.md, "Upgrading workers
// while rollouts run"): rollouts start on version N of the workflow code, every worker stops
// mid-soak, and version N+1 takes over. N+1 changes the region step (a timer before every
// deploy, test/fixtures/upgrade/): behind patched() the rollouts in flight finish correctly,
// each region deployed once, and take the new step only for regions they reach after the
// upgrade; the same change without patched() stops them with a nondeterminism error, which
// is why the policy exists.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import type { WorkflowHandle } from '@temporalio/client';
import { statusQuery } from '../../domain/definitions';
import type { RolloutStatus } from '../../domain/state';
import { UPGRADE_PATCH } from '../fixtures/upgrade/patched-region';
import { createTestWorker, planDoc, regionsOf, scriptedActivities, useTestServer, verdictOf, type Call } from '../support/rollout-harness';
import { workflowBundle } from '../support/temporal';
import { pollFor } from '../support/poll';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const server = useTestServer();

// eslint-disable-next-line @typescript-eslint/no-require-imports -- webpack is the bundler the SDK itself uses; its plugin swaps one module
const webpack = require(require.resolve('webpack', { paths: [require.resolve('@temporalio/worker')] })) as typeof import('webpack');

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m), log() {} };

/** The workflow code with workflows/rollout/region.ts replaced by a fixture: version N+1. */
function bundleWith(fixture: string): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: quiet,
    webpackConfigHook: (config) => {
      (config.plugins ??= []).push(
        new webpack.NormalModuleReplacementPlugin(/^\.\/region$/, (r: { context: string; request: string }) => {
          if (r.context.replace(/\\/g, '/').endsWith('workflows/rollout')) r.request = require.resolve(fixture);
        }),
      );
      return config;
    },
  });
}

/** Three regions with 4-second soaks: long enough to stop the workers in the middle of one. */
const doc = planDoc({
  defaults: {
    soak: '4s',
    checkInterval: '500ms',
    gate: { checks: [{ name: 'error-ratio', source: { type: 'http', url: 'http://127.0.0.1:9/h', path: 'r' }, comparator: '<', threshold: 0.01 }] },
  },
});

let seq = 0;
async function startRollouts(taskQueue: string, n: number): Promise<WorkflowHandle[]> {
  const handles: WorkflowHandle[] = [];
  for (let i = 0; i < n; i++)
    handles.push(
      await server.client.workflow.start('rolloutWorkflow', {
        taskQueue,
        workflowId: `upgrade-${process.pid}-${++seq}`,
        args: [{ plan: { ...doc, service: `svc-${seq}` }, startedBy: 'test' }],
      }),
    );
  return handles;
}

function until(h: WorkflowHandle, ok: (s: RolloutStatus) => boolean, ms = 30_000): Promise<RolloutStatus> {
  return pollFor(h.workflowId, () => h.query(statusQuery), ok, { timeoutMs: ms, everyMs: 100 });
}

const events = async (h: WorkflowHandle): Promise<HistoryEvent[]> => (await h.fetchHistory()).events ?? [];
const markers = (evs: HistoryEvent[]) =>
  evs
    .filter((e) => e.markerRecordedEventAttributes)
    .map((e) => new TextDecoder().decode(e.markerRecordedEventAttributes!.details?.['patch-data']?.payloads?.[0]?.data ?? new Uint8Array()));
const timers = (evs: HistoryEvent[]) => evs.filter((e) => e.timerStartedEventAttributes).length;
const deploysOf = (calls: Call[], service: string) =>
  calls.filter((c) => c.kind === 'deploy' && (c.input as { service: string }).service === service).map((c) => c.region);

describe('upgrading the workflow code while rollouts are in flight', { timeout: 240_000 }, () => {
  test('a patched change: every in-flight rollout finishes on N+1, each region deployed once; the new step only from the upgrade on', async () => {
    const calls: Call[] = [];
    const taskQueue = `upgrade-patched-${process.pid}`;
    const activities = scriptedActivities({}, calls);
    const next = await bundleWith('../fixtures/upgrade/patched-region');

    // Version N: three rollouts, stopped while their first region soaks.
    const workerN = await createTestWorker(server, taskQueue, activities);
    let inFlight: WorkflowHandle[] = [];
    await workerN.runUntil(async () => {
      inFlight = await startRollouts(taskQueue, 3);
      for (const h of inFlight) await until(h, (s) => s.regions[0]?.status === 'soaking');
    });

    // Version N+1 takes over the same task queue; one more rollout starts on it.
    const workerNext = await createTestWorker(server, taskQueue, activities, { workflowBundle: next });
    await workerNext.runUntil(async () => {
      const [fresh] = await startRollouts(taskQueue, 1);
      const verdicts = await Promise.all([...inFlight, fresh!].map((h) => verdictOf(h.result())));
      for (const v of verdicts) assert.equal(v.status.state, 'succeeded', v.status.summary);

      for (const h of [...inFlight, fresh!]) {
        const service = (await h.query(statusQuery)).service;
        assert.deepEqual(deploysOf(calls, service), ['small', 'medium', 'large'], `${service}: each region deployed once, in order`);
      }
      // In flight: the first region was deployed on N, so only the two after the upgrade wait the new second.
      for (const h of inFlight) {
        const evs = await events(h);
        assert.equal(markers(evs).filter((m) => m.includes(UPGRADE_PATCH)).length, 1, h.workflowId);
        assert.equal(timers(evs), 2, `${h.workflowId}: the new step for medium and large only`);
      }
      const freshEvents = await events(fresh!);
      assert.equal(timers(freshEvents), 3, 'a rollout started on N+1 takes the new step in every region');
      // No workflow task failed anywhere: nothing nondeterministic happened.
      for (const h of [...inFlight, fresh!]) assert.ok(!(await events(h)).some((e) => e.workflowTaskFailedEventAttributes), h.workflowId);
    });
    assert.deepEqual(regionsOf(calls, 'rollback'), []);
  });

  test('the same change without patched() stops an in-flight rollout with a nondeterminism error (and deploys nothing more)', async () => {
    const calls: Call[] = [];
    const taskQueue = `upgrade-unpatched-${process.pid}`;
    const activities = scriptedActivities({}, calls);
    const unpatched = await bundleWith('../fixtures/upgrade/unpatched-region');

    const workerN = await createTestWorker(server, taskQueue, activities, { workflowBundle: await workflowBundle() });
    let h: WorkflowHandle | undefined;
    await workerN.runUntil(async () => {
      [h] = await startRollouts(taskQueue, 1);
      await until(h!, (s) => s.regions[0]?.status === 'soaking');
    });
    const service = (await h!.query(statusQuery).catch(() => undefined))?.service;
    const workerNext = await Worker.create({ connection: server.nativeConnection, taskQueue, workflowBundle: unpatched, activities });
    await workerNext.runUntil(async () => {
      const deadline = Date.now() + 60_000;
      let failure: string | undefined;
      while (!failure && Date.now() < deadline) {
        const failed = (await events(h!)).find((e) => e.workflowTaskFailedEventAttributes);
        failure = failed?.workflowTaskFailedEventAttributes?.failure?.message ?? undefined;
        if (!failure) await new Promise((r) => setTimeout(r, 250));
      }
      assert.match(failure ?? 'no workflow task failed', /[Nn]ondeterminism/);
      await new Promise((r) => setTimeout(r, 6_000)); // a soak and more: nothing moves
      assert.deepEqual(
        calls.filter((c) => c.kind === 'deploy').map((c) => c.region),
        ['small'],
        `${service ?? 'the rollout'}: stuck, nothing deployed after the upgrade`,
      );
      await h!.terminate('test ended: an unpatched change cannot run this rollout');
    });
  });
});
