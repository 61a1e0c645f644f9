// Watches must never starve the worker: more rollouts soak (and stay watched after
// promotion) than the worker has activity slots, yet every gate, deploy and rollback runs.
// Real activities against the region simulator, on a real dev server, with a worker held
// to 4 activity slots and 8 rollouts of 2 regions at once.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createActivities } from '../../activities';
import { followRollout, startRollout, type MrcdClient } from '../../client/rollouts';
import { startSimulator, type Simulator } from '../../dev/simulator';
import { useTestServer } from '../support/rollout-harness';

const SLOTS = 4;
const SERVICES = Array.from({ length: 2 * SLOTS }, (_, i) => `svc-${i}`);
const BAD = 'svc-5';
const SOAK_MS = 3000;
const TASK_QUEUE = `starve-${process.pid}`;
let sim: Simulator;
let m: MrcdClient;
const env = useTestServer({}, async (server) => {
  sim = await startSimulator({ regions: ['small', 'large'], deployDelayMs: 100, initialVersions: Object.fromEntries(SERVICES.map((s) => [s, '1.0.0'])) });
  m = await server.serve(TASK_QUEUE, createActivities(), { maxConcurrentActivityTaskExecutions: SLOTS });
});

// After the server's own (hooks run in order): its worker stops before the simulator.
after(async () => {
  await sim?.close();
});

function plan(service: string) {
  return {
    service,
    version: '2.0.0',
    owner: { team: 'payments', contact: '#payments-oncall', runbook: 'https://runbooks.example.com/checkout' },
    deployer: { type: 'http', baseUrl: sim.url, pollInterval: '100ms', timeout: '30s' },
    defaults: {
      soak: `${SOAK_MS}ms`,
      checkInterval: '500ms',
      gate: {
        maxInconclusive: 30,
        checks: [
          {
            name: 'error-ratio',
            source: { type: 'http', url: `${sim.url}/health/{{region}}?service={{service}}`, path: 'errorRatio' },
            comparator: '<',
            threshold: 0.05,
          },
        ],
      },
    },
    regions: [
      { name: 'small', size: 1 },
      { name: 'large', size: 10 },
    ],
  };
}

test(
  `${SERVICES.length} rollouts soaking on a worker with ${SLOTS} activity slots all finish; a breach in one still rolls back promptly`,
  { timeout: 180_000 },
  async () => {
    sim.markBad('2.0.0', BAD);
    for (const s of SERVICES) await startRollout(m, plan(s), { startedBy: 'test' });
    const verdicts = await Promise.all(
      SERVICES.map((s) =>
        Promise.race([
          followRollout(m, s, () => {}, { intervalMs: 250, stopAtHalt: true }),
          new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`${s} made no progress in 90 s: watches starve the worker`)), 90_000)),
        ]),
      ),
    );
    for (const [i, v] of verdicts.entries()) {
      if (SERVICES[i] === BAD) continue;
      assert.equal(v.status.state, 'succeeded', `${SERVICES[i]}: ${v.status.summary}`);
    }
    const bad = verdicts[SERVICES.indexOf(BAD)]!;
    assert.equal(bad.outcome, 'halted');
    assert.deepEqual(
      {
        kind: bad.status.halt?.cause?.kind,
        region: bad.status.halt?.cause?.region,
        check: bad.status.halt?.cause?.check,
        verdict: bad.status.halt?.cause?.verdict,
      },
      { kind: 'slo-breach', region: 'small', check: 'error-ratio', verdict: 'fail' },
    );
    // Caught by the watch while soaking, not at the gate after the soak.
    const ledger = sim.ledger().filter((e) => e.service === BAD && e.region === 'small');
    const deployedAt = ledger.find((e) => e.kind === 'deploy')!.at;
    const rolledBackAt = ledger.find((e) => e.kind === 'rollback')!.at;
    assert.ok(rolledBackAt - deployedAt < SOAK_MS, `rolled back ${rolledBackAt - deployedAt} ms after its deploy; the soak is ${SOAK_MS} ms`);
    for (const s of SERVICES.filter((x) => x !== BAD))
      assert.deepEqual(
        ['small', 'large'].map((r) => sim.versionOf(s, r)),
        ['2.0.0', '2.0.0'],
      );
    await env.client.workflow.getHandle(`rollout-${BAD}`).terminate('test ended');
  },
);
