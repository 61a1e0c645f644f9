// The provider registries: every deployer type and every SLO source type the plan schema
// accepts has a provider (the mapped types make a missing one a compile error; this holds the
// schema and the registries to each other at run time too), and the generic code turns a type
// this worker does not know into a configuration failure or an `error` verdict, never a pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { deployerSchema, sourceSchema } from '../../plan/schema';
import { DEPLOYERS, deployerFor } from '../../activities/deployers/registry';
import { SLO_PROVIDERS } from '../../activities/slo/registry';
import { evaluateGate } from '../../activities/slo/gate';
import { ACTIVITY_FAILURE } from '../../domain/failures';
import type { NormalizedDeployer, Check } from '../../plan';
import type { SloContext } from '../../domain/activity-contract';

test('every deployer type of the plan schema has its provider, and only those', () => {
  const types = deployerSchema.options.map((o) => o.shape.type.value as string);
  assert.deepEqual(Object.keys(DEPLOYERS).sort(), types.sort());
});

test('every SLO source type of the plan schema has its provider, and only those', () => {
  const sources = sourceSchema.options.map((o) => o.shape.type.value as string);
  assert.deepEqual(Object.keys(SLO_PROVIDERS).sort(), [...sources].sort());
});

test('a deployer type this worker does not know is a configuration failure', () => {
  assert.throws(
    () => deployerFor({ type: 'nomad' } as unknown as NormalizedDeployer),
    (e: unknown) =>
      e instanceof ApplicationFailure && e.type === ACTIVITY_FAILURE.deployConfig && e.nonRetryable && /unknown deployer type "nomad"/.test(e.message),
  );
});

test('an SLO source type this worker does not know is an error verdict, never a pass', async () => {
  const check = { name: 'future', source: { type: 'datadog', query: 'x' }, comparator: '<', threshold: 1 } as unknown as Check;
  const ctx = { rolloutId: 'r', service: 's', version: '2', region: 'eu', since: 0, gate: { checks: [check], maxInconclusive: 0 } } as unknown as SloContext;
  const gate = await evaluateGate(ctx, { now: () => 1 });
  assert.equal(gate.verdict, 'error');
  assert.match(gate.checks[0]!.detail, /unknown SLO source type "datadog"/);
});
