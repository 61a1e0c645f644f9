// A verdict must match what runs in each region. On a real dev server, with the real
// activities against the region simulator: the same version shipped twice, retries after
// a fixed deploy or rollback failure, a deployer that reports success without deploying,
// and a region changed from outside during its soak.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createActivities } from '../../activities';
import { act, followRollout, startRollout, type MrcdClient } from '../../client/rollouts';
import { PARTIAL_DEPLOY_ERROR, startSimulator, type Simulator } from '../../dev/simulator';
import type { RolloutStatus } from '../../domain/state';
import { statusUntil, useTestServer } from '../support/rollout-harness';
import { simulatorPlan } from '../support/simulator-plan';

const REGIONS = ['ap-southeast-2', 'eu-west-1', 'us-east-1'];
const TASK_QUEUE = `redeploy-${process.pid}`;
let sim: Simulator;
let m: MrcdClient;
useTestServer({}, async (server) => {
  sim = await startSimulator({
    regions: REGIONS,
    deployDelayMs: 100,
    initialVersions: Object.fromEntries(['checkout', 'cart', 'pay', 'search', 'ledger'].map((s) => [s, '1.9.0'])),
  });
  m = await server.serve(TASK_QUEUE, createActivities());
});

// After the server's own (hooks run in order): its worker stops before the simulator.
after(async () => {
  await sim?.close();
});

function plan(service: string, version: string, soak = '2s') {
  return simulatorPlan(sim.url, { service, version, soak, regions: REGIONS });
}

const who = { reason: 'test', by: 'tester' };

const waitFor = (service: string, ok: (s: RolloutStatus) => boolean, what: string) => statusUntil(m, service, ok, what);

const versions = (service: string) => REGIONS.map((r) => sim.versionOf(service, r));
const deploys = (service: string) =>
  sim
    .ledger()
    .filter((e) => e.service === service && e.kind === 'deploy')
    .map((e) => e.region);

describe('redeploys and retries reach the regions', { timeout: 300_000 }, () => {
  test('the same version again after an abort deploys again: succeeded means every region runs it', async () => {
    await startRollout(m, plan('checkout', '2.0.0'), { startedBy: 'ci' });
    await waitFor('checkout', (s) => s.regions[1]!.status === 'soaking', 'second region soaking');
    await act(m, 'checkout', 'abort', who);
    const aborted = await followRollout(m, 'checkout', () => {}, 200);
    assert.equal(aborted.status.state, 'aborted');
    assert.deepEqual(versions('checkout'), ['1.9.0', '1.9.0', '1.9.0']);

    await startRollout(m, plan('checkout', '2.0.0'), { startedBy: 'ci' });
    const again = await followRollout(m, 'checkout', () => {}, 200);
    assert.equal(again.status.state, 'succeeded', again.status.summary);
    assert.deepEqual(versions('checkout'), ['2.0.0', '2.0.0', '2.0.0'], 'a success is a success in every region');
    assert.deepEqual(deploys('checkout'), ['ap-southeast-2', 'eu-west-1', ...REGIONS]);
  });

  test('a retry after a deploy failure that was fixed at the target deploys again', async () => {
    sim.setFaults({ region: 'eu-west-1', partialDeploy: true });
    await startRollout(m, plan('cart', '2.0.0'), { startedBy: 'ci' });
    const halted = await waitFor('cart', (s) => s.state === 'halted', 'halt');
    assert.equal(halted.halt?.region, 'eu-west-1');
    assert.deepEqual({ kind: halted.halt?.cause?.kind, region: halted.halt?.cause?.region }, { kind: 'deploy-failed', region: 'eu-west-1' });
    // Which deploy failure: only the deployer's words (detail) say it was the partial deploy.
    assert.ok(halted.halt?.cause?.detail?.includes(PARTIAL_DEPLOY_ERROR), halted.halt?.cause?.detail);
    sim.clearFaults('eu-west-1');
    await act(m, 'cart', 'retry', { reason: 'hosts fixed', by: 'oncall' });
    const v = await followRollout(m, 'cart', () => {}, 200);
    assert.equal(v.status.state, 'succeeded', v.status.summary);
    assert.deepEqual(versions('cart'), ['2.0.0', '2.0.0', '2.0.0']);
  });

  test('a retry after a failed rollback rolls back again', async () => {
    sim.markBad('2.0.0', 'pay');
    sim.setFaults({ region: 'ap-southeast-2', failRollback: true });
    await startRollout(m, plan('pay', '2.0.0', '20s'), { startedBy: 'ci' });
    await waitFor('pay', (s) => s.state === 'rollback-failed', 'rollback-failed');
    assert.equal(sim.versionOf('pay', 'ap-southeast-2'), '2.0.0');
    sim.clearFaults('ap-southeast-2');
    await act(m, 'pay', 'retry', { reason: 'deployer fixed', by: 'oncall' });
    const halted = await waitFor('pay', (s) => s.state === 'halted', 'halt after the rollback');
    assert.equal(halted.regions[0]!.status, 'rolled-back');
    assert.equal(sim.versionOf('pay', 'ap-southeast-2'), '1.9.0');
    await act(m, 'pay', 'abort', who);
    assert.equal((await followRollout(m, 'pay', () => {}, 200)).status.state, 'aborted');
  });

  test('a deploy the deployer calls a success while the region keeps its version is not promoted', async () => {
    sim.setFaults({ region: 'eu-west-1', ghostDeploy: true });
    await startRollout(m, plan('search', '2.0.0'), { startedBy: 'ci' });
    const halted = await waitFor('search', (s) => s.state === 'halted', 'halt');
    sim.clearFaults('eu-west-1');
    assert.equal(halted.halt?.region, 'eu-west-1');
    assert.deepEqual({ kind: halted.halt?.cause?.kind, region: halted.halt?.cause?.region }, { kind: 'deploy-failed', region: 'eu-west-1' });
    // That the deploy did not land is in the deployer check's words (detail) only.
    assert.ok(halted.halt?.cause?.detail?.includes('but the region runs 1.9.0: the deploy did not land'), halted.halt?.cause?.detail);
    assert.deepEqual(
      halted.regions.map((r) => r.status),
      ['promoted', 'rolled-back', 'pending'],
    );
    assert.equal(halted.quarantine, undefined, "a deployer fault is not the version's fault");
    await act(m, 'search', 'abort', who);
    await followRollout(m, 'search', () => {}, 200);
  });

  test('a region changed from outside during its soak is not promoted, and the version is not quarantined', async () => {
    await startRollout(m, plan('ledger', '2.0.0', '3s'), { startedBy: 'ci' });
    await waitFor('ledger', (s) => s.regions[0]!.status === 'soaking', 'soaking');
    // Someone redeploys the old version by hand while the new one soaks.
    const res = await fetch(`${sim.url}/regions/ap-southeast-2/deploy`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'ledger', version: '1.9.0', idempotencyKey: 'by-hand' }),
    });
    assert.equal(res.status, 202);
    const halted = await waitFor('ledger', (s) => s.state === 'halted', 'halt');
    assert.equal(halted.halt?.region, 'ap-southeast-2');
    assert.deepEqual(halted.halt?.cause, { kind: 'not-running-version', region: 'ap-southeast-2', detail: 'ap-southeast-2 runs 1.9.0 of ledger, not 2.0.0' });
    assert.equal(halted.regions[0]!.lastGate?.deployment?.verdict, 'fail');
    assert.equal(halted.quarantine, undefined);
    assert.deepEqual(deploys('ledger'), ['ap-southeast-2', 'ap-southeast-2'], 'nothing reached the next region');
    await act(m, 'ledger', 'abort', who);
    await followRollout(m, 'ledger', () => {}, 200);
  });
});
