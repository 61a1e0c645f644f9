// The fleet policy on a real dev server, with the real activities against the region
// simulator, whose deploy ledger is the ground truth: a freeze holds deploys and
// promotions (and no deploy reaches a frozen region), aborts and rollbacks run under it,
// lifting or expiring it lets held rollouts go on, a region with concurrency 1 is taken in
// turns, a terminated rollout's slot comes back, and bad requests are refused with paths.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createActivities } from '../../activities';
import { act, followRollout, startRollout, type MrcdClient } from '../../client/rollouts';
import { applyPolicy, createFreeze, liftFreeze, overrideFreeze, showPolicy } from '../../client/policy';
import { fleetView } from '../../client/fleet';
import { InvalidPolicyRequestError, PolicyRefusedError } from '../../client/errors';
import { startSimulator, type Simulator } from '../../dev/simulator';
import { policyWorkflowId } from '../../domain/policy';
import { createFreezeSignal } from '../../domain/policy-definitions';
import type { RolloutStatus } from '../../domain/state';
import { pollFor } from '../support/poll';
import { statusUntil, useTestServer } from '../support/rollout-harness';
import { simulatorPlan } from '../support/simulator-plan';

const REGIONS = ['ap-southeast-2', 'eu-west-1', 'us-east-1'];
const TASK_QUEUE = `fleet-policy-${process.pid}`;
const SERVICES = ['checkout', 'cart', 'pay', 'search', 'ledger', 'auth', 'billing'];
let sim: Simulator;
let m: MrcdClient;
useTestServer({}, async (server) => {
  sim = await startSimulator({ regions: REGIONS, deployDelayMs: 100, initialVersions: Object.fromEntries(SERVICES.map((s) => [s, '1.9.0'])) });
  m = await server.serve(TASK_QUEUE, createActivities());
});

after(async () => {
  await sim?.close();
});

function plan(service: string, version: string, soak = '2s', team = 'payments') {
  return simulatorPlan(sim.url, { service, version, soak, team, regions: REGIONS });
}

const waitFor = (service: string, ok: (s: RolloutStatus) => boolean, what: string, ms = 60_000) => statusUntil(m, service, ok, what, ms);
const deploys = (service: string) =>
  sim
    .ledger()
    .filter((e) => e.service === service && e.kind === 'deploy')
    .map((e) => ({ region: e.region, at: e.at }));
const versions = (service: string) => REGIONS.map((r) => sim.versionOf(service, r));

describe('the fleet policy holds and releases rollouts', { timeout: 300_000 }, () => {
  test('a freeze made mid-soak holds the promotion and the next deploy; lifting it lets the rollout finish', async () => {
    await startRollout(m, plan('checkout', '2.0.0', '3s'), { startedBy: 'ci' });
    await waitFor('checkout', (s) => s.regions[0]!.status === 'soaking', 'first region soaking');
    const freeze = await createFreeze(m, { scope: { services: ['checkout'] }, reason: 'INC-123 in progress', by: 'alice' });
    assert.match(freeze.id, /^F-\d+$/);
    // Told at once, while still soaking: the promotion would be held.
    const told = await waitFor('checkout', (s) => s.policy !== undefined, 'the freeze reported in status', 10_000);
    assert.equal(told.policy!.blockers[0]!.id, freeze.id);
    const held = await waitFor('checkout', (s) => s.regions[0]!.status === 'blocked', 'promotion blocked');
    assert.equal(held.state, 'running');
    assert.equal(held.regions[0]!.blockedBy?.[0]?.id, freeze.id);
    assert.match(held.regions[0]!.waitingFor ?? '', /its promotion: held by freeze F-\d+ \(INC-123 in progress, by alice\)/);
    assert.equal(held.hold?.kind, 'blocked');
    // Nothing reaches the next region while the freeze lasts.
    await new Promise((r) => setTimeout(r, 3_000));
    assert.deepEqual(
      deploys('checkout').map((d) => d.region),
      ['ap-southeast-2'],
      'no deploy while frozen',
    );
    const lifted = await liftFreeze(m, { id: freeze.id, reason: 'INC-123 mitigated', by: 'alice' });
    assert.equal(lifted.lifted?.by, 'alice');
    const liftedAt = Date.now();
    const done = await followRollout(m, 'checkout', () => {}, 200);
    assert.equal(done.status.state, 'succeeded', done.status.summary);
    assert.deepEqual(versions('checkout'), ['2.0.0', '2.0.0', '2.0.0']);
    const later = deploys('checkout').slice(1);
    assert.ok(
      later.every((d) => d.at >= liftedAt - 1_000),
      'the later deploys came after the lift',
    );
    assert.equal(
      done.status.holds?.some((h) => h.kind === 'blocked'),
      true,
      'the blocked hold is recorded for the review',
    );
    const p = await showPolicy(m);
    assert.equal(p.leases.filter((l) => l.rolloutId === 'rollout-checkout').length, 0, 'an ended rollout holds no slot');
    assert.ok(p.log.some((e) => e.action === 'freeze' && e.by === 'alice' && e.detail === freeze.id));
    assert.ok(p.log.some((e) => e.action === 'lift' && e.reason === 'INC-123 mitigated'));
  });

  test('a region-scoped freeze holds the deploy into that region; abort rolls back under the freeze', async () => {
    const freeze = await createFreeze(m, { scope: { regions: ['eu-west-1'] }, reason: 'eu-west-1 failing over', by: 'bob' });
    try {
      await startRollout(m, plan('cart', '2.0.0', '1s'), { startedBy: 'ci' });
      const held = await waitFor('cart', (s) => s.regions[1]!.status === 'blocked', 'eu-west-1 deploy blocked');
      assert.equal(held.regions[0]!.status, 'promoted', 'the region outside the scope was promoted');
      assert.match(held.regions[1]!.waitingFor ?? '', /its deploy: held by freeze/);
      assert.deepEqual(
        deploys('cart').map((d) => d.region),
        ['ap-southeast-2'],
      );
      await act(m, 'cart', 'abort', { reason: 'give up', by: 'bob' });
      const end = await followRollout(m, 'cart', () => {}, 200);
      assert.equal(end.status.state, 'aborted');
      assert.equal(end.status.regions[1]!.status, 'pending', 'the held region was never deployed');
      assert.deepEqual(versions('cart'), ['1.9.0', '1.9.0', '1.9.0'], 'the abort rolled back under the freeze');
      assert.ok(sim.ledger().some((e) => e.service === 'cart' && e.kind === 'rollback' && e.region === 'ap-southeast-2'));
    } finally {
      await liftFreeze(m, { id: freeze.id, reason: 'test over', by: 'bob' });
    }
  });

  test('a freeze with an end lets held rollouts go by itself', async () => {
    const freeze = await createFreeze(m, { scope: { services: ['pay'] }, reason: 'deploy quiet period', by: 'carol', until: Date.now() + 6_000 });
    await startRollout(m, plan('pay', '2.0.0', '1s'), { startedBy: 'ci' });
    const held = await waitFor('pay', (s) => s.regions[0]!.status === 'blocked', 'first deploy blocked');
    assert.equal(held.regions[0]!.waitingUntil, freeze.until);
    assert.equal(deploys('pay').length, 0);
    const done = await followRollout(m, 'pay', () => {}, 200);
    assert.equal(done.status.state, 'succeeded', done.status.summary);
    assert.ok(deploys('pay')[0]!.at >= freeze.until! - 50, 'the first deploy came after the freeze ended');
    const p = await showPolicy(m);
    assert.ok(p.log.some((e) => e.action === 'expire' && e.detail === freeze.id));
  });

  test('concurrency 1: two services take a region in turns; a terminated rollout gives its slot back', async () => {
    await applyPolicy(m, { concurrency: { 'ap-southeast-2': 1 }, freezes: [], reason: 'one at a time in the canary region', by: 'sre' });
    try {
      await startRollout(m, plan('search', '2.0.0', '4s'), { startedBy: 'ci' });
      await waitFor('search', (s) => s.regions[0]!.status === 'soaking', 'search soaking in the canary');
      await startRollout(m, plan('ledger', '2.0.0', '1s'), { startedBy: 'ci' });
      const queued = await waitFor('ledger', (s) => s.regions[0]!.status === 'blocked', 'ledger waits for a slot');
      assert.equal(queued.regions[0]!.blockedBy?.[0]?.kind, 'concurrency');
      await waitFor('search', (s) => s.regions[0]!.status === 'promoted', 'search promoted in the canary');
      await waitFor('ledger', (s) => s.regions[0]!.deployedAt !== undefined, 'ledger deployed to the canary');
      // The slot changes hands when search's promotion is allowed: the policy's log, and the simulator's ledger.
      const log = (await showPolicy(m)).log;
      const released = log.find((e) => e.action === 'release' && e.reason === 'promoted' && e.detail?.startsWith('rollout-search'));
      const granted = log.find((e) => e.action === 'grant' && e.detail?.startsWith('rollout-ledger'));
      assert.ok(released && granted && granted.at >= released.at, JSON.stringify(log.slice(-6)));
      const searchDeploy = deploys('search')[0]!;
      const ledgerDeploy = deploys('ledger')[0]!;
      assert.ok(ledgerDeploy.at >= released.at && ledgerDeploy.at > searchDeploy.at, 'ledger deployed only after search gave the slot back');
      await followRollout(m, 'search', () => {}, 200);
      await followRollout(m, 'ledger', () => {}, 200);

      // A rollout terminated in its soak never says goodbye: the policy finds out and frees the slot.
      await startRollout(m, plan('auth', '2.0.0', '60s'), { startedBy: 'ci' });
      await waitFor('auth', (s) => s.regions[0]!.status === 'soaking', 'auth soaking');
      await startRollout(m, plan('search', '2.1.0', '1s'), { startedBy: 'ci' });
      await waitFor('search', (s) => s.version === '2.1.0' && s.regions[0]!.status === 'blocked', 'search waits behind auth');
      await m.client.workflow.getHandle('rollout-auth').terminate('operator terminated it');
      const freed = await waitFor('search', (s) => s.version === '2.1.0' && s.regions[0]!.status === 'promoted', 'search gets the slot', 60_000);
      assert.equal(freed.state, 'running');
      const p = await showPolicy(m);
      assert.ok(
        p.log.some((e) => e.action === 'reclaim' && e.detail?.startsWith('rollout-auth')),
        JSON.stringify(p.log.slice(-5)),
      );
      await followRollout(m, 'search', () => {}, 200);
    } finally {
      await applyPolicy(m, { concurrency: {}, freezes: [], reason: 'test over', by: 'sre' });
    }
  });

  test('an override lets a held rollout past the freeze, expires, is recorded; the policy file can say who may override', async () => {
    const freeze = await createFreeze(m, { scope: { services: ['billing'], regions: ['eu-west-1'] }, reason: 'billing freeze', by: 'dana' });
    try {
      await applyPolicy(m, { concurrency: {}, freezes: [], overriders: ['incident-commander'], reason: 'only the IC overrides', by: 'sre' });
      await startRollout(m, plan('billing', '2.0.0', '1s'), { startedBy: 'ci' });
      await waitFor('billing', (s) => s.regions[1]!.status === 'blocked', 'eu-west-1 deploy blocked');
      await assert.rejects(
        overrideFreeze(m, { service: 'billing', rolloutId: 'rollout-billing', reason: 'ship the fix', by: 'intern' }),
        (e: unknown) =>
          e instanceof PolicyRefusedError && /intern may not override a freeze: the policy file names who may \(incident-commander\)/.test(e.message),
      );
      const ov = await overrideFreeze(m, {
        service: 'billing',
        rolloutId: 'rollout-billing',
        reason: 'INC-9 fix',
        by: 'incident-commander',
        until: Date.now() + 60_000,
      });
      assert.match(ov.id, /^O-\d+$/);
      const done = await followRollout(m, 'billing', () => {}, 200);
      assert.equal(done.status.state, 'succeeded', done.status.summary);
      assert.deepEqual(versions('billing'), ['2.0.0', '2.0.0', '2.0.0']);
      const recorded = done.status.overrides?.find((o) => o.kind === 'freeze');
      assert.equal(recorded?.by, 'incident-commander');
      assert.equal(recorded?.region, 'eu-west-1');
      assert.match(recorded?.detail ?? '', new RegExp(`deploy past freeze ${freeze.id} by override ${ov.id}`));
      const p = await showPolicy(m);
      assert.ok(p.log.some((e) => e.action === 'override' && e.by === 'incident-commander' && e.detail?.startsWith(ov.id)));
      assert.ok(
        p.freezes.some((f) => f.id === freeze.id),
        'the freeze itself still holds everyone else',
      );
    } finally {
      await liftFreeze(m, { id: freeze.id, reason: 'test over', by: 'dana' });
      await applyPolicy(m, { concurrency: {}, freezes: [], reason: 'test over', by: 'sre' });
    }
  });

  test('the fleet view agrees with what the regions run, and shows what is in flight and what holds it', async () => {
    const freeze = await createFreeze(m, { scope: { services: ['checkout'], regions: ['us-east-1'] }, reason: 'fleet view test', by: 'erin' });
    try {
      await startRollout(m, plan('checkout', '2.1.0', '1s'), { startedBy: 'ci' });
      await waitFor('checkout', (s) => s.regions[2]!.status === 'blocked', 'us-east-1 held');
      const v = await pollFor(
        'every rollout listed',
        () => fleetView(m),
        (x) => x.services.length >= 7 && x.services.find((s) => s.service === 'checkout')?.inFlight?.hold !== undefined,
        { timeoutMs: 15_000, everyMs: 250 },
      );
      assert.deepEqual(v.regions, REGIONS);
      let compared = 0;
      for (const svc of v.services)
        for (const [region, cell] of Object.entries(svc.regions)) {
          if (cell.version === undefined) continue;
          assert.equal(cell.version, sim.versionOf(svc.service, region), `${svc.service} in ${region}`);
          compared += 1;
        }
      assert.ok(compared >= 15, `most cells are known (${compared})`);
      const checkout = v.services.find((s) => s.service === 'checkout')!;
      assert.equal(checkout.inFlight?.version, '2.1.0');
      assert.equal(checkout.inFlight?.hold, 'blocked at us-east-1');
      assert.equal(checkout.regions['us-east-1']!.version, '2.0.0', 'the held region still runs what the last rollout verified');
      assert.equal(checkout.regions['ap-southeast-2']!.version, '2.1.0');
      assert.ok(v.freezes.some((f) => f.id === freeze.id));
    } finally {
      await liftFreeze(m, { id: freeze.id, reason: 'test over', by: 'erin' });
    }
    const done = await followRollout(m, 'checkout', () => {}, 200);
    assert.equal(done.status.state, 'succeeded');
  });

  test('bad requests are refused with every problem and its path; a bad signal is recorded, not dropped', async () => {
    await assert.rejects(createFreeze(m, { scope: { regions: [], colour: ['x'] } as never, reason: '', by: 'x', until: 5 }), (e: unknown) => {
      assert.ok(e instanceof InvalidPolicyRequestError);
      assert.deepEqual(e.problems, [
        'reason: must be a non-empty string',
        'scope.regions: must be a non-empty list of names',
        'scope.colour: unknown (allowed: regions, services, teams)',
        'until: must be in the future',
      ]);
      return true;
    });
    await assert.rejects(liftFreeze(m, { id: 'F-999', reason: 'r', by: 'b' }), PolicyRefusedError);
    await assert.rejects(
      applyPolicy(m, { concurrency: { 'eu-west-1': 0 }, freezes: [], reason: 'r', by: 'b' }),
      /concurrency\.eu-west-1: must be a whole number of at least 1/,
    );
    // The Web UI sends signals, which cannot answer: the refusal goes to the policy's log.
    await m.client.workflow.getHandle(policyWorkflowId(TASK_QUEUE)).signal(createFreezeSignal, { reason: 'no by' } as never);
    const p = await pollFor(
      'the refused signal in the log',
      () => showPolicy(m),
      (x) => x.log.some((e) => e.action === 'rejected'),
      { timeoutMs: 10_000, everyMs: 100 },
    );
    assert.match(p.log.find((e) => e.action === 'rejected')!.reason, /by: must be a non-empty string/);
  });
});
