// Rollouts through the kubernetes deployer with every real part: the Temporal dev server, the
// real worker process and activities, a real API server with the real Deployment controller
// (regions are namespaces, each its own kubeconfig context), and a real Prometheus for the
// gates. `npm run test:kube`.
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { startDevServer, type TemporalServer } from '../../dev/temporal-server';
import { act, connectClient, followRollout, getStatus, rolloutHandle, startRollout, type MrcdClient } from '../../client/rollouts';
import type { RolloutStatus } from '../../domain/state';
import { ANNOTATION } from '../../activities/deployers/kubernetes-api';
import { startKubeControlPlane, type KubeControlPlane } from '../../dev/kube-control-plane';
import { startPrometheus, waitForSeries, type RunningPrometheus } from '../support/prometheus';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { pollFor } from '../support/poll';

const ROOT = resolve(__dirname, '../..');
const REGIONS = ['region-a', 'region-b', 'region-c'];
const IMAGE = 'registry.example.com/shop';
const KUBECONFIG_ENV = 'MRCD_TEST_KUBECONFIG';
const TASK_QUEUE = `kube-${process.pid}`;

let kube: KubeControlPlane;
let server: TemporalServer;
let prom: RunningPrometheus;
let app: http.Server;
let m: MrcdClient;
let worker: WorkerProcess | undefined;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mrcd-kube-rollout-'));
  kube = await startKubeControlPlane({ regions: REGIONS });
  // What the gates read: the service's own metrics endpoint, scraped by a real Prometheus.
  app = http.createServer((_req, res) => res.end('# TYPE shop_up gauge\nshop_up 1\n'));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  prom = await startPrometheus({ scrapeTargets: [`127.0.0.1:${(app.address() as AddressInfo).port}`] });
  await waitForSeries(prom.url, 'shop_up');
  server = await startDevServer({ dbFile: join(dir, 'temporal.db'), uiPort: false });
  m = await connectClient({ address: server.address, namespace: 'default', taskQueue: TASK_QUEUE });
  worker = await startWorker();
});

after(async () => {
  await worker?.stop('SIGKILL');
  await m?.close();
  await server?.stop();
  await prom?.stop();
  app?.closeAllConnections();
  await new Promise((r) => app?.close(r));
  await kube?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function startWorker(): Promise<WorkerProcess> {
  return startWorkerProcess(server.address, TASK_QUEUE, { [KUBECONFIG_ENV]: kube.kubeconfigPath, MRCD_LOG_LEVEL: 'info' });
}

function apps(): k8s.AppsV1Api {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  kc.setCurrentContext('admin');
  return kc.makeApiClient(k8s.AppsV1Api);
}

function read(region: string, name: string): Promise<k8s.V1Deployment> {
  return apps().readNamespacedDeployment({ name, namespace: region });
}

function imageOf(d: k8s.V1Deployment): string | undefined {
  return d.spec?.template?.spec?.containers?.find((c) => c.name === 'app')?.image;
}

function rolledOut(d: k8s.V1Deployment): boolean {
  const s = d.status ?? {};
  const want = d.spec?.replicas ?? 1;
  return (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) && s.replicas === want && s.updatedReplicas === want && s.availableReplicas === want;
}

/** The service's Deployment in every region, rolled out on `version`. */
async function workloads(service: string, version: string, regions = REGIONS, spec: Partial<k8s.V1DeploymentSpec> = {}): Promise<void> {
  const labels = { app: service };
  for (const namespace of regions) {
    await apps().createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: service, labels },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: `${IMAGE}:${version}` }] } },
          ...spec,
        },
      },
    });
  }
  for (const namespace of regions) await pollFor(`${namespace}/${service} rolled out`, () => read(namespace, service), rolledOut, { timeoutMs: 60_000 });
}

function setImageByHand(region: string, service: string, image: string): Promise<unknown> {
  return apps().patchNamespacedDeployment(
    { name: service, namespace: region, body: { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
}

function plan(service: string, version: string, over: { regions?: Record<string, unknown>[]; soak?: string; failing?: boolean } = {}) {
  return {
    service,
    version,
    owner: { team: 'shop', contact: '#shop-oncall', runbook: 'https://runbooks.example.com/shop' },
    deployer: {
      type: 'kubernetes',
      kubeconfigEnv: KUBECONFIG_ENV,
      namespace: '{{region}}',
      container: 'app',
      image: `${IMAGE}:{{version}}`,
      timeout: '2m',
      pollInterval: '200ms',
    },
    prometheus: { url: prom.url },
    defaults: {
      soak: over.soak ?? '2s',
      checkInterval: '500ms',
      // `failing`: a gate no version passes (the service is up, and the check wants it down).
      gate: {
        maxInconclusive: 5,
        checks: [{ name: 'down', source: { type: 'prometheus', query: over.failing ? 'min(shop_up)' : '1 - min(shop_up)' }, comparator: '<', threshold: 0.5 }],
      },
    },
    growthReason: 'three namespaces stand for three clusters',
    regions: over.regions ?? REGIONS.map((name, i) => ({ name, size: (i + 1) * 10 })),
  };
}

function statusUntil(service: string, ok: (s: RolloutStatus) => boolean, what: string): Promise<RolloutStatus> {
  return pollFor(what, () => getStatus(m, service), ok, { timeoutMs: 120_000, everyMs: 200 });
}

describe('rollouts on Kubernetes', { timeout: 600_000 }, () => {
  test('a 3-region rollout ends with every Deployment rolled out on the new image, region by region', async () => {
    await workloads('shop', '1.0.0');
    await startRollout(m, plan('shop', '1.1.0'), { startedBy: 'ci' });
    const v = await followRollout(m, 'shop', () => undefined, { timeoutMs: 240_000 });
    assert.equal(v.status.state, 'succeeded', JSON.stringify(v.status.halt ?? v.status.summary));
    const promotedAt = v.status.regions.map((r) => r.promotedAt!);
    const deployedAt = v.status.regions.map((r) => r.deployedAt!);
    for (let i = 1; i < REGIONS.length; i++) assert.ok(deployedAt[i]! >= promotedAt[i - 1]!, `region ${i} deployed before region ${i - 1} was promoted`);
    for (const region of REGIONS) {
      const d = await read(region, 'shop');
      assert.equal(imageOf(d), `${IMAGE}:1.1.0`);
      assert.ok(rolledOut(d), `${region} not rolled out`);
      assert.equal(d.metadata?.annotations?.[ANNOTATION.previousImage], `${IMAGE}:1.0.0`);
    }
  });

  test('a Deployment changed by hand during the soak is not promoted, and the cause names what runs', async () => {
    await workloads('soaked', '1.0.0', ['region-a']);
    await startRollout(m, plan('soaked', '1.1.0', { soak: '6s', regions: [{ name: 'region-a', size: 10 }] }));
    await statusUntil('soaked', (s) => s.regions[0]?.status === 'soaking', 'region-a soaking');
    await setImageByHand('region-a', 'soaked', 'nginx:1.27');
    const s = await statusUntil('soaked', (x) => ['halted', 'rollback-failed', 'rolled-back', 'failed'].includes(x.state), 'the rollout stopped');
    assert.notEqual(s.regions[0]!.status, 'promoted');
    assert.match(JSON.stringify(s), /image nginx:1\.27/);
    await rolloutHandle(m, 'soaked').terminate('test done');
  });

  test('a Deployment changed by hand while awaiting approval is not promoted when approved', async () => {
    await workloads('held', '1.0.0', ['region-b']);
    await startRollout(m, plan('held', '1.1.0', { regions: [{ name: 'region-b', size: 10, approval: 'required' }] }));
    await statusUntil('held', (s) => s.regions[0]?.status === 'awaiting-approval', 'region-b awaiting approval');
    await setImageByHand('region-b', 'held', `${IMAGE}:0.9.0`);
    await pollFor('the hand change rolled out', () => read('region-b', 'held'), rolledOut, { timeoutMs: 60_000 });
    await act(m, 'held', 'approve', { by: 'ci', reason: 'test' }).catch(() => undefined);
    const s = await statusUntil('held', (x) => x.state !== 'running' && x.state !== 'paused', 'the rollout stopped');
    assert.notEqual(s.regions[0]!.status, 'promoted');
    assert.match(JSON.stringify(s), /0\.9\.0/);
    await rolloutHandle(m, 'held')
      .terminate('test done')
      .catch(() => undefined);
  });

  test('kill -9 of the worker mid-deploy: the next attempt attaches to the rollout it started, one patch for the key', async () => {
    // Slow to become available, so the worker dies while the deploy waits for the rollout.
    await workloads('slow', '1.0.0', ['region-c'], { minReadySeconds: 6 });
    const before = await read('region-c', 'slow');
    await startRollout(m, plan('slow', '2.0.0', { regions: [{ name: 'region-c', size: 10 }] }));
    await pollFor(
      'the deploy patched region-c',
      () => read('region-c', 'slow'),
      (d) => imageOf(d) === `${IMAGE}:2.0.0`,
      { timeoutMs: 60_000, everyMs: 100 },
    );
    await worker!.stop('SIGKILL');
    worker = await startWorker();
    const v = await followRollout(m, 'slow', () => undefined, { timeoutMs: 240_000 });
    assert.equal(v.status.state, 'succeeded', JSON.stringify(v.status.halt ?? v.status.summary));
    const d = await read('region-c', 'slow');
    assert.equal(imageOf(d), `${IMAGE}:2.0.0`);
    assert.equal(d.metadata?.generation, (before.metadata?.generation ?? 0) + 1, 'one change of the spec for the one deploy');
  });

  test('kill -9 of the worker mid-rollback: the next attempt finishes the same rollback, one patch for it, and the region ends on the exact previous image', async () => {
    await workloads('slowback', '1.0.0', ['region-a'], { minReadySeconds: 6 });
    const before = await read('region-a', 'slowback');
    await startRollout(m, plan('slowback', '3.0.0', { failing: true, regions: [{ name: 'region-a', size: 10 }] }));
    await pollFor(
      'the rollback patched region-a',
      () => read('region-a', 'slowback'),
      (d) => d.metadata?.annotations?.[ANNOTATION.step] === 'rollback',
      { timeoutMs: 120_000, everyMs: 100 },
    );
    await worker!.stop('SIGKILL');
    worker = await startWorker();
    const s = await statusUntil('slowback', (x) => ['halted', 'rollback-failed', 'rolled-back', 'failed'].includes(x.state), 'the rollout stopped');
    assert.equal(s.state, 'halted', s.summary);
    assert.equal(s.regions[0]!.status, 'rolled-back');
    const d = await pollFor('region-a rolled out', () => read('region-a', 'slowback'), rolledOut, { timeoutMs: 60_000 });
    assert.equal(imageOf(d), `${IMAGE}:1.0.0`);
    assert.equal(d.metadata?.generation, (before.metadata?.generation ?? 0) + 2, 'one change for the deploy, one for the rollback');
    await rolloutHandle(m, 'slowback').terminate('test done');
  });

  test('a region on its own task queue whose worker is down waits, mrcd status says why, and it goes on once the worker starts', async () => {
    await workloads('local', '1.0.0', ['region-a', 'region-b']);
    const queue = `region-b-local-${process.pid}`;
    await startRollout(
      m,
      plan('local', '1.1.0', {
        regions: [
          { name: 'region-a', size: 10 },
          { name: 'region-b', size: 20, taskQueue: queue },
        ],
      }),
    );
    const waiting = await statusUntil('local', (s) => s.regions[1]?.status === 'deploying', 'region-b deploying');
    assert.equal(waiting.regions[0]!.status, 'promoted', 'the region on the main queue went on');
    // What an operator runs: the real mrcd.
    const cli = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/main.ts'), 'status', 'local'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, TEMPORAL_ADDRESS: server.address, MRCD_TASK_QUEUE: TASK_QUEUE },
    });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`waiting: region-b: no worker polls its task queue ${queue}`));
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(imageOf(await read('region-b', 'local')), `${IMAGE}:1.0.0`, 'nothing deployed region-b without its worker');
    assert.equal((await getStatus(m, 'local')).state, 'running');

    const regionWorker = await startWorkerProcess(server.address, queue, { [KUBECONFIG_ENV]: kube.kubeconfigPath, MRCD_WORKER_ROLE: 'activities' });
    try {
      const v = await followRollout(m, 'local', () => undefined, { timeoutMs: 240_000 });
      assert.equal(v.status.state, 'succeeded', JSON.stringify(v.status.halt ?? v.status.summary));
      assert.equal(imageOf(await read('region-b', 'local')), `${IMAGE}:1.1.0`);
      // Region-b's steps ran on its own queue, region-a's on the main one.
      const history = await rolloutHandle(m, 'local').fetchHistory();
      const queues = (history.events ?? [])
        .map((e) => e.activityTaskScheduledEventAttributes)
        .filter((a): a is NonNullable<typeof a> => !!a && a.activityType?.name === 'deployRegion')
        .map((a) => a.taskQueue?.name);
      assert.deepEqual(queues, [TASK_QUEUE, queue]);
    } finally {
      await regionWorker.stop();
    }
  });

  test('a stuck rollout: ProgressDeadlineExceeded fails the region, it is rolled back to the exact previous image, and the rollout halts with the cause', async () => {
    // One fake node of 32 CPUs: the old pod holds 20, the new one never fits.
    await workloads('stuck', '1.0.0', ['region-c'], {
      replicas: 1,
      progressDeadlineSeconds: 3,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: 'stuck' } },
        spec: { containers: [{ name: 'app', image: `${IMAGE}:1.0.0`, resources: { requests: { cpu: '20' } } }] },
      },
    });
    await startRollout(m, plan('stuck', '1.1.0', { regions: [{ name: 'region-c', size: 10 }] }));
    const s = await statusUntil('stuck', (x) => ['halted', 'rollback-failed', 'failed'].includes(x.state), 'the rollout stopped');
    assert.equal(s.state, 'halted', s.summary);
    assert.equal(s.regions[0]!.status, 'rolled-back');
    assert.equal(s.halt?.cause?.kind, 'deploy-failed');
    assert.match(s.halt!.reason, /ProgressDeadlineExceeded/);
    const d = await pollFor('region-c back', () => read('region-c', 'stuck'), rolledOut, { timeoutMs: 60_000 });
    assert.equal(imageOf(d), `${IMAGE}:1.0.0`);
    await rolloutHandle(m, 'stuck').terminate('test done');
  });
});
