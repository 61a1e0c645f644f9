// Plan edges (issue 20): what the schema accepted and the rollout then ignored or tripped
// over later. Each is refused at validation, at the path where the fix goes, so
// `mrcd validate` and `mrcd deploy` say it before anything starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePlan, type PlanProblem } from '../../plan';

const httpCheck = { name: 'health', source: { type: 'http', url: 'http://127.0.0.1:1/h', path: 'ratio' }, comparator: '<', threshold: 0.01 };

/** A plan no lint says anything about, the shape each test varies. */
function doc(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    service: 'checkout',
    version: '2.0.0',
    owner: { team: 'payments', contact: '#payments', runbook: 'https://runbooks.example.com/checkout' },
    deployer: { type: 'http', baseUrl: 'http://127.0.0.1:1' },
    notifications: [{ type: 'webhook', url: 'https://hooks.example.com/payments' }],
    defaults: { soak: '30m', checkInterval: '30s', gate: { checks: [httpCheck] } },
    regions: [
      { name: 'eu', size: 1 },
      { name: 'us', size: 10 },
    ],
    ...over,
  };
}

function accepted(d: unknown): void {
  const r = validatePlan(d);
  assert.ok(r.ok, `expected the plan to be accepted, got ${JSON.stringify(!r.ok && r.problems)}`);
}

function refusedAt(d: unknown, path: string): PlanProblem {
  const r = validatePlan(d);
  assert.ok(!r.ok, `expected the plan to be refused at ${path}`);
  const p = r.problems.find((x) => x.path === path);
  assert.ok(p, `no problem at ${path}; got ${JSON.stringify(r.problems)}`);
  assert.equal(p.severity, 'error');
  return p;
}

test('minTraffic on a check with an http source is refused at its path: the http provider has no traffic figure', () => {
  const withTraffic = { ...httpCheck, minTraffic: { query: 'sum(requests)', min: 100 } };
  const p = refusedAt(doc({ defaults: { soak: '30m', checkInterval: '30s', gate: { checks: [withTraffic] } } }), 'defaults.gate.checks[0].minTraffic');
  assert.match(p.message, /minTraffic needs a prometheus source \(a traffic query\); the http provider has no traffic figure/);
  refusedAt(doc({ regions: [{ name: 'eu', size: 1, gate: { checks: [httpCheck, { ...withTraffic, name: 'b' }] } }] }), 'regions[0].gate.checks[1].minTraffic');
  const prom = { name: 'errors', source: { type: 'prometheus', query: 'ratio', url: 'http://127.0.0.1:9090' }, comparator: '<', threshold: 0.01 };
  accepted(doc({ defaults: { soak: '30m', checkInterval: '30s', gate: { checks: [{ ...prom, minTraffic: { query: 'sum(requests)', min: 100 } }] } } }));
});

test('owner.team is bounded like service names (it is the MrcdOwner search attribute): 63 characters pass, 64 are refused', () => {
  const owner = (team: string) => ({ team, contact: '#payments', runbook: 'https://runbooks.example.com/checkout' });
  accepted(doc({ owner: owner('t'.repeat(63)) }));
  const p = refusedAt(doc({ owner: owner('t'.repeat(64)) }), 'owner.team');
  assert.match(p.message, /at most 63 characters/);
  assert.match(p.message, /search attribute/);
  refusedAt(doc({ owner: owner('x'.repeat(5000)) }), 'owner.team');
});

test('a deploy window that can never hold the soak refuses the plan at the region window, not at the first deploy', () => {
  const window = (start: string, end: string, days = ['mon', 'tue']) => ({ timezone: 'Europe/Dublin', allow: [{ days, start, end }] });
  // 30 minutes open, a 1h soak: no start could ever finish its soak inside the window.
  const p = refusedAt(doc({ regions: [{ name: 'eu', size: 1, soak: '1h', soakReason: 'slow job', window: window('09:00', '09:30') }] }), 'regions[0].window');
  assert.equal(p.id, 'window-shorter-than-soak');
  assert.match(p.message, /soak 1h is longer than the longest allowed period 30m/);
  assert.match(p.message, /mon,tue 09:00-09:30 Europe\/Dublin/);
  // The default soak counts too, and an overnight period is measured across midnight.
  refusedAt(
    doc({
      regions: [
        { name: 'eu', size: 1 },
        { name: 'us', size: 2, window: window('23:50', '00:10') },
      ],
    }),
    'regions[1].window',
  );
  accepted(doc({ regions: [{ name: 'eu', size: 1, window: window('23:30', '00:00') }] }));
  accepted(doc({ regions: [{ name: 'eu', size: 1, window: window('22:00', '02:00') }] }));
  // Periods do not add up: the soak must fit inside one of them.
  const split = {
    timezone: 'UTC',
    allow: [
      { days: ['mon'], start: '09:00', end: '09:20' },
      { days: ['mon'], start: '09:20', end: '09:40' },
    ],
  };
  refusedAt(doc({ regions: [{ name: 'eu', size: 1, window: split }] }), 'regions[0].window');
  // One period long enough is enough.
  accepted(doc({ regions: [{ name: 'eu', size: 1, window: { ...split, allow: [...split.allow, { days: ['fri'], start: '10:00', end: '11:00' }] } }] }));
});

test('an http deployer pollInterval longer than its timeout is refused: the deploy would be polled once, then time out', () => {
  const p = refusedAt(doc({ deployer: { type: 'http', baseUrl: 'http://127.0.0.1:1', timeout: '1m', pollInterval: '2m' } }), 'deployer.pollInterval');
  assert.equal(p.id, 'poll-interval-over-timeout');
  assert.match(p.message, /2m is longer than the deployer's timeout \(1m\)/);
  // The default timeout (10m) counts too; equal is fine.
  refusedAt(doc({ deployer: { type: 'http', baseUrl: 'http://127.0.0.1:1', pollInterval: '10m', timeout: '5m' } }), 'deployer.pollInterval');
  accepted(doc({ deployer: { type: 'http', baseUrl: 'http://127.0.0.1:1', pollInterval: '10m' } }));
  accepted(doc({ deployer: { type: 'http', baseUrl: 'http://127.0.0.1:1', timeout: '1m', pollInterval: '1m' } }));
});
