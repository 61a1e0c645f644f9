// The kubernetes deployer's activities against a real API server and the real Deployment
// controller (test/support/kube-control-plane.ts: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kwok's fake nodes). Regions are namespaces, each
// with a kubeconfig context of its name. `npm run test:kube` (not part of `npm test`: the
// control plane is built once per machine, ~15 minutes).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure, type Logger } from '@temporalio/common';
import { deployRegion, rollbackRegion } from '../../activities/deployers';
import { checkDeployment } from '../../activities/deployers/running-version';
import { readerFor } from '../../activities/deployers/registry';
import { ANNOTATION } from '../../activities/deployers/kubernetes-api';
import type { DeployInput, DeployResult, RollbackInput } from '../../domain/activity-contract';
import type { NormalizedKubernetesDeployer } from '../../plan';
import { ACTIVITY_FAILURE } from '../../domain/failures';
import { startKubeControlPlane, type KubeControlPlane } from '../../dev/kube-control-plane';
import { pollFor } from '../support/poll';

const REGIONS = ['region-a', 'region-b'];
const KUBECONFIG_ENV = 'MRCD_TEST_KUBECONFIG';
const IMAGE = 'registry.example.com/api';

const quiet: Logger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

let kube: KubeControlPlane;

before(async () => {
  kube = await startKubeControlPlane({ regions: REGIONS });
  process.env[KUBECONFIG_ENV] = kube.kubeconfigPath;
});
after(async () => {
  delete process.env[KUBECONFIG_ENV];
  await kube?.stop();
});

function apps(context = 'admin'): k8s.AppsV1Api {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  kc.setCurrentContext(context);
  return kc.makeApiClient(k8s.AppsV1Api);
}

function deployer(over: Partial<NormalizedKubernetesDeployer> = {}): NormalizedKubernetesDeployer {
  return {
    type: 'kubernetes',
    kubeconfigEnv: KUBECONFIG_ENV,
    context: '{{region}}',
    namespace: '{{region}}',
    deployment: '{{service}}',
    container: 'app',
    image: `${IMAGE}:{{version}}`,
    regions: {},
    timeoutMs: 60_000,
    pollIntervalMs: 200,
    ...over,
  };
}

/** A fresh Deployment named `name` in the region's namespace, rolled out on `version`. */
async function workload(region: string, name: string, version: string, over: Partial<k8s.V1DeploymentSpec> = {}, cpu?: string): Promise<void> {
  const labels = { app: name };
  await apps().createNamespacedDeployment({
    namespace: region,
    body: {
      metadata: { name, labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'app', image: `${IMAGE}:${version}`, ...(cpu ? { resources: { requests: { cpu } } } : {}) }] },
        },
        ...over,
      },
    },
  });
  await rolledOut(region, name);
}

function rolledOut(region: string, name: string): Promise<k8s.V1Deployment> {
  return pollFor(
    `${region}/${name} rolled out`,
    () => apps().readNamespacedDeployment({ name, namespace: region }),
    (d) => {
      const s = d.status ?? {};
      const want = d.spec?.replicas ?? 1;
      return (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) && s.replicas === want && s.updatedReplicas === want && s.availableReplicas === want;
    },
    { timeoutMs: 60_000 },
  );
}

function read(region: string, name: string): Promise<k8s.V1Deployment> {
  return apps().readNamespacedDeployment({ name, namespace: region });
}

function imageOf(d: k8s.V1Deployment): string | undefined {
  return d.spec?.template?.spec?.containers?.find((c) => c.name === 'app')?.image;
}

function input(
  service: string,
  region: string,
  version: string,
  over: { key?: string; deployer?: NormalizedKubernetesDeployer } = {},
): DeployInput<NormalizedKubernetesDeployer> {
  return {
    rolloutId: 'ro-k8s',
    service,
    region,
    version,
    deployer: over.deployer ?? deployer(),
    idempotencyKey: over.key ?? `ro-k8s:${region}:${version}:deploy:1`,
  };
}

function run<R>(fn: (i: never) => Promise<R>, arg: unknown, attempt = 1): Promise<R> {
  const env = new MockActivityEnvironment({ attempt, heartbeatTimeoutMs: 30_000 }, { logger: quiet });
  return env.run(fn as (i: unknown) => Promise<R>, arg) as Promise<R>;
}

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  assert.ok(e instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(e)}`);
  return e;
}

describe('kubernetes deployer, against a real API server and Deployment controller', () => {
  test('deploy sets the image, waits for the controller to call it rolled out, and records the exact previous image', async () => {
    await workload('region-a', 'api', '1.0.0');
    const r = await run<DeployResult>(deployRegion, input('api', 'region-a', '1.1.0'));
    assert.equal(r.previousVersion, '1.0.0');
    const d = await read('region-a', 'api');
    assert.equal(imageOf(d), `${IMAGE}:1.1.0`);
    // Rolled out when it answered, by the controller's own status.
    assert.equal(d.status?.updatedReplicas, 2);
    assert.equal(d.status?.availableReplicas, 2);
    assert.equal(d.status?.replicas, 2);
    assert.equal(d.metadata?.annotations?.[ANNOTATION.previousImage], `${IMAGE}:1.0.0`);
    assert.equal(d.metadata?.annotations?.[ANNOTATION.key], 'ro-k8s:region-a:1.1.0:deploy:1');
    const check = await checkDeployment(readerFor(deployer()), { service: 'api', region: 'region-a', version: '1.1.0' });
    assert.equal(check.verdict, 'pass', check.detail);
  });

  test('a retried attempt under the same key attaches: one patch per key, even after a change by hand', async () => {
    await workload('region-b', 'twice', '1.0.0');
    const i = input('twice', 'region-b', '2.0.0');
    await run(deployRegion, i);
    const first = await read('region-b', 'twice');
    await run(deployRegion, i, 2);
    assert.equal((await read('region-b', 'twice')).metadata?.generation, first.metadata?.generation, 'no second change of the spec');
    // Someone sets it back by hand while the step is retried: the key has had its patch, so
    // the retry does not deploy again; what runs decides, and it is not the version.
    await apps().patchNamespacedDeployment(
      { name: 'twice', namespace: 'region-b', body: { spec: { template: { spec: { containers: [{ name: 'app', image: `${IMAGE}:1.0.0` }] } } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    const f = await failure(run(deployRegion, i, 3));
    assert.equal(f.type, ACTIVITY_FAILURE.deployNotLanded);
    assert.match(f.message, /deploy twice 2\.0\.0 to region-b: .*the region runs 1\.0\.0: the deploy did not land/);
    assert.equal(imageOf(await read('region-b', 'twice')), `${IMAGE}:1.0.0`, 'not patched a second time');
  });

  test('the same version deployed again (a new rollout): nothing rolls, it reports the version itself as what ran before, and the recorded previous image stays', async () => {
    await workload('region-a', 'again', '1.0.0');
    await run(deployRegion, input('again', 'region-a', '1.1.0'));
    const first = await read('region-a', 'again');
    const r = await run<DeployResult>(deployRegion, input('again', 'region-a', '1.1.0', { key: 'ro-k8s-2:region-a:1.1.0:deploy:1' }));
    assert.equal(r.previousVersion, '1.1.0');
    const d = await read('region-a', 'again');
    // (Its generation moves: a Deployment counts annotation changes too, and the new key is recorded.)
    assert.deepEqual(d.spec, first.spec, 'the same template: nothing rolls');
    assert.equal(d.metadata?.annotations?.[ANNOTATION.previousImage], `${IMAGE}:1.0.0`);
  });

  test('rollback restores the exact previous image; run twice, and after a rollback by hand, it lands on the same revision', async () => {
    await workload('region-a', 'back', '1.0.0');
    await run(deployRegion, input('back', 'region-a', '1.1.0'));
    const deployed = await read('region-a', 'back');
    const rb: RollbackInput<NormalizedKubernetesDeployer> = {
      ...input('back', 'region-a', '1.1.0', { key: 'ro-k8s:region-a:1.1.0:rollback:1' }),
      previousVersion: '1.0.0',
    };
    const r1 = await run<DeployResult>(rollbackRegion, rb);
    assert.equal(r1.running, '1.0.0');
    const once = await read('region-a', 'back');
    assert.equal(imageOf(once), `${IMAGE}:1.0.0`);
    // The same activity again (a retried attempt, then an operator's retry with a new key).
    await run(rollbackRegion, rb, 2);
    const r3 = await run<DeployResult>(rollbackRegion, { ...rb, idempotencyKey: 'ro-k8s:region-a:1.1.0:rollback:2' });
    assert.equal(r3.alreadyBack, true, 'an operator retry finds the region back and sends nothing');
    const twice = await read('region-a', 'back');
    assert.equal(imageOf(twice), `${IMAGE}:1.0.0`, 'never the bad version again');
    assert.equal(twice.metadata?.generation, once.metadata?.generation);
    assert.ok((deployed.metadata?.generation ?? 0) < (once.metadata?.generation ?? 0));
  });

  test('a stuck rollout (pods that cannot be scheduled) fails at ProgressDeadlineExceeded with its cause, and rolls back to the exact previous image', async () => {
    // One fake node with 32 CPUs: the old pod holds 20, so the new one never fits.
    await workload(
      'region-b',
      'stuck',
      '1.0.0',
      { replicas: 1, progressDeadlineSeconds: 3, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } },
      '20',
    );
    const f = await failure(run(deployRegion, input('stuck', 'region-b', '1.1.0')));
    assert.equal(f.type, ACTIVITY_FAILURE.deployFailed);
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, /ProgressDeadlineExceeded/);
    assert.match(f.message, /region-b\/stuck/);
    const check = await checkDeployment(readerFor(deployer()), { service: 'stuck', region: 'region-b', version: '1.1.0' });
    assert.equal(check.verdict, 'fail');
    assert.match(check.detail, /1\.1\.0 \(rolling out; 1\.0\.0 still serving\)/);
    const r = await run<DeployResult>(rollbackRegion, {
      ...input('stuck', 'region-b', '1.1.0', { key: 'ro-k8s:region-b:1.1.0:rollback:1' }),
      previousVersion: '1.0.0',
    });
    assert.equal(r.running, '1.0.0');
    const d = await rolledOut('region-b', 'stuck');
    assert.equal(imageOf(d), `${IMAGE}:1.0.0`);
  });

  test('a Deployment changed with kubectl-style patch after the deploy: the gate check fails naming what runs', async () => {
    await workload('region-a', 'handmade', '1.0.0');
    await run(deployRegion, input('handmade', 'region-a', '1.1.0'));
    await apps().patchNamespacedDeployment(
      { name: 'handmade', namespace: 'region-a', body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    await rolledOut('region-a', 'handmade');
    const check = await checkDeployment(readerFor(deployer()), { service: 'handmade', region: 'region-a', version: '1.1.0' });
    assert.equal(check.verdict, 'fail');
    assert.match(check.detail, /region-a runs image nginx:1\.27 of handmade, not 1\.1\.0/);
  });

  test('refusals name the region and what to fix, and change nothing: paused, missing, wrong container, RBAC, unreachable, no context', async () => {
    await workload('region-b', 'paused', '1.0.0');
    await apps().patchNamespacedDeployment(
      { name: 'paused', namespace: 'region-b', body: { spec: { paused: true } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const before = await read('region-b', 'paused');
    const paused = await failure(run(deployRegion, input('paused', 'region-b', '1.1.0')));
    assert.equal(paused.nonRetryable, true);
    assert.match(paused.message, /Deployment region-b\/paused in context region-b is paused.*kubectl rollout resume/);
    // The controller may still write the Deployment's status (its Paused condition); the spec and the annotations are mrcd's.
    const afterPaused = await read('region-b', 'paused');
    assert.equal(afterPaused.metadata?.generation, before.metadata?.generation, 'nothing half-applied');
    assert.deepEqual(afterPaused.metadata?.annotations ?? {}, before.metadata?.annotations ?? {});

    const missing = await failure(run(deployRegion, input('nowhere', 'region-b', '1.1.0')));
    assert.equal(missing.type, ACTIVITY_FAILURE.deployConfig);
    assert.match(missing.message, /deploy nowhere 1\.1\.0 to region-b: Deployment region-b\/nowhere in context region-b not found/);

    await workload('region-a', 'named', '1.0.0');
    const wrong = await failure(run(deployRegion, input('named', 'region-a', '1.1.0', { deployer: deployer({ container: 'web' }) })));
    assert.match(wrong.message, /has no container web \(it has: app\); set deployer\.container/);

    const forbidden = await failure(
      run(
        deployRegion,
        input('named', 'region-a', '1.1.0', { deployer: deployer({ regions: { 'region-a': { context: 'forbidden', namespace: 'region-a' } } }) }),
      ),
    );
    assert.equal(forbidden.type, ACTIVITY_FAILURE.deployConfig);
    assert.match(forbidden.message, /forbidden to get deployments for Deployment region-a\/named in context forbidden/);
    assert.equal(imageOf(await read('region-a', 'named')), `${IMAGE}:1.0.0`);

    const noContext = await failure(run(deployRegion, input('named', 'region-c', '1.1.0')));
    assert.match(noContext.message, /has no context region-c/);

    const unset = await failure(
      run(deployRegion, input('named', 'region-a', '1.1.0', { deployer: deployer({ kubeconfigEnv: 'MRCD_TEST_KUBECONFIG_UNSET' }) })),
    );
    assert.match(unset.message, /environment variable MRCD_TEST_KUBECONFIG_UNSET is not set on the worker/);

    // An API server nobody listens on: retryable (it may come back), naming the server.
    const dir = mkdtempSync(join(tmpdir(), 'mrcd-kubeconfig-'));
    const gone = join(dir, 'kubeconfig');
    writeFileSync(
      gone,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'gone', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'u', user: { token: 'x' } }],
        contexts: [{ name: 'region-a', context: { cluster: 'gone', user: 'u', namespace: 'region-a' } }],
        'current-context': 'region-a',
      }),
    );
    process.env.MRCD_TEST_KUBECONFIG_GONE = gone;
    try {
      const unreachable = await failure(
        run(deployRegion, input('named', 'region-a', '1.1.0', { deployer: deployer({ kubeconfigEnv: 'MRCD_TEST_KUBECONFIG_GONE' }) })),
      );
      assert.equal(unreachable.nonRetryable, false);
      assert.match(
        unreachable.message,
        /the API server of Deployment region-a\/named in context region-a at https:\/\/127\.0\.0\.1:1 is unreachable \(.*ECONNREFUSED/,
      );
    } finally {
      delete process.env.MRCD_TEST_KUBECONFIG_GONE;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
