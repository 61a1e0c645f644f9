// Plan lints: each with its id, severity, path and message; reported together with the
// schema's errors; warnings accept a plan, errors refuse it; the bounds of durations and
// regions say which bound was crossed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LINTS, validatePlan, type PlanProblem } from '../../plan';

const check = { name: 'errors', source: { type: 'http', url: 'http://127.0.0.1:1/h', path: 'ratio' }, comparator: '<', threshold: 0.01 };

/** A plan no lint says anything about: two regions, 30m soaks, a runbook, someone to notify. */
function doc(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    service: 'checkout',
    version: '2.0.0',
    owner: { team: 'payments', contact: '#payments', runbook: 'https://runbooks.example.com/checkout' },
    deployer: { type: 'http', baseUrl: 'http://127.0.0.1:1' },
    notifications: [{ type: 'webhook', url: 'https://hooks.example.com/payments' }],
    defaults: { soak: '30m', checkInterval: '30s', gate: { checks: [check] } },
    regions: [
      { name: 'eu', size: 1 },
      { name: 'us', size: 10 },
    ],
    ...over,
  };
}

const regions = (...sizes: number[]) => sizes.map((size, i) => ({ name: `r${i}`, size }));

function all(d: unknown): PlanProblem[] {
  const r = validatePlan(d);
  return r.ok ? r.warnings : r.problems;
}

function only(d: unknown, id: string): PlanProblem[] {
  return all(d).filter((p) => p.id === id);
}

test('a plan that follows every practice: valid, no warnings', () => {
  const r = validatePlan(doc());
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  assert.deepEqual(r.warnings, []);
});

test('every lint has an id and a severity; schema problems are id schema, severity error', () => {
  for (const [id, severity] of Object.entries(LINTS)) {
    assert.match(id, /^[a-z][a-z-]*$/);
    assert.ok(severity === 'error' || severity === 'warning');
  }
  const r = validatePlan(doc({ service: 'Checkout' }));
  assert.ok(!r.ok);
  assert.deepEqual(r.problems, [{ id: 'schema', severity: 'error', path: 'service', message: 'must be lowercase letters, digits and dashes (max 63)' }]);
});

test('region-order: error at the smaller region, unless either region of the pair says why', () => {
  const d = doc({ regions: regions(10, 5) });
  const r = validatePlan(d);
  assert.ok(!r.ok);
  assert.deepEqual(only(d, 'region-order'), [
    {
      id: 'region-order',
      severity: 'error',
      path: 'regions[1].size',
      message: '5 is smaller than regions[0] (r0, 10): order regions smallest first, largest last (or say why in orderReason)',
    },
  ]);
  const reasoned = doc({
    regions: [
      { name: 'eu', size: 10, orderReason: 'our own region goes first: on-call sits there' },
      { name: 'us', size: 5 },
    ],
  });
  assert.ok(validatePlan(reasoned).ok);
  assert.ok(
    validatePlan(
      doc({
        regions: [
          { name: 'eu', size: 10 },
          { name: 'us', size: 5, orderReason: 'us is quiet at this hour' },
        ],
      }),
    ).ok,
  );
  assert.equal(
    only(
      doc({
        regions: [
          { name: 'eu', size: 10, orderReason: '  ' },
          { name: 'us', size: 5 },
        ],
      }),
      'region-order',
    ).length,
    1,
    'a blank reason is none',
  );
});

test('soak-length: a warning outside 30m–60m, at the region or once at defaults.soak; a soakReason (region or defaults) answers it', () => {
  const short = doc({
    regions: [
      { name: 'eu', size: 1, soak: '10m' },
      { name: 'us', size: 10 },
    ],
  });
  const r = validatePlan(short);
  assert.ok(r.ok, 'a warning does not refuse the plan');
  assert.deepEqual(r.warnings, [
    {
      id: 'soak-length',
      severity: 'warning',
      path: 'regions[0].soak',
      message:
        '10m is outside 30m–60m: a shorter soak misses slow regressions, a longer one holds the rollout for little more evidence (or say why in soakReason)',
    },
  ]);
  assert.equal(
    only(
      doc({
        regions: [
          { name: 'eu', size: 1, soak: '2h' },
          { name: 'us', size: 10 },
        ],
      }),
      'soak-length',
    ).length,
    1,
  );
  for (const edge of ['30m', '60m', '1h']) assert.equal(only(doc({ regions: [{ name: 'eu', size: 1, soak: edge }] }), 'soak-length').length, 0, edge);

  const defaults = doc({ defaults: { soak: '5m', checkInterval: '30s', gate: { checks: [check] } } });
  const [w] = only(defaults, 'soak-length');
  assert.equal(only(defaults, 'soak-length').length, 1, 'one warning for every region on the default soak');
  assert.equal(w!.path, 'defaults.soak');
  assert.match(w!.message, /^5m is outside 30m–60m \(regions eu, us\): .*defaults\.soakReason/);

  assert.equal(only(doc({ regions: [{ name: 'eu', size: 1, soak: '10m', soakReason: 'a canary with little traffic' }] }), 'soak-length').length, 0);
  const excused = doc({ defaults: { soak: '5m', soakReason: 'internal tool, nobody waits', checkInterval: '30s', gate: { checks: [check] } } });
  assert.equal(only({ ...excused, regions: [{ name: 'eu', size: 1, soak: '2h' }] }, 'soak-length').length, 0, 'defaults.soakReason covers every region');
});

test('runbook: every pipeline has one (error at owner.runbook)', () => {
  const d = doc({ owner: { team: 'payments', contact: '#payments' } });
  const r = validatePlan(d);
  assert.ok(!r.ok);
  assert.deepEqual(r.problems, [
    {
      id: 'runbook',
      severity: 'error',
      path: 'owner.runbook',
      message: 'every pipeline has a runbook: set owner.runbook to the URL on-call follows when this rollout halts',
    },
  ]);
  const bad = all(doc({ owner: { team: 'payments', contact: '#payments', runbook: 'wiki page' } }));
  assert.deepEqual(
    bad.map((p) => [p.id, p.path, p.message]),
    [['schema', 'owner.runbook', 'must be an http(s) URL']],
    'a runbook that is no URL is the schema error alone',
  );
});

test('region-count: a warning over two regions without growthReason; a hard bound of 50', () => {
  const three = doc({ regions: regions(1, 2, 3) });
  const r = validatePlan(three);
  assert.ok(r.ok);
  assert.deepEqual(r.warnings, [
    {
      id: 'region-count',
      severity: 'warning',
      path: 'regions',
      message: '3 regions: start with two, add regions as demand grows (or say why in growthReason)',
    },
  ]);
  assert.equal(only({ ...three, growthReason: 'three continents, one region each' }, 'region-count').length, 0);
  assert.ok(validatePlan({ ...doc({ regions: regions(...Array.from({ length: 50 }, (_, i) => i + 1)) }), growthReason: 'fifty shards' }).ok);

  const huge = doc({ regions: regions(...Array.from({ length: 20_000 }, (_, i) => i + 1)) });
  const started = Date.now();
  const refused = validatePlan(huge);
  assert.ok(Date.now() - started < 5_000, 'validating 20,000 regions stays fast');
  assert.ok(!refused.ok);
  assert.deepEqual(
    refused.problems.filter((p) => p.path === 'regions'),
    [
      {
        id: 'schema',
        severity: 'error',
        path: 'regions',
        message: 'at most 50 regions: split a longer list into rollouts of its own (one rollout over more would run for weeks)',
      },
    ],
    'the bound, and not also the growth warning at the same path',
  );
});

test('existing lints keep their messages and have ids: gate, migration revert, duplicates, windows', () => {
  const noGate = doc({ defaults: { soak: '30m' } });
  assert.deepEqual(
    only(noGate, 'region-gate').map((p) => [p.severity, p.path]),
    [
      ['error', 'regions[0].gate'],
      ['error', 'regions[1].gate'],
    ],
  );
  const migration = { name: 'add-col', phase: 'expand', apply: { run: ['./m', 'up'] } };
  assert.deepEqual(only(doc({ migrations: [migration] }), 'migration-revert'), [
    {
      id: 'migration-revert',
      severity: 'error',
      path: 'migrations[0]',
      message: '"add-col" has no revert step: add revert, or mark it irreversible with a reason',
    },
  ]);
  const both = { ...migration, revert: { run: ['./m', 'down'] }, irreversible: { reason: 'drops a column for good' } };
  assert.equal(only(doc({ migrations: [both, both] }), 'migration-revert-and-irreversible').length, 2);
  assert.equal(only(doc({ migrations: [both, both] }), 'migration-name-unique')[0]!.path, 'migrations[1].name');
  assert.equal(
    only(
      doc({
        regions: [
          { name: 'eu', size: 1 },
          { name: 'eu', size: 2 },
        ],
      }),
      'region-name-unique',
    )[0]!.path,
    'regions[1].name',
  );
  const window = { timezone: 'Europe/Dublin', allow: [{ days: ['mon'], start: '09:00', end: '09:00' }] };
  assert.equal(only(doc({ regions: [{ name: 'eu', size: 1, window }] }), 'window-empty-period')[0]!.path, 'regions[0].window.allow[0]');
  assert.equal(only(doc({ regions: [{ name: 'eu', size: 1, soak: '30m', checkInterval: '1h' }] }), 'check-interval-over-soak')[0]!.severity, 'error');
  assert.equal(only(doc({ regions: [{ name: 'eu', size: 1, soak: '30m', maxSoak: '10m' }] }), 'max-soak-below-soak')[0]!.path, 'regions[0].maxSoak');
  const prom = { ...check, source: { type: 'prometheus', query: 'up' } };
  assert.equal(only(doc({ defaults: { gate: { checks: [prom, prom] } } }), 'prometheus-url').length, 2);
  assert.equal(only(doc({ defaults: { gate: { checks: [prom, prom] } } }), 'check-name-unique')[0]!.path, 'defaults.gate.checks[1].name');
});

test('schema errors and lints come together in one result, errors first', () => {
  const d = doc({
    service: 'Checkout',
    owner: { team: 'payments', contact: '#payments' },
    regions: [
      { name: 'eu', size: 10, soak: '5 minutes' },
      { name: 'us', size: 5 },
      { name: 'ap', size: 20 },
    ],
  });
  const r = validatePlan(d);
  assert.ok(!r.ok);
  assert.deepEqual(
    r.problems.map((p) => `${p.severity} ${p.id} ${p.path}`),
    [
      'error schema service',
      'error schema regions[0].soak',
      'error runbook owner.runbook',
      'error region-order regions[1].size',
      'warning region-count regions',
    ],
  );
  // A document the schema cannot read at all still gets the lints that can read it.
  assert.deepEqual(
    all({ owner: { team: 'x' }, regions: 'many' }).filter((p) => p.id !== 'schema'),
    [
      {
        id: 'runbook',
        severity: 'error',
        path: 'owner.runbook',
        message: 'every pipeline has a runbook: set owner.runbook to the URL on-call follows when this rollout halts',
      },
      {
        id: 'reminder-target',
        severity: 'warning',
        path: 'notifications',
        message: 'no notifications: a rollout left paused, halted or awaiting approval would remind nobody (add notifications[] or reminders.escalateTo)',
      },
    ],
  );
  for (const junk of [null, 42, 'plan', [], { regions: [null, 3, { size: 'big' }], migrations: {} }]) assert.ok(!validatePlan(junk).ok);
});

test('duration bounds: more than 0s, at most 7d for soaks, between 100ms and 1h for checks, a day for deploys', () => {
  const at = (region: Record<string, unknown>, path: string) => {
    const p = all(doc({ regions: [{ name: 'eu', size: 1, ...region }] })).find((x) => x.path === path);
    assert.ok(p, `no problem at ${path}`);
    assert.equal(p.id, 'schema');
    return p.message;
  };
  assert.equal(at({ soak: '0s' }, 'regions[0].soak'), 'must be more than 0s');
  assert.equal(at({ soak: '100000d' }, 'regions[0].soak'), 'must be at most 7d: a soak longer than a week holds the rollout for no more evidence');
  assert.equal(
    at({ soak: '99999999999999999999999d' }, 'regions[0].soak'),
    'must be at most 7d: a soak longer than a week holds the rollout for no more evidence',
  );
  assert.equal(at({ soak: '500ms' }, 'regions[0].soak'), 'must be at least 1s');
  assert.equal(at({ maxSoak: '8d' }, 'regions[0].maxSoak').startsWith('must be at most 7d'), true);
  assert.equal(at({ checkInterval: '0ms' }, 'regions[0].checkInterval'), 'must be more than 0s');
  assert.equal(at({ checkInterval: '10ms' }, 'regions[0].checkInterval'), 'must be at least 100ms');
  assert.equal(at({ checkInterval: '2h' }, 'regions[0].checkInterval'), 'must be at most 1h: a gate checked less than hourly sees a breach too late to matter');
  assert.equal(at({ soak: 'soon' }, 'regions[0].soak'), 'must be a duration such as "90s", "30m" or "2h"');
  assert.ok(validatePlan(doc({ regions: [{ name: 'eu', size: 1, soak: '7d', soakReason: 'a week of batch jobs', maxSoak: '7d', checkInterval: '1h' }] })).ok);

  const deployer = (d: Record<string, unknown>) => all(doc({ deployer: { type: 'http', baseUrl: 'http://127.0.0.1:1', ...d } }));
  assert.match(deployer({ timeout: '2d' }).find((p) => p.path === 'deployer.timeout')!.message, /^must be at most 1d: /);
  assert.match(deployer({ pollInterval: '1h' }).find((p) => p.path === 'deployer.pollInterval')!.message, /^must be at most 10m: /);
  const migration = { name: 'm', phase: 'expand', apply: { run: ['x'] }, revert: { run: ['y'] }, timeout: '30d' };
  assert.match(all(doc({ migrations: [migration] })).find((p) => p.path === 'migrations[0].timeout')!.message, /^must be at most 7d: /);
});

test('reminder-target: a plan with nobody to notify warns; escalateTo alone answers it', () => {
  assert.deepEqual(
    all(doc({ notifications: [] })).map((p) => `${p.severity} ${p.id} ${p.path}`),
    ['warning reminder-target notifications'],
  );
  assert.deepEqual(all(doc({ notifications: [], reminders: { escalateTo: [{ type: 'slack', urlEnv: 'LEAD_SLACK' }] } })), []);
});

test('reminders: defaults 1h and 4h; bounds with their reason; the escalation not before the first reminder', () => {
  const ok = validatePlan(doc());
  assert.ok(ok.ok);
  assert.deepEqual(ok.plan.reminders, { remindEveryMs: 3_600_000, escalateAfterMs: 4 * 3_600_000, escalateTo: [] });
  const problems = (reminders: Record<string, unknown>) => {
    const r = validatePlan(doc({ reminders }));
    return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
  };
  assert.deepEqual(problems({ remindEvery: '10s' }), ['reminders.remindEvery: must be at least 1m']);
  assert.deepEqual(problems({ remindEvery: '8d', escalateAfter: '9d' }), [
    'reminders.remindEvery: must be at most 7d: an owner reminded less than weekly has forgotten the rollout',
  ]);
  assert.deepEqual(problems({ remindEvery: '2h', escalateAfter: '1h' }), [
    'reminders.escalateAfter: must be at least remindEvery (2h): the escalation comes with a reminder',
  ]);
  assert.deepEqual(problems({ remindEvery: '1h', unknown: true }).length, 1);
});
