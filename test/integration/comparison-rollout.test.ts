// Comparison gates in whole rollouts, with the real activities and a real Prometheus
// scraping the simulator's random traffic; the simulator's ledger is the ground truth of
// what was deployed and rolled back. A version four times worse in the smallest region is
// rolled back long before its soak would have ended (sequential stopping), and the next
// region never deploys; a good version under an incident that triples errors everywhere
// goes through with soak auto, promoted once the evidence says so, where an absolute gate on
// the same traffic would have rolled it back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { createActivities } from '../../activities';
import { followRollout, startRollout, type MrcdClient } from '../../client/rollouts';
import { startSimulator, type Simulator } from '../../dev/simulator';
import { startPrometheus, waitForSeries, type RunningPrometheus } from '../support/prometheus';
import { causeOf, statusUntil, useTestServer } from '../support/rollout-harness';
import { simulatorPlan } from '../support/simulator-plan';

const REGIONS = ['ap-southeast-2', 'eu-west-1', 'us-east-1'];
const TASK_QUEUE = `comparison-rollout-${process.pid}`;
const SOAK_MS = 30_000;
const COUNT = (extra: string) => `sum(increase(mrcd_sim_requests_total{service="{{service}}",region="{{region}}"${extra}}[{{window}}]))`;

let sim: Simulator;
let m: MrcdClient;
let prom: RunningPrometheus;
useTestServer({}, async (s) => {
  sim = await startSimulator({ regions: REGIONS, tickMs: 100, deployDelayMs: 100, initialVersions: { bad: '1.0.0', good: '1.0.0' } });
  sim.setTraffic({ region: REGIONS[0], requestsPerTick: 80, errorRate: 0.015, diurnal: { amplitude: 0.4, periodMs: 20_000 }, seed: 21 });
  sim.setTraffic({ region: REGIONS[1], requestsPerTick: 200, errorRate: 0.012, seed: 22 });
  sim.setTraffic({ region: REGIONS[2], requestsPerTick: 300, errorRate: 0.01, seed: 23 });
  m = await s.serve(TASK_QUEUE, createActivities());
});

/** The smallest region gated by a comparison with the regions after it; the others by the simulator's error ratio. */
function plan(service: string, version: string, soak: Record<string, string> = { soak: `${SOAK_MS / 1000}s`, maxSoak: '60s' }) {
  const comparison = {
    name: 'vs-control',
    source: { type: 'comparison', errors: COUNT(',code="500"'), requests: COUNT(''), control: 'auto', before: '25s', step: '2s', url: prom.url },
    comparator: '<',
    threshold: 1.5,
  };
  return simulatorPlan(sim.url, {
    service,
    version,
    regions: REGIONS,
    soak: '1s',
    region: (_, i) => (i === 0 ? { ...soak, checkInterval: '1s', gate: { maxInconclusive: 3, checks: [comparison] } } : {}),
  });
}

describe('comparison gates in rollouts', { timeout: 300_000 }, () => {
  before(async () => {
    prom = await startPrometheus({ scrapeTargets: [`127.0.0.1:${sim.port}`], scrapeIntervalSeconds: 1 });
    await waitForSeries(prom.url, 'mrcd_sim_requests_total{service="bad"}', 30_000);
    // Both services' window before their deploy: every region on 1.0.0.
    await delay(27_000);
  });

  after(async () => {
    await prom?.stop();
    // The simulator's traffic ticks on a timer: left running, it keeps this file's process alive.
    await sim?.close();
  });

  test('a version 4× worse in the smallest region rolls back there long before its soak ends; the next region never deploys', async () => {
    sim.markBad('2.0.0', 'bad', { errorFactor: 4, region: REGIONS[0] });
    await startRollout(m, plan('bad', '2.0.0'), { startedBy: 'ci' });
    // failurePolicy halt: the failed region is rolled back and the rollout waits for a person.
    const s = await statusUntil(
      m,
      'bad',
      (x) => x.state === 'halted' && x.regions[0]!.status === 'rolled-back',
      'halted, the first region rolled back',
      120_000,
    );
    assert.deepEqual(causeOf(s), { kind: 'slo-breach', region: REGIONS[0] }, JSON.stringify(s.halt));
    const first = s.regions[0]!;
    const check = first.lastGate!.checks.find((c) => c.name === 'vs-control')!;
    assert.equal(check.verdict, 'fail', check.detail);
    assert.match(check.detail, /^ap-southeast-2 errors [\d.]+× its control eu-west-1/);
    const ledger = sim.ledger().filter((e) => e.service === 'bad');
    const deployed = ledger.find((e) => e.kind === 'deploy' && e.region === REGIONS[0])!;
    const rolledBack = ledger.find((e) => e.kind === 'rollback' && e.region === REGIONS[0]);
    assert.ok(rolledBack, JSON.stringify(ledger));
    assert.ok(rolledBack.at - deployed.at < SOAK_MS / 2, `rolled back ${rolledBack.at - deployed.at} ms after the deploy; the soak is ${SOAK_MS} ms`);
    assert.deepEqual(
      ledger.filter((e) => e.region !== REGIONS[0]),
      [],
      'nothing reached a later region',
    );
    assert.equal(sim.versionOf('bad', REGIONS[0]), '1.0.0', 'read from the region: it runs the old version again');
  });

  test('soak auto under an incident tripling errors everywhere: the comparison passes a good version, and the soak ends on that evidence', async () => {
    sim.startIncident({ errorFactor: 3 });
    try {
      await startRollout(m, plan('good', '2.0.0', { soak: 'auto', minSoak: '4s', maxSoak: '150s', soakReason: 'ends on evidence' }), { startedBy: 'ci' });
      const done = await followRollout(m, 'good', () => {}, 200);
      assert.equal(done.status.state, 'succeeded', done.status.summary);
      const check = done.status.regions[0]!.lastGate!.checks.find((c) => c.name === 'vs-control')!;
      assert.equal(check.verdict, 'pass', check.detail);
      assert.ok(check.comparison!.region.errors > 0 && check.comparison!.controlCounts.errors > 0);
      // The same traffic against an absolute 3 % threshold: the region's own ratio breached it.
      const c = check.comparison!;
      assert.ok(c.region.errors / c.region.requests > 0.03, `the region's own error ratio ${c.region.errors / c.region.requests}`);
      assert.deepEqual(
        REGIONS.map((r) => sim.versionOf('good', r)),
        ['2.0.0', '2.0.0', '2.0.0'],
      );
      // Ended by the evidence: at least minSoak, promoted on a passing gate before maxSoak (how
      // long depends on the draws: 5-40 s seen on this machine).
      const first = done.status.regions[0]!;
      const soaked = first.promotedAt! - first.deployedAt!;
      assert.ok(soaked >= 4000 && soaked < 150_000, `soaked ${soaked} ms: at least minSoak, less than maxSoak`);
      assert.equal(first.lastGate?.verdict, 'pass');
    } finally {
      sim.endIncident();
    }
  });
});
