// Migrations never build a shell string from plan values: a hostile version, service or
// step name reaches the program as one argv element (or one env value), exactly as written,
// and nothing in it runs. Plan validation refuses such versions already; this is the layer
// below it, for inputs that did not come through validation (temporal workflow start,
// histories recorded before a rule existed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Logger, LogLevel, LogMetadata } from '@temporalio/common';
import { runMigration } from '../../activities/migrations';
import type { MigrationInput } from '../../domain/activity-contract';

function stdoutOf(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = (_level: LogLevel, message: string, meta?: LogMetadata) => {
    if (meta?.stream === 'stdout') lines.push(message);
  };
  return {
    lines,
    logger: {
      log,
      trace: (m, meta) => log('TRACE', m, meta),
      debug: (m, meta) => log('DEBUG', m, meta),
      info: (m, meta) => log('INFO', m, meta),
      warn: (m, meta) => log('WARN', m, meta),
      error: (m, meta) => log('ERROR', m, meta),
    },
  };
}

test('hostile plan values reach a migration verbatim and run nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcd-migration-argv-'));
  try {
    const marker = join(dir, 'marker');
    const hostile = [
      `$(touch ${marker})`,
      `; touch ${marker}; rm -rf ${dir}/nothing`,
      `\`touch ${marker}\``,
      `1.0.0\ntouch ${marker}`,
      `x' && touch '${marker}`,
      `| touch ${marker} &`,
      `> ${marker}`,
      '$HOME ${PATH} *',
    ];
    const version = `9.9.9$(touch ${marker})\`touch ${marker}\`;touch ${marker}`;
    const service = `svc;touch ${marker}`;
    const script = 'console.log(JSON.stringify({ argv: process.argv.slice(1), version: process.env.VERSION, service: process.env.SERVICE }))';
    const input: MigrationInput = {
      rolloutId: 'ro-1',
      service,
      version,
      name: `m$(touch ${marker})`,
      phase: 'expand',
      direction: 'apply',
      run: [process.execPath, '-e', script, ...hostile, '--to={{version}}', '{{service}}@{{version}}', '{{ version }}'],
      timeoutMs: 20_000,
    };
    // First a program a shell could run the whole line of: were the argv joined into a
    // shell string, the substitutions in the version would create the marker.
    const printf = stdoutOf();
    await new MockActivityEnvironment({}, { logger: printf.logger }).run(runMigration, { ...input, run: ['printf', '%s\\n', '{{version}}', '{{service}}'] });
    assert.equal(existsSync(marker), false, 'a shell ran the version');
    assert.deepEqual(printf.lines, [version, service]);

    const out = stdoutOf();
    await new MockActivityEnvironment({}, { logger: out.logger }).run(runMigration, input);
    assert.equal(out.lines.length, 1, `one line of output: ${out.lines.join(' | ')}`);
    const seen = JSON.parse(out.lines[0]!) as { argv: string[]; version: string; service: string };
    assert.deepEqual(seen.argv, [...hostile, `--to=${version}`, `${service}@${version}`, version], 'every element exactly as written, placeholders filled');
    assert.equal(seen.version, version, 'VERSION verbatim');
    assert.equal(seen.service, service, 'SERVICE verbatim');
    assert.equal(existsSync(marker), false, 'something ran a shell over the argv');
    assert.deepEqual(readdirSync(dir), [], 'nothing was created');

    // The way to use a shell in a plan without building a script from its values: the
    // values go in as positional parameters, which sh does not evaluate.
    const viaSh = stdoutOf();
    await new MockActivityEnvironment({}, { logger: viaSh.logger }).run(runMigration, {
      ...input,
      run: ['/bin/sh', '-c', 'printf "%s\\n" "$1"', 'sh', '{{version}}'],
    });
    assert.deepEqual(viaSh.lines, [version], 'sh printed the version as data');
    assert.equal(existsSync(marker), false, 'sh evaluated a positional parameter');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
