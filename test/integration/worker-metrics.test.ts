// The worker's Prometheus endpoint, read by a real Prometheus: worker processes
// (worker/main.ts with MRCD_METRICS_PORT) run real rollouts against the region simulator on
// a dev server, and every figure is asserted through Prometheus' query API, as an operator's
// dashboards would read it. The first worker is killed mid-rollout and a second one replays
// the rollout's history to finish it: a metric counted again on replay would show here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { act, connectClient, followRollout, startRollout, type MrcdClient } from '../../client/rollouts';
import { startSimulator, type Simulator } from '../../dev/simulator';
import { freePort } from '../../dev/ports';
import { exportedName, ROLLOUT_METRICS } from '../../domain/metrics';
import { startPrometheus, waitForSeries, type RunningPrometheus } from '../support/prometheus';
import { startTestServer, statusUntil, type TestServer } from '../support/rollout-harness';
import { forTheFile } from '../support/temporal';
import { pollFor } from '../support/poll';

const ROOT = resolve(__dirname, '../..');
const REGIONS = ['ap-southeast-2', 'eu-west-1', 'us-east-1'];
const TASK_QUEUE = `metrics-${process.pid}`;
const M = Object.fromEntries(Object.entries(ROLLOUT_METRICS).map(([k, m]) => [k, exportedName(m)])) as Record<keyof typeof ROLLOUT_METRICS, string>;

const workers: ChildProcess[] = [];
const logs = new Map<ChildProcess, string>();
let server: TestServer;
let sim: Simulator;
let m: MrcdClient;
let prom: RunningPrometheus;
const ports: number[] = [];

async function stopAll(): Promise<void> {
  for (const w of workers) await stopWorker(w, 'SIGKILL');
  await prom?.stop();
  await m?.close();
  await sim?.close();
  await server?.stop();
}

// One start and one stop for everything, in order: node 20 runs a file's before hooks
// concurrently, and the workers must go before the server they poll.
forTheFile(async () => {
  try {
    server = await startTestServer();
    sim = await startSimulator({ regions: REGIONS, initialVersions: { pay: '1.0.0', cart: '1.0.0' }, deployDelayMs: 200 });
    m = await connectClient({ address: server.address, namespace: 'default', taskQueue: TASK_QUEUE });
    ports.push(await freePort(), await freePort());
    // Both workers' ports from the start: the second is down until it replaces the first.
    prom = await startPrometheus({ scrapeTargets: ports.map((p) => `127.0.0.1:${p}`), scrapeIntervalSeconds: 1 });
    return {};
  } catch (e) {
    await stopAll();
    throw e;
  }
}, stopAll);

function plan(service: string, soak: string) {
  return {
    service,
    version: '2.0.0',
    owner: { team: 'payments', contact: '#payments-oncall', runbook: 'https://runbooks.example.com/pay' },
    deployer: { type: 'http', baseUrl: sim.url, pollInterval: '200ms', timeout: '1m' },
    defaults: {
      soak,
      checkInterval: '500ms',
      gate: {
        maxInconclusive: 5,
        checks: [
          {
            name: 'error-ratio',
            source: { type: 'http', url: `${sim.url}/health/{{region}}?service={{service}}`, path: 'errorRatio' },
            comparator: '<',
            threshold: 0.02,
          },
        ],
      },
    },
    regions: REGIONS.map((name, i) => ({ name, size: (i + 1) * 10 })),
  };
}

/** A worker process serving metrics on its own port of loopback; resolves once it polls. */
function startWorker(metricsPort: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'worker/main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TEMPORAL_ADDRESS: server.address,
      MRCD_TASK_QUEUE: TASK_QUEUE,
      MRCD_LOG_FORMAT: 'json',
      MRCD_SHUTDOWN_GRACE: '2s',
      MRCD_METRICS_PORT: String(metricsPort),
      MRCD_METRICS_HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.push(child);
  logs.set(child, '');
  const append = (b: Buffer) => logs.set(child, logs.get(child)! + b.toString());
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`worker did not start:\n${logs.get(child)}`)), 90_000);
    const check = () => {
      if (!logs.get(child)!.includes('"msg":"worker started"')) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      res(child);
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => rej(new Error(`worker exited (${code}) before it started:\n${logs.get(child)}`)));
  });
}

async function stopWorker(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

/**
 * A series' last value over the test, also for a worker that has stopped: Prometheus marks a
 * dead target's series stale at once, so a plain instant query would forget what it counted.
 */
const total = (selector: string): string => `sum(max_over_time(${selector}[10m]))`;
const totalBy = (label: string, selector: string): string => `sum by (${label}) (max_over_time(${selector}[10m]))`;

/** An instant query's result vector (empty when nothing matches). */
async function query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${prom.url}/api/v1/query?${new URLSearchParams({ query: q }).toString()}`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  assert.equal(body.status, 'success', `${q}: ${body.error}`);
  return body.data.result;
}

/** The value of a query that sums to one number, or undefined when nothing matches. */
async function valueOf(q: string): Promise<number | undefined> {
  const r = await query(q);
  assert.ok(r.length <= 1, `${q} is one number, got ${r.length} series`);
  return r[0] ? Number(r[0].value[1]) : undefined;
}

/** Waits until the query reaches `expected` (scrapes lag the worker by up to an interval). */
async function until(q: string, expected: number, ms = 30_000): Promise<void> {
  await pollFor(
    `${q} = ${expected}`,
    () => valueOf(q),
    (v) => v === expected,
    { timeoutMs: ms, everyMs: 250 },
  );
}

test('a rollout counted once across a worker killed mid-rollout and the worker that replays it', { timeout: 300_000 }, async () => {
  const first = await startWorker(ports[0]!);
  await startRollout(m, plan('pay', '4s'), { startedBy: 'metrics-test' });
  await statusUntil(m, 'pay', (s) => s.regions[0]?.status === 'promoted' && s.regions[1]?.status === 'soaking', 'ap-southeast-2 promoted');
  // What the first worker counted, scraped before it dies.
  await until(total(`${M.regionsPromoted}{service="pay"}`), 1);
  await until(total(`${M.gateVerdicts}{service="pay",verdict="pass"}`), 1);
  await stopWorker(first, 'SIGKILL');

  // The second worker replays everything up to here (the start, the first promotion) and counts only what comes after.
  await startWorker(ports[1]!);
  const verdict = await followRollout(m, 'pay', () => {}, 200);
  assert.equal(verdict.status.state, 'succeeded', verdict.status.summary);
  await until(total(`${M.rolloutsEnded}{service="pay"}`), 1);
  assert.deepEqual(
    (await query(totalBy('verdict', `${M.rolloutsEnded}{service="pay"}`))).map((r) => [r.metric.verdict, r.value[1]]),
    [['succeeded', '1']],
  );
  assert.equal(await valueOf(total(`${M.rolloutsStarted}{service="pay"}`)), 1, 'started once, though its start was replayed');
  assert.equal(await valueOf(total(`${M.regionsPromoted}{service="pay"}`)), REGIONS.length, 'every region promoted once');
  assert.equal(await valueOf(total(`${M.gateVerdicts}{service="pay",verdict="pass"}`)), REGIONS.length, 'one passing gate per region');
  assert.equal(await valueOf(total(`${M.stateTransitions}{service="pay",state="running"}`)), 1);
  assert.equal(await valueOf(total(`${M.stateTransitions}{service="pay",state="succeeded"}`)), 1);
  assert.equal(await valueOf(total(`${M.regionsRolledBack}{service="pay"}`)), undefined, 'nothing rolled back');
  assert.equal(await valueOf(total(`${M.halts}{service="pay"}`)), undefined, 'never halted');
  // One soak per region, measured by the worker that saw it end. Each took its 4 s at least,
  // but the one that ended on the second worker may read less: the first workflow task a
  // worker runs after taking over a rollout can carry the time of the last task before the
  // kill (seen here: a soak of 0 s). The one each worker saw whole is asserted.
  assert.equal(await valueOf(total(`${M.soakSeconds}_count{service="pay"}`)), REGIONS.length);
  const soaked = (port: number) => valueOf(total(`${M.soakSeconds}_sum{service="pay",instance="127.0.0.1:${port}"}`));
  assert.ok((await soaked(ports[0]!))! >= 4, 'the first region soaked its 4 s');
  assert.ok((await soaked(ports[1]!))! >= 4, 'so did the last');
  // Each worker's figures are its own series: the first one's counted the first promotion.
  assert.deepEqual(Object.fromEntries((await query(totalBy('instance', `${M.regionsPromoted}{service="pay"}`))).map((r) => [r.metric.instance, r.value[1]])), {
    [`127.0.0.1:${ports[0]}`]: '1',
    [`127.0.0.1:${ports[1]}`]: '2',
  });
});

test('a halt, its rollback, the time halted and the abort, by cause and verdict', { timeout: 300_000 }, async () => {
  sim.markBad('2.0.0', 'cart');
  await startRollout(m, plan('cart', '20s'), { startedBy: 'metrics-test' });
  const halted = await statusUntil(m, 'cart', (s) => s.state === 'halted', 'halted');
  assert.equal(halted.halt?.cause?.kind, 'slo-breach', halted.summary);
  await delay(2000); // held that long at least
  await act(m, 'cart', 'abort', { reason: 'bad build', by: 'metrics-test' });
  const verdict = await followRollout(m, 'cart', () => {}, 200);
  assert.equal(verdict.status.state, 'aborted');

  await until(total(`${M.rolloutsEnded}{service="cart",verdict="aborted"}`), 1);
  assert.equal(await valueOf(total(`${M.rolloutsStarted}{service="cart"}`)), 1);
  assert.deepEqual((await query(totalBy('kind', `${M.halts}{service="cart"}`))).map((r) => [r.metric.kind, r.value[1]]).sort(), [
    ['aborted', '1'],
    ['slo-breach', '1'],
  ]);
  assert.equal(await valueOf(total(`${M.regionsRolledBack}{service="cart"}`)), 1, 'the breaching region, rolled back');
  assert.equal(await valueOf(total(`${M.regionsPromoted}{service="cart"}`)), undefined);
  assert.equal(await valueOf(total(`${M.stateTransitions}{service="cart",state="halted"}`)), 1);
  assert.equal(await valueOf(total(`${M.soakSeconds}_count{service="cart"}`)), 1, 'the soak the breach cut short');
  assert.equal(await valueOf(total(`${M.holdSeconds}_count{service="cart",kind="halted"}`)), 1);
  assert.ok((await valueOf(total(`${M.holdSeconds}_sum{service="cart",kind="halted"}`)))! >= 2, 'halted for the 2 s before the abort');
  // A breach is no gate: the soak never reached its end.
  assert.equal(await valueOf(total(`${M.gateVerdicts}{service="cart"}`)), undefined);
});

test('a worker whose metrics port is taken stops at start and says which address', { timeout: 60_000 }, async () => {
  // The second worker still holds ports[1].
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'worker/main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', TEMPORAL_ADDRESS: server.address, MRCD_LOG_FORMAT: 'json', MRCD_METRICS_PORT: String(ports[1]) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 1, out);
  assert.match(out, new RegExp(`"metrics":"127\\.0\\.0\\.1:${ports[1]}".*"msg":"cannot serve metrics at MRCD_METRICS_HOST:MRCD_METRICS_PORT"`));
  assert.match(out, /Address already in use/);
});

test("the SDK's own metrics share the endpoint; no series carries a rollout's identity", { timeout: 60_000 }, async () => {
  // Temporal's SDK metrics, as Temporal's SDK dashboards name them.
  await waitForSeries(prom.url, 'temporal_workflow_completed_total');
  await waitForSeries(prom.url, 'temporal_workflow_failed_total');
  await waitForSeries(prom.url, 'temporal_activity_execution_latency_seconds_bucket');
  await waitForSeries(prom.url, 'temporal_num_pollers');
  // Every mrcd series: its labels are the documented tags and what the SDK and Prometheus add.
  const series = await query('{__name__=~"mrcd_.+"}');
  assert.ok(series.length > 0);
  const allowed = new Set([
    '__name__',
    'job',
    'instance',
    'le',
    'service',
    'state',
    'verdict',
    'kind',
    // The fleet policy's gauges: a freeze's source, a region (both bounded sets).
    'source',
    'region',
    'namespace',
    'taskQueue',
    'workflowType',
    'activityType',
  ]);
  for (const s of series) {
    for (const [label, value] of Object.entries(s.metric)) {
      assert.ok(allowed.has(label), `${s.metric.__name__} has an unexpected label ${label}=${value}`);
      assert.doesNotMatch(value, /rollout-|2\.0\.0/, `${s.metric.__name__}{${label}} names a rollout or a version`);
    }
  }
  // Every metric of domain/metrics.ts was emitted by these rollouts but the hold kinds never held.
  const names = new Set(series.map((s) => s.metric.__name__!.replace(/_(bucket|sum|count)$/, '')));
  for (const name of Object.values(M)) assert.ok(names.has(name), `${name} is served`);
});
