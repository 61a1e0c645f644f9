// The comparison check in the plan language: what it normalizes to (the controls `auto`
// resolves to, the step), and every refusal with its path: a comparator or threshold that
// would mean nothing, templates that cannot count a control, a control that can never still
// run the old version, a gate of shadow checks only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePlan, type PlanProblem } from '../../plan';

const ERRORS = 'sum(increase(req_total{region="{{region}}",code="500"}[{{window}}]))';
const REQUESTS = 'sum(increase(req_total{region="{{region}}"}[{{window}}]))';

function comparison(over: Record<string, unknown> = {}, source: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'vs-control', source: { type: 'comparison', errors: ERRORS, requests: REQUESTS, ...source }, comparator: '<', threshold: 1.5, ...over };
}

function doc(gate: Record<string, unknown>, lastGate?: Record<string, unknown>): Record<string, unknown> {
  return {
    service: 'checkout',
    version: '2.0.0',
    owner: { team: 'payments', contact: '#payments', runbook: 'https://runbooks.example.com/checkout' },
    deployer: { type: 'http', baseUrl: 'http://127.0.0.1:1' },
    prometheus: { url: 'http://127.0.0.1:9090' },
    notifications: [{ type: 'webhook', url: 'https://hooks.example.com/payments' }],
    growthReason: 'three regions to have a control for each',
    defaults: { soak: '30m', checkInterval: '30s' },
    regions: [
      { name: 'eu', size: 1, gate },
      { name: 'us', size: 10, gate, checkInterval: '1m' },
      {
        name: 'ap',
        size: 20,
        gate: lastGate ?? { checks: [{ name: 'ratio', source: { type: 'prometheus', query: 'vector(0)' }, comparator: '<', threshold: 0.01 }] },
      },
    ],
  };
}

function problems(d: unknown): PlanProblem[] {
  const r = validatePlan(d);
  return r.ok ? r.warnings.filter((w) => w.severity === 'error') : r.problems;
}

test('a comparison normalizes: auto is the regions after this one, the step is the region checkInterval, the plan Prometheus URL folded in', () => {
  const r = validatePlan(doc({ checks: [comparison()] }));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  const [eu, us] = r.plan.regions;
  const src = (g: typeof eu) => g!.gate.checks[0]!.source;
  assert.deepEqual(src(eu), {
    type: 'comparison',
    errors: ERRORS,
    requests: REQUESTS,
    control: ['us', 'ap'],
    before: '1h',
    step: '30s',
    alpha: 0.05,
    power: 0.8,
    versionLabel: 'version',
    url: 'http://127.0.0.1:9090',
  });
  assert.deepEqual((src(us) as { control: string[] }).control, ['ap']);
  assert.equal((src(us) as { step: string }).step, '1m');
});

test('a named control and a list stay as written, as a list', () => {
  const r = validatePlan(doc({ checks: [comparison({}, { control: 'ap', step: '10s' })] }));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  const s = r.plan.regions[0]!.gate.checks[0]!.source as { control: string[]; step: string };
  assert.deepEqual(s.control, ['ap']);
  assert.equal(s.step, '10s');
});

test('each refusal names its path: comparator, threshold, baseline, templates, alpha, power', () => {
  const p = problems(
    doc({
      checks: [
        comparison(
          { comparator: '>', threshold: 1, baseline: { maxRatio: 2 } },
          { errors: 'sum(increase(req_total{version="{{version}}",region="{{region}}"}[{{window}}]))', requests: 'sum(req_total)', alpha: 0.5, power: 0.3 },
        ),
      ],
    }),
  );
  const at = (suffix: string) => p.filter((x) => x.path.endsWith(suffix)).map((x) => x.message);
  assert.match(at('checks[0].comparator').join(), /must be '<' for a comparison/);
  assert.match(at('checks[0].threshold').join(), /more than 1/);
  assert.match(at('checks[0].baseline').join(), /no baseline/);
  assert.match(at('source.errors').join(), /must not use \{\{version\}\}/);
  assert.match(at('source.requests').join(), /\{\{region\}\}/);
  assert.match(at('source.requests').join(), /\{\{window\}\}/);
  assert.match(at('source.alpha').join(), /at most 0.2/);
  assert.match(at('source.power').join(), /at least 0.5/);
});

test('lint comparison-control: the region itself, a region deployed before it, auto on the last region', () => {
  const self = problems(doc({ checks: [comparison({}, { control: 'eu' })] })).filter((x) => x.id === 'comparison-control');
  assert.ok(
    self.some((x) => /eu: the control eu is the region itself/.test(x.message)),
    JSON.stringify(self),
  );
  assert.ok(
    self.some((x) => /us: the control eu is deployed before this region/.test(x.message)),
    JSON.stringify(self),
  );
  const last = problems(doc({ checks: [comparison()] }, { checks: [comparison()] })).filter((x) => x.id === 'comparison-control');
  assert.equal(last.length, 1, JSON.stringify(last));
  assert.equal(last[0]!.path, 'regions[2].gate.checks[0].source.control');
  assert.match(last[0]!.message, /^ap: control auto needs a region after this one/);
  // A control outside the plan is allowed: it is nobody's deploy in this rollout.
  assert.deepEqual(
    problems(doc({ checks: [comparison({}, { control: ['elsewhere'] })] })).filter((x) => x.id === 'comparison-control'),
    [],
  );
});

test('a gate of shadow checks only is refused; shadow beside a gating check is fine', () => {
  const p = problems(doc({ checks: [comparison({ shadow: true })] }));
  assert.ok(
    p.some((x) => x.path === 'regions[0].gate.checks' && /not shadow/.test(x.message)),
    JSON.stringify(p),
  );
  const ok = validatePlan(
    doc({ checks: [comparison({ shadow: true }), { name: 'ratio', source: { type: 'prometheus', query: 'vector(0)' }, comparator: '<', threshold: 0.01 }] }),
  );
  assert.ok(ok.ok, JSON.stringify(!ok.ok && ok.problems));
  assert.equal(ok.plan.regions[0]!.gate.checks[0]!.shadow, true);
});

test('soak auto: soakMs is minSoak (10m by default), maxSoak required, a comparison required, minSoak only with auto', () => {
  const gate = { checks: [comparison()] };
  const ok = validatePlan({
    ...doc(gate),
    regions: [{ name: 'eu', size: 1, gate, soak: 'auto', maxSoak: '2h', soakReason: 'ends on evidence' }, ...(doc(gate).regions as unknown[]).slice(1)],
  });
  assert.ok(ok.ok, JSON.stringify(!ok.ok && ok.problems));
  assert.equal(ok.plan.regions[0]!.soakMs, 10 * 60_000);
  assert.equal(ok.plan.regions[0]!.maxSoakMs, 2 * 3_600_000);
  assert.equal(ok.plan.regions[0]!.soakAuto, true);
  assert.equal(ok.plan.regions[1]!.soakAuto, undefined);

  const threshold = { checks: [{ name: 'ratio', source: { type: 'prometheus', query: 'vector(0)' }, comparator: '<', threshold: 0.01 }] };
  const p = problems({
    ...doc(gate),
    regions: [
      { name: 'eu', size: 1, gate: threshold, soak: 'auto', maxSoak: '1h' },
      { name: 'us', size: 10, gate, soak: 'auto' },
      { name: 'ap', size: 20, gate: threshold, minSoak: '5m' },
    ],
  });
  const at = (path: string) => p.filter((x) => x.path === path).map((x) => `${x.id ?? ''} ${x.message}`);
  assert.match(at('regions[0].soak').join(), /soak-auto .*has none that is not shadow/);
  assert.match(at('regions[1].maxSoak').join(), /soak auto needs maxSoak/);
  assert.match(at('regions[2].minSoak').join(), /minSoak is for soak: auto/);
});
