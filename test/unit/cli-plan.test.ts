// mrcd plan: the preview of a rollout, nothing started — order, soaks, gates, approvals,
// windows, migrations, ETA with its assumptions, and the lints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const mrcd = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/mrcd.js'), ...args], { encoding: 'utf8', cwd: ROOT });

test('demo.yaml: regions in order with sizes, soaks, checks; ETA = soaks + deploys, and what it assumes', () => {
  const r = mrcd('plan', 'examples/demo.yaml', '--start', '2026-12-07T09:00:00Z', '--deploy-time', '1m');
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^checkout 2\.0\.0 — preview, nothing started \(owner payments, #payments-oncall, runbook https:\/\/example\.com\/runbooks\/checkout\)/);
  const rows = out.split('\n').filter((l) => /^│ \d/.test(l));
  assert.deepEqual(
    rows.map((l) => l.split('│').map((c) => c.trim())[2]),
    ['ap-southeast-2', 'eu-west-1', 'us-west-2', 'us-east-1'],
  );
  assert.match(rows[0]!, /│ 1 +│ ap-southeast-2 +│ 3 +│ 10s \(20s\) +│ error-ratio < 0\.02 +│ none +│ +│ 2026-12-07T09:00:00Z │ 2026-12-07T09:01:10Z │/);
  assert.match(rows[3]!, /│ 4 +│ us-east-1 +│ 60 +│ 15s \(30s\) .*│ 2026-12-07T09:03:35Z │ 2026-12-07T09:04:50Z │/);
  assert.match(out, /ETA 2026-12-07T09:04:50Z: 4m 50s after the start = soaks 50s \+ deploys 4m\n/);
  assert.match(out, /assumes each deploy takes 1m .*every gate passes at the end of its soak.*approvals are given at once/);
  assert.match(out, /lints: none/, 'the demo gives its reasons for short soaks and four regions');
  assert.doesNotMatch(out, /expand|contract/);
});

test('a plan with a window, approval and migrations: expand before the first region, the wait for the window, contract after the last', () => {
  // Thursday 24 December 2026 is a blackout of us-east-1's window (mon-thu 09:00-16:00 New York).
  const r = mrcd('plan', 'examples/checkout-prometheus.yaml', '--start', '2026-12-24T09:00:00Z');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  assert.ok(at(/^expand before ap-southeast-2: add-order-currency-column \(timeout 30m, revertible\)$/) < at(/│ 1 /));
  assert.ok(at(/^contract after us-east-1: drop-legacy-amount-column \(timeout 45m, irreversible\)$/) > at(/│ 3 /));
  assert.match(
    r.stdout,
    /│ 3 +│ us-east-1 +│ 60 +│ 30m \(1h\) +│ error-ratio < 0\.01 +│ required +│ mon-thu 09:00-16:00 America\/New_York; blackout 2026-12-24, 2026-12-25, 2026-12-31 │ 2026-12-28T14:00:00Z │ 2026-12-28T14:35:00Z │/,
  );
  assert.match(r.stdout, /3\. us-east-1 waits: blackout 2026-12-24 \(America\/New_York\); next opening Mon 2026-12-28 09:00 \(soak 30m must fit\)/);
  assert.match(r.stdout, /ETA 2026-12-28T14:35:00Z: 4d 5h 35m after the start = soaks 2h \+ deploys 15m \+ waiting for windows 4d 3h 20m/);

  const json = mrcd('--json', 'plan', 'examples/checkout-prometheus.yaml', '--start', '2026-12-24T09:00:00Z');
  assert.equal(json.status, 0, json.stderr);
  const p = JSON.parse(json.stdout);
  assert.equal(p.eta, '2026-12-28T14:35:00Z');
  assert.equal(p.totalMs, ((4 * 24 + 5) * 60 + 35) * 60_000);
  assert.deepEqual(
    p.regions.map((x: { name: string; size: number; soakMs: number; approval: string; earliestStart: string }) => [
      x.name,
      x.size,
      x.soakMs,
      x.approval,
      x.earliestStart,
    ]),
    [
      ['ap-southeast-2', 3, 3_600_000, 'none', '2026-12-24T09:00:00Z'],
      ['eu-west-1', 20, 1_800_000, 'none', '2026-12-24T10:05:00Z'],
      ['us-east-1', 60, 1_800_000, 'required', '2026-12-28T14:00:00Z'],
    ],
  );
  assert.deepEqual(p.regions[0].checks, [{ name: 'error-ratio', source: 'prometheus', comparator: '<', threshold: 0.01 }]);
  assert.match(p.regions[2].waitReason, /^blackout 2026-12-24/);
  assert.deepEqual(p.migrations, {
    expand: [{ name: 'add-order-currency-column', timeoutMs: 1_800_000, revert: 'revert' }],
    contract: [{ name: 'drop-legacy-amount-column', timeoutMs: 2_700_000, revert: 'irreversible' }],
  });
  assert.equal(p.assumptions.length, 3);
  assert.deepEqual(p.problems, []);
});

test('lints under the preview; a window that never fits; errors exit 2 and bad flags too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcd-plan-'));
  try {
    const base = [
      'service: checkout',
      'version: 1.0.0',
      'owner: { team: payments, contact: "#p", runbook: "https://runbooks.example.com/checkout" }',
      'deployer: { type: http, baseUrl: "http://127.0.0.1:1", timeout: 2m }',
      'notifications: [{ type: webhook, url: "https://hooks.example.com/payments" }]',
      'defaults: { gate: { checks: [{ name: e, source: { type: http, url: "http://127.0.0.1:1/h", path: r }, comparator: "<", threshold: 1 }] } }',
      'regions:',
      '  - { name: eu, size: 1, soak: 10m }',
    ];
    // A window too short for the soak is refused by validation (lint window-shorter-than-soak);
    // one that never opens within the horizon for its blackouts is only known when previewed.
    const narrow = join(dir, 'narrow.yaml');
    writeFileSync(
      narrow,
      [...base, '  - { name: us, size: 2, soak: 1h, window: { timezone: UTC, allow: [{ days: [mon], start: "09:00", end: "09:30" }] } }'].join('\n'),
    );
    const tooShort = mrcd('plan', narrow, '--start', '2026-12-07T09:00:00Z');
    assert.equal(tooShort.status, 2);
    assert.match(tooShort.stderr, /error {3}regions\[1\]\.window: soak 1h is longer than the longest allowed period 30m .*\[window-shorter-than-soak\]/);
    const mondays = Array.from({ length: 54 }, (_, k) => new Date(Date.UTC(2026, 11, 7 + 7 * k)).toISOString().slice(0, 10));
    const blackedOut = join(dir, 'blacked-out.yaml');
    writeFileSync(
      blackedOut,
      [
        ...base,
        `  - { name: us, size: 2, soak: 1h, window: { timezone: UTC, allow: [{ days: [mon], start: "09:00", end: "11:00" }], blackout: [${mondays.join(', ')}] } }`,
      ].join('\n'),
    );
    const r = mrcd('plan', blackedOut, '--start', '2026-12-07T09:00:00Z');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /│ 2 +│ us .*│ never +│ — +│/);
    assert.match(r.stdout, /2\. us never starts: every period within 366 days long enough for soak 1h touches a blackout date/);
    assert.match(r.stdout, /ETA: none, a region never finds its deploy window/);
    assert.match(r.stdout, /each deploy takes 2m \(--deploy-time 5m, at most the deployer's timeout 2m\)/);
    assert.match(r.stdout, /lints \(1\):\n {2}warning regions\[0\]\.soak: 10m is outside 30m–60m.*\[soak-length\]/);

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, base.map((l) => l.replace(', runbook: "https://runbooks.example.com/checkout"', '')).join('\n'));
    const refused = mrcd('plan', bad);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /error {3}owner\.runbook: every pipeline has a runbook/);
    assert.match(refused.stderr, /warning regions\[0\]\.soak/);
    assert.equal(mrcd('plan', 'examples/demo.yaml', '--start', 'tomorrow').status, 2);
    assert.equal(mrcd('plan', 'examples/demo.yaml', '--deploy-time', 'fast').status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--power: a plan without comparison checks says so; --history must be a duration, checked before anything is read', () => {
  const none = mrcd('plan', 'examples/demo.yaml', '--start', '2026-12-07T09:00:00Z', '--power');
  assert.equal(none.status, 0, none.stderr);
  assert.match(none.stdout, /lints: none\n--power: the plan has no comparison checks; nothing to measure\n$/);
  const json = JSON.parse(mrcd('--json', 'plan', 'examples/demo.yaml', '--power').stdout);
  assert.deepEqual(json.power, []);
  assert.equal(JSON.parse(mrcd('--json', 'plan', 'examples/demo.yaml').stdout).power, undefined, 'no power without --power');
  for (const args of [
    ['--power', '--history', 'nonsense'],
    ['--history', '0s'],
  ]) {
    const bad = mrcd('plan', 'examples/demo.yaml', ...args);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--history: "(nonsense|0s)" must be a duration such as "90s"/);
  }
});
