// The verdict at the edges where rollouts meet people and real deploy tools (issue 20), on a
// real dev server with the real activities against the region simulator, whose state is
// the ground truth: a rollback that means "undo" run twice, a rollback a tool only claims,
// a region changed by hand while held or after its promotion, a workflow cancel past the
// point of no return or during compensation, an abort during expand migrations.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActivities } from '../../activities';
import { act, followRollout, getStatus, startRollout, type MrcdClient } from '../../client/rollouts';
import { startSimulator, type Simulator } from '../../dev/simulator';
import type { RolloutStatus } from '../../domain/state';
import { execFileSync } from 'node:child_process';
import { findTemporalCli } from '../../dev/temporal-binaries';
import { statusUntil, useTestServer } from '../support/rollout-harness';
import { simulatorPlan } from '../support/simulator-plan';

const REGIONS = ['ap-southeast-2', 'eu-west-1', 'us-east-1'];
const TASK_QUEUE = `edges-${process.pid}`;
const OLD = '1.9.0';
const NEW = '2.0.0';
const UNDO = join(__dirname, '..', 'fixtures', 'deployers', 'undo-deployer.mjs');
const SERVICES = [
  'reset-redeploy',
  'undo-retry',
  'undo-temporal',
  'lying-rollback',
  'held-drift',
  'late-drift',
  'cancel-contract',
  'abort-cancel',
  'abort-expand',
];
const dir = mkdtempSync(join(tmpdir(), 'mrcd-edges-'));
let sim: Simulator;
let m: MrcdClient;
const server = useTestServer({}, async (server) => {
  sim = await startSimulator({ regions: REGIONS, deployDelayMs: 100, initialVersions: Object.fromEntries(SERVICES.map((s) => [s, OLD])) });
  // The command deployer's children see only the variables a plan passes (passEnv).
  process.env.MRCD_EDGES_SIM_URL = sim.url;
  process.env.MRCD_EDGES_DIR = dir;
  m = await server.serve(TASK_QUEUE, createActivities());
});

after(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

const who = { reason: 'test', by: 'tester' };

function plan(service: string, opts: { soak?: string; deployer?: unknown; approval?: string; migrations?: unknown[] } = {}) {
  return simulatorPlan(sim.url, {
    service,
    version: NEW,
    regions: REGIONS,
    ...(opts.soak ? { soak: opts.soak } : {}),
    ...(opts.deployer ? { deployer: opts.deployer } : {}),
    region: (name) => (opts.approval === name ? { approval: 'required' } : {}),
    ...(opts.migrations ? { extra: { migrations: opts.migrations } } : {}),
  });
}

/** kubectl-style: deploy sets the image, rollback is `rollout undo`, status reads the region. */
function undoDeployer(mode: 'exit-75-once' | 'fake' | 'plain') {
  const run = (step: string[]) => ['node', UNDO, ...step];
  return {
    type: 'command',
    deploy: run([]),
    rollback: run([mode]),
    status: run([]),
    passEnv: ['MRCD_EDGES_SIM_URL', 'MRCD_EDGES_DIR'],
    timeout: '20s',
  };
}

const waitFor = (service: string, ok: (s: RolloutStatus) => boolean, what: string, ms?: number) => statusUntil(m, service, ok, what, ms);
const versions = (service: string) => REGIONS.map((r) => sim.versionOf(service, r));
const ledger = (service: string, kind: string) => sim.ledger().filter((e) => e.service === service && e.kind === kind);
const end = (service: string) => followRollout(m, service, () => {}, 200);

async function byHand(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.ok(res.status < 300, `${path}: ${res.status}`);
}

describe('the truth at the edges', { timeout: 600_000 }, () => {
  test('1. an operator retry after a rollback by hand never undoes it: the region stays on the old version', async () => {
    const s = 'undo-retry';
    sim.markBad(NEW, s);
    sim.setFaults({ region: REGIONS[0], undoRollback: true, failRollback: { times: 1 } });
    await startRollout(m, plan(s, { soak: '20s' }), { startedBy: 'ci' });
    await waitFor(s, (x) => x.state === 'rollback-failed', 'rollback-failed');
    assert.equal(sim.versionOf(s, REGIONS[0]!), NEW);
    // The runbook: roll back by hand, then retry.
    await byHand(`/regions/${REGIONS[0]}/rollback`, { service: s, version: NEW, idempotencyKey: 'by-hand' });
    await waitFor(s, () => sim.versionOf(s, REGIONS[0]!) === OLD, 'the rollback by hand', 10_000).catch(() => undefined);
    assert.equal(sim.versionOf(s, REGIONS[0]!), OLD, 'the rollback by hand landed');
    await act(m, s, 'retry', { reason: 'rolled back by hand', by: 'oncall' });
    const halted = await waitFor(s, (x) => x.state === 'halted', 'halted after the retried rollback');
    assert.equal(halted.regions[0]!.status, 'rolled-back');
    assert.equal(sim.versionOf(s, REGIONS[0]!), OLD, 'a region called rolled back does not run the bad version');
    assert.equal(ledger(s, 'rollback').length, 1, 'only the rollback by hand changed the region');
    await act(m, s, 'abort', who);
    assert.equal((await end(s)).status.state, 'aborted');
    assert.deepEqual(versions(s), [OLD, OLD, OLD]);
    sim.clearFaults(REGIONS[0]);
  });

  test('1. a rollback Temporal runs again (its first run acted, then failed) does not toggle the region back', async () => {
    const s = 'undo-temporal';
    sim.markBad(NEW, s);
    sim.setFaults({ region: REGIONS[0], undoRollback: true });
    await startRollout(m, plan(s, { soak: '20s', deployer: undoDeployer('exit-75-once') }), { startedBy: 'ci' });
    const halted = await waitFor(s, (x) => x.state === 'halted', 'halted after the rollback', 90_000);
    assert.equal(halted.regions[0]!.status, 'rolled-back');
    assert.equal(sim.versionOf(s, REGIONS[0]!), OLD, 'rolled back means the region does not run the version');
    assert.equal(ledger(s, 'rollback').length, 1, 'one undo, not two');
    await act(m, s, 'abort', who);
    await end(s);
    sim.clearFaults(REGIONS[0]);
  });

  test('1. a rollback the tool only claims is rollback-failed, naming what the region runs', async () => {
    const s = 'lying-rollback';
    sim.markBad(NEW, s);
    await startRollout(m, plan(s, { soak: '20s', deployer: undoDeployer('fake') }), { startedBy: 'ci' });
    const failed = await waitFor(s, (x) => x.state === 'rollback-failed', 'rollback-failed', 60_000);
    assert.equal(failed.regions[0]!.status, 'rollback-failed');
    assert.match(failed.regions[0]!.waitingFor ?? '', new RegExp(`still runs ${NEW.replace(/\./g, '\\.')}`));
    assert.equal(sim.versionOf(s, REGIONS[0]!), NEW);
    await m.client.workflow.getHandle(`rollout-${s}`).terminate('test over');
  });

  test('2. a region rolled back by hand while it waits for approval is not promoted', async () => {
    const s = 'held-drift';
    await startRollout(m, plan(s, { approval: REGIONS[1] }), { startedBy: 'ci' });
    await waitFor(s, (x) => x.regions[1]!.status === 'awaiting-approval', 'awaiting approval', 60_000);
    sim.setVersion(s, REGIONS[1]!, OLD);
    await act(m, s, 'approve', { reason: 'looks good', by: 'lead' });
    const halted = await waitFor(s, (x) => x.state === 'halted' || x.state === 'succeeded', 'a verdict on the held region', 60_000);
    assert.equal(halted.state, 'halted', halted.summary);
    assert.deepEqual(halted.halt?.cause?.kind, 'not-running-version');
    assert.equal(halted.halt?.region, REGIONS[1]);
    assert.match(halted.halt?.reason ?? '', /runs 1\.9\.0/);
    assert.equal(halted.quarantine, undefined, "a hand change is not the version's fault");
    assert.equal(sim.versionOf(s, REGIONS[2]!), OLD, 'nothing reached the next region');
    await act(m, s, 'abort', who);
    await end(s);
  });

  test('2. succeeded means every region runs the version at the end: a promoted region changed by hand is deployed again', async () => {
    const s = 'late-drift';
    await startRollout(m, plan(s, { soak: '3s' }), { startedBy: 'ci' });
    await waitFor(s, (x) => x.regions[2]!.status === 'soaking', 'the last region soaking', 60_000);
    sim.setVersion(s, REGIONS[0]!, OLD);
    const halted = await waitFor(s, (x) => x.state !== 'running', 'a verdict', 60_000);
    assert.equal(halted.state, 'halted', `not ${halted.state}: ${halted.summary}`);
    assert.deepEqual({ kind: halted.halt?.cause?.kind, region: halted.halt?.region }, { kind: 'not-running-version', region: REGIONS[0] });
    assert.equal(halted.regions[0]!.status, 'failed');
    await act(m, s, 'retry', { reason: 'redeploy it', by: 'oncall' });
    const v = await end(s);
    assert.equal(v.status.state, 'succeeded', v.status.summary);
    assert.deepEqual(versions(s), [NEW, NEW, NEW]);
    assert.equal(v.status.regions[0]!.attempts, 2);
  });

  test('3. a workflow cancel past the point of no return is refused and recorded; the contract finishes and the rollout succeeds', async () => {
    const s = 'cancel-contract';
    const marker = join(dir, `${s}-contract-started`);
    const log = join(dir, `${s}-migrations.log`);
    const step = (what: string, extra = '') => ['node', '-e', `require('fs').appendFileSync(${JSON.stringify(log)}, ${JSON.stringify(`${what}\n`)});${extra}`];
    const migrations = [
      { name: 'add-column', phase: 'expand', apply: { run: step('expand apply') }, revert: { run: step('expand revert') } },
      {
        name: 'drop-column',
        phase: 'contract',
        apply: { run: step('contract apply', `require('fs').writeFileSync(${JSON.stringify(marker)}, '');setTimeout(() => {}, 3000)`) },
        irreversible: { reason: 'drops data' },
      },
    ];
    await startRollout(m, plan(s, { soak: '1s', migrations }), { startedBy: 'ci' });
    await waitFor(s, () => existsFile(marker), 'the contract step running', 90_000);
    await m.client.workflow.getHandle(`rollout-${s}`).cancel();
    const v = await end(s);
    assert.equal(v.status.state, 'succeeded', v.status.summary);
    assert.deepEqual(versions(s), [NEW, NEW, NEW], 'no region rolled back after the contract ran');
    assert.equal(ledger(s, 'rollback').length, 0);
    assert.ok(!readFileSync(log, 'utf8').includes('expand revert'), 'the expand migration was not reverted');
    const cancel = v.status.actions.find((a) => a.by === 'temporal');
    assert.ok(cancel, 'the cancel is recorded');
    assert.equal(cancel.accepted, false);
    assert.match(cancel.note ?? '', /point of no return/);
    const desc = await m.client.workflow.getHandle(`rollout-${s}`).describe();
    assert.equal(desc.status.name, 'COMPLETED');
  });

  test('4. a cancel during an abort whose rollback failed does not end the compensation: retry finishes it', async () => {
    const s = 'abort-cancel';
    sim.setFaults({ region: REGIONS[0], failRollback: true });
    await startRollout(m, plan(s, { soak: '20s' }), { startedBy: 'ci' });
    await waitFor(s, (x) => x.regions[1]!.status === 'soaking', 'second region soaking', 60_000);
    await act(m, s, 'abort', who);
    await waitFor(s, (x) => x.state === 'rollback-failed', 'rollback-failed', 60_000);
    const handle = m.client.workflow.getHandle(`rollout-${s}`);
    await handle.cancel();
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'the compensation waits for an operator');
    const waiting = await getStatus(m, s);
    assert.equal(waiting.state, 'rollback-failed');
    assert.ok(
      waiting.actions.some((a) => a.by === 'temporal' && a.accepted && /abort already requested/.test(a.note ?? '')),
      JSON.stringify(waiting.actions),
    );
    sim.clearFaults(REGIONS[0]);
    await act(m, s, 'retry', { reason: 'deployer fixed', by: 'oncall' });
    const v = await end(s);
    assert.equal(v.status.state, 'aborted', v.status.summary);
    assert.deepEqual(versions(s), [OLD, OLD, OLD], 'every region back');
  });

  test('5. an abort during expand migrations stops them: the next step never runs, the applied one is reverted', async () => {
    const s = 'abort-expand';
    const log = join(dir, `${s}-migrations.log`);
    writeFileSync(log, '');
    const step = (what: string, ms = 0) => [
      'node',
      '-e',
      `require('fs').appendFileSync(${JSON.stringify(log)}, ${JSON.stringify(`${what}\n`)});setTimeout(() => {}, ${ms})`,
    ];
    const migrations = [
      { name: 'first', phase: 'expand', apply: { run: step('first apply', 3000) }, revert: { run: step('first revert') } },
      { name: 'second', phase: 'expand', apply: { run: step('second apply') }, irreversible: { reason: 'a backfill of every row' } },
    ];
    await startRollout(m, plan(s, { migrations }), { startedBy: 'ci' });
    await waitFor(s, () => readFileSync(log, 'utf8').includes('first apply'), 'the first expand step running', 30_000);
    await act(m, s, 'abort', who);
    const v = await end(s);
    assert.equal(v.status.state, 'aborted', v.status.summary);
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), ['first apply', 'first revert']);
    assert.equal(ledger(s, 'deploy').length, 0, 'no region was deployed');
  });

  test("8. a rollout reset with `temporal workflow reset` runs its steps again under keys of its own, not the original run's", async () => {
    const s = 'reset-redeploy';
    sim.setFaults({ region: REGIONS[1], partialDeploy: true });
    await startRollout(m, plan(s), { startedBy: 'ci' });
    await waitFor(s, (x) => x.state === 'halted', 'halted at the partial deploy', 60_000);
    sim.clearFaults(REGIONS[1]);
    // Someone put the first region back by hand, then resets the rollout to its start.
    sim.setVersion(s, REGIONS[0]!, OLD);
    execFileSync(
      findTemporalCli()!.path,
      ['workflow', 'reset', '--address', server.address, '--workflow-id', `rollout-${s}`, '--type', 'FirstWorkflowTask', '--reason', 'start over'],
      {
        stdio: 'pipe',
      },
    );
    const v = await waitFor(s, (x) => x.state === 'succeeded' || x.state === 'halted', 'a verdict of the reset run', 90_000);
    assert.equal(v.state, 'succeeded', v.summary);
    assert.deepEqual(versions(s), [NEW, NEW, NEW]);
    const first = ledger(s, 'deploy').filter((e) => e.region === REGIONS[0]);
    assert.equal(first.length, 2, 'the reset run deployed the first region again, for real');
    assert.notEqual(first[0]!.idempotencyKey, first[1]!.idempotencyKey);
  });

  test('1. an abort during a deploy rolls back what the deploy landed: the rollback reads the region only once the deploy ended', async () => {
    // A deploy API whose operations take 3 s, and whose rollback is an undo: read before the
    // deploy landed, the region looked rolled back already, and the deploy landed after
    // (found by the chaos run, seed 20261207).
    const slow = await startSimulator({ regions: REGIONS, deployDelayMs: 3000, initialVersions: { 'abort-mid-deploy': OLD } });
    try {
      const s = 'abort-mid-deploy';
      // Every call answers after 1.5 s: the abort arrives while the deploy is being posted,
      // so the activity learns of it at its first heartbeat, with the operation just begun.
      slow.setFaults({ undoRollback: true, latencyMs: 1500 });
      await startRollout(m, { ...plan(s), deployer: { type: 'http', baseUrl: slow.url, pollInterval: '100ms', timeout: '30s' } }, { startedBy: 'ci' });
      await waitFor(s, (x) => x.regions[0]!.status === 'deploying', 'the first deploy in flight');
      await act(m, s, 'abort', who);
      const v = await end(s);
      assert.equal(v.status.state, 'aborted', v.status.summary);
      assert.equal(v.status.regions[0]!.status, 'rolled-back');
      assert.equal(slow.versionOf(s, REGIONS[0]!), OLD, 'rolled back means the region does not run the version');
    } finally {
      await slow.close();
    }
  });
});

function existsFile(p: string): boolean {
  try {
    readFileSync(p);
    return true;
  } catch {
    return false;
  }
}
