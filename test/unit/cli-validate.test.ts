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
