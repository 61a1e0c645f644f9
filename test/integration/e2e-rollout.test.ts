// End to end with every real part: the Temporal dev server, worker processes running the
// real activities, the region simulator as the fleet, the `temporal` CLI binary.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDevServer, type TemporalServer } from '../../dev/temporal-server';
import { startSimulator, type Simulator } from '../../dev/simulator';
import {
  act,
  ActionRejectedError,
  connectClient,
  followRollout,
  getStatus,
  startRollout,
  RolloutAlreadyRunningError,
  type MrcdClient,
} from '../../client/rollouts';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { requireCli } from '../support/temporal';

const ROOT = resolve(__dirname, '../..');
const REGIONS = ['ap-southeast-2', 'eu-west-1', 'us-east-1'];
let server: TemporalServer;
let sim: Simulator;
let m: MrcdClient;
let dir: string;
const workers: ChildProcess[] = [];
/** Everything each worker printed, by process: the worker log operators read. */
const workerLogs = new Map<ChildProcess, string[]>();
const TASK_QUEUE = `e2e-${process.pid}`;
// Secrets by reference: plans name the variable, the worker's environment holds the value.
const SECRET = `s3cret-${process.pid}-token`;
process.env.MRCD_E2E_DEPLOY_TOKEN = SECRET;

function plan(service: string, version: string, soak = '3s') {
  return {
    service,
    version,
    owner: { team: 'payments', contact: '#payments-oncall', runbook: 'https://runbooks.example.com/checkout' },
    deployer: { type: 'http', baseUrl: sim.url, pollInterval: '200ms', timeout: '1m', tokenEnv: 'MRCD_E2E_DEPLOY_TOKEN' },
    defaults: {
      soak,
      checkInterval: '500ms',
      gate: {
        maxInconclusive: 5,
        checks: [
          {
            name: 'error-ratio',
            source: { type: 'http', url: `${sim.url}/health/{{region}}?service={{service}}`, path: 'errorRatio', tokenEnv: 'MRCD_E2E_DEPLOY_TOKEN' },
            comparator: '<',
            threshold: 0.02,
          },
        ],
      },
    },
    regions: REGIONS.map((name, i) => ({ name, size: (i + 1) * 10 })),
  };
}

/** Starts a worker process (the real worker/main.ts) and resolves once it polls. */
function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'worker/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: server.address,
      MRCD_TASK_QUEUE: TASK_QUEUE,
      MRCD_LOG_LEVEL: 'info',
      MRCD_LOG_FORMAT: 'json',
      MRCD_SHUTDOWN_GRACE: '2s',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.push(child);
  const log: string[] = [];
  workerLogs.set(child, log);
  child.stdout!.on('data', (b: Buffer) => log.push(b.toString()));
  return new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`worker did not start: ${out}`)), 60_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('worker started')) {
        clearTimeout(timer);
        res(child);
      }
    });
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    child.once('exit', (code) => rej(new Error(`worker exited (${code}) before it started: ${out}`)));
  });
}

async function stopWorker(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mrcd-e2e-'));
  server = await startDevServer({ dbFile: join(dir, 'temporal.db'), uiPort: false });
  sim = await startSimulator({ regions: REGIONS, initialVersions: { pay: '1.0.0', cart: '1.0.0', search: '1.0.0' }, deployDelayMs: 200, requireToken: SECRET });
  m = await connectClient({ address: server.address, namespace: 'default', taskQueue: TASK_QUEUE });
});

after(async () => {
  for (const w of workers) await stopWorker(w, 'SIGKILL');
  await m?.close();
  await sim?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('end to end on the dev server', { timeout: 300_000 }, () => {
  test('a full rollout deploys every region once, in order; a second start is refused while it runs', async () => {
    const worker = await startWorker();
    await startRollout(m, plan('pay', '2.0.0'), { startedBy: 'e2e' });
    await assert.rejects(startRollout(m, plan('pay', '2.0.1')), (e: unknown) => {
      assert.ok(e instanceof RolloutAlreadyRunningError);
      assert.match(e.message, /a rollout of pay is already running \(workflow rollout-pay, version 2\.0\.0/);
      return true;
    });
    const verdict = await followRollout(m, 'pay', () => {}, 200);
    assert.equal(verdict.status.state, 'succeeded');
    const ledger = sim.ledger().filter((e) => e.service === 'pay');
    assert.deepEqual(
      ledger.map((e) => [e.kind, e.region, e.version]),
      REGIONS.map((r) => ['deploy', r, '2.0.0']),
    );
    for (const r of REGIONS) assert.equal(sim.versionOf('pay', r), '2.0.0');
    // The deployer and the SLO source demanded the token; the history never saw it.
    const json = historyToJSON(await m.client.workflow.getHandle('rollout-pay').fetchHistory());
    // Payloads are base64 in the JSON form: decode every one so the scan sees their text.
    const decoded = [...json.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((x) => Buffer.from(x[1]!, 'base64').toString('utf8'));
    const history = json + decoded.join('\n');
    assert.ok(history.includes('MRCD_E2E_DEPLOY_TOKEN'), 'the plan names the variable');
    assert.ok(!history.includes(SECRET), 'the secret value is nowhere in the workflow history');
    await stopWorker(worker, 'SIGTERM');
    assert.equal(worker.exitCode, 0, 'SIGTERM is a graceful shutdown');
  });

  test('a bad version is caught in the first region, rolled back there, and never reaches later ones', async () => {
    await startWorker();
    sim.markBad('2.0.0', 'cart');
    await startRollout(m, plan('cart', '2.0.0', '20s'), { startedBy: 'e2e' });
    const deadline = Date.now() + 60_000;
    let s = await getStatus(m, 'cart');
    while (s.state !== 'halted' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      s = await getStatus(m, 'cart');
    }
    assert.equal(s.state, 'halted', s.summary);
    assert.equal(s.halt?.region, 'ap-southeast-2');
    assert.deepEqual(
      { kind: s.halt?.cause?.kind, region: s.halt?.cause?.region, check: s.halt?.cause?.check, verdict: s.halt?.cause?.verdict },
      { kind: 'slo-breach', region: 'ap-southeast-2', check: 'error-ratio', verdict: 'fail' },
    );
    assert.equal(sim.versionOf('cart', 'ap-southeast-2'), '1.0.0');
    assert.deepEqual(
      sim
        .ledger()
        .filter((e) => e.service === 'cart')
        .map((e) => [e.kind, e.region, e.version]),
      [
        ['deploy', 'ap-southeast-2', '2.0.0'],
        ['rollback', 'ap-southeast-2', '1.0.0'],
      ],
    );
    const abort = spawnSync(
      requireCli(),
      ['workflow', 'signal', '--address', server.address, '--workflow-id', 'rollout-cart', '--name', 'abort', '--input', '{"reason":"bad build","by":"e2e"}'],
      { encoding: 'utf8' },
    );
    assert.equal(abort.status, 0, abort.stderr);
    const v = await followRollout(m, 'cart', () => {}, 200);
    assert.equal(v.status.state, 'aborted');
    assert.equal(sim.ledger().filter((e) => e.service === 'cart' && e.region !== 'ap-southeast-2').length, 0);
  });

  test('pause and resume through the real temporal CLI; a worker killed mid-soak is replaced and every region is deployed once', async () => {
    const first = workers.at(-1)!;
    await startRollout(m, plan('search', '2.0.0', '6s'), { startedBy: 'e2e' });
    const cli = requireCli();
    const signal = (name: string) => {
      const r = spawnSync(
        cli,
        ['workflow', 'signal', '--address', server.address, '--workflow-id', 'rollout-search', '--name', name, '--input', `{"reason":"check","by":"me"}`],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
    };
    let s = await getStatus(m, 'search');
    while (s.regions[0]?.status !== 'soaking') {
      await new Promise((r) => setTimeout(r, 100));
      s = await getStatus(m, 'search');
    }
    signal('pause');
    const query = spawnSync(
      cli,
      ['workflow', 'query', '--address', server.address, '--workflow-id', 'rollout-search', '--name', 'status', '--output', 'json'],
      { encoding: 'utf8' },
    );
    assert.equal(query.status, 0, query.stderr);
    assert.match(query.stdout, /"state":\s*"paused"/);
    assert.equal((await getStatus(m, 'search')).pausedBy, 'me');

    // kill -9 the worker mid-soak; a new one picks the rollout up from history.
    await stopWorker(first, 'SIGKILL');
    await startWorker();
    signal('resume');
    const v = await followRollout(m, 'search', () => {}, 200);
    assert.equal(v.status.state, 'succeeded', v.status.summary);
    const ledger = sim.ledger().filter((e) => e.service === 'search');
    assert.deepEqual(
      ledger.map((e) => [e.kind, e.region]),
      REGIONS.map((r) => ['deploy', r]),
    );
    assert.deepEqual(
      v.status.actions.map((a) => [a.action, a.by, a.via, a.accepted]),
      [
        ['pause', 'me', 'signal', true],
        ['resume', 'me', 'signal', true],
      ],
    );
  });

  test('a rejected update and an unknown signal reach the worker log, naming who and why', async () => {
    await startWorker();
    await startRollout(m, plan('notes', '2.0.0', '20s'), { startedBy: 'e2e' });
    let s = await getStatus(m, 'notes');
    while (s.regions[0]?.status !== 'soaking') {
      await new Promise((r) => setTimeout(r, 100));
      s = await getStatus(m, 'notes');
    }
    await assert.rejects(act(m, 'notes', 'approve', { reason: 'looks fine', by: 'erin' }), ActionRejectedError);
    const sent = spawnSync(
      requireCli(),
      [
        'workflow',
        'signal',
        '--address',
        server.address,
        '--workflow-id',
        'rollout-notes',
        '--name',
        'frobnicate',
        '--input',
        '{"reason":"oops","by":"frank"}',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(sent.status, 0, sent.stderr);
    // Earlier tests' workers poll the same queue: any of them may run the rollout.
    const lines = () =>
      [...workerLogs.values()]
        .map((l) => l.join(''))
        .join('\n')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const deadline = Date.now() + 15_000;
    while (!lines().some((l) => l.msg === 'operator action rejected') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const update = lines().find((l) => l.msg === 'operator update rejected');
    assert.ok(update, 'the rejected update is in the worker log');
    assert.equal(update.action, 'approve');
    assert.equal(update.by, 'erin');
    assert.match(String(update.why), /no region is waiting for approval/);
    const unknown = lines().find((l) => l.msg === 'operator action rejected' && l.action === 'frobnicate');
    assert.ok(unknown, 'the unknown signal is in the worker log');
    assert.equal(unknown.by, 'frank');
    assert.match(String(unknown.why), /unknown signal "frobnicate"/);
    await act(m, 'notes', 'abort', { reason: 'done', by: 'e2e' });
    await followRollout(m, 'notes', () => {}, 200);
  });
});
