// The HTTP deployer against the real region simulator: the same HTTP surface a
// production deploy API offers, with the faults we must classify correctly.
import { test, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import axios from 'axios';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure, CancelledFailure, type Logger } from '@temporalio/common';
import { startSimulator, PARTIAL_DEPLOY_ERROR, type Simulator, type SimulatorOptions } from '../../dev/simulator';
import { httpDeploy, httpRollback, type HttpDeployProgress } from '../../activities/deployers/http';
import { deployRegion, rollbackRegion } from '../../activities/deployers';
import type { DeployInput, RollbackInput } from '../../domain/activity-contract';
import type { DeployerConfig } from '../../activities/deployers/deployer';
import { ACTIVITY_FAILURE } from '../../domain/failures';

const REGION = 'eu-west-1';
const TOKEN_ENV = 'MRCD_TEST_DEPLOY_TOKEN';

/** MockActivityEnvironment.run does not infer the result type; this keeps it. */
function runIn<A extends unknown[], R>(env: MockActivityEnvironment, fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return env.run(fn, ...args) as Promise<R>;
}

const quiet: Logger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

async function simulator(t: TestContext, opts: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const sim = await startSimulator({
    regions: [REGION, 'us-east-1'],
    initialVersions: { api: '1.0.0' },
    deployDelayMs: 100,
    ...opts,
  });
  t.after(() => sim.close());
  return sim;
}

function deployInput(
  sim: Simulator,
  over: { timeoutMs?: number; pollIntervalMs?: number; tokenEnv?: string; version?: string } = {},
): DeployInput<DeployerConfig<'http'>> {
  return {
    rolloutId: 'ro-7',
    service: 'api',
    region: REGION,
    version: over.version ?? '1.1.0',
    deployer: {
      type: 'http',
      baseUrl: sim.url,
      timeoutMs: over.timeoutMs ?? 5_000,
      pollIntervalMs: over.pollIntervalMs ?? 20,
      ...(over.tokenEnv ? { tokenEnv: over.tokenEnv } : {}),
    },
  };
}

/** An activity attempt; heartbeatDetails makes it a retry of an attempt that heartbeated them. */
function attempt(heartbeatDetails?: unknown) {
  const env = new MockActivityEnvironment({ attempt: heartbeatDetails === undefined ? 1 : 2, heartbeatDetails, heartbeatTimeoutMs: 60_000 }, { logger: quiet });
  const heartbeats: HttpDeployProgress[] = [];
  env.on('heartbeat', (d: HttpDeployProgress) => heartbeats.push(d));
  return { env, heartbeats };
}

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApplicationFailure, `expected ApplicationFailure, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the activity to fail');
}

describe('http deployer against the region simulator', () => {
  test('deploy succeeds, reports the previous version, and leaves one ledger entry', async (t) => {
    const sim = await simulator(t);
    const { env, heartbeats } = attempt();
    const before = Date.now();
    const { at, ...result } = await runIn(env, deployRegion, deployInput(sim));
    assert.deepEqual(result, {
      region: REGION,
      version: '1.1.0',
      previousVersion: '1.0.0',
      idempotencyKey: 'ro-7:eu-west-1:1.1.0:deploy',
    });
    // When it ended, by this worker's clock: after the operation the ledger recorded.
    assert.ok(at !== undefined && at >= before && at >= sim.ledger()[0]!.at, `at ${at}`);
    assert.equal(sim.versionOf('api', REGION), '1.1.0');
    assert.equal(sim.versionOf('api', 'us-east-1'), '1.0.0');
    const ledger = sim.ledger();
    assert.equal(ledger.length, 1);
    assert.equal(ledger[0]!.kind, 'deploy');
    assert.equal(ledger[0]!.idempotencyKey, 'ro-7:eu-west-1:1.1.0:deploy');
    assert.equal(ledger[0]!.fromVersion, '1.0.0');

    // Heartbeats: the first right after the POST (so a crash before any poll still
    // resumes), then one per poll, all naming the same operation.
    assert.ok(heartbeats.length >= 2, `only ${heartbeats.length} heartbeats`);
    const opId = heartbeats[0]!.operationId;
    assert.match(opId, /\S/);
    assert.equal(heartbeats[0]!.polls, 0);
    assert.ok(heartbeats.every((h) => h.operationId === opId));
    assert.deepEqual(
      heartbeats.map((h) => h.polls),
      heartbeats.map((_, i) => i),
    );
    assert.equal(heartbeats.at(-1)!.status, 'succeeded');
    const op = await axios.get(`${sim.url}/regions/${REGION}/operations/${opId}`);
    assert.equal(op.data.kind, 'deploy');
    assert.equal(op.data.version, '1.1.0');
  });

  test('a retried attempt re-attaches to the same operation: one ledger entry', async (t) => {
    const sim = await simulator(t);
    const first = await runIn(attempt().env, httpDeploy, deployInput(sim));
    // A retry that never saw a heartbeat posts again; the idempotency key dedupes it.
    const second = await runIn(attempt().env, httpDeploy, deployInput(sim));
    assert.deepEqual(second, first);
    assert.equal(sim.ledger().length, 1);
  });

  test('a timed-out attempt resumes from its heartbeat without posting again', async (t) => {
    const sim = await simulator(t, { deployDelayMs: 600 });
    const a1 = attempt();
    const timedOut = await failure(runIn(a1.env, httpDeploy, deployInput(sim, { timeoutMs: 150 })));
    assert.equal(timedOut.type, 'DeployTimeout');
    assert.equal(timedOut.nonRetryable, false);
    const last = a1.heartbeats.at(-1)!;
    assert.equal(last.status, 'in-progress');

    // Any POST now would be refused with a 429: success proves the retry only polled.
    sim.setFaults({ status429: { retryAfterSeconds: 30, count: 1 } });
    const a2 = attempt(last);
    const result = await runIn(a2.env, httpDeploy, deployInput(sim));
    assert.equal(result.version, '1.1.0');
    assert.ok(a2.heartbeats.every((h) => h.operationId === last.operationId));
    assert.ok(a2.heartbeats[0]!.polls > last.polls, 'poll count restarted instead of continuing');
    assert.equal(sim.ledger().length, 1);
  });

  test('a heartbeated operation the deployer no longer knows is started again by key', async (t) => {
    const sim = await simulator(t);
    const { env } = attempt({ operationId: 'op-does-not-exist', status: 'in-progress', polls: 3 });
    const result = await runIn(env, httpDeploy, deployInput(sim));
    assert.equal(result.version, '1.1.0');
    assert.equal(sim.ledger().length, 1);
  });

  test('rollback restores the previous version', async (t) => {
    const sim = await simulator(t);
    await runIn(attempt().env, deployRegion, deployInput(sim));
    assert.equal(sim.versionOf('api', REGION), '1.1.0');
    const rb: RollbackInput<DeployerConfig<'http'>> = { ...deployInput(sim), previousVersion: '1.0.0' };
    const result = await runIn(attempt().env, rollbackRegion, rb);
    assert.deepEqual(result, {
      region: REGION,
      version: '1.1.0',
      previousVersion: '1.0.0',
      idempotencyKey: 'ro-7:eu-west-1:1.1.0:rollback',
      running: '1.0.0',
    });
    assert.equal(sim.versionOf('api', REGION), '1.0.0');
    const ledger = sim.ledger();
    assert.deepEqual(
      ledger.map((e) => [e.kind, e.version, e.fromVersion, e.idempotencyKey]),
      [
        ['deploy', '1.1.0', '1.0.0', 'ro-7:eu-west-1:1.1.0:deploy'],
        ['rollback', '1.0.0', '1.1.0', 'ro-7:eu-west-1:1.1.0:rollback'],
      ],
    );
    // Compensation may run twice (retry, or abort after a failed region): still one rollback.
    await runIn(attempt().env, httpRollback, rb);
    assert.equal(sim.ledger().length, 2);
    assert.equal(sim.versionOf('api', REGION), '1.0.0');
    // An operator's retry is a new key: the region is read first and not rolled back again,
    // whatever the deploy API would make of a second rollback (an undo would restore 1.1.0).
    sim.setFaults({ undoRollback: true });
    const again = await runIn(attempt().env, rollbackRegion, { ...rb, idempotencyKey: 'ro-7:eu-west-1:1.1.0:rollback:2' });
    assert.equal(again.alreadyBack, true);
    assert.equal(again.running, '1.0.0');
    assert.equal(sim.ledger().length, 2);
    assert.equal(sim.versionOf('api', REGION), '1.0.0');
  });

  test('a failed rollback operation is non-retryable with the deployer error', async (t) => {
    const sim = await simulator(t);
    await runIn(attempt().env, deployRegion, deployInput(sim));
    sim.setFaults({ failRollback: true });
    const err = await failure(runIn(attempt().env, httpRollback, { ...deployInput(sim), previousVersion: '1.0.0' }));
    assert.equal(err.type, ACTIVITY_FAILURE.deployFailed);
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, /rollback failed: injected fault/);
    assert.equal(sim.versionOf('api', REGION), '1.1.0');
  });

  test('partial deploy: the operation fails, non-retryable DeployFailed with the deployer error', async (t) => {
    const sim = await simulator(t);
    sim.setFaults({ partialDeploy: true });
    const err = await failure(runIn(attempt().env, httpDeploy, deployInput(sim)));
    assert.equal(err.type, ACTIVITY_FAILURE.deployFailed);
    assert.equal(err.nonRetryable, true);
    assert.ok(err.message.includes(PARTIAL_DEPLOY_ERROR), err.message);
    assert.equal(sim.versionOf('api', REGION), '1.0.0');
    assert.equal(sim.ledger().length, 0);
  });

  test('503 from the deploy API is retryable DeployUnavailable', async (t) => {
    const sim = await simulator(t);
    sim.setFaults({ errorRate5xx: 1 });
    const err = await failure(runIn(attempt().env, httpDeploy, deployInput(sim)));
    assert.equal(err.type, 'DeployUnavailable');
    assert.equal(err.nonRetryable, false);
    assert.match(err.message, /HTTP 503/);
    assert.equal(sim.ledger().length, 0);
  });

  test('429 is retryable with nextRetryDelay taken from Retry-After; the retry then succeeds', async (t) => {
    const sim = await simulator(t);
    sim.setFaults({ status429: { retryAfterSeconds: 7, count: 1 } });
    const err = await failure(runIn(attempt().env, httpDeploy, deployInput(sim)));
    assert.equal(err.nonRetryable, false);
    assert.equal(err.nextRetryDelay, 7_000);
    assert.match(err.message, /HTTP 429/);
    const result = await runIn(attempt().env, httpDeploy, deployInput(sim));
    assert.equal(result.version, '1.1.0');
    assert.equal(sim.ledger().length, 1);
  });

  test('a hung deploy API hits the deploy timeout: retryable DeployTimeout', async (t) => {
    const sim = await simulator(t);
    sim.setFaults({ hang: true });
    const started = Date.now();
    const err = await failure(runIn(attempt().env, httpDeploy, deployInput(sim, { timeoutMs: 400 })));
    const elapsed = Date.now() - started;
    assert.equal(err.type, 'DeployTimeout');
    assert.equal(err.nonRetryable, false);
    assert.ok(elapsed >= 350 && elapsed < 2_000, `timeout took ${elapsed} ms`);
  });

  test('a dropped connection is retryable', async (t) => {
    const sim = await simulator(t);
    sim.setFaults({ drop: true });
    const err = await failure(runIn(attempt().env, httpDeploy, deployInput(sim)));
    assert.equal(err.type, 'DeployUnavailable');
    assert.equal(err.nonRetryable, false);
    assert.equal(sim.ledger().length, 0);
  });

  test('unknown region: 404 is non-retryable DeployRejected with the API error', async (t) => {
    const sim = await simulator(t);
    const err = await failure(runIn(attempt().env, httpDeploy, { ...deployInput(sim), region: 'mars-1' }));
    assert.equal(err.type, ACTIVITY_FAILURE.deployRejected);
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, /HTTP 404 unknown region "mars-1"/);
  });

  describe('bearer token', () => {
    test('missing variable: non-retryable, names the variable, never calls the API', async (t) => {
      const sim = await simulator(t, { requireToken: 'tok-s3cr3t' });
      delete process.env[TOKEN_ENV];
      const err = await failure(runIn(attempt().env, httpDeploy, deployInput(sim, { tokenEnv: TOKEN_ENV })));
      assert.equal(err.nonRetryable, true);
      assert.ok(err.message.includes(TOKEN_ENV), err.message);
      assert.equal(sim.ledger().length, 0);
    });

    test('wrong token: 401 non-retryable, token not in the message', async (t) => {
      const sim = await simulator(t, { requireToken: 'tok-s3cr3t' });
      process.env[TOKEN_ENV] = 'tok-wrong-value';
      try {
        const err = await failure(runIn(attempt().env, httpDeploy, deployInput(sim, { tokenEnv: TOKEN_ENV })));
        assert.equal(err.type, ACTIVITY_FAILURE.deployRejected);
        assert.equal(err.nonRetryable, true);
        assert.match(err.message, /HTTP 401/);
        assert.ok(!err.message.includes('tok-wrong-value'));
      } finally {
        delete process.env[TOKEN_ENV];
      }
    });

    test('right token: success', async (t) => {
      const sim = await simulator(t, { requireToken: 'tok-s3cr3t' });
      process.env[TOKEN_ENV] = 'tok-s3cr3t';
      try {
        const result = await runIn(attempt().env, httpDeploy, deployInput(sim, { tokenEnv: TOKEN_ENV }));
        assert.equal(result.version, '1.1.0');
        assert.equal(sim.ledger().length, 1);
      } finally {
        delete process.env[TOKEN_ENV];
      }
    });
  });

  describe('a rollback after an interrupted deploy', () => {
    // The deploy was posted and its operation is still under way (the activity that posted it
    // was cancelled by an abort); the rollback's answer must hold once that deploy lands too.
    async function interrupted(t: TestContext, afterInterruptedDeploy: boolean): Promise<Simulator> {
      const sim = await simulator(t, { deployDelayMs: 1500 });
      sim.setFaults({ undoRollback: true });
      const posted = await fetch(`${sim.url}/regions/${REGION}/deploy`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ service: 'api', version: '1.1.0', idempotencyKey: 'ro-7:eu-west-1:1.1.0:deploy' }),
      });
      assert.equal(posted.status, 202);
      await runIn(attempt().env, rollbackRegion, { ...deployInput(sim), previousVersion: '1.0.0', afterInterruptedDeploy });
      await new Promise((r) => setTimeout(r, 2000));
      return sim;
    }

    test('is sent for the deployer to order after the deploy: the region ends on the previous version', async (t) => {
      const sim = await interrupted(t, true);
      assert.equal(sim.versionOf('api', REGION), '1.0.0');
      assert.deepEqual(
        sim.ledger().map((e) => e.kind),
        ['deploy', 'rollback'],
      );
    });

    test('read first instead, the region looked rolled back already and the deploy landed after (why the flag exists)', async (t) => {
      const sim = await interrupted(t, false);
      assert.equal(sim.versionOf('api', REGION), '1.1.0');
    });
  });

  describe('cancellation', () => {
    test('mid-poll: rejects promptly with the cancellation, no further polls', async (t) => {
      const sim = await simulator(t, { deployDelayMs: 30_000 });
      const { env, heartbeats } = attempt();
      const running = runIn(env, httpDeploy, deployInput(sim, { timeoutMs: 60_000, pollIntervalMs: 200 }));
      while (heartbeats.length < 2) await new Promise((r) => setTimeout(r, 10));
      const cancelledAt = Date.now();
      env.cancel();
      await assert.rejects(running, (e: unknown) => e instanceof CancelledFailure);
      assert.ok(Date.now() - cancelledAt < 150, `took ${Date.now() - cancelledAt} ms to stop`);
      const polls = heartbeats.length;
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(heartbeats.length, polls, 'kept polling after cancellation');
    });

    test('during a hung request: the request is aborted', async (t) => {
      const sim = await simulator(t);
      sim.setFaults({ hang: true });
      const { env } = attempt();
      const running = runIn(env, httpDeploy, deployInput(sim, { timeoutMs: 60_000 }));
      await new Promise((r) => setTimeout(r, 150));
      const cancelledAt = Date.now();
      env.cancel();
      await assert.rejects(running, (e: unknown) => e instanceof CancelledFailure);
      assert.ok(Date.now() - cancelledAt < 150, `took ${Date.now() - cancelledAt} ms to stop`);
      assert.equal(sim.ledger().length, 0);
    });
  });
});
