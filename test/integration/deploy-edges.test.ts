// Deploy edges (issue 20): an http deployer's wait between polls outliving the activity's
// heartbeat timeout, `mrcd deploy` right after the previous rollout reached its verdict,
// and an operator action naming an empty region. Real parts: the region simulator, a
// Temporal dev server with a worker, the CLI.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Logger } from '@temporalio/common';
import { startSimulator } from '../../dev/simulator';
import { heartbeatChunkMs, httpDeploy, HEARTBEAT_EVERY_MS, type HttpDeployProgress } from '../../activities/deployers/http';
import type { DeployInput, NotifyInput } from '../../domain/activity-contract';
import type { DeployerConfig } from '../../activities/deployers/deployer';
import { act, rolloutHandle, startRollout, waitForVerdict, type MrcdClient } from '../../client/rollouts';
import { planDoc, scriptedActivities, statusUntil, TEST_GATE, useTestServer } from '../support/rollout-harness';

const server = useTestServer();
const ROOT = resolve(__dirname, '../..');
const QUEUE = `deploy-edges-${process.pid}`;
/** How long the scripted owner's channel takes to take a rollout's last notification, per service. */
const finalNotifyMs: Record<string, number> = { 'edge-back-to-back': 4_000, 'edge-still-finishing': 8_000 };

let client: MrcdClient | undefined;
/** A worker whose notifications of a verdict are slow: the rollout has its verdict, its workflow still runs. */
async function served(): Promise<MrcdClient> {
  if (client) return client;
  const scripted = scriptedActivities({}, []);
  client = await server.serve(QUEUE, {
    ...scripted,
    async notify(input: NotifyInput) {
      const ms = input.event.kind === 'succeeded' ? finalNotifyMs[input.event.service] : undefined;
      if (ms) await new Promise((r) => setTimeout(r, ms));
      return scripted.notify(input);
    },
  });
  return client;
}

/** One region, a 1 s soak, someone to notify. */
const plan = (service: string, version = '2.0.0', soak = '1s') =>
  planDoc(
    {
      service,
      version,
      defaults: { soak, checkInterval: '500ms', gate: TEST_GATE },
      notifications: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }],
    },
    [{ name: 'small', size: 1 }],
  );

const quiet: Logger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

describe('the http deployer heartbeats while it waits between polls', () => {
  test('a pollInterval longer than the heartbeat timeout: the wait heartbeats the operation well within it', async () => {
    const sim = await startSimulator({ regions: ['eu-west-1'], initialVersions: { api: '1.0.0' }, deployDelayMs: 1_500 });
    after(() => sim.close());
    // The deploy activity's real timeout is 30 s; a short one keeps the test short, and the
    // chunk of the wait follows it.
    const heartbeatTimeoutMs = 600;
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs }, { logger: quiet });
    const beats: { at: number; progress: HttpDeployProgress }[] = [];
    env.on('heartbeat', (progress: HttpDeployProgress) => beats.push({ at: Date.now(), progress }));
    const input: DeployInput<DeployerConfig<'http'>> = {
      rolloutId: 'ro-hb',
      service: 'api',
      region: 'eu-west-1',
      version: '1.1.0',
      deployer: { type: 'http', baseUrl: sim.url, timeoutMs: 20_000, pollIntervalMs: 2_500 },
    };
    await env.run(httpDeploy, input);
    const done = beats.findIndex((b) => b.progress.status === 'succeeded');
    assert.ok(done > 0, `no heartbeat of the succeeded poll: ${JSON.stringify(beats.map((b) => b.progress))}`);
    const waiting = beats.slice(0, done + 1);
    const gaps = waiting.slice(1).map((b, i) => b.at - waiting[i]!.at);
    assert.ok(
      Math.max(...gaps) < heartbeatTimeoutMs / 2,
      `heartbeats ${Math.max(...gaps)} ms apart while waiting ${input.deployer.type === 'http' ? input.deployer.pollIntervalMs : 0} ms between polls (heartbeat timeout ${heartbeatTimeoutMs} ms)`,
    );
    // Each heartbeat of the wait carries the operation, so a resumed attempt polls it instead of deploying again.
    assert.ok(waiting.every((b) => b.progress.operationId === waiting[0]!.progress.operationId));
    assert.equal(sim.ledger().filter((e) => e.kind === 'deploy').length, 1);
  });

  test("under the deploy activity's real 30 s heartbeat timeout the wait heartbeats every 10 s, whatever the pollInterval", () => {
    assert.equal(heartbeatChunkMs(30_000), 10_000);
    assert.equal(heartbeatChunkMs(undefined), HEARTBEAT_EVERY_MS);
    assert.ok(HEARTBEAT_EVERY_MS <= 10_000);
  });
});

describe('mrcd deploy right after the previous rollout of the service reached its verdict', { timeout: 120_000 }, () => {
  test('waits, bounded, for the previous rollout to finish sending its last notifications, then starts', async () => {
    const m = await served();
    const service = 'edge-back-to-back';
    await startRollout(m, plan(service), { startedBy: 'ci' });
    await statusUntil(m, service, (s) => s.state === 'succeeded', 'the verdict');
    assert.equal((await rolloutHandle(m, service).describe()).status.name, 'RUNNING', 'the verdict is in, the workflow still finishes');
    const notes: string[] = [];
    const next = await startRollout(m, plan(service, '2.0.1'), { startedBy: 'ci', onWaiting: (n) => notes.push(n) });
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /the previous rollout of edge-back-to-back has reached its verdict \(succeeded\) and is finishing/);
    const v = await waitForVerdict(next);
    assert.equal(v.status.version, '2.0.1');
    assert.equal(v.status.state, 'succeeded');
  });

  test('past the bound: refused, saying the previous rollout has its verdict and is finishing, not that it is running', async () => {
    const m = await served();
    const service = 'edge-still-finishing';
    await startRollout(m, plan(service), { startedBy: 'ci' });
    await statusUntil(m, service, (s) => s.state === 'succeeded', 'the verdict');
    const began = Date.now();
    await assert.rejects(startRollout(m, plan(service, '2.0.1'), { startedBy: 'ci', finishingWaitMs: 1_000 }), (e: Error) => {
      assert.match(
        e.message,
        /the previous rollout of edge-still-finishing has reached its verdict \(succeeded\) and is finishing \(sending its last notifications\)/,
      );
      assert.match(e.message, /try again in a few seconds/);
      assert.doesNotMatch(e.message, /already running/);
      return true;
    });
    assert.ok(Date.now() - began < 5_000, 'the wait is bounded');
    await waitForVerdict(rolloutHandle(m, service));
  });
});

describe('an operator action naming an empty region is refused, not sent as a no-op', { timeout: 120_000 }, () => {
  const service = 'edge-empty-region';
  const mrcd = (...args: string[]) =>
    promisify(execFile)(process.execPath, [join(ROOT, 'bin/mrcd.js'), '--address', server.address, '--task-queue', QUEUE, ...args], {
      cwd: ROOT,
      env: { ...process.env, MRCD_USER: 'tester' },
    }).then(
      (r) => ({ code: 0, stderr: r.stderr }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );

  test('the library (act) and the CLI (--region "") refuse it, naming the field and the flag; nothing reaches the rollout', async () => {
    const m = await served();
    await startRollout(m, plan(service, '2.0.0', '60s'), { startedBy: 'ci' });
    try {
      const soaking = await statusUntil(m, service, (s) => s.regions[0]!.status === 'soaking', 'soaking');
      for (const action of ['skip-soak', 'approve'] as const) {
        await assert.rejects(act(m, service, action, { reason: 'hotfix', by: 'tester', region: '' }), (e: Error) => {
          assert.match(e.message, new RegExp(`^${action} of ${service}: region: must name a region`));
          return true;
        });
        const cli = await mrcd(action, service, '--reason', 'hotfix', '--region', '');
        assert.equal(cli.code, 2, cli.stderr);
        assert.match(cli.stderr, /--region: must name a region/);
      }
      const after = await statusUntil(m, service, () => true);
      assert.equal(after.actions.length, soaking.actions.length, 'no action reached the rollout');
      assert.equal(after.regions[0]!.status, 'soaking');
    } finally {
      await rolloutHandle(m, service).terminate('test ended');
    }
  });
});
