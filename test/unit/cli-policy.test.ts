// mrcd freeze / policy: bad input is exit 2 with every problem and where it is, before
// anything is sent (no Temporal server runs here: a request that got that far would exit 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
// A port nothing listens on: anything that reaches the network fails with exit 4, not 2.
const mrcd = (...args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, 'bin/mrcd.js'), '--address', '127.0.0.1:1', ...args], { encoding: 'utf8', cwd: ROOT });

test('freeze create: every problem with its flag, exit 2', () => {
  const r = mrcd('freeze', 'create', '--reason', ' ', '--region', '', '--until', '2020-01-01T00:00:00Z', '--by', 'x');
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /freeze create: 3 problems/);
  assert.match(r.stderr, /reason: must be a non-empty string \(--reason\)/);
  assert.match(r.stderr, /scope\.regions\[0\]: must be a non-empty string \(--region\)/);
  assert.match(r.stderr, /until: must be in the future \(--until\)/);
});

test('freeze create: a time that is neither a duration nor a time, and a missing reason', () => {
  const bad = mrcd('freeze', 'create', '--reason', 'x', '--until', 'tomorrow');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--until: "tomorrow" must be a duration from now such as 2h, or a time such as 2026-12-24T08:00:00Z/);
  const missing = mrcd('freeze', 'create', '--region', 'eu-west-1');
  assert.equal(missing.status, 2, missing.stderr);
  assert.match(missing.stderr, /--reason <text>' not specified/);
});

test('freeze lift and override: problems named, exit 2; a valid request reaches for the server (exit 4)', () => {
  const lift = mrcd('freeze', 'lift', 'F-1', '--reason', '');
  assert.equal(lift.status, 2);
  assert.match(lift.stderr, /reason: must be a non-empty string \(--reason\)/);
  const over = mrcd('freeze', 'override', 'checkout', '--reason', 'fix', '--until', '3d');
  assert.equal(over.status, 2);
  assert.match(over.stderr, /until: an override lasts at most 24h; ask again when it ends \(--until\)/);
  const fine = mrcd('freeze', 'lift', 'F-1', '--reason', 'done');
  assert.equal(fine.status, 4, 'a valid request is sent, and no server answers here');
  assert.match(fine.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);
});

test('policy apply: a malformed file is exit 2 with every problem and its path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcd-policy-'));
  try {
    const file = join(dir, 'policy.yaml');
    writeFileSync(
      file,
      [
        'concurrency: { eu-west-1: 0, us-east-1: 1.5 }',
        'calendars:',
        '  - { name: weekend, reason: r, timezone: Mars/Olympus, weekly: [{ from: "fri 16:00", to: "monday 8" }] }',
        '  - { name: weekend, reason: r, timezone: UTC, dates: ["2026-12-25"] }',
        'freezes:',
        '  - { reason: peak, until: not-a-time, scope: { region: [x] } }',
        'extra: true',
      ].join('\n'),
    );
    const r = mrcd('policy', 'apply', file);
    assert.equal(r.status, 2, r.stderr);
    for (const want of [
      /concurrency\.eu-west-1: must be at least 1/,
      /concurrency\.us-east-1: must be a whole number/,
      /calendars\[0\]\.timezone: must be an IANA timezone/,
      /calendars\[0\]\.weekly\[0\]\.to: must be a day and a time such as "fri 16:00"/,
      /calendars: calendar names must be unique/,
      /freezes\[0\]\.until: must be a time/,
      /freezes\[0\]\.scope: Unrecognized key: "region"/,
      /\(file\): Unrecognized key: "extra"/,
    ])
      assert.match(r.stderr, want);
    const json = mrcd('--json', 'policy', 'apply', file);
    assert.equal(json.status, 2);
    assert.equal((JSON.parse(json.stdout) as { applied: boolean; problems: string[] }).problems.length, 8);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
