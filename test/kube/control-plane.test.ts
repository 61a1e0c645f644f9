// The real Kubernetes control plane of test/support/kube-control-plane.ts, end to end with the
// client library the deployer would use (@kubernetes/client-node): a 2-replica Deployment
// rolls out in a region's namespace, a new image rolls out as a second ReplicaSet, the
// `forbidden` context is refused by RBAC, and stop() leaves no process behind. Not part of
// `npm test` (a first run builds the control plane, ~7 minutes once per machine):
//
//   node --import tsx --test test/kube/control-plane.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { livePids, startKubeControlPlane, type KubeControlPlane } from '../../dev/kube-control-plane';
import { pollFor } from '../support/poll';

const IMAGE = 'registry.example.com/demo';

function clientFor(kube: KubeControlPlane, context: string): { apps: k8s.AppsV1Api; namespace: string } {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  kc.setCurrentContext(context);
  return { apps: kc.makeApiClient(k8s.AppsV1Api), namespace: kc.getContextObject(context)?.namespace ?? 'default' };
}

function deployment(name: string, tag: string): k8s.V1Deployment {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas: 2,
      progressDeadlineSeconds: 60,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: `${IMAGE}:${tag}` }] } },
    },
  };
}

/** Waits until the Deployment's status has caught up with its spec and every replica is updated and available. */
function rolledOut(apps: k8s.AppsV1Api, namespace: string, name: string): Promise<k8s.V1Deployment> {
  return pollFor(
    `${namespace}/${name} rolled out`,
    () => apps.readNamespacedDeployment({ name, namespace }),
    (d) => {
      const want = d.spec?.replicas ?? 1;
      const s = d.status ?? {};
      return (
        (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
        s.replicas === want &&
        s.updatedReplicas === want &&
        s.availableReplicas === want &&
        s.readyReplicas === want
      );
    },
    { timeoutMs: 60_000 },
  );
}

async function rollOutTwoVersions(kube: KubeControlPlane, context: string): Promise<void> {
  const { apps, namespace } = clientFor(kube, context);
  const name = 'demo';
  let t = Date.now();
  await apps.createNamespacedDeployment({ namespace, body: deployment(name, '1.0.0') });
  await rolledOut(apps, namespace, name);
  console.log(`[kube] ${context}: 2 replicas of 1.0.0 available in ${Date.now() - t} ms`);

  t = Date.now();
  const current = await apps.readNamespacedDeployment({ name, namespace });
  current.spec!.template.spec!.containers[0].image = `${IMAGE}:1.1.0`;
  await apps.replaceNamespacedDeployment({ name, namespace, body: current });
  const done = await rolledOut(apps, namespace, name);
  console.log(`[kube] ${context}: rolled out 1.1.0 in ${Date.now() - t} ms`);
  assert.equal(done.metadata?.annotations?.['deployment.kubernetes.io/revision'], '2');

  const sets = await apps.listNamespacedReplicaSet({ namespace, labelSelector: `app=${name}` });
  const byImage = Object.fromEntries(sets.items.map((rs) => [rs.spec?.template?.spec?.containers[0].image, rs.status?.replicas ?? -1]));
  assert.deepEqual(byImage, { [`${IMAGE}:1.0.0`]: 0, [`${IMAGE}:1.1.0`]: 2 }, 'one ReplicaSet per image, the old one scaled to 0');
}

async function stopAndCheckNothingLeft(kube: KubeControlPlane): Promise<void> {
  const pids = kube.pids();
  const t = Date.now();
  await kube.stop();
  console.log(`[kube] stopped ${pids.length} processes in ${Date.now() - t} ms`);
  assert.deepEqual(livePids(pids), [], 'no process of the control plane is left');
  const dir = kube.kubeconfigPath.replace(/\/kubeconfig$/, '');
  const pgrep = spawnSync('pgrep', ['-f', dir], { encoding: 'utf8' });
  assert.equal(pgrep.stdout.trim(), '', `pgrep -f ${dir}`);
  assert.equal(existsSync(dir), false, `${dir} removed`);
}

let kube: KubeControlPlane | undefined;
before(async () => {
  // A first run builds the binaries (~7 minutes on 2 cores) or copies them from the outer cache.
  kube = await startKubeControlPlane();
  console.log(`[kube] one API server (${kube.versions.kube}, etcd ${kube.versions.etcd}, kwok ${kube.versions.kwok}) ready in ${kube.startupMs} ms`);
});
after(async () => {
  await kube?.stop();
});

test('the kubeconfig has a context per region, admin and forbidden', () => {
  assert.deepEqual(
    kube!.contexts.map((c) => [c.name, c.user, c.namespace]),
    [
      ['region-a', 'admin', 'region-a'],
      ['region-b', 'admin', 'region-b'],
      ['admin', 'admin', 'default'],
      ['forbidden', 'nobody', 'region-a'],
    ],
  );
  assert.equal(kube!.regions['region-a'].server, kube!.regions['region-b'].server, 'one API server: regions are namespaces');
});

test('a 2-replica Deployment rolls out, and a new image rolls out as a second ReplicaSet', async () => {
  await rollOutTwoVersions(kube!, 'region-a');
});

test('RBAC: the forbidden context is refused with 403', async () => {
  const { apps, namespace } = clientFor(kube!, 'forbidden');
  await assert.rejects(
    () => apps.listNamespacedDeployment({ namespace }),
    (e: unknown) => e instanceof k8s.ApiException && e.code === 403,
  );
});

test('stop() leaves no process and no directory behind', async () => {
  await stopAndCheckNothingLeft(kube!);
  kube = undefined;
});

test('two API servers: each region has its own', async () => {
  const two = await startKubeControlPlane({ clusters: 2 });
  try {
    console.log(`[kube] two API servers ready in ${two.startupMs} ms`);
    assert.notEqual(two.regions['region-a'].server, two.regions['region-b'].server);
    assert.deepEqual(
      two.contexts.map((c) => [c.name, c.cluster]),
      [
        ['region-a', 'kube-1'],
        ['region-b', 'kube-2'],
        ['admin', 'kube-1'],
        ['forbidden', 'kube-1'],
        ['admin-kube-1', 'kube-1'],
        ['admin-kube-2', 'kube-2'],
      ],
    );
    await rollOutTwoVersions(two, 'region-b');
  } finally {
    await stopAndCheckNothingLeft(two);
  }
});
