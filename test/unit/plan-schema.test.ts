// Plan validation and normalization of check baselines and migration settings: every
// refusal names its path the way `mrcd validate` prints it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePlan, type NormalizedPlan, type PlanProblem } from '../../plan';

const promCheck = { name: 'errors', source: { type: 'prometheus', query: 'ratio{version="{{version}}"}' }, comparator: '<', threshold: 0.01 };
const httpCheck = { name: 'health', source: { type: 'http', url: 'http://127.0.0.1:1/h', path: 'ratio' }, comparator: '<', threshold: 0.01 };
const migration = { name: 'add-col', phase: 'expand', apply: { run: ['./migrate', 'up'] }, revert: { run: ['./migrate', 'down'] } };

function doc(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    service: 'checkout',
    version: '2.0.0',
    owner: { team: 'payments', contact: '#payments', runbook: 'https://runbooks.example.com/checkout' },
    deployer: { type: 'http', baseUrl: 'http://127.0.0.1:1' },
    prometheus: { url: 'http://127.0.0.1:9090' },
    defaults: { soak: '10m', checkInterval: '30s', gate: { checks: [promCheck] } },
    regions: [{ name: 'eu', size: 1 }],
    ...over,
  };
}

function valid(d: unknown): NormalizedPlan {
  const r = validatePlan(d);
  assert.ok(r.ok, `expected a valid plan, got ${JSON.stringify(!r.ok && r.problems)}`);
  return r.plan;
}

function problems(d: unknown): PlanProblem[] {
  const r = validatePlan(d);
  assert.ok(!r.ok, 'expected the plan to be refused');
  return r.problems;
}

function problemAt(d: unknown, path: string): PlanProblem {
  const all = problems(d);
  const p = all.find((x) => x.path === path);
  assert.ok(p, `no problem at ${path}; got ${JSON.stringify(all)}`);
  return p;
}

test('baseline: absent stays absent, {} gets maxRatio 1.5 and minDelta 0', () => {
  assert.equal(valid(doc()).regions[0]!.gate.checks[0]!.baseline, undefined);
  const plan = valid(doc({ defaults: { gate: { checks: [{ ...promCheck, baseline: {} }] } } }));
  assert.deepEqual(plan.regions[0]!.gate.checks[0]!.baseline, { maxRatio: 1.5, minDelta: 0 });
  const set = valid(doc({ defaults: { gate: { checks: [{ ...promCheck, baseline: { maxRatio: 2, minDelta: 0.005 } }] } } }));
  assert.deepEqual(set.regions[0]!.gate.checks[0]!.baseline, { maxRatio: 2, minDelta: 0.005 });
});

test("the plan's prometheus is folded into each prometheus check: its URL, and its token only for the same origin", () => {
  const elsewhere = { ...promCheck, name: 'elsewhere', source: { ...promCheck.source, url: 'http://localhost:9090' } };
  const ownToken = { ...promCheck, name: 'own', source: { ...promCheck.source, url: 'http://localhost:9090', tokenEnv: 'OTHER_TOKEN' } };
  const plan = valid(
    doc({ prometheus: { url: 'http://127.0.0.1:9090', tokenEnv: 'PROM_TOKEN' }, defaults: { gate: { checks: [promCheck, elsewhere, ownToken, httpCheck] } } }),
  );
  assert.equal(plan.prometheus, undefined, 'nothing of the plan-level settings is left for the workflow to carry');
  const sources = plan.regions[0]!.gate.checks.map((c) => c.source);
  assert.deepEqual(sources[0], { type: 'prometheus', query: promCheck.source.query, url: 'http://127.0.0.1:9090', tokenEnv: 'PROM_TOKEN' });
  // Another origin: the plan's token would reach another host.
  assert.deepEqual(sources[1], { type: 'prometheus', query: promCheck.source.query, url: 'http://localhost:9090' });
  assert.deepEqual(sources[2], { type: 'prometheus', query: promCheck.source.query, url: 'http://localhost:9090', tokenEnv: 'OTHER_TOKEN' });
  assert.deepEqual(sources[3], httpCheck.source);
  // Without a plan-level token, the URL alone.
  assert.deepEqual(valid(doc()).regions[0]!.gate.checks[0]!.source, { ...promCheck.source, url: 'http://127.0.0.1:9090' });
});

test('baseline: maxRatio below 1, negative minDelta, non-numbers and unknown keys are refused at their paths', () => {
  const at = 'defaults.gate.checks[0].baseline';
  const gate = (baseline: unknown) => doc({ defaults: { gate: { checks: [{ ...promCheck, baseline }] } } });
  assert.match(problemAt(gate({ maxRatio: 0.9 }), `${at}.maxRatio`).message, /must be at least 1/);
  assert.match(problemAt(gate({ minDelta: -0.1 }), `${at}.minDelta`).message, /must be 0 or more/);
  problemAt(gate({ maxRatio: '2' }), `${at}.maxRatio`);
  assert.match(problemAt(gate({ maxRatio: 2, ratio: 3 }), at).message, /unknown key "ratio"/);
});

test('baseline on an http source is refused at the check, in regions and in defaults alike', () => {
  const inRegion = problemAt(
    doc({ regions: [{ name: 'eu', size: 1, gate: { checks: [promCheck, { ...httpCheck, baseline: {} }] } }] }),
    'regions[0].gate.checks[1].baseline',
  );
  assert.match(inRegion.message, /only prometheus sources support a baseline.*source is http/);
  // defaults.gate unused by every region is still checked: the error is where the fix goes.
  problemAt(
    doc({
      defaults: { gate: { checks: [{ ...httpCheck, baseline: { maxRatio: 2 } }] } },
      regions: [{ name: 'eu', size: 1, gate: { checks: [promCheck] } }],
    }),
    'defaults.gate.checks[0].baseline',
  );
});

test('migrations: passEnv defaults to none and timeout to 30m, normalized to milliseconds', () => {
  const plan = valid(doc({ migrations: [migration] }));
  assert.deepEqual(plan.migrations[0], {
    name: 'add-col',
    phase: 'expand',
    apply: { run: ['./migrate', 'up'] },
    revert: { run: ['./migrate', 'down'] },
    passEnv: [],
    timeoutMs: 1_800_000,
  });
  const set = valid(
    doc({
      migrations: [
        { ...migration, passEnv: ['DATABASE_URL', 'PGPASSWORD'], timeout: '2h' },
        { name: 'drop-col', phase: 'contract', apply: { run: ['./migrate', 'up', '2'] }, irreversible: { reason: 'drops a column for good' }, timeout: '90s' },
      ],
    }),
  );
  assert.deepEqual(set.migrations[0]!.passEnv, ['DATABASE_URL', 'PGPASSWORD']);
  assert.equal(set.migrations[0]!.timeoutMs, 7_200_000);
  assert.equal(set.migrations[1]!.timeoutMs, 90_000);
  assert.deepEqual(set.migrations[1]!.irreversible, { reason: 'drops a column for good' });
  assert.equal('timeout' in set.migrations[1]!, false, 'the duration string does not travel next to timeoutMs');
  assert.equal('revert' in set.migrations[1]!, false);
});

test('migrations: a secret in passEnv or a bad timeout is refused at its path', () => {
  const bad = doc({ migrations: [{ ...migration, passEnv: ['DATABASE_URL', 'postgres://u:pw@db/x'], timeout: '30 minutes' }] });
  assert.match(problemAt(bad, 'migrations[0].passEnv[1]').message, /must name an environment variable/);
  assert.match(problemAt(bad, 'migrations[0].timeout').message, /must be a duration/);
  assert.equal(
    problems(bad).some((p) => p.path === 'migrations[0].passEnv[0]'),
    false,
    'DATABASE_URL is a fine name',
  );
});

test('region names are bounded like service names (they become a search attribute): 63 characters pass, 64 are refused at the region', () => {
  valid(doc({ regions: [{ name: `r${'a'.repeat(62)}`, size: 1 }] }));
  const p = problemAt(
    doc({
      regions: [
        { name: 'eu', size: 1 },
        { name: `r${'a'.repeat(63)}`, size: 2 },
      ],
    }),
    'regions[1].name',
  );
  assert.match(p.message, /max 63/);
  assert.equal(p.severity, 'error');
});

test('regions[].taskQueue: a region-local worker queue is carried to the normalized region; a name with spaces is refused at its path', () => {
  const plan = valid(
    doc({
      regions: [
        { name: 'eu', size: 1, taskQueue: 'eu-local' },
        { name: 'us', size: 2 },
      ],
    }),
  );
  assert.equal(plan.regions[0]!.taskQueue, 'eu-local');
  assert.equal('taskQueue' in plan.regions[1]!, false, 'absent, not undefined: plans without it keep their shape');
  assert.match(problemAt(doc({ regions: [{ name: 'eu', size: 1, taskQueue: 'eu local' }] }), 'regions[0].taskQueue').message, /task queue name/);
});
