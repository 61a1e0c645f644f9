// The compiled CLI (dist/mrcd.js, built by `npm install` and by `npm test` before the
// tests): bin/mrcd.js runs it only while every source it was built from is unchanged,
// and it needs nothing from node_modules. Checked on a copy, so the tree is never touched.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

// Built here too, so running this file alone after an edit tests today's sources.
before(() => {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build-cli.js')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

/** bin/, dist/ and the bundle's project inputs copied; no node_modules. */
function copyOfInstall(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mrcd-bundle-'));
  const manifest = JSON.parse(readFileSync(join(ROOT, 'dist/mrcd.inputs.json'), 'utf8')) as { inputs: { file: string }[] };
  for (const f of ['bin/mrcd.js', 'dist/mrcd.js', 'dist/mrcd.inputs.json', 'examples/demo.yaml', ...manifest.inputs.map((i) => i.file)]) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(ROOT, f), join(dir, f), { preserveTimestamps: true });
  }
  return dir;
}

const run = (dir: string, ...args: string[]) =>
  spawnSync(process.execPath, [join(dir, 'bin/mrcd.js'), ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, MRCD_SHOW_LOADER: '1' } });

test('an unchanged install runs the bundle, which needs no node_modules', () => {
  const dir = copyOfInstall();
  try {
    const r = run(dir, 'validate', 'examples/demo.yaml');
    assert.match(r.stderr, /^mrcd: from dist\/mrcd\.js$/m);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /valid — checkout 2\.0\.0/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a source edited after the build sends bin/mrcd.js to the sources, naming the file', () => {
  const dir = copyOfInstall();
  try {
    appendFileSync(join(dir, 'cli/main.ts'), '\n');
    const r = run(dir, 'validate', 'examples/demo.yaml');
    // The copy has no tsx, so running the sources fails after the choice is reported.
    assert.match(r.stderr, /^mrcd: from the TypeScript sources: cli\/main\.ts changed since the build/m);
    rmSync(join(dir, 'dist/mrcd.inputs.json'));
    assert.match(run(dir, 'validate', 'examples/demo.yaml').stderr, /^mrcd: from the TypeScript sources: no dist\/mrcd\.js build/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
