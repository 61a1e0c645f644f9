// Times after a failover (issue 20 item 6): the worker that holds a rollout dies (kill -9)
// while the region's deploy completes on another worker; the workflow task that records the
// deploy runs on a new worker. What it records must be true, and the soak never shorter
// than planned: the simulator's ledger (its own clock, on this machine) says when the deploy
// landed, and the gate may not come before that plus the soak.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { followRollout, startRollout, type MrcdClient } from '../../client/rollouts';
import { startSimulator, type Simulator } from '../../dev/simulator';
import { statusUntil, useTestServer } from '../support/rollout-harness';

const ROOT = join(__dirname, '..', '..');
const TASK_QUEUE = `failover-times-${process.pid}`;
const REGIONS = ['ap-southeast-2', 'eu-west-1'];
const SOAK_MS = 3000;
const dir = mkdtempSync(join(tmpdir(), 'mrcd-failover-'));
const bundle = join(dir, 'workflow-bundle.js');
const children: ChildProcess[] = [];
let sim: Simulator;
let m: MrcdClient;
let activityWorker: { worker: Worker; running: Promise<void> } | undefined;

// Registered before the server's hooks, so it runs first: the activity worker lets go of
// the server's connection before the server closes it.
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  activityWorker?.worker.shutdown();
  await activityWorker?.running;
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

const server = useTestServer({}, async (s) => {
  const built = await new Promise<number | null>((res) =>
    spawn(process.execPath, [join(ROOT, 'scripts/bundle-workflows.js'), bundle], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] }).on('close', res),
  );
  if (built !== 0 || !existsSync(bundle)) throw new Error('scripts/bundle-workflows.js failed');
  // A deploy takes 4 s: long enough to lose the workflow worker while it runs.
  sim = await startSimulator({ regions: REGIONS, deployDelayMs: 4000, initialVersions: { pay: '1.9.0' } });
  // Activities only, in this process: they go on while the workflow worker is killed.
  const worker = await Worker.create({ connection: s.nativeConnection, taskQueue: TASK_QUEUE, activities: createActivities() });
  activityWorker = { worker, running: worker.run() };
  m = { client: s.client, taskQueue: TASK_QUEUE, close: async () => {} };
});

function workflowWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/workflow-only-worker.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TEMPORAL_ADDRESS: server.address,
      MRCD_TASK_QUEUE: TASK_QUEUE,
      MRCD_WORKFLOW_BUNDLE: bundle,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`the workflow worker did not start: ${out}`)), 60_000);
    const seen = (b: Buffer) => {
      out += b.toString();
      if (!out.includes('workflow worker started')) return;
      clearTimeout(timer);
      res(child);
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  });
}

test('a deploy that lands while its workflow worker is dead: deployedAt is when it landed, the soak its full length', { timeout: 240_000 }, async () => {
  const first = await workflowWorker();
  await startRollout(
    m,
    {
      service: 'pay',
      version: '2.0.0',
      owner: { team: 'payments', contact: '#payments-oncall', runbook: 'https://runbooks.example.com/pay' },
      deployer: { type: 'http', baseUrl: sim.url, pollInterval: '200ms', timeout: '60s' },
      defaults: {
        soak: `${SOAK_MS / 1000}s`,
        checkInterval: '500ms',
        gate: {
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
      regions: REGIONS.map((name, i) => ({ name, size: i + 1 })),
    },
    { startedBy: 'failover-test' },
  );
  await statusUntil(m, 'pay', (s) => s.regions[0]!.status === 'deploying', 'the first deploy in flight');
  first.kill('SIGKILL');
  await workflowWorker();
  const verdict = await followRollout(m, 'pay', () => {}, 200);
  assert.equal(verdict.status.state, 'succeeded', verdict.status.summary);
  const landed = sim.ledger().find((e) => e.kind === 'deploy' && e.region === REGIONS[0])!.at;
  const r = verdict.status.regions[0]!;
  assert.ok(r.deployedAt! >= landed, `deployedAt ${r.deployedAt! - landed} ms from the deploy's landing: a time from before it`);
  assert.ok(r.lastGate!.at - landed >= SOAK_MS, `the gate came ${r.lastGate!.at - landed} ms after the deploy landed, under the ${SOAK_MS} ms soak`);
  assert.ok(r.promotedAt! >= r.lastGate!.at, 'promoted after its gate');
});
