// mrcd validate: exit codes and messages CI depends on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const mrcd = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/mrcd.js'), ...args], { encoding: 'utf8', cwd: ROOT });

test('a valid plan: exit 0 and a summary of its regions', () => {
  const r = mrcd('validate', 'examples/demo.yaml');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /valid — checkout 2\.0\.0, owner payments/);
  assert.match(r.stdout, /1\. ap-southeast-2 \(size 3\) soak 10s/);
});

test('an invalid plan: exit 2 and every problem named with its path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcd-cli-'));
  try {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'service: Checkout',
        'version: 1.0.0',
        'owner: { team: payments }',
        'deployer: { type: http, baseUrl: "not a url", token: abc }',
        'regions:',
        '  - { name: eu, size: 10, soak: 5 minutes }',
        '  - { name: us, size: 5 }',
      ].join('\n'),
    );
    const r = mrcd('validate', file);
    assert.equal(r.status, 2);
    for (const want of [
      /service: must be lowercase/,
      /owner\.contact/,
      /deployer\.baseUrl: must be an http\(s\) URL/,
      /deployer: unknown key "token"/,
      /regions\[0\]\.soak: must be a duration/,
    ])
      assert.match(r.stderr, want);
    const fixable = join(dir, 'order.yaml');
    writeFileSync(
      fixable,
      [
        'service: checkout',
        'version: 1.0.0',
        'owner: { team: payments, contact: "#p" }',
        'deployer: { type: http, baseUrl: "http://127.0.0.1:1" }',
        'notifications: [{ type: webhook, url: "https://hooks.example.com/payments" }]',
        'regions:',
        '  - { name: eu, size: 10 }',
        '  - { name: us, size: 5 }',
      ].join('\n'),
    );
    const o = mrcd('validate', fixable);
    assert.equal(o.status, 2);
    assert.match(o.stderr, /regions\[1\]\.size: 5 is smaller than regions\[0\] \(eu, 10\): order regions smallest first/);
    assert.match(o.stderr, /regions\[0\]\.gate: no gate/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad flags and unreadable files are invalid input (exit 2)', () => {
  assert.equal(mrcd('validate', '/nonexistent/plan.yaml').status, 2);
  assert.equal(mrcd('pause', 'checkout').status, 2, 'pause without --reason');
  assert.equal(mrcd('frobnicate').status, 2);
  const badEnv = spawnSync(process.execPath, [join(ROOT, 'bin/mrcd.js'), 'status', 'checkout'], {
    encoding: 'utf8',
    env: { ...process.env, TEMPORAL_ADDRESS: 'nohost' },
  });
  assert.equal(badEnv.status, 2);
  assert.match(badEnv.stderr, /TEMPORAL_ADDRESS: must be host:port/);
});

/** A plan file in a fresh directory; the callback gets its path. */
function withPlan(lines: string[], fn: (file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'mrcd-cli-'));
  try {
    const file = join(dir, 'plan.yaml');
    writeFileSync(file, lines.join('\n'));
    fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const header = [
  'service: checkout',
  'version: 1.0.0',
  'owner: { team: payments, contact: "#p", runbook: "https://runbooks.example.com/checkout" }',
  'deployer: { type: http, baseUrl: "http://127.0.0.1:1" }',
  'notifications: [{ type: webhook, url: "https://hooks.example.com/payments" }]',
  'defaults: { gate: { checks: [{ name: e, source: { type: http, url: "http://127.0.0.1:1/h", path: r }, comparator: "<", threshold: 1 }] } }',
];
/** Valid, with two warnings: three regions without growthReason, a 5m soak. */
const warned = [...header, 'regions:', '  - { name: eu, size: 1, soak: 5m }', '  - { name: us, size: 2 }', '  - { name: ap, size: 3 }'];

test('warnings print and exit 0; --strict makes them errors (exit 2); --json lists them with id, severity, path, message', () => {
  withPlan(warned, (file) => {
    const r = mrcd('validate', file);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /valid — checkout 1\.0\.0/);
    assert.match(r.stderr, /2 warning\(s\):\n {2}warning regions: 3 regions: start with two, add regions as demand grows .*\[region-count\]/);
    assert.match(r.stderr, /warning regions\[0\]\.soak: 5m is outside 30m–60m.*\[soak-length\]/);

    const strict = mrcd('validate', file, '--strict');
    assert.equal(strict.status, 2);
    assert.match(strict.stderr, /is invalid \(0 errors, 2 warnings\)/);
    assert.match(strict.stderr, /--strict: warnings are errors/);

    const json = mrcd('--json', 'validate', file);
    assert.equal(json.status, 0);
    const out = JSON.parse(json.stdout);
    assert.equal(out.valid, true);
    assert.deepEqual(
      out.problems.map((p: Record<string, string>) => Object.keys(p).sort()),
      [
        ['id', 'message', 'path', 'severity'],
        ['id', 'message', 'path', 'severity'],
      ],
    );
    assert.deepEqual(
      out.problems.map((p: Record<string, string>) => [p.id, p.severity, p.path]),
      [
        ['region-count', 'warning', 'regions'],
        ['soak-length', 'warning', 'regions[0].soak'],
      ],
    );
    const strictJson = mrcd('validate', file, '--strict', '--json');
    assert.equal(strictJson.status, 2);
    assert.equal(JSON.parse(strictJson.stdout).valid, false);
  });
});

test('errors exit 2 and --json lists errors and warnings together', () => {
  const noRunbook = warned.map((l) => l.replace(', runbook: "https://runbooks.example.com/checkout"', '')).concat('  - { name: sa, size: 1 }');
  withPlan(noRunbook, (file) => {
    const r = mrcd('validate', file);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /is invalid \(2 errors, 2 warnings\)/);
    assert.match(r.stderr, /error {3}owner\.runbook: every pipeline has a runbook.*\[runbook\]/);
    assert.match(r.stderr, /error {3}regions\[3\]\.size: 1 is smaller than regions\[2\] \(ap, 3\).*\[region-order\]/);
    const json = mrcd('validate', file, '--json');
    assert.equal(json.status, 2);
    const out = JSON.parse(json.stdout);
    assert.equal(out.valid, false);
    assert.deepEqual(
      out.problems.map((p: Record<string, string>) => `${p.severity} ${p.id} ${p.path}`),
      ['error runbook owner.runbook', 'error region-order regions[3].size', 'warning region-count regions', 'warning soak-length regions[0].soak'],
    );
  });
});

test('absurd plans are refused by a bound that says so: 1000 regions, a 274-year soak, a 0s check interval', () => {
  const many = Array.from({ length: 1000 }, (_, i) => `  - { name: r${i}, size: ${i + 1} }`);
  withPlan([...header, 'regions:', ...many], (file) => {
    const r = mrcd('validate', file);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /regions: at most 50 regions: split a longer list into rollouts of its own/);
  });
  withPlan([...header, 'regions:', '  - { name: eu, size: 1, soak: 100000d, checkInterval: 0s }'], (file) => {
    const r = mrcd('validate', file);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /regions\[0\]\.soak: must be at most 7d/);
    assert.match(r.stderr, /regions\[0\]\.checkInterval: must be more than 0s/);
  });
});

test('--json answers on stdout even when the plan cannot be read: a YAML syntax error, a missing file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcd-cli-'));
  try {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'service: checkout\nregions: [\n');
    for (const [path, want] of [
      [file, { id: 'syntax', path: /^line \d+$/ }],
      [join(dir, 'missing.yaml'), { id: 'file', path: /^\(file\)$/ }],
    ] as const) {
      const r = mrcd('validate', path, '--json');
      assert.equal(r.status, 2, r.stderr);
      const out = JSON.parse(r.stdout) as { valid: boolean; problems: { id: string; severity: string; path: string; message: string }[] };
      assert.equal(out.valid, false);
      assert.equal(out.problems.length, 1, r.stdout);
      assert.equal(out.problems[0]!.id, want.id);
      assert.equal(out.problems[0]!.severity, 'error');
      assert.match(out.problems[0]!.path, want.path);
      assert.ok(out.problems[0]!.message.length > 0);
      assert.match(r.stderr, /^mrcd: /, 'the human message stays on stderr');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
