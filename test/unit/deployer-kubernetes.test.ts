// The kubernetes deployer's pure parts: the plan's settings, where a region's workload is,
// how an image names a version, and when the Deployment controller calls a rollout complete.
// Against a real API server: test/kube/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePlan, type NormalizedKubernetesDeployer, type PlanProblem } from '../../plan';
import { runsOfImage, targetOf, versionOfImage } from '../../activities/deployers/kubernetes-target';
import type { V1Deployment } from '@kubernetes/client-node';
import { rolloutState } from '../../activities/deployers/kubernetes-api';
import { rollingOut, rollingOutTo } from '../../activities/deployers/running-version';

function doc(deployer: Record<string, unknown>, regions = [{ name: 'eu', size: 1 }]): Record<string, unknown> {
  return {
    service: 'shop',
    version: '2.0.0',
    owner: { team: 'shop', contact: '#shop', runbook: 'https://runbooks.example.com/shop' },
    deployer: { type: 'kubernetes', image: 'registry.example.com/{{service}}:{{version}}', ...deployer },
    defaults: { gate: { checks: [{ name: 'h', source: { type: 'http', url: 'http://127.0.0.1:1/h', path: 'v' }, comparator: '<', threshold: 1 }] } },
    regions,
  };
}

function problems(d: unknown): PlanProblem[] {
  const r = validatePlan(d);
  assert.ok(!r.ok, 'expected a refusal');
  return r.problems;
}

test('defaults: context {{region}}, namespace/deployment/container {{service}}, 10m timeout, 2s polls; per-region overrides win', () => {
  const r = validatePlan(doc({ kubeconfigEnv: 'KUBECONFIG', regions: { eu: { context: 'prod-eu', namespace: 'shop-eu' } } }));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  const d = r.plan.deployer as NormalizedKubernetesDeployer;
  assert.deepEqual(
    { ...d, regions: undefined },
    {
      type: 'kubernetes',
      kubeconfigEnv: 'KUBECONFIG',
      context: '{{region}}',
      namespace: '{{service}}',
      deployment: '{{service}}',
      container: '{{service}}',
      image: 'registry.example.com/{{service}}:{{version}}',
      regions: undefined,
      timeoutMs: 600_000,
      pollIntervalMs: 2_000,
    },
  );
  const eu = targetOf(d, 'shop', 'eu', '2.0.0');
  assert.deepEqual(eu, {
    context: 'prod-eu',
    namespace: 'shop-eu',
    deployment: 'shop',
    container: 'shop',
    image: 'registry.example.com/shop:2.0.0',
    where: 'Deployment shop-eu/shop in context prod-eu',
  });
  assert.equal(targetOf(d, 'shop', 'us', '2.0.0').context, 'us');
  assert.equal(targetOf({ ...d, kubeconfigEnv: undefined } as NormalizedKubernetesDeployer, 'shop', 'us', '2.0.0').where, 'Deployment shop/shop (in-cluster)');
});

test('refused at their paths: an image without {{version}}, an unknown placeholder, a secret-looking env name, a region the plan lacks', () => {
  assert.match(problems(doc({ image: 'registry.example.com/shop:latest' })).find((p) => p.path === 'deployer.image')!.message, /must contain \{\{version\}\}/);
  assert.match(problems(doc({ namespace: '{{team}}' })).find((p) => p.path === 'deployer.namespace')!.message, /unknown placeholder \{\{team\}\}/);
  assert.ok(problems(doc({ kubeconfigEnv: '/home/me/.kube/config' })).some((p) => p.path === 'deployer.kubeconfigEnv'));
  const typo = problems(doc({ regions: { ue: { context: 'x' } } })).find((p) => p.path === 'deployer.regions.ue')!;
  assert.equal(typo.id, 'deployer-region');
  assert.match(typo.message, /no region "ue" in the plan \(regions: eu\)/);
});

test('an image names its version by the template; anything else is shown as the image, never as a version', () => {
  const d = { image: 'registry.example.com/{{service}}:{{version}}' } as NormalizedKubernetesDeployer;
  assert.equal(versionOfImage(d, 'shop', 'eu', 'registry.example.com/shop:2.0.0-rc.1'), '2.0.0-rc.1');
  assert.equal(versionOfImage(d, 'shop', 'eu', 'registry.example.com/cart:2.0.0'), undefined);
  assert.equal(versionOfImage(d, 'shop', 'eu', 'registry.example.com/shop@sha256:abc'), undefined);
  assert.equal(runsOfImage(d, 'shop', 'eu', 'nginx:1.27'), 'image nginx:1.27');
  const twice = { image: 'r.example.com/{{version}}/shop:{{version}}' } as NormalizedKubernetesDeployer;
  assert.equal(versionOfImage(twice, 'shop', 'eu', 'r.example.com/1.0/shop:1.0'), '1.0');
  assert.equal(versionOfImage(twice, 'shop', 'eu', 'r.example.com/1.0/shop:1.1'), undefined);
});

test('mid-rollout answers name both versions and never equal one', () => {
  const words = rollingOut('2.0.0', '1.0.0');
  assert.equal(words, '2.0.0 (rolling out; 1.0.0 still serving)');
  assert.equal(rollingOutTo(words), '2.0.0');
  assert.equal(rollingOutTo('2.0.0'), undefined);
  assert.equal(rollingOutTo(null), undefined);
});

test('complete only as the controller defines it; a stale ProgressDeadlineExceeded does not outlive a completed rollout', () => {
  const dep = (status: Record<string, unknown>, generation = 2) =>
    ({ metadata: { generation }, spec: { replicas: 2, selector: {}, template: {} }, status }) as V1Deployment;
  const done = { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 };
  assert.equal(rolloutState(dep(done)).kind, 'complete');
  assert.equal(rolloutState(dep({ ...done, observedGeneration: 1 })).kind, 'progressing', 'the controller has not seen the change');
  assert.equal(rolloutState(dep({ ...done, replicas: 3 })).kind, 'progressing', 'an old pod is still there');
  assert.equal(rolloutState(dep({ ...done, availableReplicas: 1 })).kind, 'progressing');
  const pde = { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "x" has timed out progressing.' };
  const stuck = rolloutState(dep({ ...done, updatedReplicas: 1, conditions: [pde] }));
  assert.deepEqual(stuck, { kind: 'deadline-exceeded', words: 'ReplicaSet "x" has timed out progressing.' });
  assert.equal(rolloutState(dep({ ...done, conditions: [pde] })).kind, 'complete');
  assert.equal(
    rolloutState(dep({ ...done, observedGeneration: 1, conditions: [pde] })).kind,
    'progressing',
    'a deadline from before the change is not this rollout',
  );
  // Left False from before the step's own change (kubernetes/kubernetes: a stale condition after an undo).
  const old = { ...pde, lastUpdateTime: new Date(Date.parse('2026-12-01T00:00:00Z')) };
  const since = Date.parse('2026-12-07T10:00:00Z');
  assert.equal(rolloutState(dep({ ...done, updatedReplicas: 1, conditions: [old] }), since).kind, 'progressing');
  const now = { ...pde, lastUpdateTime: new Date(since + 20_000) };
  assert.equal(rolloutState(dep({ ...done, updatedReplicas: 1, conditions: [now] }), since).kind, 'deadline-exceeded');
});
