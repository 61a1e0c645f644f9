// Activities run plan-supplied argv (deploy commands, migrations) and must never hand plan
// values to a shell. A static check over activities/, so that a regression (shell: true,
// child_process.exec, execSync) fails here even where no test happens to run that path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const ACTIVITIES = join(ROOT, 'activities');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.[cm]?[jt]s$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** The code without comments (which may well mention a shell), line numbers kept. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

const RULES: { what: string; re: RegExp }[] = [
  { what: 'a shell option other than false', re: /\bshell\s*:(?!\s*false\b)/ },
  // exec and execSync always use a shell; RegExp#exec is not one of them.
  { what: 'child_process exec/execSync (always a shell)', re: /(?<![.\w$])exec(Sync)?\s*\(|\.execSync\s*\(|\bchild_process\.exec\s*\(/ },
  // A whole-module import would hide exec behind a name the rule above cannot tell from a RegExp.
  {
    what: 'child_process imported whole (import spawn by name)',
    re: /\bimport\s+(\*\s+as\s+)?\w+\s+from\s*['"](node:)?child_process['"]|(const|let|var)\s+\w+\s*=\s*require\(\s*['"](node:)?child_process['"]/,
  },
  { what: 'an import of exec/execSync', re: /\bimport\s*\{[^}]*\bexec(Sync)?\b[^}]*\}\s*from\s*['"](node:)?child_process['"]/ },
  { what: 'require of exec/execSync', re: /\{[^}]*\bexec(Sync)?\b[^}]*\}\s*=\s*require\(\s*['"](node:)?child_process['"]\s*\)/ },
  { what: 'a shell binary spawned by name', re: /\bspawn(Sync)?\(\s*['"`](\/bin\/)?(ba|z|da)?sh['"`]/ },
];

test('no activity runs a command through a shell', () => {
  const files = sources(ACTIVITIES);
  assert.ok(files.length > 10, `activities/ has its sources (found ${files.length})`);
  const findings: string[] = [];
  let spawns = 0;
  for (const file of files) {
    const lines = code(readFileSync(file, 'utf8')).split('\n');
    lines.forEach((line, i) => {
      if (/\bspawn(Sync)?\s*\(/.test(line)) spawns++;
      for (const r of RULES) if (r.re.test(line)) findings.push(`${relative(ROOT, file)}:${i + 1}: ${r.what}: ${line.trim()}`);
    });
  }
  assert.deepEqual(findings, [], `plan values could reach a shell:\n${findings.join('\n')}`);
  // The check reads the code that matters: the one place that starts child processes.
  assert.ok(spawns >= 1, 'the scan saw the spawn in activities/run-command.ts');
  assert.match(code(readFileSync(join(ACTIVITIES, 'run-command.ts'), 'utf8')), /\bshell\s*:\s*false\b/, 'run-command.ts says shell: false explicitly');
});

test('the rules catch what they are for', () => {
  const caught = (line: string) => RULES.filter((r) => r.re.test(code(line))).map((r) => r.what);
  for (const bad of [
    'spawn(program, args, { shell: true })',
    'spawn(program, args, { env, shell: opts.shell })',
    "import { exec } from 'node:child_process';",
    "import { spawn, execSync } from 'child_process';",
    "const { exec } = require('child_process');",
    'child_process.exec(`deploy ${version}`)',
    "import * as cp from 'node:child_process';",
    "const cp = require('child_process');",
    'cp.execSync(cmd)',
    'execSync(cmd)',
    "spawn('sh', ['-c', script])",
    "spawn('/bin/bash', ['-c', script])",
  ])
    assert.notDeepEqual(caught(bad), [], bad);
  for (const good of [
    'spawn(program, args, { shell: false })',
    '// never shell: true here',
    "import { spawn } from 'node:child_process';",
    '/^v(\\d+)/.exec(text)',
    'm = re.exec(s)',
  ])
    assert.deepEqual(caught(good), [], good);
});
