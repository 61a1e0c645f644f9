// Quarantine through real visibility: a rollout that fails a gate marks its version bad;
// the client library, mrcd and the workflow itself (for starts from the UI or `temporal`)
// then refuse that version until someone overrides it with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkQuarantine } from '../../activities/quarantine';
import { findQuarantine, startRollout, VersionQuarantinedError, waitForVerdict, type MrcdClient } from '../../client/rollouts';
import { runCli } from '../../cli/main';
import { rolloutWorkflowId } from '../../domain/definitions';
import { planDoc, regionsOf, useTestServer, withScriptedWorker, type Call, type Script } from '../support/rollout-harness';
import { useTempDir } from '../support/temporal';
import { ROLLOUT_FAILURE } from '../../domain/failures';
import type { RolloutStatus } from '../../domain/state';
import { pollFor } from '../support/poll';

const env = useTestServer();
const dir = useTempDir('mrcd-quarantine-');

const SERVICE = 'quarantine-demo';
const doc = (version: string) =>
  planDoc({ service: SERVICE, version, failurePolicy: 'rollback-all' }, [
    { name: 'small', size: 1 },
    { name: 'large', size: 2 },
  ]);

/** Runs `body` with a worker whose activities are scripted, except the real quarantine check. */
const withWorker = <T>(script: Script, body: (m: MrcdClient, calls: Call[]) => Promise<T>) => withScriptedWorker(env, script, body, { checkQuarantine });

const eventually = <T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> => pollFor(what, fn, ok, { timeoutMs: 15_000 });

test('a version that failed its gate is refused by the library, mrcd and the workflow, until overridden with a reason', { timeout: 180_000 }, async () => {
  // 1. 3.1.0 fails its gate in small and is rolled back.
  await withWorker({ gate: { small: ['fail'] } }, async (m) => {
    const verdict = await waitForVerdict(await startRollout(m, doc('3.1.0'), { startedBy: 'ci' }));
    assert.equal(verdict.status.state, 'rolled-back');
    assert.equal(verdict.status.quarantine?.region, 'small');
  });
  // Visibility is eventually consistent; the record shows up within moments.
  const records = await eventually(
    () => findQuarantine(env.client, { service: SERVICE, version: '3.1.0' }),
    (r) => r.length > 0,
    'the quarantine record',
  );
  assert.equal(records.length, 1);
  assert.equal(records[0]!.workflowId, rolloutWorkflowId(SERVICE));
  assert.equal(records[0]!.region, 'small');
  assert.equal(records[0]!.state, 'rolled-back');
  assert.ok(records[0]!.closedAt);
  // Another version of the same service is not affected.
  assert.deepEqual(await findQuarantine(env.client, { service: SERVICE, version: '3.1.1' }), []);

  await withWorker({}, async (m, calls) => {
    // 2. The library refuses before any workflow starts.
    await assert.rejects(startRollout(m, doc('3.1.0'), { startedBy: 'ci' }), (e: unknown) => {
      assert.ok(e instanceof VersionQuarantinedError);
      assert.match(e.message, /quarantine-demo 3\.1\.0 is quarantined: rollout rollout-quarantine-demo run .* rolled it back for failing its gate in small/);
      assert.match(e.message, /--override-quarantine/);
      return true;
    });

    // 3. mrcd says so with exit code 3 (refused); an empty override reason is invalid input (2).
    const file = join(dir.path, 'plan.json');
    writeFileSync(file, JSON.stringify(doc('3.1.0')));
    const cli = ['--address', env.address, '--task-queue', m.taskQueue, 'deploy', file];
    assert.equal(await runCli(cli), 3);
    assert.equal(await runCli([...cli, '--override-quarantine', ' ']), 2);

    // 4. A start that skips the library (Temporal UI, `temporal workflow start`) is refused by the workflow.
    const raw = await env.client.workflow.start('rolloutWorkflow', {
      taskQueue: m.taskQueue,
      workflowId: rolloutWorkflowId(SERVICE),
      args: [{ plan: doc('3.1.0'), startedBy: 'temporal-cli' }],
    });
    await assert.rejects(raw.result(), (e: unknown) => {
      const cause = (e as { cause?: { type?: string; details?: unknown[] } }).cause;
      assert.equal(cause?.type, ROLLOUT_FAILURE.versionQuarantined);
      // The failure's details carry the final status: refused for the quarantine small recorded.
      const status = cause?.details?.[0] as RolloutStatus | undefined;
      assert.deepEqual(status?.halt?.cause, { kind: 'quarantine-refused', region: 'small', detail: 'no override given' });
      return true;
    });
    assert.deepEqual(regionsOf(calls, 'deploy'), []);

    // 5. With an override and a reason it runs, and the override is on the record.
    const verdict = await waitForVerdict(
      await startRollout(m, doc('3.1.0'), { startedBy: 'alice', overrideQuarantine: { reason: 'the gate failed on a bad dashboard query, fixed' } }),
    );
    assert.equal(verdict.status.state, 'succeeded');
    const o = verdict.status.overrides?.find((x) => x.kind === 'quarantine');
    assert.equal(o?.by, 'alice');
    assert.equal(o?.reason, 'the gate failed on a bad dashboard query, fixed');
    assert.match(o!.detail!, /failing its gate in small/);
    assert.deepEqual(regionsOf(calls, 'deploy'), ['small', 'large']);
  });
});
